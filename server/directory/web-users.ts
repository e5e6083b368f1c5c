import type BetterSqlite3 from 'better-sqlite3';
import type { Database } from '../storage/database.js';
import { DEFAULT_SCRYPT, hashPassword, needsRehash, verifyPassword, type ScryptParams } from './password.js';

/** People who log in to the web UI. A merchant is tied to exactly one merchant station. */

export type WebRole = 'agent' | 'lead' | 'merchant' | 'admin';
export const WEB_ROLES: readonly WebRole[] = ['agent', 'lead', 'merchant', 'admin'];

export interface WebUser {
  id: number;
  username: string;
  role: WebRole;
  displayName: string;
  stationId: number | null;
  /** Extension of the linked merchant station. */
  stationExtension: string | null;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface NewWebUser {
  username: string;
  password: string;
  role: WebRole;
  displayName?: string;
  /** Required for merchants, forbidden otherwise. */
  stationExtension?: string;
  enabled?: boolean;
}

interface Row {
  id: number;
  username: string;
  password_hash: string;
  role: WebRole;
  display_name: string;
  station_id: number | null;
  station_extension: string | null;
  enabled: number;
  created_at: string;
  updated_at: string;
}

const SELECT = `SELECT u.*, d.extension AS station_extension FROM web_users u
  LEFT JOIN sip_devices d ON d.id = u.station_id`;

function toUser(r: Row): WebUser {
  return {
    id: r.id,
    username: r.username,
    role: r.role,
    displayName: r.display_name,
    stationId: r.station_id,
    stationExtension: r.station_extension,
    enabled: r.enabled === 1,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export class WebUserRepository {
  private readonly s: BetterSqlite3.Database;
  /** Compared against when the user does not exist, so the response time does not reveal valid names. */
  private dummyHash: Promise<string> | null = null;

  constructor(
    db: Database,
    private readonly scryptParams: ScryptParams = DEFAULT_SCRYPT,
  ) {
    this.s = db.sqlite;
  }

  /** Hashes outside any transaction (scrypt is asynchronous); `insertHashed` does the write. */
  async create(u: NewWebUser): Promise<WebUser> {
    this.validate(u);
    return this.insertHashed(u, await hashPassword(u.password, this.scryptParams));
  }

  /** Synchronous insert with a precomputed hash, for use inside a transaction (seeding). */
  insertHashed(u: Omit<NewWebUser, 'password'> & { password?: string }, passwordHash: string): WebUser {
    this.validate({ ...u, password: u.password ?? 'x'.repeat(8) });
    const stationId = this.stationId(u.role, u.stationExtension);
    const now = new Date().toISOString();
    const info = this.s
      .prepare(
        `INSERT INTO web_users (username, password_hash, role, display_name, station_id, enabled, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(u.username, passwordHash, u.role, u.displayName ?? '', stationId, u.enabled === false ? 0 : 1, now, now);
    return this.getById(Number(info.lastInsertRowid))!;
  }

  get(username: string): WebUser | null {
    const r = this.s.prepare<[string], Row>(`${SELECT} WHERE u.username = ?`).get(username);
    return r ? toUser(r) : null;
  }

  getById(id: number): WebUser | null {
    const r = this.s.prepare<[number], Row>(`${SELECT} WHERE u.id = ?`).get(id);
    return r ? toUser(r) : null;
  }

  list(role?: WebRole): WebUser[] {
    const rows = role
      ? this.s.prepare<[string], Row>(`${SELECT} WHERE u.role = ? ORDER BY u.username`).all(role)
      : this.s.prepare<[], Row>(`${SELECT} ORDER BY u.username`).all();
    return rows.map(toUser);
  }

  /**
   * The user if the password is right and the account enabled, else null. Takes about the same time
   * whether or not the user exists. Transparently upgrades a hash made with weaker parameters.
   */
  async authenticate(username: string, password: string): Promise<WebUser | null> {
    const r = this.s.prepare<[string], Row>(`${SELECT} WHERE u.username = ?`).get(username);
    if (!r) {
      this.dummyHash ??= hashPassword('not-a-real-password', this.scryptParams);
      await verifyPassword(password, await this.dummyHash);
      return null;
    }
    const ok = await verifyPassword(password, r.password_hash);
    if (!ok || r.enabled !== 1) return null;
    if (needsRehash(r.password_hash, this.scryptParams)) {
      const h = await hashPassword(password, this.scryptParams);
      this.s.prepare('UPDATE web_users SET password_hash = ? WHERE id = ?').run(h, r.id);
    }
    return toUser(r);
  }

  async setPassword(username: string, password: string): Promise<boolean> {
    checkPassword(password);
    const h = await hashPassword(password, this.scryptParams);
    return (
      this.s
        .prepare('UPDATE web_users SET password_hash = ?, updated_at = ? WHERE username = ?')
        .run(h, new Date().toISOString(), username).changes > 0
    );
  }

  update(
    username: string,
    patch: { displayName?: string; enabled?: boolean; role?: WebRole; stationExtension?: string | null },
  ): WebUser | null {
    const cur = this.get(username);
    if (!cur) return null;
    const role = patch.role ?? cur.role;
    if (!WEB_ROLES.includes(role)) throw new Error(`bad role ${role}`);
    const ext = patch.stationExtension === undefined ? cur.stationExtension : patch.stationExtension;
    const stationId = this.stationId(role, ext ?? undefined);
    this.s
      .prepare(
        'UPDATE web_users SET display_name = ?, enabled = ?, role = ?, station_id = ?, updated_at = ? WHERE id = ?',
      )
      .run(
        patch.displayName ?? cur.displayName,
        (patch.enabled ?? cur.enabled) ? 1 : 0,
        role,
        stationId,
        new Date().toISOString(),
        cur.id,
      );
    return this.getById(cur.id);
  }

  remove(username: string): boolean {
    return this.s.prepare('DELETE FROM web_users WHERE username = ?').run(username).changes > 0;
  }

  private validate(u: NewWebUser): void {
    if (!/^[A-Za-z0-9._-]{2,64}$/.test(u.username)) throw new Error(`bad username "${u.username}"`);
    if (!WEB_ROLES.includes(u.role)) throw new Error(`bad role ${u.role}`);
    checkPassword(u.password);
  }

  private stationId(role: WebRole, ext: string | undefined): number | null {
    if (role !== 'merchant') {
      if (ext) throw new Error('only merchants are linked to a station');
      return null;
    }
    if (!ext) throw new Error('a merchant needs a station');
    const row = this.s
      .prepare<[string], { id: number; kind: string }>('SELECT id, kind FROM sip_devices WHERE extension = ?')
      .get(ext);
    if (!row || row.kind !== 'station') throw new Error(`no merchant station ${ext}`);
    return row.id;
  }
}

function checkPassword(password: string): void {
  if (password.length < 8) throw new Error('password must have at least 8 characters');
}
