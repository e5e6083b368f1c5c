import type BetterSqlite3 from 'better-sqlite3';
import type { Database, Migration } from '../../storage/database.js';
import type { Endpoint } from '../message/types.js';

/**
 * The location service (RFC 3261 §10, §16.5): AOR → contact bindings, in SQLite so that UDP phones stay
 * reachable across a server restart. Times are milliseconds in the caller's time base (wall-clock epoch
 * ms in production, so that persisted expiry stays meaningful after a restart).
 */

export interface Binding {
  id: number;
  /** Canonical AOR, `sip:<extension>@<domain>`. */
  aor: string;
  /** Contact URI as the UA sent it (without the name-addr brackets and header parameters). */
  contact: string;
  expiresAt: number;
  /** null when the UA sent no q (treated as 1.0 for ordering). */
  q: number | null;
  callId: string;
  cseq: number;
  /**
   * Where the REGISTER came from: requests to this contact should go there (NAT, RFC 3581) and, for a
   * WebSocket or TCP client, over that same connection (RFC 7118 §5; its Contact host is often .invalid).
   */
  source: Endpoint | null;
  userAgent: string | null;
  /** +sip.instance without quotes/brackets, e.g. urn:uuid:… (RFC 5626 §4.1). */
  instanceId: string | null;
  regId: number | null;
  createdAt: number;
  updatedAt: number;
}

export type NewBinding = Omit<Binding, 'id' | 'createdAt' | 'updatedAt'>;

export const registrarMigrations: readonly Migration[] = [
  {
    id: 1,
    name: 'location bindings',
    up: `
      CREATE TABLE location_bindings (
        id             INTEGER PRIMARY KEY,
        aor            TEXT NOT NULL,
        contact        TEXT NOT NULL,
        expires_at     INTEGER NOT NULL,
        q              REAL CHECK (q IS NULL OR (q >= 0 AND q <= 1)),
        call_id        TEXT NOT NULL,
        cseq           INTEGER NOT NULL,
        transport      TEXT,
        source_address TEXT,
        source_port    INTEGER,
        connection_id  TEXT,
        user_agent     TEXT,
        instance_id    TEXT,
        reg_id         INTEGER,
        created_at     INTEGER NOT NULL,
        updated_at     INTEGER NOT NULL
      );
      CREATE INDEX location_bindings_aor ON location_bindings(aor);
      CREATE INDEX location_bindings_expires ON location_bindings(expires_at);
      CREATE INDEX location_bindings_connection ON location_bindings(connection_id) WHERE connection_id IS NOT NULL;
    `,
  },
];

interface Row {
  id: number;
  aor: string;
  contact: string;
  expires_at: number;
  q: number | null;
  call_id: string;
  cseq: number;
  transport: Endpoint['transport'] | null;
  source_address: string | null;
  source_port: number | null;
  connection_id: string | null;
  user_agent: string | null;
  instance_id: string | null;
  reg_id: number | null;
  created_at: number;
  updated_at: number;
}

function toBinding(r: Row): Binding {
  let source: Endpoint | null = null;
  if (r.transport && r.source_address !== null && r.source_port !== null) {
    source = { transport: r.transport, address: r.source_address, port: r.source_port };
    if (r.connection_id !== null) source.connectionId = r.connection_id;
  }
  return {
    id: r.id,
    aor: r.aor,
    contact: r.contact,
    expiresAt: r.expires_at,
    q: r.q,
    callId: r.call_id,
    cseq: r.cseq,
    source,
    userAgent: r.user_agent,
    instanceId: r.instance_id,
    regId: r.reg_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Highest q first (absent q counts as 1.0), then the most recently refreshed. */
const ORDER = 'ORDER BY COALESCE(q, 1.0) DESC, updated_at DESC, id DESC';

export class LocationStore {
  private readonly s: BetterSqlite3.Database;
  private readonly st: {
    live: BetterSqlite3.Statement<[string, number], Row>;
    all: BetterSqlite3.Statement<[string], Row>;
    insert: BetterSqlite3.Statement;
    update: BetterSqlite3.Statement;
    remove: BetterSqlite3.Statement<[number]>;
  };

  constructor(readonly db: Database) {
    db.migrate('registrar', registrarMigrations);
    this.s = db.sqlite;
    this.st = {
      live: this.s.prepare(`SELECT * FROM location_bindings WHERE aor = ? AND expires_at > ? ${ORDER}`),
      all: this.s.prepare(`SELECT * FROM location_bindings WHERE aor = ? ${ORDER}`),
      insert: this.s.prepare(`INSERT INTO location_bindings (aor, contact, expires_at, q, call_id, cseq, transport,
          source_address, source_port, connection_id, user_agent, instance_id, reg_id, created_at, updated_at)
        VALUES (@aor, @contact, @expiresAt, @q, @callId, @cseq, @transport, @address, @port, @connectionId,
          @userAgent, @instanceId, @regId, @now, @now)`),
      update: this.s.prepare(`UPDATE location_bindings SET contact = @contact, expires_at = @expiresAt, q = @q,
          call_id = @callId, cseq = @cseq, transport = @transport, source_address = @address, source_port = @port,
          connection_id = @connectionId, user_agent = @userAgent, instance_id = @instanceId, reg_id = @regId,
          updated_at = @now WHERE id = @id`),
      remove: this.s.prepare('DELETE FROM location_bindings WHERE id = ?'),
    };
  }

  /** Unexpired bindings of an AOR, best first. */
  live(aor: string, now: number): Binding[] {
    return this.st.live.all(aor, now).map(toBinding);
  }

  /** Every stored binding of an AOR, expired ones included. */
  all(aor: string): Binding[] {
    return this.st.all.all(aor).map(toBinding);
  }

  /** Returns the new binding's id. */
  insert(b: NewBinding, now: number): number {
    return Number(this.st.insert.run(params(b, now)).lastInsertRowid);
  }

  get(id: number): Binding | null {
    const r = this.s.prepare<[number], Row>('SELECT * FROM location_bindings WHERE id = ?').get(id);
    return r ? toBinding(r) : null;
  }

  update(id: number, b: NewBinding, now: number): void {
    this.st.update.run({ ...params(b, now), id });
  }

  remove(id: number): void {
    this.st.remove.run(id);
  }

  /** Deletes expired bindings; returns the AORs that lost one. */
  purgeExpired(now: number): string[] {
    const aors = this.s
      .prepare<[number], { aor: string }>('SELECT DISTINCT aor FROM location_bindings WHERE expires_at <= ?')
      .all(now)
      .map((r) => r.aor);
    if (aors.length) this.s.prepare('DELETE FROM location_bindings WHERE expires_at <= ?').run(now);
    return aors;
  }

  /** Deletes the bindings reachable only over a connection that has closed; returns the AORs affected. */
  removeByConnection(connectionId: string): string[] {
    const aors = this.s
      .prepare<[string], { aor: string }>('SELECT DISTINCT aor FROM location_bindings WHERE connection_id = ?')
      .all(connectionId)
      .map((r) => r.aor);
    if (aors.length) this.s.prepare('DELETE FROM location_bindings WHERE connection_id = ?').run(connectionId);
    return aors;
  }

  /** After a restart no previous connection exists any more, so their bindings are unreachable. */
  removeAllConnectionBindings(): number {
    return this.s.prepare('DELETE FROM location_bindings WHERE connection_id IS NOT NULL').run().changes;
  }

  earliestExpiry(): number | null {
    return this.s.prepare('SELECT MIN(expires_at) FROM location_bindings').pluck().get() as number | null;
  }

  /** AORs with at least one live binding. */
  registeredAors(now: number): string[] {
    return this.s
      .prepare<[number], { aor: string }>(
        'SELECT DISTINCT aor FROM location_bindings WHERE expires_at > ? ORDER BY aor',
      )
      .all(now)
      .map((r) => r.aor);
  }
}

function params(b: NewBinding, now: number) {
  return {
    aor: b.aor,
    contact: b.contact,
    expiresAt: Math.round(b.expiresAt),
    q: b.q,
    callId: b.callId,
    cseq: b.cseq,
    transport: b.source?.transport ?? null,
    address: b.source?.address ?? null,
    port: b.source?.port ?? null,
    connectionId: b.source?.connectionId ?? null,
    userAgent: b.userAgent,
    instanceId: b.instanceId,
    regId: b.regId,
    now: Math.round(now),
  };
}
