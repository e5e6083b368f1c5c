/**
 * Three-way calls with a merchant station and warm transfers, as the agent's desktop shows them. The
 * server decides the state (`call:conference` events); this slice only remembers the last picture
 * per call, which station the agent brought in and whether a request is in flight.
 */
import type { CallConferencePayload } from '../../../server/api/socket/events.js';
import type { Slice } from './types.js';

export type ConferenceState = CallConferencePayload['state'];

export interface ChosenStation {
  id: number;
  name: string;
}

export interface WarmTransfer {
  callId: string;
  target: { kind: 'agent' | 'queue' | 'number'; value: string };
}

export interface ConferenceSlice {
  conference: CallConferencePayload | null;
  threeWayStation: ChosenStation | null;
  threeWayBusy: boolean;
  threeWayError: string | null;
  /** A warm transfer whose consultation is running: complete or cancel it. */
  warmTransfer: WarmTransfer | null;
  conferenceUpdated(p: CallConferencePayload): void;
  threeWayRequested(): void;
  threeWayAnswered(error: string | null, station?: ChosenStation): void;
  warmTransferStarted(t: WarmTransfer): void;
  warmTransferFinished(): void;
}

/** Which buttons make sense in each state; the server still refuses anything else with 409. */
export function threeWayActions(state: ConferenceState | null): {
  start: boolean;
  join: boolean;
  leave: boolean;
  rejoin: boolean;
  end: boolean;
} {
  const idle = state === null || state === 'two_party' || state === 'ended' || state === 'failed';
  return {
    start: idle,
    join: state === 'consulting',
    leave: state === 'conference',
    rejoin: state === 'agent_left',
    end: state === 'ringing' || state === 'consulting' || state === 'conference' || state === 'agent_left',
  };
}

export const createConferenceSlice: Slice<ConferenceSlice> = () => (set, get) => ({
  conference: null,
  threeWayStation: null,
  threeWayBusy: false,
  threeWayError: null,
  warmTransfer: null,
  conferenceUpdated(p) {
    const prev = get().conference;
    // A new call's first event replaces the old picture; the station chosen belongs to the old call.
    set(prev && prev.callId !== p.callId ? { conference: p, threeWayStation: null } : { conference: p });
  },
  threeWayRequested() {
    set({ threeWayBusy: true, threeWayError: null });
  },
  threeWayAnswered(error, station) {
    set({ threeWayBusy: false, threeWayError: error, ...(station ? { threeWayStation: station } : {}) });
  },
  warmTransferStarted(t) {
    set({ warmTransfer: t });
  },
  warmTransferFinished() {
    set({ warmTransfer: null });
  },
});
