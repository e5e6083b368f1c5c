/**
 * Call detail records: one row per call, written when the call starts and updated as it moves, so
 * that a crash leaves a row that says the call was live (the restart marks those `interrupted`).
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Database } from '../storage/database.js';

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

export class CdrStore {
  /** Statements prepared once: a row is written twice per call, on the event loop. */
  private readonly updates = new Map<string, BetterSqlite3.Statement>();
  private readonly insertStmt: BetterSqlite3.Statement;

  constructor(private readonly db: Database) {
    db.migrate('calls', MIGRATIONS);
    this.insertStmt = db.sqlite.prepare(
      `INSERT INTO cdr (id, sip_call_id, direction, caller, caller_kind, dialled, target, started_at, answered_at,
          ended_at, hangup_by, disposition, ivr_path, queue, legs, recording_file)
         VALUES (@id, @sipCallId, @direction, @caller, @callerKind, @dialled, @target, @startedAt, @answeredAt,
          @endedAt, @hangupBy, @disposition, @ivrPath, @queue, @legs, @recordingFile)`,
    );
  }

  insert(r: CdrRow): void {
    this.insertStmt.run({ ...r, legs: JSON.stringify(r.legs) });
  }

  update(id: string, patch: Partial<Omit<CdrRow, 'id'>>): void {
    const cols: Record<keyof Omit<CdrRow, 'id'>, string> = {
      sipCallId: 'sip_call_id',
      direction: 'direction',
      caller: 'caller',
      callerKind: 'caller_kind',
      dialled: 'dialled',
      target: 'target',
      startedAt: 'started_at',
      answeredAt: 'answered_at',
      endedAt: 'ended_at',
      hangupBy: 'hangup_by',
      disposition: 'disposition',
      ivrPath: 'ivr_path',
      queue: 'queue',
      legs: 'legs',
      recordingFile: 'recording_file',
    };
    const sets: string[] = [];
    const values: Record<string, unknown> = { id };
    for (const [k, v] of Object.entries(patch) as [keyof typeof cols, unknown][]) {
      sets.push(`${cols[k]} = @${k}`);
      values[k] = k === 'legs' ? JSON.stringify(v) : v;
    }
    if (sets.length === 0) return;
    const sql = `UPDATE cdr SET ${sets.join(', ')} WHERE id = @id`;
    let stmt = this.updates.get(sql);
    if (!stmt) {
      stmt = this.db.sqlite.prepare(sql);
      this.updates.set(sql, stmt);
    }
    stmt.run(values);
  }

  get(id: string): CdrRow | null {
    const r = this.db.sqlite.prepare<[string], Row>('SELECT * FROM cdr WHERE id = ?').get(id);
    return r ? toRow(r) : null;
  }

  /** Calls of one number, newest first (screen-pop history). */
  byCaller(caller: string, sinceMs: number, limit = 50): CdrRow[] {
    return this.db.sqlite
      .prepare<[string, number, number], Row>(
        'SELECT * FROM cdr WHERE caller = ? AND started_at >= ? ORDER BY started_at DESC LIMIT ?',
      )
      .all(caller, sinceMs, limit)
      .map(toRow);
  }

  list(opts: { from?: number; to?: number; limit?: number } = {}): CdrRow[] {
    return this.db.sqlite
      .prepare<[number, number, number], Row>(
        'SELECT * FROM cdr WHERE started_at >= ? AND started_at < ? ORDER BY started_at DESC LIMIT ?',
      )
      .all(opts.from ?? 0, opts.to ?? Number.MAX_SAFE_INTEGER, opts.limit ?? 1000)
      .map(toRow);
  }

  /** After a crash: calls still marked live were cut; say so (issue: a restart loses nothing). */
  markInterrupted(now: number): number {
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
