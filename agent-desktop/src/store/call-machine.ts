/**
 * The desktop's view of the agent's one call, as an enum plus a transition table (server/util/fsm.ts).
 * Two things announce a call and may arrive in either order: the socket 'agent:offer' and the seat's SIP
 * INVITE (JsSIP newRTCSession); either one puts the call in Alerting. Answering needs the SIP session,
 * so an answer pressed before the INVITE arrives waits for it (CallSlice.answerPending).
 */
import { nextState, type TransitionTable } from '../../../server/util/fsm.js';

export enum CallPhase {
  Idle = 'idle',
  Alerting = 'alerting',
  Answering = 'answering',
  Connected = 'connected',
  Held = 'held',
  /** The call is over; the agent is usually in wrap-up now. Cleared when the agent state moves on. */
  Ended = 'ended',
}

export enum CallEvent {
  Offer = 'offer',
  Incoming = 'incoming',
  Answer = 'answer',
  Confirmed = 'confirmed',
  Hold = 'hold',
  Unhold = 'unhold',
  /** Ended before it was connected: CANCEL, RONA, rejected answer. */
  Failed = 'failed',
  Ended = 'ended',
  Reset = 'reset',
}

const E = CallEvent;
const S = CallPhase;

export const CALL_TABLE: TransitionTable<CallPhase, CallEvent> = {
  [S.Idle]: { [E.Offer]: S.Alerting, [E.Incoming]: S.Alerting, [E.Reset]: S.Idle, [E.Failed]: S.Idle },
  [S.Alerting]: {
    [E.Offer]: S.Alerting,
    [E.Incoming]: S.Alerting,
    [E.Answer]: S.Answering,
    [E.Failed]: S.Idle,
    [E.Reset]: S.Idle,
  },
  // An INVITE retransmitted or a late offer after answering changes nothing.
  [S.Answering]: {
    [E.Offer]: S.Answering,
    [E.Incoming]: S.Answering,
    [E.Confirmed]: S.Connected,
    [E.Failed]: S.Idle,
    [E.Ended]: S.Ended,
  },
  [S.Connected]: { [E.Hold]: S.Held, [E.Unhold]: S.Connected, [E.Ended]: S.Ended, [E.Offer]: S.Connected },
  [S.Held]: { [E.Unhold]: S.Connected, [E.Hold]: S.Held, [E.Ended]: S.Ended },
  [S.Ended]: { [E.Reset]: S.Idle, [E.Offer]: S.Alerting, [E.Incoming]: S.Alerting, [E.Ended]: S.Ended },
};

export function nextCallPhase(phase: CallPhase, ev: CallEvent): CallPhase {
  return nextState('desktop-call', CALL_TABLE, phase, ev);
}
