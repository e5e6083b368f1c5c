/**
 * Login throttling, pure (wall clock injected). Two independent limits:
 * - per username: after `userMaxFailures` failures in `windowMs` the account is locked for
 *   `lockMs` (423), so one account cannot be guessed slowly from many addresses;
 * - per IP: after `ipMaxFailures` failures in `windowMs` the address gets 429 for `lockMs`, so one
 *   address cannot spray many accounts.
 * The check runs before the password is verified: a locked account refuses even the right password,
 * otherwise the lock would not slow a guesser down at all. In memory: a restart forgives everyone,
 * which is acceptable for a hotline LAN and avoids a write per failed login.
 */

export interface LockoutOptions {
  userMaxFailures?: number;
  ipMaxFailures?: number;
  windowMs?: number;
  lockMs?: number;
  now?: () => number;
  /** Upper bound on tracked keys, so a spray of random usernames cannot grow memory without limit. */
  maxKeys?: number;
}

export type LockVerdict =
  { ok: true } | { ok: false; scope: 'user' | 'ip'; retryAfterSeconds: number; status: 423 | 429; message: string };

interface Entry {
  failures: number[];
  lockedUntil: number;
}

export class LoginThrottle {
  private readonly users = new Map<string, Entry>();
  private readonly ips = new Map<string, Entry>();
  private readonly o: Required<LockoutOptions>;

  constructor(o: LockoutOptions = {}) {
    this.o = {
      userMaxFailures: o.userMaxFailures ?? 5,
      ipMaxFailures: o.ipMaxFailures ?? 20,
      windowMs: o.windowMs ?? 15 * 60_000,
      lockMs: o.lockMs ?? 15 * 60_000,
      now: o.now ?? Date.now,
      maxKeys: o.maxKeys ?? 10_000,
    };
  }

  check(username: string, ip: string): LockVerdict {
    const now = this.o.now();
    const ipEntry = this.ips.get(ip);
    if (ipEntry && ipEntry.lockedUntil > now) {
      const s = Math.ceil((ipEntry.lockedUntil - now) / 1000);
      return {
        ok: false,
        scope: 'ip',
        status: 429,
        retryAfterSeconds: s,
        message: `登录失败次数过多，请 ${Math.ceil(s / 60)} 分钟后再试`,
      };
    }
    const u = this.users.get(userKey(username));
    if (u && u.lockedUntil > now) {
      const s = Math.ceil((u.lockedUntil - now) / 1000);
      return {
        ok: false,
        scope: 'user',
        status: 423,
        retryAfterSeconds: s,
        message: `账号已临时锁定，请 ${Math.ceil(s / 60)} 分钟后再试或联系管理员`,
      };
    }
    return { ok: true };
  }

  fail(username: string, ip: string): void {
    const now = this.o.now();
    this.bump(this.users, userKey(username), this.o.userMaxFailures, now);
    this.bump(this.ips, ip, this.o.ipMaxFailures, now);
  }

  /** A correct password clears the account's failures (not the address's: a sprayer may own one account). */
  succeed(username: string): void {
    this.users.delete(userKey(username));
  }

  /** An admin unlocking an account by hand. */
  unlock(username: string): void {
    this.users.delete(userKey(username));
  }

  private bump(map: Map<string, Entry>, key: string, max: number, now: number): void {
    let e = map.get(key);
    if (!e) {
      if (map.size >= this.o.maxKeys) this.prune(map, now);
      e = { failures: [], lockedUntil: 0 };
      map.set(key, e);
    }
    e.failures = e.failures.filter((t) => t > now - this.o.windowMs);
    e.failures.push(now);
    if (e.failures.length >= max) {
      e.lockedUntil = now + this.o.lockMs;
      e.failures = [];
    }
  }

  private prune(map: Map<string, Entry>, now: number): void {
    for (const [k, e] of map) {
      if (e.lockedUntil <= now && e.failures.every((t) => t <= now - this.o.windowMs)) map.delete(k);
    }
    // Still full: drop the oldest entries (Map keeps insertion order) rather than refuse to count.
    while (map.size >= this.o.maxKeys) {
      const first = map.keys().next();
      if (first.done) break;
      map.delete(first.value);
    }
  }
}

function userKey(username: string): string {
  // web_users.username is COLLATE NOCASE: "Admin" and "admin" are the same account.
  return username.toLowerCase();
}
