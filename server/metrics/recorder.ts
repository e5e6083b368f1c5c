import type { Logger } from 'pino';
import type { Acd, LeaveReason as AcdLeaveReason } from '../acd/acd.js';
import type { Transition } from '../acd/agent-state.js';
import type { QueueEntry } from '../acd/queue.js';
import type { Clock } from '../util/clock.js';
import { createLogger } from '../util/log.js';
import type { MetricsStore } from './store.js';
import type { AgentInterval, AgentStateName, LeaveReason, QueueVisit, RingResult } from './types.js';

/**
 * Turns ACD events into the metrics event log: queue visits, ring attempts and agent state intervals.
 * Listeners do bookkeeping in memory and queue rows on the store (batched), nothing else, so a burst of
 * ACD events costs the call path a few object writes.
 *
 * Times: the ACD runs on a monotonic Clock; rows carry wall time. The recorder anchors the two once
 * (wall = wallAnchor + (clock.now() − monoAnchor)) so durations are exact and a FakeClock test gets
 * wall times that move with it.
 */

export interface RecorderOptions {
  acd: Acd;
  store: MetricsStore;
  clock: Clock;
  /** Wall clock (epoch ms) at the anchor; default Date.now. */
  wallNow?: () => number;
  log?: Logger;
  /** Keep this many ms of finished visits in memory for the wallboard (today and the rolling window). */
  keepMs?: number;
}

const FROM_ACD: Record<AcdLeaveReason, LeaveReason> = {
  answered: 'answered',
  abandoned: 'abandoned',
  overflow: 'timeout',
  leave_empty: 'leaveempty',
  callback_failed: 'other',
  removed: 'other',
};

const REFUSED: Record<'full' | 'empty' | 'closed', LeaveReason> = {
  full: 'full',
  empty: 'joinempty',
  closed: 'closed',
};

const RING_RESULT: Partial<Record<Transition['event'], RingResult>> = {
  answer: 'answered',
  ring_timeout: 'no_answer',
  reject: 'rejected',
  caller_gone: 'caller_gone',
  withdraw: 'withdrawn',
};

/** Per-queue totals since the process started (Prometheus counters). */
export interface QueueCounters {
  offered: number;
  answered: number;
  abandoned: number;
  byReason: Partial<Record<LeaveReason, number>>;
}

/** Hold of the consumer during one answered visit: the open hold's start (wall ms) and the time so far. */
interface VisitHold {
  since: number | null;
  ms: number;
}

interface OpenInterval {
  state: AgentStateName;
  reason: string | null;
  start: number;
  callId: string | null;
}

export class MetricsRecorder {
  private readonly acd: Acd;
  private readonly store: MetricsStore;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly monoAnchor: number;
  private readonly wallAnchor: number;
  private readonly tag: string;
  private readonly keepMs: number;
  /** Waiting visits by ACD entry id. */
  private readonly waiting = new Map<string, QueueVisit>();
  /** Answered visits by call id, until the agent's talk is over. */
  private readonly answeredByCall = new Map<string, QueueVisit>();
  /** The visit an agent is talking about or wrapping up. */
  private readonly handling = new Map<string, QueueVisit>();
  /** Answered visits whose agent is on the call, by call id: where hold time goes. */
  private readonly talking = new Map<string, { visit: QueueVisit; hold: VisitHold }>();
  /** Calls whose consumer is on hold now (a visit that starts while held starts on hold). */
  private readonly heldCalls = new Set<string>();
  private readonly ringing = new Map<string, { visit: QueueVisit; start: number }>();
  private readonly open = new Map<string, OpenInterval>();
  /** Visits that ended recently, oldest first (wallboard windows); pruned to keepMs. */
  private readonly recentVisits: QueueVisit[] = [];
  readonly counters = new Map<string, QueueCounters>();
  private readonly unsubscribe: Array<() => void> = [];
  private closed = false;
  private refusedSeq = 1;

  constructor(o: RecorderOptions) {
    this.acd = o.acd;
    this.store = o.store;
    this.clock = o.clock;
    this.log = o.log ?? createLogger('metrics');
    this.monoAnchor = o.clock.now();
    this.wallAnchor = (o.wallNow ?? Date.now)();
    // ACD entry ids restart at q1 with every process: the tag keeps visit ids unique across restarts.
    this.tag = this.wallAnchor.toString(36);
    this.keepMs = o.keepMs ?? 26 * 3600_000;
    const a = this.acd;
    this.unsubscribe.push(
      a.on('entry_joined', (e) => this.joined(e)),
      a.on('entry_refused', (callId, queue, reason) => this.refused(callId, queue, reason)),
      a.on('entry_converted', (e) => this.converted(e)),
      a.on('entry_moved', (e, from) => this.moved(e, from)),
      a.on('entry_left', (e, reason, agentId) => this.left(e, reason, agentId)),
      a.on('offer', (agentId, e) => this.offered(agentId, e)),
      a.on('agent_state', (t) => this.agentState(t)),
    );
  }

  /** Wall time now (epoch ms) on the recorder's anchor. */
  now(): number {
    return this.toWall(this.clock.now());
  }

  toWall(mono: number): number {
    return Math.round(this.wallAnchor + (mono - this.monoAnchor));
  }

  /** Visits that finished in memory (kept keepMs), for live windows. Entered at or after `since`. */
  recent(since: number): QueueVisit[] {
    this.prune();
    return this.recentVisits.filter((v) => v.enteredAt >= since);
  }

  /** Agent intervals still open, cut at `at` (so today's figures include the current state). */
  openIntervals(at = this.now()): AgentInterval[] {
    const out: AgentInterval[] = [];
    for (const [agentId, o] of this.open) {
      if (at > o.start)
        out.push({ agentId, state: o.state, reason: o.reason, start: o.start, end: at, callId: o.callId });
    }
    return out;
  }

  /** Since when each agent is in its current state (wall ms), for the wallboard. */
  stateSince(agentId: string): number | null {
    return this.open.get(agentId)?.start ?? null;
  }

  counter(queue: string): QueueCounters {
    let c = this.counters.get(queue);
    if (!c) {
      c = { offered: 0, answered: 0, abandoned: 0, byReason: {} };
      this.counters.set(queue, c);
    }
    return c;
  }

  /**
   * The consumer of a call was put on hold (true) or taken off it (false): call control's room
   * reports it. Hold counts for the answered visit whose agent is on the call, until unhold or the
   * agent's hang-up, whichever comes first; AHT = talk + hold + ACW with talk excluding hold.
   */
  holdChanged(callId: string, held: boolean): void {
    if (this.closed) return;
    if (held) this.heldCalls.add(callId);
    else this.heldCalls.delete(callId);
    const t = this.talking.get(callId);
    if (!t) return;
    const now = this.now();
    if (held && t.hold.since === null) t.hold.since = now;
    else if (!held && t.hold.since !== null) {
      t.hold.ms += Math.max(0, now - t.hold.since);
      t.hold.since = null;
    }
  }

  /** Ends open intervals at close time (a shutdown keeps the day's time) and stops listening. Safe twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const u of this.unsubscribe) u();
    const at = this.now();
    for (const i of this.openIntervals(at)) this.store.addInterval(i);
    this.open.clear();
    this.store.flush();
  }

  // ------------------------------------------------------------------ listeners

  private joined(e: Readonly<QueueEntry>): void {
    const now = this.now();
    const v: QueueVisit = {
      id: `${this.tag}-${e.id}-${e.queueId}`,
      callId: e.callId,
      queue: e.queueId,
      kind: e.kind,
      callEnteredAt: this.toWall(e.enteredAt),
      enteredAt: now,
      leftAt: null,
      leaveReason: null,
      answeredAt: null,
      agentId: null,
      talkMs: null,
      holdMs: null,
      acwMs: null,
    };
    this.waiting.set(e.id, v);
    this.store.saveVisit(v);
  }

  private refused(callId: string, queue: string, reason: 'full' | 'empty' | 'closed'): void {
    const now = this.now();
    const v: QueueVisit = {
      id: `${this.tag}-r${this.refusedSeq++}-${queue}`,
      callId,
      queue,
      kind: 'call',
      callEnteredAt: now,
      enteredAt: now,
      leftAt: null,
      leaveReason: null,
      answeredAt: null,
      agentId: null,
      talkMs: null,
      holdMs: null,
      acwMs: null,
    };
    this.finish(v, REFUSED[reason], now);
  }

  private converted(e: Readonly<QueueEntry>): void {
    const v = this.waiting.get(e.id);
    if (!v || v.kind !== 'call') return;
    const now = this.now();
    this.finish(v, 'callback', now);
    // The callback waits on in the same queue as its own kind of visit, outside the call KPIs.
    const cb: QueueVisit = {
      ...v,
      id: `${v.id}-cb`,
      kind: 'callback',
      enteredAt: now,
      leftAt: null,
      leaveReason: null,
    };
    this.waiting.set(e.id, cb);
    this.store.saveVisit(cb);
  }

  private moved(e: Readonly<QueueEntry>, from: string): void {
    const v = this.waiting.get(e.id);
    if (!v) return;
    const now = this.now();
    this.finish(v, 'transferred', now);
    const next: QueueVisit = {
      ...v,
      id: `${this.tag}-${e.id}-${e.queueId}`,
      queue: e.queueId,
      enteredAt: now,
      leftAt: null,
      leaveReason: null,
    };
    if (from === e.queueId) this.waiting.delete(e.id);
    else this.waiting.set(e.id, next);
    this.store.saveVisit(next);
  }

  private left(e: Readonly<QueueEntry>, reason: AcdLeaveReason, agentId: string | null): void {
    const v = this.waiting.get(e.id);
    if (!v) return;
    const now = this.now();
    if (reason === 'answered') {
      v.answeredAt = now;
      v.agentId = agentId;
      this.answeredByCall.set(e.callId, v);
    }
    this.waiting.delete(e.id);
    this.finish(v, FROM_ACD[reason], now);
  }

  private offered(agentId: string, e: Readonly<QueueEntry>): void {
    const v = this.waiting.get(e.id);
    if (v) this.ringing.set(agentId, { visit: v, start: this.now() });
  }

  private agentState(t: Transition): void {
    const now = this.toWall(t.at);
    const id = t.agentId;
    if (t.from === 'reserved' && t.to !== 'reserved') {
      const r = this.ringing.get(id);
      this.ringing.delete(id);
      if (r) {
        this.store.addRing({
          visitId: r.visit.id,
          callId: r.visit.callId,
          queue: r.visit.queue,
          agentId: id,
          startedAt: r.start,
          endedAt: now,
          result: RING_RESULT[t.event] ?? 'cancelled',
        });
      }
    }
    if (t.to === 'on_call' && t.from !== 'on_call' && t.callId) {
      const v = this.answeredByCall.get(t.callId);
      this.answeredByCall.delete(t.callId);
      if (v) {
        this.handling.set(id, v);
        this.talking.set(t.callId, { visit: v, hold: { since: this.heldCalls.has(t.callId) ? now : null, ms: 0 } });
      }
    }
    if (t.from === 'on_call' && t.to !== 'on_call') {
      const v = this.handling.get(id);
      if (v) {
        const h = this.talking.get(v.callId);
        if (h?.visit === v) this.talking.delete(v.callId);
        // A hold still open at hang-up counts up to the hang-up.
        const holdMs = h?.visit === v ? h.hold.ms + (h.hold.since === null ? 0 : Math.max(0, now - h.hold.since)) : 0;
        const onCallMs = t.previousDurationMs;
        v.holdMs = Math.min(holdMs, onCallMs);
        v.talkMs = onCallMs - v.holdMs;
        if (t.to !== 'wrap_up') {
          v.acwMs = 0;
          this.handling.delete(id);
        }
        this.store.saveVisit(v);
      }
    } else if (t.from === 'wrap_up' && t.to !== 'wrap_up') {
      const v = this.handling.get(id);
      this.handling.delete(id);
      if (v) {
        v.acwMs = (v.acwMs ?? 0) + t.previousDurationMs;
        this.store.saveVisit(v);
      }
    }
    this.interval(t, now);
  }

  private interval(t: Transition, now: number): void {
    const cur = this.open.get(t.agentId);
    const reason = t.to === 'not_ready' ? t.reason : null;
    if (cur && cur.state === t.to && cur.reason === reason) return; // same stretch (wrap-up extended, pending not-ready)
    if (cur && now > cur.start) {
      this.store.addInterval({
        agentId: t.agentId,
        state: cur.state,
        reason: cur.reason,
        start: cur.start,
        end: now,
        callId: cur.callId,
      });
    } else if (!cur && t.from !== 'offline' && t.previousDurationMs > 0) {
      // First event seen for an agent already logged in (recorder started late): its state so far.
      this.store.addInterval({
        agentId: t.agentId,
        state: t.from,
        reason: null,
        start: now - t.previousDurationMs,
        end: now,
        callId: null,
      });
    }
    if (t.to === 'offline') this.open.delete(t.agentId);
    else this.open.set(t.agentId, { state: t.to, reason, start: now, callId: t.callId });
  }

  private finish(v: QueueVisit, reason: LeaveReason, now: number): void {
    v.leftAt = now;
    v.leaveReason = reason;
    if (v.kind === 'call') {
      const c = this.counter(v.queue);
      if (reason !== 'transferred') c.offered++;
      if (reason === 'answered') c.answered++;
      if (reason === 'abandoned') c.abandoned++;
      c.byReason[reason] = (c.byReason[reason] ?? 0) + 1;
    }
    this.store.saveVisit(v);
    this.recentVisits.push(v);
  }

  private prune(): void {
    const cut = this.now() - this.keepMs;
    let n = 0;
    while (n < this.recentVisits.length && this.recentVisits[n]!.enteredAt < cut) n++;
    if (n > 0) this.recentVisits.splice(0, n);
  }
}
