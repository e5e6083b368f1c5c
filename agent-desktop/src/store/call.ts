/**
 * The agent's current call. Moves only through CALL_TABLE; an illegal move is reported (deps.warn),
 * counted in `illegalMoves` and leaves the state as it was, so a surprising event order never leaves
 * the desktop half-updated.
 */
import type { AgentStateName, OfferPayload } from '../../../server/api/socket/events.js';
import { IllegalTransitionError } from '../../../server/util/fsm.js';
import { CallEvent, CallPhase, nextCallPhase } from './call-machine.js';
import type { DesktopState, Slice } from './types.js';

/** The offer as the desktop keeps it; `ivrPath` is shown when the server sends it. */
export type Offer = OfferPayload & { ivrPath?: string | null };

export interface IncomingSip {
  /** JsSIP session id. */
  sessionId: string;
  /** From header user part (the number the seat sees, usually the access number or the consumer). */
  remote: string | null;
}

export interface CallSlice {
  phase: CallPhase;
  offer: Offer | null;
  /** Local time the call was first announced (offer or INVITE, whichever came first). */
  alertedAt: number | null;
  sip: IncomingSip | null;
  /** Answer pressed before the INVITE arrived: answer as soon as it does. */
  answerPending: boolean;
  answeredAt: number | null;
  endedAt: number | null;
  endCause: string | null;
  muted: boolean;
  dtmfSent: string;
  transferBusy: boolean;
  transferError: string | null;
  illegalMoves: number;
  offerArrived(offer: Offer): void;
  sipIncoming(sip: IncomingSip): void;
  answerRequested(): void;
  callConfirmed(): void;
  callHeld(held: boolean): void;
  callMuted(muted: boolean): void;
  dtmfSentDigit(digit: string): void;
  callFailed(cause: string): void;
  callEnded(cause: string): void;
  transferStarted(): void;
  transferFinished(error: string | null): void;
  /** Agent state from the server; clears a finished or withdrawn call. */
  agentStateSeen(state: AgentStateName): void;
}

const IDLE_FIELDS = {
  offer: null,
  alertedAt: null,
  sip: null,
  answerPending: false,
  answeredAt: null,
  muted: false,
  dtmfSent: '',
  transferBusy: false,
  transferError: null,
} satisfies Partial<CallSlice>;

export const createCallSlice: Slice<CallSlice> = (deps) => (set, get) => {
  /** Applies `ev`; returns false (and counts) when the table forbids it. */
  const move = (ev: CallEvent, patch: (s: DesktopState, to: CallPhase) => Partial<DesktopState> = () => ({})) => {
    const s = get();
    let to: CallPhase;
    try {
      to = nextCallPhase(s.phase, ev);
    } catch (err) {
      if (!(err instanceof IllegalTransitionError)) throw err;
      deps.warn?.(err.message);
      set({ illegalMoves: s.illegalMoves + 1 });
      return false;
    }
    set({ phase: to, ...patch(s, to) });
    return true;
  };
  const fresh = (s: DesktopState) => s.phase === CallPhase.Idle || s.phase === CallPhase.Ended;

  return {
    phase: CallPhase.Idle,
    ...IDLE_FIELDS,
    endedAt: null,
    endCause: null,
    illegalMoves: 0,
    offerArrived(offer) {
      move(CallEvent.Offer, (s) =>
        fresh(s)
          ? { ...IDLE_FIELDS, offer, alertedAt: deps.now(), endedAt: null, endCause: null }
          : { offer, alertedAt: s.alertedAt ?? deps.now() },
      );
    },
    sipIncoming(sip) {
      move(CallEvent.Incoming, (s) =>
        fresh(s)
          ? { ...IDLE_FIELDS, sip, alertedAt: deps.now(), endedAt: null, endCause: null }
          : { sip, alertedAt: s.alertedAt ?? deps.now() },
      );
    },
    answerRequested() {
      const s = get();
      if (s.phase !== CallPhase.Alerting) {
        move(CallEvent.Answer);
        return;
      }
      if (!s.sip) {
        set({ answerPending: true });
        return;
      }
      move(CallEvent.Answer, () => ({ answerPending: false }));
    },
    callConfirmed() {
      move(CallEvent.Confirmed, () => ({ answeredAt: deps.now() }));
    },
    callHeld(held) {
      move(held ? CallEvent.Hold : CallEvent.Unhold);
    },
    callMuted(muted) {
      set({ muted });
    },
    dtmfSentDigit(digit) {
      set({ dtmfSent: (get().dtmfSent + digit).slice(-32) });
    },
    callFailed(cause) {
      move(CallEvent.Failed, () => ({ ...IDLE_FIELDS, endedAt: deps.now(), endCause: cause }));
    },
    callEnded(cause) {
      move(CallEvent.Ended, () => ({ endedAt: deps.now(), endCause: cause, answerPending: false, panel: null }));
    },
    transferStarted() {
      set({ transferBusy: true, transferError: null });
    },
    transferFinished(error) {
      set({ transferBusy: false, transferError: error });
    },
    agentStateSeen(state) {
      const s = get();
      // After wrap-up (or straight to ready/not ready when the queue has none) the finished call goes away.
      if (s.phase === CallPhase.Ended && (state === 'ready' || state === 'not_ready' || state === 'offline')) {
        move(CallEvent.Reset, () => ({ ...IDLE_FIELDS }));
      }
      // An offer withdrawn before any INVITE reached the seat (RONA, caller hung up): nothing else will end it.
      if (s.phase === CallPhase.Alerting && !s.sip && state !== 'reserved') {
        move(CallEvent.Failed, () => ({ ...IDLE_FIELDS, endedAt: deps.now(), endCause: 'withdrawn' }));
      }
    },
  };
};
