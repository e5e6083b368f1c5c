/**
 * Who listened to which recording, when, and whether it was served (issue 9: access to recordings is
 * role-checked and written to an audit log). One row per request, refusals included: a pattern of
 * denied requests is exactly what an audit is for.
 */
import type { Database } from '../storage/database.js';

export type RecordingAccessOutcome = 'served' | 'denied' | 'not_found';

export interface RecordingAccess {
  id: number;
  at: number;
  userId: number;
  username: string;
  role: string;
  callId: string;
  outcome: RecordingAccessOutcome;
  ip: string | null;
}

const MIGRATIONS = [
  {
    id: 1,
    name: 'recording access audit',
    up: `CREATE TABLE recording_access (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      at INTEGER NOT NULL,
      user_id INTEGER NOT NULL,
      username TEXT NOT NULL,
      role TEXT NOT NULL,
      call_id TEXT NOT NULL,
      outcome TEXT NOT NULL,
      ip TEXT
    );
    CREATE INDEX recording_access_call ON recording_access(call_id, at);
    CREATE INDEX recording_access_at ON recording_access(at);`,
  },
];

export class RecordingAudit {
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {
    db.migrate('ops-recording-audit', MIGRATIONS);
  }

  record(e: Omit<RecordingAccess, 'id' | 'at'>): void {
    this.db.sqlite
      .prepare(
        `INSERT INTO recording_access (at, user_id, username, role, call_id, outcome, ip)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(this.now(), e.userId, e.username, e.role, e.callId, e.outcome, e.ip);
  }

  list(o: { callId?: string; limit?: number } = {}): RecordingAccess[] {
    const rows = (
      o.callId
        ? this.db.sqlite
            .prepare('SELECT * FROM recording_access WHERE call_id = ? ORDER BY id DESC LIMIT ?')
            .all(o.callId, o.limit ?? 100)
        : this.db.sqlite.prepare('SELECT * FROM recording_access ORDER BY id DESC LIMIT ?').all(o.limit ?? 100)
    ) as Array<Record<string, unknown>>;
    return rows.map((r) => ({
      id: r.id as number,
      at: r.at as number,
      userId: r.user_id as number,
      username: r.username as string,
      role: r.role as string,
      callId: r.call_id as string,
      outcome: r.outcome as RecordingAccessOutcome,
      ip: (r.ip as string | null) ?? null,
    }));
  }

  /** Retention: the audit itself is kept as long as the CDRs it refers to. */
  purgeBefore(at: number): number {
    return this.db.sqlite.prepare('DELETE FROM recording_access WHERE at < ?').run(at).changes;
  }
}
