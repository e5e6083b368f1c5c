import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { createLogger } from '../util/log.js';

/**
 * One SQLite database per process, shared by every domain (directory, location service, cases,
 * ACD, CDR). Each domain owns its tables and brings its own numbered migrations; it applies them
 * itself with `db.migrate(domain, migrations)` when its repository is constructed, so there is no
 * global registry that has to be filled in the right order before the database is opened.
 */

export interface Migration {
  /** Positive integer, strictly increasing within a domain. Never renumber or edit a shipped one. */
  id: number;
  /** Short description, stored for humans reading schema_version. */
  name: string;
  /** SQL script, or a function for data migrations that need code. Runs inside a transaction. */
  up: string | ((db: BetterSqlite3.Database) => void);
}

export interface OpenDatabaseOptions {
  /** How long a writer waits for another connection's lock before SQLITE_BUSY. */
  busyTimeoutMs?: number;
  readonly?: boolean;
  /**
   * FULL (default) fsyncs every commit. NORMAL is for soft state that devices resend anyway (SIP
   * registrations): in WAL mode it still survives kill -9, and it takes the fsync off the event loop's
   * path for every REGISTER (5.8 ms each on this disk, which capped registrations near 170/s).
   */
  synchronous?: 'FULL' | 'NORMAL';
}

const log = createLogger('storage');

export class Database {
  readonly sqlite: BetterSqlite3.Database;
  private isClosed = false;

  constructor(
    readonly file: string,
    opts: OpenDatabaseOptions = {},
  ) {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.sqlite = new BetterSqlite3(file, { readonly: opts.readonly ?? false });
    try {
      // WAL: the web UI and reports read while the SIP side writes, without blocking each other.
      if (file !== ':memory:' && !opts.readonly) this.sqlite.pragma('journal_mode = WAL');
      // In WAL mode synchronous=NORMAL already survives a process kill -9 (committed frames are in the
      // OS page cache), but a power cut or kernel panic can roll back the last commits. We promise that
      // no saved consumer case is ever lost, so every commit is fsync'ed: FULL. The cost is one fsync
      // per transaction, which is negligible at the rate humans save cases and phones register.
      this.sqlite.pragma(`synchronous = ${opts.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
      // SQLite leaves foreign keys off by default, per connection.
      this.sqlite.pragma('foreign_keys = ON');
      this.sqlite.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`);
      this.sqlite.exec(`CREATE TABLE IF NOT EXISTS schema_version (
        domain     TEXT NOT NULL,
        id         INTEGER NOT NULL,
        name       TEXT NOT NULL,
        checksum   TEXT NOT NULL,
        applied_at TEXT NOT NULL,
        PRIMARY KEY (domain, id)
      ) WITHOUT ROWID`);
    } catch (err) {
      this.sqlite.close();
      throw err;
    }
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Applies the domain's migrations that are not yet recorded, each in its own transaction (a failing
   * migration leaves the schema at the previous version). Returns the ids applied now.
   * Throws if the database has a migration this code does not know (the file is newer than the code)
   * or if a shipped migration was edited (its checksum changed): both mean the schema is not the one
   * the code expects, and silently carrying on would corrupt data.
   */
  migrate(domain: string, migrations: readonly Migration[]): number[] {
    this.assertOpen();
    if (!/^[a-z][a-z0-9_-]*$/.test(domain)) throw new Error(`bad migration domain "${domain}"`);
    let prev = 0;
    for (const m of migrations) {
      if (!Number.isInteger(m.id) || m.id <= prev) {
        throw new Error(`${domain}: migration ids must be increasing positive integers (got ${m.id} after ${prev})`);
      }
      prev = m.id;
    }
    const applied = new Map<number, string>();
    for (const row of this.sqlite
      .prepare('SELECT id, checksum FROM schema_version WHERE domain = ?')
      .all(domain) as Array<{ id: number; checksum: string }>) {
      applied.set(row.id, row.checksum);
    }
    const known = new Set(migrations.map((m) => m.id));
    for (const id of applied.keys()) {
      if (!known.has(id)) throw new Error(`${domain}: database has migration ${id} that this code does not know`);
    }
    const done: number[] = [];
    const record = this.sqlite.prepare(
      'INSERT INTO schema_version (domain, id, name, checksum, applied_at) VALUES (?, ?, ?, ?, ?)',
    );
    for (const m of migrations) {
      const sum = checksum(m);
      const have = applied.get(m.id);
      if (have !== undefined) {
        if (have !== sum) throw new Error(`${domain}: migration ${m.id} (${m.name}) was changed after it was applied`);
        continue;
      }
      this.sqlite.transaction(() => {
        if (typeof m.up === 'string') this.sqlite.exec(m.up);
        else m.up(this.sqlite);
        record.run(domain, m.id, m.name, sum, new Date().toISOString());
      })();
      done.push(m.id);
      log.info({ domain, id: m.id, name: m.name }, 'migration applied');
    }
    return done;
  }

  /** Highest applied migration id of a domain, 0 if none. */
  version(domain: string): number {
    this.assertOpen();
    const row = this.sqlite.prepare('SELECT MAX(id) AS v FROM schema_version WHERE domain = ?').get(domain) as {
      v: number | null;
    };
    return row.v ?? 0;
  }

  /** Runs fn in one transaction (nested calls become savepoints). fn must be synchronous. */
  transaction<T>(fn: () => T): T {
    this.assertOpen();
    return this.sqlite.transaction(fn)();
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.sqlite.close();
  }

  private assertOpen(): void {
    if (this.isClosed) throw new Error('database is closed');
  }
}

function checksum(m: Migration): string {
  // A function's source text differs between the tsx and tsc builds, so code migrations are not summed.
  if (typeof m.up !== 'string') return 'code';
  // Whitespace-insensitive, so re-indenting a shipped migration is not mistaken for a schema change.
  return createHash('sha256').update(m.up.replace(/\s+/g, ' ').trim()).digest('hex').slice(0, 16);
}

export function openDatabase(file: string, opts?: OpenDatabaseOptions): Database {
  return new Database(file, opts);
}
