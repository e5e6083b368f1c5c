/**
 * The merchant portal's state: one small zustand store fed by the portal controller (REST polling)
 * and the softphone's events. Vanilla so it runs in Node tests.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { Lang } from '../lib/i18n.js';

export type PhoneStatus = 'off' | 'registering' | 'registered' | 'failed';
export type CallState = 'idle' | 'ringing' | 'talking';

export interface CaseSummary {
  caseId: number;
  number: string;
  type: string;
  typeLabel: string;
  status: string;
  statusLabel: string;
  version: number;
  consumer: { name: string; phone: string };
  respondentName: string;
  areaName: string;
  category: string;
  amount: number | null;
  request: string;
  description: string;
}

export interface Outcome {
  id: number;
  result: 'succeeded' | 'terminated';
  remedy: string | null;
  amount: number | null;
  deadline: string | null;
  notes: string;
  caseStatus: string;
  applied: boolean;
}

export interface CurrentCall {
  callId: string;
  caseId: number | null;
  offeredAt: string;
  ended: boolean;
  summary: CaseSummary | null;
  outcomes: Outcome[];
}

export interface Station {
  id: number;
  name: string;
  extension: string | null;
  areaName: string;
}

export interface MerchantState {
  lang: Lang;
  token: string | null;
  user: { username: string; displayName: string; role: string } | null;
  station: Station | null;
  phone: PhoneStatus;
  callState: CallState;
  current: CurrentCall | null;
  /** The last outcome recorded from this page (kept after the announcement is cleared). */
  recorded: { result: string; status: string; applied: boolean } | null;
  notice: { kind: 'info' | 'error'; text: string } | null;
}

export type MerchantStore = StoreApi<MerchantState>;

export function createMerchantStore(init: Partial<MerchantState> = {}): MerchantStore {
  return createStore<MerchantState>()(() => ({
    lang: 'zh',
    token: null,
    user: null,
    station: null,
    phone: 'off',
    callState: 'idle',
    current: null,
    recorded: null,
    notice: null,
    ...init,
  }));
}
