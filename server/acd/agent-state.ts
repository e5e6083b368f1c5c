/**
 * Agent state machine (pure: no timers, no I/O). The ACD feeds it events; each accepted event yields a
 * Transition with timestamps, which the ACD emits so metrics can record intervals (time ready, time
 * talking, wrap-up length ...). An event the table does not allow throws IllegalAgentTransition; the
 * caller logs and counts it and the state is unchanged.
 */

export enum AgentState {
  Offline = 'offline',
  Ready = 'ready',
  NotReady = 'not_ready',
  /** A call is being offered (ringing at the seat, or a callback is being dialled for this agent). */
  Reserved = 'reserved',
  OnCall = 'on_call',
  WrapUp = 'wrap_up',
}

export const AGENT_STATES: readonly AgentState[] = Object.values(AgentState);

/** Reason codes shown to leads; free text is allowed too, these are the ones the ACD sets itself. */
export const REASON_LOGIN = '刚签入';
export const REASON_RONA = '未接听';
export const REASON_REJECTED = '拒接';
export const REASON_FORCED = '班长设置';

export type AgentEvent =
  | { type: 'login' }
  | { type: 'logout' }
  | { type: 'go_ready' }
  | { type: 'go_not_ready'; reason: string }
  | { type: 'offer'; callId: string }
  | { type: 'answer' }
  /** RONA: redirect on no answer. */
  | { type: 'ring_timeout' }
  | { type: 'reject' }
  | { type: 'caller_gone' }
  /** The ACD takes the offer back (ring-all: another agent answered) without blaming the agent. */
  | { type: 'withdraw' }
  | { type: 'hangup'; wrapUpMs: number }
  /**
   * Hand-over: call control put the agent on a call outside the ACD's offers (a transfer answered at
   * their seat, a three-way rejoin). Allowed wherever a person sits at the seat and is not already
   * talking; from not-ready the reason is kept for after the call.
   */
  | { type: 'assign'; callId: string }
  /** Hand-over: the agent left (or transferred away) this call while it goes on for the others. */
  | { type: 'release'; callId: string; wrapUpMs: number }
  | { type: 'wrap_up_done' }
  | { type: 'wrap_up_extend'; ms: number }
  | {
      type: 'force_state';
      state: AgentState.Offline | AgentState.Ready | AgentState.NotReady | AgentState.OnCall;
      by: string;
      reason?: string;
      callId?: string;
    };

export type AgentEventType = AgentEvent['type'];

export interface AgentSnapshot {
  state: AgentState;
  /** Not-ready reason code; null in other states. */
  reason: string | null;
  /** Clock ms when the current state began. */
  since: number;
  callId: string | null;
  /** Not-ready asked for during a call: applied when the call and its wrap-up are over. */
  pendingNotReady: string | null;
  /** End of the current wrap-up (clock ms), null outside wrap-up. */
  wrapUpUntil: number | null;
}

export interface Transition {
  agentId: string;
  from: AgentState;
  to: AgentState;
  event: AgentEventType;
  reason: string | null;
  callId: string | null;
  /** Clock ms (monotonic) of the transition and how long the previous state lasted. */
  at: number;
  previousDurationMs: number;
  /** Wall time, for records. */
  wallTime: string;
  by?: string;
}

export class IllegalAgentTransition extends Error {
  constructor(
    readonly agentId: string,
    readonly state: AgentState,
    readonly event: AgentEventType,
  ) {
    super(`agent ${agentId}: event ${event} not allowed in state ${state}`);
    this.name = 'IllegalAgentTransition';
  }
}

type Next = Partial<Omit<AgentSnapshot, 'since'>> & { state: AgentState };
type Rule = (s: AgentSnapshot, e: AgentEvent, now: number) => Next;

const S = AgentState;
const notReady = (reason: string): Next => ({ state: S.NotReady, reason, callId: null, pendingNotReady: null });
const ready: Next = { state: S.Ready, reason: null, callId: null, pendingNotReady: null };
const offline: Next = { state: S.Offline, reason: null, callId: null, pendingNotReady: null };
/** After a call: a not-ready asked for meanwhile wins over ready. */
const afterCall = (s: AgentSnapshot): Next => (s.pendingNotReady ? notReady(s.pendingNotReady) : ready);
const force: Rule = (_s, e) => {
  const f = e as Extract<AgentEvent, { type: 'force_state' }>;
  if (f.state === S.NotReady) return notReady(f.reason ?? REASON_FORCED);
  if (f.state === S.OnCall) return { state: S.OnCall, reason: null, callId: f.callId ?? null };
  return f.state === S.Ready ? ready : offline;
};
const assign: Rule = (s, e) => ({
  state: S.OnCall,
  reason: null,
  callId: (e as Extract<AgentEvent, { type: 'assign' }>).callId,
  // Not-ready before the hand-over stays not-ready after it; a pending one (reserved, wrap-up) is kept.
  pendingNotReady: s.state === S.NotReady ? s.reason : s.pendingNotReady,
});
const wrapUpOrBack = (s: AgentSnapshot, ms: number, now: number): Next =>
  ms > 0 ? { state: S.WrapUp, callId: s.callId, wrapUpUntil: now + ms } : afterCall(s);
const deferNotReady: Rule = (s, e) => ({
  state: s.state,
  pendingNotReady: (e as Extract<AgentEvent, { type: 'go_not_ready' }>).reason,
});

/** The transition table: state → event → next state. Anything missing is illegal. */
export const AGENT_TRANSITIONS: Readonly<Record<AgentState, Partial<Record<AgentEventType, Rule>>>> = {
  [S.Offline]: {
    login: () => notReady(REASON_LOGIN),
    force_state: (s, e, n) => {
      const f = e as Extract<AgentEvent, { type: 'force_state' }>;
      // A lead cannot make a logged-out person available: there is nobody at the seat.
      if (f.state !== S.Offline) throw new IllegalAgentTransition('?', s.state, 'force_state');
      return force(s, e, n);
    },
  },
  [S.Ready]: {
    logout: () => offline,
    go_not_ready: (_s, e) => notReady((e as Extract<AgentEvent, { type: 'go_not_ready' }>).reason),
    offer: (_s, e) => ({ state: S.Reserved, callId: (e as Extract<AgentEvent, { type: 'offer' }>).callId }),
    assign,
    force_state: force,
  },
  [S.NotReady]: {
    logout: () => offline,
    assign,
    go_ready: () => ready,
    go_not_ready: (_s, e) => notReady((e as Extract<AgentEvent, { type: 'go_not_ready' }>).reason),
    force_state: force,
  },
  [S.Reserved]: {
    answer: (s) => ({ state: S.OnCall, callId: s.callId }),
    ring_timeout: () => notReady(REASON_RONA),
    reject: () => notReady(REASON_REJECTED),
    caller_gone: afterCall,
    withdraw: afterCall,
    // A transfer reached the seat while the ACD was ringing it for a queue: the ACD withdraws its offer.
    assign,
    go_not_ready: deferNotReady,
    logout: () => offline,
    force_state: force,
  },
  [S.OnCall]: {
    hangup: (s, e, now) => wrapUpOrBack(s, (e as Extract<AgentEvent, { type: 'hangup' }>).wrapUpMs, now),
    release: (s, e, now) => {
      const r = e as Extract<AgentEvent, { type: 'release' }>;
      // Releasing someone from a call they are not on would hide a real drift: illegal, like any other.
      if (r.callId !== s.callId) throw new IllegalAgentTransition('?', s.state, 'release');
      return wrapUpOrBack(s, r.wrapUpMs, now);
    },
    go_not_ready: deferNotReady,
    force_state: force,
  },
  [S.WrapUp]: {
    wrap_up_done: afterCall,
    wrap_up_extend: (s, e) => ({
      state: S.WrapUp,
      wrapUpUntil: (s.wrapUpUntil ?? 0) + (e as Extract<AgentEvent, { type: 'wrap_up_extend' }>).ms,
    }),
    go_ready: () => ready,
    go_not_ready: (_s, e) => notReady((e as Extract<AgentEvent, { type: 'go_not_ready' }>).reason),
    // A rejoin (three-way) or a transfer answered while still writing up the last call.
    assign,
    logout: () => offline,
    force_state: force,
  },
};

/** Events that keep the state but change its details do not restart the state's clock. */
const SAME_STATE_KEEPS_SINCE = new Set<AgentEventType>(['wrap_up_extend']);

export class AgentStateMachine {
  private s: AgentSnapshot;

  constructor(
    readonly agentId: string,
    private readonly now: () => number,
    private readonly wallNow: () => number = Date.now,
  ) {
    this.s = { state: S.Offline, reason: null, since: now(), callId: null, pendingNotReady: null, wrapUpUntil: null };
  }

  get state(): AgentState {
    return this.s.state;
  }

  snapshot(): Readonly<AgentSnapshot> {
    return { ...this.s };
  }

  can(type: AgentEventType): boolean {
    return AGENT_TRANSITIONS[this.s.state][type] !== undefined;
  }

  /** Applies the event or throws IllegalAgentTransition (state unchanged). */
  apply(e: AgentEvent): Transition {
    const rule = AGENT_TRANSITIONS[this.s.state][e.type];
    if (!rule) throw new IllegalAgentTransition(this.agentId, this.s.state, e.type);
    const now = this.now();
    let next: Next;
    try {
      next = rule(this.s, e, now);
    } catch (err) {
      if (err instanceof IllegalAgentTransition) throw new IllegalAgentTransition(this.agentId, this.s.state, e.type);
      throw err;
    }
    const from = this.s.state;
    const keep = next.state === from && (SAME_STATE_KEEPS_SINCE.has(e.type) || next.pendingNotReady !== undefined);
    const prevSince = this.s.since;
    this.s = {
      state: next.state,
      reason: next.reason !== undefined ? next.reason : next.state === from ? this.s.reason : null,
      callId: next.callId !== undefined ? next.callId : this.s.callId,
      pendingNotReady: next.pendingNotReady !== undefined ? next.pendingNotReady : this.s.pendingNotReady,
      wrapUpUntil: next.state === S.WrapUp ? (next.wrapUpUntil ?? this.s.wrapUpUntil) : null,
      since: keep ? prevSince : now,
    };
    return {
      agentId: this.agentId,
      from,
      to: next.state,
      event: e.type,
      reason: this.s.reason,
      callId: this.s.callId,
      at: now,
      previousDurationMs: now - prevSince,
      wallTime: new Date(this.wallNow()).toISOString(),
      ...(e.type === 'force_state' ? { by: e.by } : {}),
    };
  }
}
