/**
 * Call detail records: one row per call, written when the call starts and updated as it moves, so
 * that a crash leaves a row that says the call was live (the restart marks those `interrupted`).
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Database } from '../storage/database.js';
import { systemClock, type Clock, type TimerHandle } from '../util/clock.js';
import { createLogger } from '../util/log.js';
import { setupTrace } from '../sip/message/setup-trace.js';

const log = createLogger('cdr');

export type Disposition =
  'answered' | 'no-answer' | 'busy' | 'failed' | 'cancelled' | 'rejected' | 'interrupted' | 'live';

export interface CdrRow {
  id: string;
  sipCallId: string;
  direction: 'inbound' | 'outbound' | 'internal';
  caller: string;
  callerKind: 'trunk' | 'device';
  dialled: string;
  target: string;
  startedAt: number;
  answeredAt: number | null;
  endedAt: number | null;
  hangupBy: 'caller' | 'callee' | 'system' | null;
  disposition: Disposition;
  ivrPath: string | null;
  queue: string | null;
  legs: string[];
  recordingFile: string | null;
}

const MIGRATIONS = [
  {
    id: 1,
    name: 'call detail records',
    up: `CREATE TABLE cdr (
      id TEXT PRIMARY KEY,
      sip_call_id TEXT NOT NULL,
      direction TEXT NOT NULL,
      caller TEXT NOT NULL,
      caller_kind TEXT NOT NULL,
      dialled TEXT NOT NULL,
      target TEXT NOT NULL,
      started_at INTEGER NOT NULL,
      answered_at INTEGER,
      ended_at INTEGER,
      hangup_by TEXT,
      disposition TEXT NOT NULL,
      ivr_path TEXT,
      queue TEXT,
      legs TEXT NOT NULL DEFAULT '[]',
      recording_file TEXT
    );
    CREATE INDEX cdr_started ON cdr(started_at);
    CREATE INDEX cdr_caller ON cdr(caller, started_at);`,
  },
];

interface Row {
  id: string;
  sip_call_id: string;
  direction: CdrRow['direction'];
  caller: string;
  caller_kind: CdrRow['callerKind'];
  dialled: string;
  target: string;
  started_at: number;
  answered_at: number | null;
  ended_at: number | null;
  hangup_by: CdrRow['hangupBy'];
  disposition: Disposition;
  ivr_path: string | null;
  queue: string | null;
  legs: string;
  recording_file: string | null;
}

export interface CdrStoreOptions {
  /** Timer source for the write-behind flush. */
  clock?: Clock;
  /** How long a change may wait before it is written (ms). */
  flushMs?: number;
  /** A batch this large is written at once, without waiting for the timer. */
  maxBatch?: number;
}

/** Stores with unwritten rows; flushed synchronously when the process exits (crash included). */
const openStores = new Set<CdrStore>();
let exitHook = false;

/**
 * Rows are written behind, a batch per transaction every `flushMs` (10 ms): with one statement per change the
 * two writes per call were the main thread's largest single cost at 300 calls/s. A CDR is not a case:
 * a kill -9 or power cut can lose the last `flushMs` of changes. What must stay true is the crash
 * marker, and it does: a row reaches the database as 'live' within `flushMs` of the call starting, so
 * a call that is live at a crash is either marked interrupted on restart or (if it started in the last
 * few ms) absent, never shown as finished. A normal exit or an uncaught exception flushes first.
 */
export class CdrStore {
  /** Rows of calls still live, kept whole so every change is one full-row upsert. */
  private readonly live = new Map<string, CdrRow>();
  /** Rows changed since the last flush, in the order they first changed. */
  private readonly dirty = new Map<string, CdrRow>();
  private readonly upsertStmt: BetterSqlite3.Statement;
  private readonly writeBatch: (rows: CdrRow[]) => void;
  private readonly clock: Clock;
  private readonly flushMs: number;
  private readonly maxBatch: number;
  private timer: TimerHandle | null = null;
  private isClosed = false;
  readonly stats = { flushes: 0, rowsWritten: 0, flushErrors: 0 };

  constructor(
    private readonly db: Database,
    opts: CdrStoreOptions = {},
  ) {
    db.migrate('calls', MIGRATIONS);
    this.clock = opts.clock ?? systemClock;
    // 10 ms: about 4 calls a batch at 400 calls/s; the commit, not the rows, is most of the cost
    // (scripts/bench/cps-cdr.ts: ~250 µs a call with a statement per change, ~150 at 5 ms, ~65 at 20 ms; session 4,
    // quiet box: 41 µs at 4 calls a batch, 16 µs at 20 calls a batch with 50 ms). 50 ms was tried: it widened the
    // window in which a kill -9 loses a just-started call's row (tests/reliability/crash.test.ts lost one of five)
    // for 25 µs a call, ~1 % of a second of main thread at 400 calls/s.
    this.flushMs = opts.flushMs ?? 10;
    this.maxBatch = opts.maxBatch ?? 256;
    this.upsertStmt = db.sqlite.prepare(
      `INSERT INTO cdr (id, sip_call_id, direction, caller, caller_kind, dialled, target, started_at, answered_at,
          ended_at, hangup_by, disposition, ivr_path, queue, legs, recording_file)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET sip_call_id = excluded.sip_call_id, direction = excluded.direction,
          caller = excluded.caller, caller_kind = excluded.caller_kind, dialled = excluded.dialled,
          target = excluded.target, started_at = excluded.started_at, answered_at = excluded.answered_at,
          ended_at = excluded.ended_at, hangup_by = excluded.hangup_by, disposition = excluded.disposition,
          ivr_path = excluded.ivr_path, queue = excluded.queue, legs = excluded.legs,
          recording_file = excluded.recording_file`,
    );
    const stmt = this.upsertStmt;
    this.writeBatch = db.sqlite.transaction((rows: CdrRow[]) => {
      for (const r of rows) {
        stmt.run(
          r.id,
          r.sipCallId,
          r.direction,
          r.caller,
          r.callerKind,
          r.dialled,
          r.target,
          r.startedAt,
          r.answeredAt,
          r.endedAt,
          r.hangupBy,
          r.disposition,
          r.ivrPath,
          r.queue,
          JSON.stringify(r.legs),
          r.recordingFile,
        );
      }
    });
    openStores.add(this);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => {
        for (const s of openStores) s.flushQuietly();
      });
    }
  }

  /** Number of changes not yet written. */
  get pending(): number {
    return this.dirty.size;
  }

  insert(r: CdrRow): void {
    this.assertOpen();
    const row: CdrRow = { ...r, legs: [...r.legs] };
    if (row.disposition === 'live') this.live.set(row.id, row);
    this.markDirty(row);
  }

  update(id: string, patch: Partial<Omit<CdrRow, 'id'>>): void {
    this.assertOpen();
    let row = this.live.get(id) ?? this.dirty.get(id);
    if (!row) {
      // A finished call changed later (rare): start from what is stored.
      const stored = this.get(id);
      if (!stored) return;
      row = stored;
    }
    Object.assign(row, patch);
    if (patch.legs) row.legs = [...patch.legs];
    if (row.disposition !== 'live') this.live.delete(id);
    this.markDirty(row);
  }

  /** Writes every pending change in one transaction; returns how many rows were written. */
  flush(): number {
    if (this.timer) {
      this.clock.clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.dirty.size === 0 || this.db.closed) return 0;
    const rows = [...this.dirty.values()];
    this.dirty.clear();
    setupTrace.work('cdr flush', () => this.writeBatch(rows));
    this.stats.flushes++;
    this.stats.rowsWritten += rows.length;
    return rows.length;
  }

  /** Flushes and stops; safe to call twice. Call before the database is closed. */
  close(): void {
    if (this.isClosed) return;
    this.flushQuietly();
    this.isClosed = true;
    openStores.delete(this);
    this.live.clear();
  }

  private flushQuietly(): void {
    try {
      this.flush();
    } catch (err) {
      this.stats.flushErrors++;
      log.error({ err }, 'CDR flush failed');
    }
  }

  private markDirty(row: CdrRow): void {
    this.dirty.set(row.id, row);
    if (this.dirty.size >= this.maxBatch) this.flushQuietly();
    else
      this.timer ??= this.clock.setTimeout(() => {
        this.timer = null;
        this.flushQuietly();
      }, this.flushMs);
  }

  private assertOpen(): void {
    if (this.isClosed) throw new Error('CDR store is closed');
  }

  get(id: string): CdrRow | null {
    this.flush();
    const r = this.db.sqlite.prepare<[string], Row>('SELECT * FROM cdr WHERE id = ?').get(id);
    return r ? toRow(r) : null;
  }

  /** Calls of one number, newest first (screen-pop history). */
  byCaller(caller: string, sinceMs: number, limit = 50): CdrRow[] {
    this.flush();
    return this.db.sqlite
      .prepare<[string, number, number], Row>(
        'SELECT * FROM cdr WHERE caller = ? AND started_at >= ? ORDER BY started_at DESC LIMIT ?',
      )
      .all(caller, sinceMs, limit)
      .map(toRow);
  }

  list(opts: { from?: number; to?: number; limit?: number } = {}): CdrRow[] {
    this.flush();
    return this.db.sqlite
      .prepare<[number, number, number], Row>(
        'SELECT * FROM cdr WHERE started_at >= ? AND started_at < ? ORDER BY started_at DESC LIMIT ?',
      )
      .all(opts.from ?? 0, opts.to ?? Number.MAX_SAFE_INTEGER, opts.limit ?? 1000)
      .map(toRow);
  }

  /** After a crash: calls still marked live were cut; say so (issue: a restart loses nothing). */
  markInterrupted(now: number): number {
    this.flush();
    return this.db.sqlite
      .prepare(
        `UPDATE cdr SET disposition = 'interrupted', ended_at = COALESCE(ended_at, ?), hangup_by = COALESCE(hangup_by, 'system') WHERE disposition = 'live'`,
      )
      .run(now).changes;
  }
}

function toRow(r: Row): CdrRow {
  return {
    id: r.id,
    sipCallId: r.sip_call_id,
    direction: r.direction,
    caller: r.caller,
    callerKind: r.caller_kind,
    dialled: r.dialled,
    target: r.target,
    startedAt: r.started_at,
    answeredAt: r.answered_at,
    endedAt: r.ended_at,
    hangupBy: r.hangup_by,
    disposition: r.disposition,
    ivrPath: r.ivr_path,
    queue: r.queue,
    legs: JSON.parse(r.legs) as string[],
    recordingFile: r.recording_file,
  };
}
