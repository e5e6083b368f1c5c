import type BetterSqlite3 from 'better-sqlite3';
import type { Database } from '../storage/database.js';
import { metricsMigrations } from './schema.js';
import type { AgentInterval, AgentStateName, LeaveReason, QueueVisit, RingAttempt, RingResult } from './types.js';

/**
 * The metrics event log in SQLite. Writes are queued and committed together once per event-loop turn
 * (one transaction, so one fsync at most, for however many ACD events a burst produced): the ACD's
 * listeners only push to an array, call handling never waits on the disk. `flush()` commits at once;
 * readers call it first so a report always sees every event that happened before the request.
 */
export class MetricsStore {
  private pending: Array<() => void> = [];
  private scheduled = false;
  private closed = false;
  readonly stats = { batches: 0, writes: 0, largestBatch: 0, errors: 0 };
  private readonly s: {
    visit: BetterSqlite3.Statement;
    ring: BetterSqlite3.Statement;
    interval: BetterSqlite3.Statement;
  };

  constructor(
    private readonly db: Database,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    db.migrate('metrics', metricsMigrations);
    this.s = {
      visit: db.sqlite.prepare(
        `INSERT OR REPLACE INTO metrics_visit (id, call_id, queue, kind, call_entered_at, entered_at, left_at,
           leave_reason, answered_at, agent_id, talk_ms, hold_ms, acw_ms)
         VALUES (@id, @callId, @queue, @kind, @callEnteredAt, @enteredAt, @leftAt, @leaveReason, @answeredAt,
           @agentId, @talkMs, @holdMs, @acwMs)`,
      ),
      ring: db.sqlite.prepare(
        `INSERT INTO metrics_ring (visit_id, call_id, queue, agent_id, started_at, ended_at, result)
         VALUES (@visitId, @callId, @queue, @agentId, @startedAt, @endedAt, @result)`,
      ),
      interval: db.sqlite.prepare(
        `INSERT INTO metrics_agent_interval (agent_id, state, reason, start, "end", call_id)
         VALUES (@agentId, @state, @reason, @start, @end, @callId)`,
      ),
    };
  }

  /** Stores the visit as it is now (a copy is taken: later changes need another call). */
  saveVisit(v: QueueVisit): void {
    const row = { ...v };
    this.enqueue(() => this.s.visit.run(row));
  }

  addRing(r: RingAttempt): void {
    const row = { ...r };
    this.enqueue(() => this.s.ring.run(row));
  }

  addInterval(i: AgentInterval): void {
    const row = { ...i };
    this.enqueue(() => this.s.interval.run(row));
  }

  /**
   * After a restart: visits still open belonged to calls the previous process lost (a crash, a stop with
   * callers waiting). They end as `other` with an unknown wait (left = entered), so they stop counting as
   * waiting. Returns how many.
   */
  closeInterrupted(): number {
    return this.db.sqlite
      .prepare(`UPDATE metrics_visit SET leave_reason = 'other', left_at = entered_at WHERE left_at IS NULL`)
      .run().changes;
  }

  /** Commits what is queued now. */
  flush(): void {
    this.scheduled = false;
    const jobs = this.pending.splice(0);
    if (jobs.length === 0 || this.db.closed) return;
    try {
      this.db.transaction(() => {
        for (const j of jobs) j();
      });
      this.stats.batches++;
      this.stats.writes += jobs.length;
      this.stats.largestBatch = Math.max(this.stats.largestBatch, jobs.length);
    } catch (err) {
      this.stats.errors++;
      this.onError(err);
    }
  }

  /** Visits that entered a queue in [from, to), optionally one queue. */
  visits(from: number, to: number, queue?: string): QueueVisit[] {
    this.flush();
    const rows = this.db.sqlite
      .prepare<[number, number, string | null, string | null], VisitRow>(
        `SELECT * FROM metrics_visit WHERE entered_at >= ? AND entered_at < ? AND (? IS NULL OR queue = ?)
         ORDER BY entered_at, id`,
      )
      .all(from, to, queue ?? null, queue ?? null);
    return rows.map(toVisit);
  }

  rings(from: number, to: number, queue?: string): RingAttempt[] {
    this.flush();
    return this.db.sqlite
      .prepare<[number, number, string | null, string | null], RingRow>(
        `SELECT * FROM metrics_ring WHERE started_at >= ? AND started_at < ? AND (? IS NULL OR queue = ?)
         ORDER BY started_at, id`,
      )
      .all(from, to, queue ?? null, queue ?? null)
      .map((r) => ({
        visitId: r.visit_id,
        callId: r.call_id,
        queue: r.queue,
        agentId: r.agent_id,
        startedAt: r.started_at,
        endedAt: r.ended_at,
        result: r.result,
      }));
  }

  /** Intervals overlapping [from, to) (not clipped: the KPI functions clip). */
  intervals(from: number, to: number, agentId?: string): AgentInterval[] {
    this.flush();
    return this.db.sqlite
      .prepare<[number, number, string | null, string | null], IntervalRow>(
        `SELECT * FROM metrics_agent_interval WHERE "end" > ? AND start < ? AND (? IS NULL OR agent_id = ?)
         ORDER BY start, id`,
      )
      .all(from, to, agentId ?? null, agentId ?? null)
      .map((r) => ({
        agentId: r.agent_id,
        state: r.state,
        reason: r.reason,
        start: r.start,
        end: r.end,
        callId: r.call_id,
      }));
  }

  /** Commits what is queued; later writes are dropped. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
  }

  private enqueue(job: () => void): void {
    if (this.closed) return;
    this.pending.push(job);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }
}

interface VisitRow {
  id: string;
  call_id: string;
  queue: string;
  kind: 'call' | 'callback';
  call_entered_at: number;
  entered_at: number;
  left_at: number | null;
  leave_reason: LeaveReason | null;
  answered_at: number | null;
  agent_id: string | null;
  talk_ms: number | null;
  hold_ms: number | null;
  acw_ms: number | null;
}

interface RingRow {
  id: number;
  visit_id: string;
  call_id: string;
  queue: string;
  agent_id: string;
  started_at: number;
  ended_at: number;
  result: RingResult;
}

interface IntervalRow {
  id: number;
  agent_id: string;
  state: AgentStateName;
  reason: string | null;
  start: number;
  end: number;
  call_id: string | null;
}

function toVisit(r: VisitRow): QueueVisit {
  return {
    id: r.id,
    callId: r.call_id,
    queue: r.queue,
    kind: r.kind,
    callEnteredAt: r.call_entered_at,
    enteredAt: r.entered_at,
    leftAt: r.left_at,
    leaveReason: r.leave_reason,
    answeredAt: r.answered_at,
    agentId: r.agent_id,
    talkMs: r.talk_ms,
    holdMs: r.hold_ms,
    acwMs: r.acw_ms,
  };
}
