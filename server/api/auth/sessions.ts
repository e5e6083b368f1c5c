import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Database, Migration } from '../../storage/database.js';

/**
 * Web sessions. The token is 256 random bits handed to the browser once; only its SHA-256 is stored,
 * so a copied database file cannot be replayed as a login. A plain hash (not scrypt) is enough here
 * because the token has full entropy: there is nothing to brute-force.
 */

export const authMigrations: readonly Migration[] = [
  {
    id: 1,
    name: 'web sessions',
    up: `
      CREATE TABLE web_sessions (
        token_hash   TEXT PRIMARY KEY,
        user_id      INTEGER NOT NULL REFERENCES web_users(id) ON DELETE CASCADE,
        created_at   INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        expires_at   INTEGER NOT NULL,
        ip           TEXT NOT NULL DEFAULT ''
      ) WITHOUT ROWID;
      CREATE INDEX web_sessions_user ON web_sessions(user_id);
      CREATE INDEX web_sessions_expiry ON web_sessions(expires_at);
    `,
  },
];

export interface SessionOptions {
  /** Idle lifetime; every use pushes the expiry this far ahead (sliding). Default 12 h, one long shift. */
  idleMs?: number;
  /** Hard cap from login, however active the session is. Default 24 h. */
  absoluteMs?: number;
  /** Wall clock in ms (sessions outlive the process, so not the monotonic Clock). */
  now?: () => number;
}

export interface Session {
  id: string;
  userId: number;
  createdAt: number;
  expiresAt: number;
}

interface Row {
  token_hash: string;
  user_id: number;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}

/** Sliding updates are written at most this often per session, not on every request. */
const TOUCH_EVERY_MS = 60_000;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class SessionStore {
  private readonly idleMs: number;
  private readonly absoluteMs: number;
  private readonly now: () => number;

  constructor(
    private readonly db: Database,
    o: SessionOptions = {},
  ) {
    db.migrate('auth', authMigrations);
    this.idleMs = o.idleMs ?? 12 * 3600_000;
    this.absoluteMs = o.absoluteMs ?? 24 * 3600_000;
    this.now = o.now ?? Date.now;
  }

  /** A fresh token for the user; the only time the clear token exists on the server. */
  create(userId: number, ip = ''): { token: string; session: Session } {
    const token = randomBytes(32).toString('base64url');
    const id = hashToken(token);
    const now = this.now();
    const expiresAt = Math.min(now + this.idleMs, now + this.absoluteMs);
    this.db.sqlite
      .prepare(
        'INSERT INTO web_sessions (token_hash, user_id, created_at, last_seen_at, expires_at, ip) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(id, userId, now, now, expiresAt, ip);
    return { token, session: { id, userId, createdAt: now, expiresAt } };
  }

  /** The live session for a token (and slides its expiry), or null if unknown or expired. */
  resolve(token: string): Session | null {
    if (typeof token !== 'string' || token.length < 20 || token.length > 200) return null;
    const id = hashToken(token);
    const r = this.db.sqlite.prepare<[string], Row>('SELECT * FROM web_sessions WHERE token_hash = ?').get(id);
    // The primary-key lookup already matched; the constant-time compare is belt and braces.
    if (!r || !timingSafeEqual(Buffer.from(r.token_hash), Buffer.from(id))) return null;
    const now = this.now();
    if (r.expires_at <= now) {
      this.db.sqlite.prepare('DELETE FROM web_sessions WHERE token_hash = ?').run(id);
      return null;
    }
    let expiresAt = r.expires_at;
    if (now - r.last_seen_at >= TOUCH_EVERY_MS) {
      expiresAt = Math.min(now + this.idleMs, r.created_at + this.absoluteMs);
      this.db.sqlite
        .prepare('UPDATE web_sessions SET last_seen_at = ?, expires_at = ? WHERE token_hash = ?')
        .run(now, expiresAt, id);
    }
    return { id, userId: r.user_id, createdAt: r.created_at, expiresAt };
  }

  revoke(sessionId: string): boolean {
    return this.db.sqlite.prepare('DELETE FROM web_sessions WHERE token_hash = ?').run(sessionId).changes > 0;
  }

  /** Ends every session of a user (password change, account disabled, forced logout). */
  revokeUser(userId: number): number {
    return this.db.sqlite.prepare('DELETE FROM web_sessions WHERE user_id = ?').run(userId).changes;
  }

  purgeExpired(): number {
    return this.db.sqlite.prepare('DELETE FROM web_sessions WHERE expires_at <= ?').run(this.now()).changes;
  }

  count(userId?: number): number {
    const q =
      userId === undefined
        ? this.db.sqlite.prepare('SELECT COUNT(*) FROM web_sessions')
        : this.db.sqlite.prepare('SELECT COUNT(*) FROM web_sessions WHERE user_id = ?');
    return (userId === undefined ? q.pluck().get() : q.pluck().get(userId)) as number;
  }
}
