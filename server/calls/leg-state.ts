import { nextState, type TransitionTable } from '../util/fsm.js';

/**
 * The life of one call leg: one SIP dialog (ours as UAS for the consumer's INVITE, ours as UAC
 * towards an agent or a merchant station) with its media. Enum plus transition table; an illegal
 * move throws.
 */
export enum LegState {
  /** UAS: INVITE received, not answered. UAC: INVITE sent, nothing back yet. */
  Setup = 'setup',
  /** A 180/183 was sent (UAS) or received (UAC). */
  Ringing = 'ringing',
  /** 2xx sent, waiting for its ACK (UAS, §13.3.1.4). */
  Answered = 'answered',
  /** Session established. */
  Confirmed = 'confirmed',
  /** BYE or CANCEL sent, waiting for the answer. */
  Ending = 'ending',
  Ended = 'ended',
}

export enum LegEvent {
  Ring = 'ring',
  Answer = 'answer',
  Ack = 'ack',
  /** Failed, rejected, cancelled, or BYE received. */
  End = 'end',
  /** We started tearing down (BYE or CANCEL sent). */
  Hangup = 'hangup',
}

const S = LegState;
const E = LegEvent;

export const LEG_TABLE: TransitionTable<LegState, LegEvent> = {
  [S.Setup]: { [E.Ring]: S.Ringing, [E.Answer]: S.Answered, [E.End]: S.Ended, [E.Hangup]: S.Ending },
  [S.Ringing]: { [E.Ring]: S.Ringing, [E.Answer]: S.Answered, [E.End]: S.Ended, [E.Hangup]: S.Ending },
  [S.Answered]: { [E.Ack]: S.Confirmed, [E.End]: S.Ended, [E.Hangup]: S.Ending },
  [S.Confirmed]: { [E.End]: S.Ended, [E.Hangup]: S.Ending },
  // A 2xx that crosses our CANCEL keeps the leg Ending: it gets ACK and BYE (§9.1).
  [S.Ending]: { [E.End]: S.Ended, [E.Hangup]: S.Ending, [E.Ack]: S.Ending, [E.Answer]: S.Ending },
  [S.Ended]: {},
};

export function nextLegState(from: LegState, event: LegEvent): LegState {
  return nextState('call leg', LEG_TABLE, from, event);
}
