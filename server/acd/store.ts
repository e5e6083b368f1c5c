import type { Database, Migration } from '../storage/database.js';
import type { QueueConfig } from './queue.js';

/**
 * Seats and shifts (座席分配) in SQLite: agents (工号) linked to web users, skills with levels, queue
 * memberships with priority, seat logins, shifts, queue configuration and the leads' audit trail.
 * Agent *state* is not here: it lives in memory and is rebuilt from the desktops after a restart.
 */
export const acdMigrations: readonly Migration[] = [
  {
    id: 1,
    name: 'agents, skills, memberships, seats, shifts, queues, audit',
    up: `
      CREATE TABLE acd_queues (
        id         TEXT PRIMARY KEY CHECK (id GLOB '[a-z]*' AND length(id) <= 32),
        config     TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE acd_agents (
        work_no      TEXT PRIMARY KEY CHECK (length(work_no) BETWEEN 1 AND 32),
        web_user_id  INTEGER UNIQUE REFERENCES web_users(id) ON DELETE SET NULL,
        display_name TEXT NOT NULL DEFAULT '',
        enabled      INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
        created_at   TEXT NOT NULL
      );
      CREATE TABLE acd_agent_skills (
        work_no TEXT NOT NULL REFERENCES acd_agents(work_no) ON DELETE CASCADE,
        skill   TEXT NOT NULL,
        level   INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
        PRIMARY KEY (work_no, skill)
      ) WITHOUT ROWID;
      CREATE TABLE acd_queue_members (
        work_no  TEXT NOT NULL REFERENCES acd_agents(work_no) ON DELETE CASCADE,
        queue_id TEXT NOT NULL REFERENCES acd_queues(id) ON DELETE CASCADE,
        priority INTEGER NOT NULL DEFAULT 1 CHECK (priority BETWEEN 1 AND 9),
        PRIMARY KEY (work_no, queue_id)
      ) WITHOUT ROWID;
      CREATE TABLE acd_seats (
        extension TEXT PRIMARY KEY,
        work_no   TEXT UNIQUE REFERENCES acd_agents(work_no) ON DELETE SET NULL,
        since     TEXT
      );
      CREATE TABLE acd_shifts (
        id        INTEGER PRIMARY KEY,
        work_no   TEXT NOT NULL REFERENCES acd_agents(work_no) ON DELETE CASCADE,
        starts_at TEXT NOT NULL,
        ends_at   TEXT NOT NULL,
        note      TEXT NOT NULL DEFAULT '',
        CHECK (ends_at > starts_at)
      );
      CREATE INDEX acd_shifts_time ON acd_shifts(starts_at);
      CREATE TABLE acd_audit (
        id     INTEGER PRIMARY KEY,
        at     TEXT NOT NULL,
        actor  TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '{}'
      );
    `,
  },
];

export interface AgentRecord {
  workNo: string;
  webUserId: number | null;
  displayName: string;
  enabled: boolean;
  skills: Record<string, number>;
  queues: Record<string, number>;
}

export interface Shift {
  id: number;
  workNo: string;
  startsAt: string;
  endsAt: string;
  note: string;
}

export interface AuditRecord {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  detail: Record<string, unknown>;
}

export class AcdStore {
  private readonly s;

  constructor(
    private readonly db: Database,
    private readonly wallNow: () => number = Date.now,
  ) {
    db.migrate('acd', acdMigrations);
    this.s = db.sqlite;
  }

  // queues
  /** Inserts queues that do not exist yet (config defaults); never overwrites what leads changed. */
  seedQueues(qs: readonly QueueConfig[]): void {
    const ins = this.s.prepare('INSERT OR IGNORE INTO acd_queues (id, config, updated_at) VALUES (?, ?, ?)');
    this.db.transaction(() => {
      for (const q of qs) ins.run(q.id, JSON.stringify(q), this.iso());
    });
  }
  saveQueue(q: QueueConfig): void {
    this.s
      .prepare(
        'INSERT INTO acd_queues (id, config, updated_at) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at',
      )
      .run(q.id, JSON.stringify(q), this.iso());
  }
  queues(): QueueConfig[] {
    return (this.s.prepare('SELECT config FROM acd_queues ORDER BY rowid').pluck().all() as string[]).map(
      (c) => JSON.parse(c) as QueueConfig,
    );
  }

  // agents
  agent(workNo: string): AgentRecord | null {
    const r = this.s.prepare('SELECT * FROM acd_agents WHERE work_no = ?').get(workNo) as AgentRow | undefined;
    return r ? this.toAgent(r) : null;
  }
  agentByUser(webUserId: number): AgentRecord | null {
    const r = this.s.prepare('SELECT * FROM acd_agents WHERE web_user_id = ?').get(webUserId) as AgentRow | undefined;
    return r ? this.toAgent(r) : null;
  }
  agents(): AgentRecord[] {
    return (this.s.prepare('SELECT * FROM acd_agents ORDER BY work_no').all() as AgentRow[]).map((r) =>
      this.toAgent(r),
    );
  }
  createAgent(a: Omit<AgentRecord, 'enabled'> & { enabled?: boolean }): AgentRecord {
    this.db.transaction(() => {
      this.s
        .prepare(
          'INSERT INTO acd_agents (work_no, web_user_id, display_name, enabled, created_at) VALUES (?, ?, ?, ?, ?)',
        )
        .run(a.workNo, a.webUserId, a.displayName, a.enabled === false ? 0 : 1, this.iso());
      this.setSkills(a.workNo, a.skills);
      this.setQueues(a.workNo, a.queues);
    });
    return this.agent(a.workNo)!;
  }
  setSkills(workNo: string, skills: Record<string, number>): void {
    this.db.transaction(() => {
      this.s.prepare('DELETE FROM acd_agent_skills WHERE work_no = ?').run(workNo);
      const ins = this.s.prepare('INSERT INTO acd_agent_skills (work_no, skill, level) VALUES (?, ?, ?)');
      for (const [k, v] of Object.entries(skills)) ins.run(workNo, k, v);
    });
  }
  setQueues(workNo: string, queues: Record<string, number>): void {
    this.db.transaction(() => {
      this.s.prepare('DELETE FROM acd_queue_members WHERE work_no = ?').run(workNo);
      const ins = this.s.prepare('INSERT INTO acd_queue_members (work_no, queue_id, priority) VALUES (?, ?, ?)');
      for (const [k, v] of Object.entries(queues)) ins.run(workNo, k, v);
    });
  }

  // seats
  seatLogin(extension: string, workNo: string): void {
    this.db.transaction(() => {
      this.s.prepare('UPDATE acd_seats SET work_no = NULL, since = NULL WHERE work_no = ?').run(workNo);
      this.s
        .prepare(
          'INSERT INTO acd_seats (extension, work_no, since) VALUES (?, ?, ?) ON CONFLICT(extension) DO UPDATE SET work_no = excluded.work_no, since = excluded.since',
        )
        .run(extension, workNo, this.iso());
    });
  }
  seatLogout(workNo: string): void {
    this.s.prepare('UPDATE acd_seats SET work_no = NULL, since = NULL WHERE work_no = ?').run(workNo);
  }
  /** Agent state is rebuilt from the desktops after a restart, so yesterday's seat logins are void. */
  clearSeatLogins(): void {
    this.s.prepare('UPDATE acd_seats SET work_no = NULL, since = NULL').run();
  }
  seats(): Array<{ extension: string; workNo: string | null; since: string | null }> {
    return this.s
      .prepare('SELECT extension, work_no AS workNo, since FROM acd_seats ORDER BY extension')
      .all() as Array<{ extension: string; workNo: string | null; since: string | null }>;
  }

  // shifts
  addShift(s: Omit<Shift, 'id'>): Shift {
    const info = this.s
      .prepare('INSERT INTO acd_shifts (work_no, starts_at, ends_at, note) VALUES (?, ?, ?, ?)')
      .run(s.workNo, s.startsAt, s.endsAt, s.note);
    return { id: Number(info.lastInsertRowid), ...s };
  }
  removeShift(id: number): boolean {
    return this.s.prepare('DELETE FROM acd_shifts WHERE id = ?').run(id).changes > 0;
  }
  shifts(workNo?: string): Shift[] {
    const sql = `SELECT id, work_no AS workNo, starts_at AS startsAt, ends_at AS endsAt, note FROM acd_shifts
      ${workNo ? 'WHERE work_no = ?' : ''} ORDER BY starts_at`;
    return (workNo ? this.s.prepare(sql).all(workNo) : this.s.prepare(sql).all()) as Shift[];
  }

  // audit
  audit(actor: string, action: string, target: string, detail: Record<string, unknown> = {}): void {
    this.s
      .prepare('INSERT INTO acd_audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)')
      .run(this.iso(), actor, action, target, JSON.stringify(detail));
  }
  auditLog(limit = 100): AuditRecord[] {
    return (
      this.s.prepare('SELECT * FROM acd_audit ORDER BY id DESC LIMIT ?').all(limit) as Array<
        Omit<AuditRecord, 'detail'> & { detail: string }
      >
    ).map((r) => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> }));
  }

  private toAgent(r: AgentRow): AgentRecord {
    const skills = this.s
      .prepare('SELECT skill, level FROM acd_agent_skills WHERE work_no = ?')
      .all(r.work_no) as Array<{ skill: string; level: number }>;
    const queues = this.s
      .prepare('SELECT queue_id, priority FROM acd_queue_members WHERE work_no = ?')
      .all(r.work_no) as Array<{ queue_id: string; priority: number }>;
    return {
      workNo: r.work_no,
      webUserId: r.web_user_id,
      displayName: r.display_name,
      enabled: r.enabled === 1,
      skills: Object.fromEntries(skills.map((s) => [s.skill, s.level])),
      queues: Object.fromEntries(queues.map((q) => [q.queue_id, q.priority])),
    };
  }

  private iso(): string {
    return new Date(this.wallNow()).toISOString();
  }
}

interface AgentRow {
  work_no: string;
  web_user_id: number | null;
  display_name: string;
  enabled: number;
}
