import type { StateCreator } from 'zustand/vanilla';
import type { CallSlice } from './call.js';
import type { CaseSlice } from './case.js';
import type { ConferenceSlice } from './conference.js';
import type { LeadSlice } from '../lead/slice.js';
import type { PhoneSlice } from './phone.js';
import type { QueueSlice } from './queue.js';
import type { SessionSlice } from './session.js';
import type { UiSlice } from './ui.js';

export type DesktopState = SessionSlice &
  PhoneSlice &
  CallSlice &
  QueueSlice &
  UiSlice &
  CaseSlice &
  ConferenceSlice &
  LeadSlice;

/** Injected so slices stay pure and testable: the local clock and where the login survives a reload. */
export interface StoreDeps {
  /** Local monotonic-ish ms (performance.now() in the page). */
  now: () => number;
  storage: KeyValueStorage | null;
  /** Where illegal moves and dropped events are reported (console in the page). */
  warn?: (msg: string, detail?: unknown) => void;
}

/** The part of sessionStorage the desktop uses. */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export type Slice<T> = (deps: StoreDeps) => StateCreator<DesktopState, [], [], T>;
