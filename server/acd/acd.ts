import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../util/clock.js';
import { createLogger, guardListener, maskPhone } from '../util/log.js';
import {
  AgentState,
  AgentStateMachine,
  IllegalAgentTransition,
  type AgentEvent,
  type AgentSnapshot,
  type Transition,
} from './agent-state.js';
import type { AgentTarget, CallControl, DialOutcome, RingOutcome } from './call-control.js';
import {
  compareInQueue,
  crossQueueScore,
  effectiveSkills,
  estimateWaitMs,
  HandleTimes,
  meetsSkills,
  pickAgents,
  type Candidate,
  type OverflowTarget,
  type QueueConfig,
  type QueueEntry,
} from './queue.js';

/**
 * The ACD: agents, queues and the dispatcher. Event-driven — matching runs when a caller enters, an
 * agent becomes ready, a membership or queue changes, or an entry's timer (skill relaxation, max wait,
 * callback retry) fires; nothing polls. The only periodic job is the consistency check against call
 * control's live calls, which repairs drift and counts each repair.
 */

export interface AgentProfile {
  /** 工号. */
  id: string;
  displayName?: string;
  /** skill → level 1–5. */
  skills: Record<string, number>;
  /** queue id → membership priority (1 = primary). */
  queues: Record<string, number>;
}

export interface AgentView extends AgentSnapshot {
  agentId: string;
  displayName: string;
  seat: string | null;
  queues: Record<string, number>;
  skills: Record<string, number>;
  callsHandled: number;
  /** Queue of the current or last-offered call. */
  callQueueId: string | null;
}

export interface EnqueueInput {
  callId: string;
  queueId: string;
  kind?: 'call' | 'callback';
  priority?: number;
  skills?: Record<string, number>;
  consumer?: string | null;
  data?: Record<string, unknown>;
}

export type EnqueueResult =
  | { accepted: true; entry: Readonly<QueueEntry>; position: number; estimatedWaitMs: number }
  | { accepted: false; reason: 'unknown_queue' | 'full' | 'empty'; overflow: OverflowTarget | null };

export type LeaveReason = 'answered' | 'abandoned' | 'overflow' | 'leave_empty' | 'callback_failed' | 'removed';

export interface QueueStats {
  queueId: string;
  name: string;
  waiting: number;
  callbacks: number;
  longestWaitMs: number;
  agents: Record<AgentState, number>;
  meanHandleMs: number;
}

export interface AcdEvents {
  agent_state: (t: Transition, agent: AgentView) => void;
  queue_changed: (queueId: string) => void;
  entry_joined: (entry: Readonly<QueueEntry>) => void;
  entry_left: (entry: Readonly<QueueEntry>, reason: LeaveReason, agentId: string | null) => void;
  offer: (agentId: string, entry: Readonly<QueueEntry>) => void;
  repair: (kind: string, agentId: string, callId: string | null) => void;
  /** A caller was turned away at the door (metrics: full, joinempty, closed). */
  entry_refused: (callId: string, queueId: string, reason: 'full' | 'empty' | 'closed') => void;
  /** An entry overflowed into another queue (metrics: the visit to `fromQueueId` ends as transferred). */
  entry_moved: (entry: Readonly<QueueEntry>, fromQueueId: string, reason: 'max_wait' | 'leave_empty') => void;
  /** A waiting call became a callback: the caller asked for it, or the queue overflowed to callback. */
  entry_converted: (entry: Readonly<QueueEntry>, cause: 'caller' | 'max_wait' | 'leave_empty') => void;
}

export interface AcdOptions {
  clock: Clock;
  callControl: CallControl;
  wallNow?: () => number;
  log?: Logger;
  /** Consistency check period; 0 disables. Default 30 s. */
  reconcileEveryMs?: number;
  /** How long a callback dial may take before the ACD gives up on it. Default 60 s. */
  callbackDialTimeoutMs?: number;
  callbackRetryMs?: number;
  maxCallbackAttempts?: number;
}

interface AgentRt {
  id: string;
  displayName: string;
  sm: AgentStateMachine;
  seat: string | null;
  skills: Map<string, number>;
  queues: Map<string, number>;
  idleSince: number;
  callsHandled: number;
  offer: Offer | null;
  wrapTimer: TimerHandle | null;
  callQueueId: string | null;
  answeredAt: number | null;
}

interface Offer {
  entry: QueueEntry;
  ringAll: boolean;
  ctrls: Map<string, AbortController>;
  timer: TimerHandle | null;
  done: boolean;
}

interface QueueRt {
  cfg: QueueConfig;
  entries: Map<string, QueueEntry>;
  rrLast: number | null;
  handle: HandleTimes;
}

type Listeners = { [K in keyof AcdEvents]: Array<AcdEvents[K]> };

export class Acd {
  private readonly clock: Clock;
  private readonly cc: CallControl;
  private readonly wallNow: () => number;
  private readonly log: Logger;
  private readonly agents = new Map<string, AgentRt>();
  private readonly queues = new Map<string, QueueRt>();
  private readonly offers = new Map<string, Offer>();
  private readonly entryTimers = new Map<string, TimerHandle[]>();
  /** Callback entries waiting out a retry delay. */
  private readonly notBefore = new Map<string, number>();
  private readonly listeners: Listeners = {
    agent_state: [],
    queue_changed: [],
    entry_joined: [],
    entry_left: [],
    offer: [],
    repair: [],
    entry_refused: [],
    entry_moved: [],
    entry_converted: [],
  };
  private readonly orderCache = new Map<string, Map<string, number>>();
  private matching = false;
  private rematch = false;
  private nextEntry = 1;
  private reconcileTimer: TimerHandle | null = null;
  private closed = false;
  private readonly o: Required<Omit<AcdOptions, 'clock' | 'callControl' | 'wallNow' | 'log'>>;
  /** Illegal transitions, offers, RONAs, repairs ... for metrics and tests. */
  readonly counters: Record<string, number> = {};

  constructor(opts: AcdOptions) {
    this.clock = opts.clock;
    this.cc = opts.callControl;
    this.wallNow = opts.wallNow ?? Date.now;
    this.log = opts.log ?? createLogger('acd');
    this.o = {
      reconcileEveryMs: opts.reconcileEveryMs ?? 30_000,
      callbackDialTimeoutMs: opts.callbackDialTimeoutMs ?? 60_000,
      callbackRetryMs: opts.callbackRetryMs ?? 5 * 60_000,
      maxCallbackAttempts: opts.maxCallbackAttempts ?? 3,
    };
    this.scheduleReconcile();
  }

  on<K extends keyof AcdEvents>(event: K, fn: AcdEvents[K]): () => void {
    const wrapped = guardListener(`acd.${event}`, this.log, fn as (...a: unknown[]) => void) as AcdEvents[K];
    (this.listeners[event] as Array<AcdEvents[K]>).push(wrapped);
    return () => {
      const list = this.listeners[event] as Array<AcdEvents[K]>;
      const i = list.indexOf(wrapped);
      if (i >= 0) list.splice(i, 1);
    };
  }

  // ---------------------------------------------------------------- configuration (live, no restart)

  upsertQueue(cfg: QueueConfig): void {
    const q = this.queues.get(cfg.id);
    if (q) q.cfg = { ...cfg };
    else this.queues.set(cfg.id, { cfg: { ...cfg }, entries: new Map(), rrLast: null, handle: new HandleTimes() });
    this.emit('queue_changed', cfg.id);
    this.match();
  }

  queueConfig(id: string): Readonly<QueueConfig> | null {
    return this.queues.get(id)?.cfg ?? null;
  }

  queueIds(): string[] {
    return [...this.queues.keys()];
  }

  /** Adds an agent or updates skills and memberships; state and seat are kept. */
  upsertAgent(p: AgentProfile): void {
    let a = this.agents.get(p.id);
    if (!a) {
      a = {
        id: p.id,
        displayName: p.displayName ?? p.id,
        sm: new AgentStateMachine(p.id, () => this.clock.now(), this.wallNow),
        seat: null,
        skills: new Map(),
        queues: new Map(),
        idleSince: this.clock.now(),
        callsHandled: 0,
        offer: null,
        wrapTimer: null,
        callQueueId: null,
        answeredAt: null,
      };
      this.agents.set(p.id, a);
    }
    if (p.displayName !== undefined) a.displayName = p.displayName;
    for (const qid of a.queues.keys()) this.orderCache.delete(qid);
    a.skills = new Map(Object.entries(p.skills));
    a.queues = new Map(Object.entries(p.queues));
    for (const qid of a.queues.keys()) this.orderCache.delete(qid);
    for (const qid of a.queues.keys()) this.emit('queue_changed', qid);
    this.match();
  }

  agent(id: string): AgentView | null {
    const a = this.agents.get(id);
    return a ? this.view(a) : null;
  }

  agentList(): AgentView[] {
    return [...this.agents.values()].map((a) => this.view(a));
  }

  /** The agent logged in at a seat, if any. */
  agentAtSeat(seat: string): string | null {
    for (const a of this.agents.values()) if (a.seat === seat) return a.id;
    return null;
  }

  // ---------------------------------------------------------------- agent actions (throw IllegalAgentTransition)

  login(agentId: string, seat: string): AgentView {
    const a = this.mustAgent(agentId);
    const other = this.agentAtSeat(seat);
    if (other !== null && other !== agentId) throw new Error(`seat ${seat} is taken by ${other}`);
    // Seat first, so the pushed state change already names it.
    const prev = a.seat;
    a.seat = seat;
    try {
      if (a.sm.state === AgentState.Offline) this.apply(a, { type: 'login' });
    } catch (err) {
      a.seat = prev;
      throw err;
    }
    return this.view(a);
  }

  logout(agentId: string): AgentView {
    const a = this.mustAgent(agentId);
    this.apply(a, { type: 'logout' });
    return this.view(a);
  }

  setReady(agentId: string): AgentView {
    const a = this.mustAgent(agentId);
    if (a.sm.state !== AgentState.Ready) this.apply(a, { type: 'go_ready' });
    return this.view(a);
  }

  setNotReady(agentId: string, reason: string): AgentView {
    const a = this.mustAgent(agentId);
    this.apply(a, { type: 'go_not_ready', reason });
    return this.view(a);
  }

  extendWrapUp(agentId: string, ms: number): AgentView {
    const a = this.mustAgent(agentId);
    this.apply(a, { type: 'wrap_up_extend', ms });
    return this.view(a);
  }

  /** A lead sets the state (offline = forced logout). */
  forceState(
    agentId: string,
    state: AgentState.Offline | AgentState.Ready | AgentState.NotReady,
    by: string,
    reason?: string,
  ): AgentView {
    const a = this.mustAgent(agentId);
    this.apply(a, { type: 'force_state', state, by, reason });
    return this.view(a);
  }

  // ---------------------------------------------------------------- calls

  enqueue(input: EnqueueInput): EnqueueResult {
    const q = this.queues.get(input.queueId);
    if (!q || !q.cfg.enabled) {
      this.emit('entry_refused', input.callId, input.queueId, 'closed');
      return { accepted: false, reason: 'unknown_queue', overflow: null };
    }
    if (this.findEntryByCall(input.callId)) throw new Error(`call ${input.callId} is already queued`);
    if (q.cfg.maxSize > 0 && q.entries.size >= q.cfg.maxSize) {
      this.count('rejected_full');
      this.emit('entry_refused', input.callId, q.cfg.id, 'full');
      return { accepted: false, reason: 'full', overflow: q.cfg.overflow };
    }
    if (q.cfg.joinEmpty !== 'always' && (input.kind ?? 'call') === 'call') {
      const members = this.members(q.cfg.id);
      const ok =
        q.cfg.joinEmpty === 'unless_none_logged_in'
          ? members.some((m) => m.sm.state !== AgentState.Offline)
          : members.some((m) => m.sm.state === AgentState.Ready);
      if (!ok) {
        this.count('rejected_empty');
        this.emit('entry_refused', input.callId, q.cfg.id, 'empty');
        return { accepted: false, reason: 'empty', overflow: q.cfg.overflow };
      }
    }
    const now = this.clock.now();
    const entry: QueueEntry = {
      id: `q${this.nextEntry++}`,
      callId: input.callId,
      queueId: q.cfg.id,
      kind: input.kind ?? 'call',
      priority: input.priority ?? 0,
      enteredAt: now,
      queueEnteredAt: now,
      skills: { ...(input.skills ?? {}) },
      consumer: input.consumer ?? null,
      data: input.data,
      callbackAttempts: 0,
    };
    q.entries.set(entry.id, entry);
    this.armEntryTimers(entry);
    this.log.debug({ entry: entry.id, queue: q.cfg.id, consumer: maskPhone(entry.consumer) }, 'entered queue');
    this.emit('entry_joined', entry);
    this.emit('queue_changed', q.cfg.id);
    this.match();
    // The entry may already be gone (offered and answered synchronously is impossible: ringing is async).
    return {
      accepted: true,
      entry,
      position: this.position(entry.id) ?? 0,
      estimatedWaitMs: this.estimatedWaitMs(entry.id) ?? 0,
    };
  }

  /** The caller (still waiting) asked to be called back: the entry keeps its place without a live call. */
  convertToCallback(callId: string, consumer: string): boolean {
    const e = this.findEntryByCall(callId);
    if (!e || e.kind === 'callback') return false;
    if (this.offers.has(e.id)) return false;
    e.kind = 'callback';
    e.consumer = consumer;
    this.clearEntryTimers(e.id);
    this.armEntryTimers(e);
    this.emit('entry_converted', e, 'caller');
    this.emit('queue_changed', e.queueId);
    return true;
  }

  /** The caller hung up while queued or ringing. */
  abandon(callId: string): boolean {
    const e = this.findEntryByCall(callId);
    if (!e) return false;
    this.batch(() => {
      const offer = this.offers.get(e.id);
      if (offer) {
        this.finishOffer(offer);
        const ctrls = [...offer.ctrls];
        offer.ctrls.clear();
        for (const [agentId, ctrl] of ctrls) {
          ctrl.abort();
          this.tryApply(this.agents.get(agentId), { type: 'caller_gone' });
        }
      }
      this.removeEntry(e, 'abandoned', null);
    });
    return true;
  }

  /** An answered call ended: the agent goes to wrap-up (queue's time) or straight back. */
  callEnded(callId: string): boolean {
    for (const a of this.agents.values()) {
      if (a.sm.state !== AgentState.OnCall || a.sm.snapshot().callId !== callId) continue;
      const q = a.callQueueId ? this.queues.get(a.callQueueId) : undefined;
      if (q && a.answeredAt !== null) q.handle.add(this.clock.now() - a.answeredAt);
      this.apply(a, { type: 'hangup', wrapUpMs: q?.cfg.wrapUpMs ?? 0 });
      return true;
    }
    return false;
  }

  /**
   * Hand-over (issue 5): call control connected the agent to a call the ACD did not offer them (a
   * transfer answered at their seat, a three-way rejoin). An explicit event, so it is not counted as a
   * repair. `queueId` is the call's queue: its wrap-up time and handle-time statistics apply.
   * Illegal (throws IllegalAgentTransition) from offline and on-call.
   */
  assign(agentId: string, callId: string, queueId: string | null = null): AgentView {
    const a = this.mustAgent(agentId);
    const prevQueue = a.callQueueId;
    const prevAnswered = a.answeredAt;
    a.callQueueId = queueId !== null && this.queues.has(queueId) ? queueId : null;
    a.answeredAt = this.clock.now();
    this.batch(() => {
      try {
        this.apply(a, { type: 'assign', callId });
        a.callsHandled++;
      } catch (err) {
        a.callQueueId = prevQueue;
        a.answeredAt = prevAnswered;
        throw err;
      }
    });
    this.count('assigned');
    return this.view(a);
  }

  /**
   * Hand-over: the agent left this call (transferred it away, left a three-way) while it goes on.
   * Wrap-up is `wrapUpMs`, by default the call's queue's. Illegal unless on that very call.
   */
  release(agentId: string, callId: string, wrapUpMs?: number): AgentView {
    const a = this.mustAgent(agentId);
    const q = a.callQueueId ? this.queues.get(a.callQueueId) : undefined;
    const onIt = a.sm.state === AgentState.OnCall && a.sm.snapshot().callId === callId;
    this.apply(a, { type: 'release', callId, wrapUpMs: wrapUpMs ?? q?.cfg.wrapUpMs ?? 0 });
    if (onIt && q && a.answeredAt !== null) q.handle.add(this.clock.now() - a.answeredAt);
    this.count('released');
    return this.view(a);
  }

  /** 1-based place in its queue (callbacks keep theirs), or null if not queued. */
  position(entryId: string): number | null {
    for (const q of this.queues.values()) {
      if (!q.entries.has(entryId)) continue;
      const sorted = [...q.entries.values()].sort(compareInQueue);
      return sorted.findIndex((e) => e.id === entryId) + 1;
    }
    return null;
  }

  estimatedWaitMs(entryId: string): number | null {
    const pos = this.position(entryId);
    if (pos === null) return null;
    const e = this.findEntry(entryId)!;
    if (this.offers.has(entryId)) return 0;
    const q = this.queues.get(e.queueId)!;
    const members = this.members(q.cfg.id);
    const staffed = members.filter((m) => m.sm.state !== AgentState.Offline).length;
    const free = members.filter((m) => m.sm.state === AgentState.Ready).length;
    return estimateWaitMs(pos, staffed, free, q.handle.mean());
  }

  entries(queueId?: string): Readonly<QueueEntry>[] {
    const out: QueueEntry[] = [];
    for (const q of this.queues.values()) if (!queueId || q.cfg.id === queueId) out.push(...q.entries.values());
    return out.sort(compareInQueue);
  }

  stats(): QueueStats[] {
    const now = this.clock.now();
    return [...this.queues.values()].map((q) => {
      const agents = Object.fromEntries(Object.values(AgentState).map((s) => [s, 0])) as Record<AgentState, number>;
      for (const m of this.members(q.cfg.id)) agents[m.sm.state]++;
      let longest = 0;
      let callbacks = 0;
      for (const e of q.entries.values()) {
        longest = Math.max(longest, now - e.enteredAt);
        if (e.kind === 'callback') callbacks++;
      }
      return {
        queueId: q.cfg.id,
        name: q.cfg.name,
        waiting: q.entries.size,
        callbacks,
        longestWaitMs: longest,
        agents,
        meanHandleMs: Math.round(q.handle.mean()),
      };
    });
  }

  // ---------------------------------------------------------------- consistency check

  /** Compares agent states with call control's live calls and repairs drift. Returns the repairs made. */
  reconcile(): Array<{ kind: string; agentId: string; callId: string | null }> {
    const repairs: Array<{ kind: string; agentId: string; callId: string | null }> = [];
    const live = new Map<string, string>();
    for (const c of this.cc.liveAgentCalls()) live.set(c.agentId, c.callId);
    const repair = (kind: string, a: AgentRt, callId: string | null, ev: AgentEvent | null) => {
      if (ev && !this.tryApply(a, ev)) return;
      repairs.push({ kind, agentId: a.id, callId });
      this.count(`repair_${kind}`);
      this.log.warn({ agent: a.id, kind, callId }, 'ACD state repaired');
      this.emit('repair', kind, a.id, callId);
    };
    this.batch(() => this.reconcileAgents(live, repair));
    return repairs;
  }

  private reconcileAgents(
    live: Map<string, string>,
    repair: (kind: string, a: AgentRt, callId: string | null, ev: AgentEvent | null) => void,
  ): void {
    for (const a of this.agents.values()) {
      const snap = a.sm.snapshot();
      const callId = live.get(a.id) ?? null;
      if (callId !== null) {
        if (snap.state === AgentState.OnCall && snap.callId === callId) continue;
        if (snap.state === AgentState.Reserved && snap.callId === callId) continue; // answer in flight
        if (snap.state === AgentState.Offline) {
          repair('offline_with_call', a, callId, null);
          continue;
        }
        if (snap.state === AgentState.Reserved) this.detachFromOffer(a);
        repair('missing_on_call', a, callId, {
          type: 'force_state',
          state: AgentState.OnCall,
          by: 'reconcile',
          callId,
        });
      } else if (snap.state === AgentState.OnCall) {
        const q = a.callQueueId ? this.queues.get(a.callQueueId) : undefined;
        repair('stale_on_call', a, snap.callId, { type: 'hangup', wrapUpMs: q?.cfg.wrapUpMs ?? 0 });
      } else if (snap.state === AgentState.Reserved && !a.offer) {
        repair('stale_reserved', a, snap.callId, { type: 'withdraw' });
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clock.clearTimeout(this.reconcileTimer);
    for (const offer of this.offers.values()) {
      this.clock.clearTimeout(offer.timer);
      for (const c of offer.ctrls.values()) c.abort();
    }
    this.offers.clear();
    for (const ts of this.entryTimers.values()) for (const t of ts) this.clock.clearTimeout(t);
    this.entryTimers.clear();
    for (const a of this.agents.values()) this.clock.clearTimeout(a.wrapTimer);
  }

  // ---------------------------------------------------------------- internals

  private scheduleReconcile(): void {
    if (this.o.reconcileEveryMs <= 0 || this.closed) return;
    this.reconcileTimer = this.clock.setTimeout(() => {
      try {
        this.reconcile();
      } catch (err) {
        this.count('reconcile_errors');
        this.log.error({ err }, 'consistency check failed');
      }
      this.scheduleReconcile();
    }, this.o.reconcileEveryMs);
  }

  /** Applies an event; illegal ones are logged, counted and rethrown (the API turns them into 409). */
  private apply(a: AgentRt, ev: AgentEvent): Transition {
    const before = a.sm.state;
    let t: Transition;
    try {
      t = a.sm.apply(ev);
    } catch (err) {
      if (err instanceof IllegalAgentTransition) {
        this.count('illegal_transitions');
        this.log.warn({ agent: a.id, state: before, event: ev.type }, 'illegal agent transition');
      }
      throw err;
    }
    this.afterTransition(a, t);
    return t;
  }

  private tryApply(a: AgentRt | undefined, ev: AgentEvent): boolean {
    if (!a) return false;
    try {
      this.apply(a, ev);
      return true;
    } catch (err) {
      if (!(err instanceof IllegalAgentTransition)) throw err;
      return false;
    }
  }

  private afterTransition(a: AgentRt, t: Transition): void {
    // A hand-over from reserved leaves the offer too: the entry is offered to someone else.
    if (
      t.from === AgentState.Reserved &&
      t.to !== AgentState.Reserved &&
      (t.to !== AgentState.OnCall || t.event === 'assign')
    ) {
      this.detachFromOffer(a);
    }
    if (t.from === AgentState.WrapUp && t.to !== AgentState.WrapUp) {
      this.clock.clearTimeout(a.wrapTimer);
      a.wrapTimer = null;
    }
    if (t.to === AgentState.WrapUp) {
      this.clock.clearTimeout(a.wrapTimer);
      const until = a.sm.snapshot().wrapUpUntil ?? this.clock.now();
      a.wrapTimer = this.clock.setTimeout(() => {
        a.wrapTimer = null;
        this.tryApply(a, { type: 'wrap_up_done' });
      }, until - this.clock.now());
    }
    if (t.to === AgentState.OnCall && t.from !== AgentState.Reserved && t.event !== 'assign') a.callQueueId = null;
    if (t.to === AgentState.Ready && t.from !== AgentState.Ready) a.idleSince = t.at;
    if (t.to === AgentState.Offline) {
      a.seat = null;
      this.leaveEmpty(a);
    }
    this.emit('agent_state', t, this.view(a));
    if (t.from !== t.to) for (const qid of a.queues.keys()) this.emit('queue_changed', qid);
    if (t.to === AgentState.Ready) this.match();
  }

  /** A reserved agent leaves an offer (logout, force, RONA ...): stop its ring; if it was the last, requeue. */
  private detachFromOffer(a: AgentRt): void {
    const offer = a.offer;
    a.offer = null;
    if (!offer) return;
    const ctrl = offer.ctrls.get(a.id);
    offer.ctrls.delete(a.id);
    ctrl?.abort();
    if (!offer.done && offer.ctrls.size === 0) {
      this.finishOffer(offer);
      this.emit('queue_changed', offer.entry.queueId);
      this.match();
    }
  }

  private finishOffer(offer: Offer): void {
    offer.done = true;
    this.clock.clearTimeout(offer.timer);
    offer.timer = null;
    if (this.offers.get(offer.entry.id) === offer) this.offers.delete(offer.entry.id);
    for (const agentId of offer.ctrls.keys()) {
      const a = this.agents.get(agentId);
      if (a?.offer === offer) a.offer = null;
    }
  }

  private match(): void {
    if (this.closed) return;
    if (this.matching) {
      this.rematch = true;
      return;
    }
    this.matching = true;
    try {
      do {
        this.rematch = false;
        this.matchOnce();
      } while (this.rematch);
    } finally {
      this.matching = false;
    }
  }

  /** Runs fn with matching held back, then matches once: several agents freed together are matched together. */
  private batch(fn: () => void): void {
    if (this.matching) {
      fn();
      return;
    }
    this.matching = true;
    try {
      fn();
    } finally {
      this.matching = false;
    }
    if (this.rematch) this.match();
  }

  private matchOnce(): void {
    const free = new Set<AgentRt>();
    for (const a of this.agents.values()) if (a.sm.state === AgentState.Ready && a.seat !== null) free.add(a);
    if (free.size === 0) return;
    const now = this.clock.now();
    if (free.size === 1) {
      // The usual event (one agent became ready) with a backlog: the first entry in global order this
      // agent can serve is simply the best-scoring eligible one, so a linear scan replaces the sort.
      this.matchOneAgent([...free][0]!, now);
      return;
    }
    const waiting: Array<{ e: QueueEntry; q: QueueRt; score: [number, number] }> = [];
    for (const q of this.queues.values()) {
      if (!q.cfg.enabled) continue;
      for (const e of q.entries.values()) {
        if (this.offers.has(e.id)) continue;
        const nb = this.notBefore.get(e.id);
        if (nb !== undefined && nb > now) continue;
        waiting.push({ e, q, score: crossQueueScore(e, Math.max(0.1, q.cfg.weight), now) });
      }
    }
    waiting.sort((x, y) => y.score[0] - x.score[0] || y.score[1] - x.score[1] || compareInQueue(x.e, y.e));
    for (const { e, q } of waiting) {
      if (free.size === 0) break;
      const required = effectiveSkills(e, q.cfg.skillRelax, now - e.queueEnteredAt);
      const cands: Candidate[] = [];
      const order = this.memberOrder(q.cfg.id);
      for (const a of free) {
        const prio = a.queues.get(q.cfg.id);
        if (prio === undefined || !meetsSkills(a.skills, required)) continue;
        cands.push({
          agentId: a.id,
          idleSince: a.idleSince,
          callsHandled: a.callsHandled,
          memberPriority: prio,
          order: order.get(a.id) ?? 0,
          skills: a.skills,
        });
      }
      const strategy = e.kind === 'callback' && q.cfg.strategy === 'ring_all' ? 'longest_idle' : q.cfg.strategy;
      const picked = pickAgents(strategy, cands, required, q.rrLast);
      if (picked.length === 0) continue;
      if (strategy === 'round_robin') q.rrLast = picked[0]!.order;
      const rts = picked.map((c) => this.agents.get(c.agentId)!);
      for (const a of rts) free.delete(a);
      this.startOffer(e, q, rts, strategy === 'ring_all');
    }
  }

  private matchOneAgent(a: AgentRt, now: number): void {
    let best: { e: QueueEntry; q: QueueRt; score: [number, number] } | null = null;
    for (const qid of a.queues.keys()) {
      const q = this.queues.get(qid);
      if (!q?.cfg.enabled) continue;
      const weight = Math.max(0.1, q.cfg.weight);
      for (const e of q.entries.values()) {
        if (this.offers.has(e.id)) continue;
        const nb = this.notBefore.get(e.id);
        if (nb !== undefined && nb > now) continue;
        const score = crossQueueScore(e, weight, now);
        if (best && !outranks(score, e, best.score, best.e)) continue;
        if (!meetsSkills(a.skills, effectiveSkills(e, q.cfg.skillRelax, now - e.queueEnteredAt))) continue;
        best = { e, q, score };
      }
    }
    if (!best) return;
    if (best.q.cfg.strategy === 'round_robin') best.q.rrLast = this.memberOrder(best.q.cfg.id).get(a.id) ?? null;
    this.startOffer(best.e, best.q, [a], best.q.cfg.strategy === 'ring_all' && best.e.kind === 'call');
  }

  /** Stable round-robin order: members sorted by id (memberships have no other natural order). Cached until a profile changes. */
  private memberOrder(queueId: string): Map<string, number> {
    let m = this.orderCache.get(queueId);
    if (!m) {
      const ids = this.members(queueId)
        .map((a) => a.id)
        .sort();
      m = new Map(ids.map((id, i) => [id, i]));
      this.orderCache.set(queueId, m);
    }
    return m;
  }

  private startOffer(entry: QueueEntry, q: QueueRt, agents: AgentRt[], ringAll: boolean): void {
    const offer: Offer = { entry, ringAll, ctrls: new Map(), timer: null, done: false };
    this.offers.set(entry.id, offer);
    const reserved: Transition[] = [];
    for (const a of agents) {
      reserved.push(a.sm.apply({ type: 'offer', callId: entry.callId }));
      a.offer = offer;
      a.callQueueId = q.cfg.id;
      offer.ctrls.set(a.id, new AbortController());
    }
    const timeout = entry.kind === 'callback' ? this.o.callbackDialTimeoutMs : q.cfg.ringTimeoutMs;
    offer.timer = this.clock.setTimeout(() => this.offerTimedOut(offer), timeout);
    this.count('offers');
    // Emit after every agent is reserved, so listeners see a consistent picture.
    agents.forEach((a, i) => {
      this.emit('agent_state', reserved[i]!, this.view(a));
      this.emit('offer', a.id, entry);
    });
    this.emit('queue_changed', q.cfg.id);
    for (const a of agents) {
      const ctrl = offer.ctrls.get(a.id);
      if (!ctrl) continue;
      const target: AgentTarget = { agentId: a.id, seat: a.seat };
      let p: Promise<RingOutcome | DialOutcome>;
      try {
        p =
          entry.kind === 'callback'
            ? this.cc.dialCallback(target, entry, ctrl.signal)
            : this.cc.ringAgent(target, entry, ctrl.signal);
      } catch (err) {
        p = Promise.reject(err);
      }
      p.then(
        (r) => this.offerResult(offer, a.id, r),
        (err: unknown) => {
          this.count('ring_errors');
          this.log.error({ err, agent: a.id, entry: entry.id }, 'call control failed to ring');
          this.offerResult(offer, a.id, entry.kind === 'callback' ? 'failed' : 'no_answer');
        },
      );
    }
  }

  private offerResult(offer: Offer, agentId: string, r: RingOutcome | DialOutcome): void {
    if (offer.done || this.closed) return;
    const ctrl = offer.ctrls.get(agentId);
    if (!ctrl || ctrl.signal.aborted) return;
    const a = this.agents.get(agentId)!;
    const entry = offer.entry;
    if (r === 'answered') {
      offer.ctrls.delete(agentId);
      a.offer = null;
      this.finishOffer(offer);
      const others = [...offer.ctrls];
      offer.ctrls.clear();
      a.callsHandled++;
      a.answeredAt = this.clock.now();
      this.count('answered');
      this.batch(() => {
        this.removeEntry(entry, 'answered', agentId);
        this.apply(a, { type: 'answer' });
        for (const [other, c] of others) {
          c.abort();
          this.tryApply(this.agents.get(other), { type: 'withdraw' });
        }
      });
      return;
    }
    if (r === 'caller_gone') {
      this.abandon(entry.callId);
      return;
    }
    if (entry.kind === 'callback') {
      // The consumer did not pick up: the agent is free again, the callback is retried later
      // (the retry delay is set first, so the freed agent is not handed the same callback at once).
      this.batch(() => {
        this.callbackFailed(entry);
        this.tryApply(a, { type: 'withdraw' });
      });
      return;
    }
    if (r === 'rejected') {
      this.count('rejected');
      this.tryApply(a, { type: 'reject' });
    } else {
      this.count('rona');
      this.tryApply(a, offer.ringAll ? { type: 'withdraw' } : { type: 'ring_timeout' });
    }
  }

  private offerTimedOut(offer: Offer): void {
    offer.timer = null;
    if (offer.done) return;
    if (offer.entry.kind === 'callback') {
      const ctrls = [...offer.ctrls];
      this.batch(() => {
        this.callbackFailed(offer.entry);
        offer.ctrls.clear();
        for (const [agentId, c] of ctrls) {
          c.abort();
          this.tryApply(this.agents.get(agentId), { type: 'withdraw' });
        }
      });
      return;
    }
    // RONA (ring-all: nobody answered, nobody is blamed; the entry rings the free agents again).
    this.batch(() => {
      for (const agentId of [...offer.ctrls.keys()]) {
        this.count('rona');
        this.tryApply(this.agents.get(agentId), offer.ringAll ? { type: 'withdraw' } : { type: 'ring_timeout' });
      }
    });
  }

  private callbackFailed(entry: QueueEntry): void {
    const o = this.offers.get(entry.id);
    if (o) this.finishOffer(o);
    entry.callbackAttempts++;
    if (entry.callbackAttempts >= this.o.maxCallbackAttempts) {
      this.removeEntry(entry, 'callback_failed', null);
      return;
    }
    const at = this.clock.now() + this.o.callbackRetryMs;
    this.notBefore.set(entry.id, at);
    this.addEntryTimer(
      entry.id,
      this.clock.setTimeout(() => this.match(), this.o.callbackRetryMs),
    );
    this.emit('queue_changed', entry.queueId);
    this.match();
  }

  private armEntryTimers(e: QueueEntry): void {
    const q = this.queues.get(e.queueId)!;
    const waited = this.clock.now() - e.queueEnteredAt;
    // Each relaxation step is an event that may make new agents eligible.
    for (const step of q.cfg.skillRelax) {
      if (step.afterMs > waited && Object.keys(e.skills).length > 0) {
        this.addEntryTimer(
          e.id,
          this.clock.setTimeout(() => this.match(), step.afterMs - waited),
        );
      }
    }
    if (e.kind === 'call' && q.cfg.maxWaitMs > 0) {
      this.addEntryTimer(
        e.id,
        this.clock.setTimeout(() => this.maxWait(e), Math.max(0, q.cfg.maxWaitMs - waited)),
      );
    }
  }

  private addEntryTimer(entryId: string, t: TimerHandle): void {
    const list = this.entryTimers.get(entryId);
    if (list) list.push(t);
    else this.entryTimers.set(entryId, [t]);
  }

  private clearEntryTimers(entryId: string): void {
    for (const t of this.entryTimers.get(entryId) ?? []) this.clock.clearTimeout(t);
    this.entryTimers.delete(entryId);
  }

  private maxWait(e: QueueEntry): void {
    if (!this.findEntry(e.id) || e.kind !== 'call') return;
    const q = this.queues.get(e.queueId)!;
    if (this.offers.has(e.id)) {
      // Ringing an agent right now: let that ring finish rather than snatch the call away.
      this.addEntryTimer(
        e.id,
        this.clock.setTimeout(() => this.maxWait(e), q.cfg.ringTimeoutMs),
      );
      return;
    }
    this.overflow(e, q.cfg.overflow, 'max_wait');
  }

  private overflow(e: QueueEntry, target: OverflowTarget | null, reason: 'max_wait' | 'leave_empty'): void {
    this.count('overflow');
    const from = e.queueId;
    if (target?.kind === 'queue') {
      const t = this.queues.get(target.queueId);
      if (t && t.cfg.enabled && t.cfg.id !== from && (t.cfg.maxSize === 0 || t.entries.size < t.cfg.maxSize)) {
        this.clearEntryTimers(e.id);
        this.queues.get(from)!.entries.delete(e.id);
        e.queueId = t.cfg.id;
        e.queueEnteredAt = this.clock.now();
        t.entries.set(e.id, e);
        this.armEntryTimers(e);
        this.cc.overflow(e, target, reason);
        this.emit('entry_moved', e, from, reason);
        this.emit('queue_changed', from);
        this.emit('queue_changed', t.cfg.id);
        this.match();
        return;
      }
      target = null;
    }
    if (target?.kind === 'callback' && e.consumer) {
      e.kind = 'callback';
      this.clearEntryTimers(e.id);
      this.armEntryTimers(e);
      this.cc.overflow(e, target, reason);
      this.emit('entry_converted', e, reason);
      this.emit('queue_changed', from);
      return;
    }
    const final = target?.kind === 'voicemail' ? target : null;
    this.removeEntry(e, reason === 'leave_empty' ? 'leave_empty' : 'overflow', null);
    this.cc.overflow(e, final, reason);
  }

  /** leave_empty: the agent who just logged out may have been a queue's last member on duty. */
  private leaveEmpty(a: AgentRt): void {
    for (const qid of a.queues.keys()) {
      const q = this.queues.get(qid);
      if (!q?.cfg.leaveEmpty) continue;
      if (this.members(qid).some((m) => m.sm.state !== AgentState.Offline)) continue;
      for (const e of [...q.entries.values()]) {
        if (e.kind === 'call' && !this.offers.has(e.id)) this.overflow(e, q.cfg.overflow, 'leave_empty');
      }
    }
  }

  private removeEntry(e: QueueEntry, reason: LeaveReason, agentId: string | null): void {
    const q = this.queues.get(e.queueId);
    if (!q?.entries.delete(e.id)) return;
    this.clearEntryTimers(e.id);
    this.notBefore.delete(e.id);
    if (reason === 'abandoned') this.count('abandoned');
    this.emit('entry_left', e, reason, agentId);
    this.emit('queue_changed', e.queueId);
  }

  private members(queueId: string): AgentRt[] {
    const out: AgentRt[] = [];
    for (const a of this.agents.values()) if (a.queues.has(queueId)) out.push(a);
    return out;
  }

  private findEntry(entryId: string): QueueEntry | null {
    for (const q of this.queues.values()) {
      const e = q.entries.get(entryId);
      if (e) return e;
    }
    return null;
  }

  private findEntryByCall(callId: string): QueueEntry | null {
    for (const q of this.queues.values()) for (const e of q.entries.values()) if (e.callId === callId) return e;
    return null;
  }

  private mustAgent(id: string): AgentRt {
    const a = this.agents.get(id);
    if (!a) throw new Error(`unknown agent ${id}`);
    return a;
  }

  private view(a: AgentRt): AgentView {
    return {
      ...a.sm.snapshot(),
      agentId: a.id,
      displayName: a.displayName,
      seat: a.seat,
      queues: Object.fromEntries(a.queues),
      skills: Object.fromEntries(a.skills),
      callsHandled: a.callsHandled,
      callQueueId: a.callQueueId,
    };
  }

  private count(name: string): void {
    this.counters[name] = (this.counters[name] ?? 0) + 1;
  }

  private emit<K extends keyof AcdEvents>(event: K, ...args: Parameters<AcdEvents[K]>): void {
    for (const fn of this.listeners[event]) (fn as (...a: Parameters<AcdEvents[K]>) => void)(...args);
  }
}

/** Same order as the sort in matchOnce: caller priority, weighted wait, then queue order. */
function outranks(sa: [number, number], a: QueueEntry, sb: [number, number], b: QueueEntry): boolean {
  if (sa[0] !== sb[0]) return sa[0] > sb[0];
  if (sa[1] !== sb[1]) return sa[1] > sb[1];
  return compareInQueue(a, b) < 0;
}
