import { describe, expect, it } from 'vitest';
import {
  CLIENT_INVITE_TABLE,
  CLIENT_NON_INVITE_TABLE,
  ClientInviteEvent,
  ClientInviteState,
  ClientNonInviteEvent,
  ClientNonInviteState,
  IllegalTransitionError,
  SERVER_INVITE_TABLE,
  SERVER_NON_INVITE_TABLE,
  ServerInviteEvent,
  ServerInviteState,
  ServerNonInviteEvent,
  ServerNonInviteState,
  legalPairs,
  nextState,
  type TransitionTable,
} from '../../../server/sip/transactions/index.js';
import {
  ACK_WAIT_TABLE,
  AckWaitEvent,
  AckWaitState,
  DIALOG_TABLE,
  DialogEvent,
  DialogState,
} from '../../../server/sip/dialogs/index.js';

/**
 * Expected transitions, transcribed by hand from RFC 3261 Figures 5-8 (plus RFC 6026 Accepted and
 * the absorbing self-loops for late responses), as "from --event--> to" lines. The tables must
 * contain exactly these and nothing else; every other (state, event) pair must throw.
 */
const EXPECTED: Record<
  string,
  { table: TransitionTable<string, string>; states: object; events: object; lines: string[] }
> = {
  'INVITE client §17.1.1 / RFC 6026': {
    table: CLIENT_INVITE_TABLE,
    states: ClientInviteState,
    events: ClientInviteEvent,
    lines: [
      'Calling --TimerA--> Calling',
      'Calling --TimerB--> Terminated',
      'Calling --1xx--> Proceeding',
      'Calling --2xx--> Accepted',
      'Calling --300-699--> Completed',
      'Calling --TransportError--> Terminated',
      'Proceeding --1xx--> Proceeding',
      'Proceeding --2xx--> Accepted',
      'Proceeding --300-699--> Completed',
      'Proceeding --CancelExpired--> Terminated',
      'Proceeding --TransportError--> Terminated',
      'Completed --1xx--> Completed',
      'Completed --2xx--> Completed',
      'Completed --300-699--> Completed',
      'Completed --TimerD--> Terminated',
      'Completed --TransportError--> Terminated',
      'Accepted --1xx--> Accepted',
      'Accepted --2xx--> Accepted',
      'Accepted --300-699--> Accepted',
      'Accepted --TimerM--> Terminated',
    ],
  },
  'non-INVITE client §17.1.2': {
    table: CLIENT_NON_INVITE_TABLE,
    states: ClientNonInviteState,
    events: ClientNonInviteEvent,
    lines: [
      'Trying --TimerE--> Trying',
      'Trying --TimerF--> Terminated',
      'Trying --1xx--> Proceeding',
      'Trying --200-699--> Completed',
      'Trying --TransportError--> Terminated',
      'Proceeding --TimerE--> Proceeding',
      'Proceeding --TimerF--> Terminated',
      'Proceeding --1xx--> Proceeding',
      'Proceeding --200-699--> Completed',
      'Proceeding --TransportError--> Terminated',
      'Completed --1xx--> Completed',
      'Completed --200-699--> Completed',
      'Completed --TimerK--> Terminated',
    ],
  },
  'INVITE server §17.2.1 / RFC 6026': {
    table: SERVER_INVITE_TABLE,
    states: ServerInviteState,
    events: ServerInviteEvent,
    lines: [
      'Proceeding --INVITE--> Proceeding',
      'Proceeding --TryingTimer--> Proceeding',
      'Proceeding --TU 1xx--> Proceeding',
      'Proceeding --TU 2xx--> Accepted',
      'Proceeding --TU 300-699--> Completed',
      'Proceeding --TransportError--> Terminated',
      'Completed --INVITE--> Completed',
      'Completed --TimerG--> Completed',
      'Completed --TimerH--> Terminated',
      'Completed --ACK--> Confirmed',
      'Completed --TransportError--> Terminated',
      'Confirmed --INVITE--> Confirmed',
      'Confirmed --ACK--> Confirmed',
      'Confirmed --TimerI--> Terminated',
      'Accepted --INVITE--> Accepted',
      'Accepted --TU 2xx--> Accepted',
      'Accepted --ACK--> Accepted',
      'Accepted --TimerL--> Terminated',
      'Accepted --TransportError--> Terminated',
    ],
  },
  'non-INVITE server §17.2.2': {
    table: SERVER_NON_INVITE_TABLE,
    states: ServerNonInviteState,
    events: ServerNonInviteEvent,
    lines: [
      'Trying --Request--> Trying',
      'Trying --TU 1xx--> Proceeding',
      'Trying --TU 200-699--> Completed',
      'Trying --TransportError--> Terminated',
      'Proceeding --Request--> Proceeding',
      'Proceeding --TU 1xx--> Proceeding',
      'Proceeding --TU 200-699--> Completed',
      'Proceeding --TransportError--> Terminated',
      'Completed --Request--> Completed',
      'Completed --TimerJ--> Terminated',
      'Completed --TransportError--> Terminated',
    ],
  },
  'dialog §12': {
    table: DIALOG_TABLE,
    states: DialogState,
    events: DialogEvent,
    lines: [
      'Early --1xx--> Early',
      'Early --2xx--> Confirmed',
      'Early --Terminate--> Terminated',
      'Confirmed --1xx--> Confirmed',
      'Confirmed --2xx--> Confirmed',
      'Confirmed --Terminate--> Terminated',
    ],
  },
  '2xx retransmission §13.3.1.4': {
    table: ACK_WAIT_TABLE,
    states: AckWaitState,
    events: AckWaitEvent,
    lines: [
      'Waiting --Retransmit--> Waiting',
      'Waiting --ACK--> Acked',
      'Waiting --GiveUp--> TimedOut',
      'Waiting --Close--> Closed',
      'Acked --ACK--> Acked',
      'Acked --Close--> Acked',
      'TimedOut --Close--> TimedOut',
      'Closed --Close--> Closed',
    ],
  },
};

describe.each(Object.entries(EXPECTED))('%s transition table', (name, spec) => {
  const states = Object.values(spec.states) as string[];
  const events = Object.values(spec.events) as string[];
  const expected = new Map<string, string>();
  for (const line of spec.lines) {
    const m = /^(\S+) --(.+)--> (\S+)$/.exec(line)!;
    expected.set(`${m[1]}|${m[2]}`, m[3]!);
  }

  it('has exactly the transitions of the RFC figure', () => {
    const actual = legalPairs(spec.table).map((p) => `${p.from} --${p.event}--> ${p.to}`);
    expect(actual.sort()).toEqual([...spec.lines].sort());
  });

  it.each(states.flatMap((s) => events.map((e) => [s, e] as const)))('%s + %s', (state, event) => {
    const to = expected.get(`${state}|${event}`);
    if (to === undefined) {
      expect(() => nextState(name, spec.table, state, event)).toThrow(IllegalTransitionError);
    } else {
      expect(nextState(name, spec.table, state, event)).toBe(to);
    }
  });
});
