/**
 * A call as the centre sees it: the caller's inbound leg plus any outbound legs (agent, merchant
 * station), with an explicit state. Back-to-back: every leg is its own SIP dialog and its own media
 * endpoint; the call decides how their audio meets (player, bridge, conference).
 */
import { nextState, type TransitionTable } from '../util/fsm.js';
import type { CallTarget, Caller } from './admission.js';
import type { SipLeg, UacLeg, UasLeg } from './sip-leg.js';

export enum CallState {
  /** Admitted, media being prepared. */
  Routing = 'routing',
  /** Answered by the server: IVR, echo, test prompt. */
  Ivr = 'ivr',
  /** Waiting in an ACD queue (music on hold). */
  Queued = 'queued',
  /** An outbound leg (agent, station, extension) is ringing. */
  Ringing = 'ringing',
  /** Two parties talking through a bridge. */
  Connected = 'connected',
  /** Three or more parties in a conference. */
  Conference = 'conference',
  /** After-call: the caller is in the satisfaction survey. */
  Survey = 'survey',
  Ended = 'ended',
}

export enum CallEvent {
  Answered = 'answered',
  Enqueue = 'enqueue',
  Ring = 'ring',
  Connect = 'connect',
  Conference = 'conference',
  /** An outbound leg failed or the agent left: back to the IVR/queue. */
  Return = 'return',
  Survey = 'survey',
  End = 'end',
}

const S = CallState;
const E = CallEvent;

export const CALL_TABLE: TransitionTable<CallState, CallEvent> = {
  [S.Routing]: { [E.Answered]: S.Ivr, [E.Ring]: S.Ringing, [E.Enqueue]: S.Queued, [E.End]: S.Ended },
  [S.Ivr]: { [E.Enqueue]: S.Queued, [E.Ring]: S.Ringing, [E.Survey]: S.Survey, [E.Return]: S.Ivr, [E.End]: S.Ended },
  [S.Queued]: { [E.Ring]: S.Ringing, [E.Return]: S.Ivr, [E.Enqueue]: S.Queued, [E.End]: S.Ended },
  [S.Ringing]: {
    [E.Connect]: S.Connected,
    [E.Return]: S.Queued,
    [E.Enqueue]: S.Queued,
    [E.Ring]: S.Ringing,
    [E.End]: S.Ended,
  },
  [S.Connected]: {
    [E.Conference]: S.Conference,
    [E.Ring]: S.Connected,
    [E.Return]: S.Queued,
    [E.Enqueue]: S.Queued,
    [E.Survey]: S.Survey,
    [E.Connect]: S.Connected,
    [E.End]: S.Ended,
  },
  [S.Conference]: { [E.Connect]: S.Connected, [E.Conference]: S.Conference, [E.Survey]: S.Survey, [E.End]: S.Ended },
  [S.Survey]: { [E.End]: S.Ended },
  [S.Ended]: {},
};

export class Call {
  state = CallState.Routing;
  readonly startedAt = Date.now();
  answeredAt: number | null = null;
  endedAt: number | null = null;
  readonly outbound = new Set<UacLeg>();
  /** IVR path so far, e.g. ['menu:3'], shown to agents and leads. */
  ivrPath: string[] = [];
  queue: string | null = null;
  queuedAt: number | null = null;
  /** The last prompts the caller was played (names), for support staff and tests. Bounded. */
  readonly recentPrompts: string[] = [];
  hangupBy: 'caller' | 'callee' | 'system' | null = null;
  /** The agent serving the caller now and their leg; transfers and three-way calls change it. */
  agent: { id: string | null; leg: UacLeg } | null = null;
  /**
   * Set while call control (a transfer, a three-way call) holds the caller between two servers: the
   * IVR's after-agent steps (survey, hangup) wait for it, then look at `agent` again.
   */
  handover: Promise<void> | null = null;
  /** Things to close when the call ends (bridges, conferences, recordings, timers). */
  private readonly cleanups: (() => void | Promise<void>)[] = [];

  constructor(
    readonly id: string,
    readonly inbound: UasLeg,
    readonly caller: Caller,
    /** The caller's number (trunk) or extension (device). A consumer number: never log it in clear. */
    readonly callerNumber: string,
    readonly dialled: string,
    readonly target: CallTarget,
  ) {}

  move(event: CallEvent): CallState {
    this.state = nextState('call', CALL_TABLE, this.state, event);
    return this.state;
  }

  get isEnded(): boolean {
    return this.state === CallState.Ended;
  }

  onEnd(fn: () => void | Promise<void>): void {
    this.cleanups.push(fn);
  }

  /**
   * Resolves once nobody serves the caller any more: `first` (the leg that answered from the queue) has
   * ended, no handover is in progress, and the current agent leg (if a transfer replaced it) has ended.
   */
  async whileServed(first: SipLeg | null): Promise<void> {
    const gone = (l: SipLeg) => (l.isEnded ? Promise.resolve() : new Promise<void>((r) => l.once('ended', () => r())));
    if (first) await gone(first);
    for (;;) {
      if (this.isEnded) return;
      if (this.handover) {
        await this.handover;
        continue;
      }
      const l = this.agent?.leg;
      if (l && !l.isEnded) {
        await gone(l);
        continue;
      }
      return;
    }
  }

  /** Every leg, inbound first. */
  get legs(): SipLeg[] {
    return [this.inbound, ...this.outbound];
  }

  /** Runs the cleanups once; legs are hung up by the caller of this. */
  async runCleanups(): Promise<void> {
    const list = this.cleanups.splice(0);
    for (const fn of list.reverse()) {
      try {
        await fn();
      } catch {
        /* each cleanup logs its own failure; the rest still run */
      }
    }
  }
}
