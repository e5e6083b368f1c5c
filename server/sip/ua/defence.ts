/**
 * SIP defence per source IP: temporary bans after repeated digest failures (password guessing,
 * e.g. `svcrack`), and caps on how many INVITE transactions and dialogs one address may hold at
 * once (a single host must not be able to occupy every IVR port or every transaction slot).
 *
 * Designed to sit in front of the parser: `admit(ip)` is one Map look-up, so the transport can
 * drop a banned source's datagrams as cheaply as the token bucket does. Pure: time comes from the
 * injected clock and nothing here touches a socket.
 *
 * Memory is bounded. Failure history is kept only for sources that failed within the window, in
 * least-recently-failed order, and at most `maxTrackedSources` of them (the oldest are forgotten:
 * a forgetful defence is better than an unbounded one under a spoofed-address flood). Bans are
 * at most `maxBans`; when full, the ban closest to expiry gives way.
 *
 * Why failures and not challenges: an unauthenticated request gets the same 401 whether the
 * extension exists or not (see auth/decide.ts), so an extension scanner learns nothing and need
 * not be banned; only credentials that fail to verify show someone guessing passwords.
 *
 * Caveat (UDP): a source address can be spoofed. Somebody who has obtained a nonce can send wrong
 * credentials "from" a victim's address and get it banned. Put trunk gateways and office NATs in
 * `exempt`, and keep bans temporary.
 */
import type { Clock } from '../../util/clock.js';
import { normalizeAddress } from '../transport/address.js';

export interface SipDefenceOptions {
  /** Failed digest verifications from one address within `failureWindowMs` that earn a ban. */
  maxFailures: number;
  failureWindowMs: number;
  /** Ban length. */
  banMs: number;
  /** A source banned again within `banMs` of its last ban ending gets `banMs × repeatFactor^n`, capped at `maxBanMs`. */
  repeatFactor: number;
  maxBanMs: number;
  /** Concurrent INVITE server transactions one address may have (answer 503 above it). */
  maxInvitesPerSource: number;
  /** Concurrent dialogs one address may hold. */
  maxDialogsPerSource: number;
  /** Upper bound on addresses with failure history, and on addresses holding leases. */
  maxTrackedSources: number;
  maxBans: number;
  /** Addresses never banned nor capped (trunk gateways, an office NAT, loopback in development). */
  exempt: readonly string[];
  /** Called when a ban starts (log, metrics, alert). Must not throw; it is guarded anyway. */
  onBan?(event: BanEvent): void;
}

export const DEFAULT_DEFENCE: Omit<SipDefenceOptions, 'onBan'> = {
  maxFailures: 10,
  failureWindowMs: 60_000,
  banMs: 10 * 60_000,
  repeatFactor: 2,
  maxBanMs: 24 * 3600_000,
  maxInvitesPerSource: 30,
  maxDialogsPerSource: 200,
  maxTrackedSources: 10_000,
  maxBans: 10_000,
  exempt: [],
};

export interface BanEvent {
  address: string;
  /** Clock time (ms) at which the ban ends. */
  until: number;
  durationMs: number;
  /** 'auth-failures' or 'manual'. */
  cause: string;
  /** How many times this address has been banned while we remembered it (1 = first). */
  strike: number;
}

export interface BanInfo {
  address: string;
  until: number;
  cause: string;
  strike: number;
}

export interface DefenceStats {
  /** Failed verifications reported (exempt sources included). */
  authFailures: number;
  bansIssued: number;
  /** Messages (or connection attempts) refused by `admit` because the source was banned. */
  bannedDrops: number;
  invitesRefused: number;
  dialogsRefused: number;
  /** Failure histories or bans forgotten because a bound was reached. */
  evictions: number;
}

export interface DefenceSnapshot extends DefenceStats {
  activeBans: number;
  trackedSources: number;
  activeInvites: number;
  activeDialogs: number;
}

/** A held INVITE or dialog slot. `release()` may be called any number of times. */
export interface Lease {
  release(): void;
}

export type LeaseKind = 'invite' | 'dialog';

/** Per-source life cycle: failures are counted while Watching; at the threshold the source is Banned. */
export enum SourceState {
  Clean = 'clean',
  Watching = 'watching',
  Banned = 'banned',
}

const TRANSITIONS: Record<SourceState, readonly SourceState[]> = {
  [SourceState.Clean]: [SourceState.Watching, SourceState.Banned],
  [SourceState.Watching]: [SourceState.Watching, SourceState.Banned, SourceState.Clean],
  // Banned → Banned: a manual ban extends one already running.
  [SourceState.Banned]: [SourceState.Clean, SourceState.Banned],
};

export function nextSourceState(from: SourceState, to: SourceState): SourceState {
  if (!TRANSITIONS[from].includes(to)) throw new Error(`SIP defence: illegal move ${from} → ${to}`);
  return to;
}

interface Ban {
  until: number;
  cause: string;
  strike: number;
}

interface LeaseEntry extends Lease {
  released: boolean;
  alive?: () => boolean;
}

export class SipDefence {
  private readonly o: SipDefenceOptions;
  private readonly exempt: Set<string>;
  /** Failure times per address (ascending), Map order = least recently failed first. */
  private readonly failures = new Map<string, number[]>();
  /** Map order = insertion; expiries are mostly ascending, so sweeps stop at the first live ban. */
  private readonly banned = new Map<string, Ban>();
  /** Strike counts outlive a ban by `banMs`, so a source that resumes at once is banned longer. */
  private readonly strikes = new Map<string, { strike: number; until: number }>();
  private readonly leases: Record<LeaseKind, Map<string, Set<LeaseEntry>>> = { invite: new Map(), dialog: new Map() };
  private lastSweep: number;
  private closed = false;
  readonly stats: DefenceStats = {
    authFailures: 0,
    bansIssued: 0,
    bannedDrops: 0,
    invitesRefused: 0,
    dialogsRefused: 0,
    evictions: 0,
  };

  constructor(
    opts: Partial<SipDefenceOptions>,
    private readonly clock: Clock,
  ) {
    this.o = { ...DEFAULT_DEFENCE, ...opts };
    const o = this.o;
    if (!(o.maxFailures >= 1) || !(o.failureWindowMs > 0) || !(o.banMs > 0))
      throw new Error('SIP defence needs maxFailures >= 1, failureWindowMs > 0, banMs > 0');
    if (!(o.maxInvitesPerSource >= 1) || !(o.maxDialogsPerSource >= 1))
      throw new Error('SIP defence needs per-source caps >= 1');
    this.exempt = new Set(o.exempt.map(normalizeAddress));
    this.lastSweep = clock.now();
  }

  /** Cheap check for the receive path: false = drop the message unparsed (counted). */
  admit(address: string): boolean {
    if (this.banned.size === 0) return true;
    if (!this.isBanned(address)) return true;
    this.stats.bannedDrops++;
    return false;
  }

  /** Whether `address` is banned now (no counting). */
  isBanned(address: string): boolean {
    if (this.banned.size === 0) return false;
    const a = normalizeAddress(address);
    const b = this.banned.get(a);
    if (!b) return false;
    if (this.clock.now() < b.until) return true;
    this.banned.delete(a);
    return false;
  }

  /** State of one address, for tests and the admin API. */
  stateOf(address: string): SourceState {
    if (this.isBanned(address)) return SourceState.Banned;
    return this.failures.has(normalizeAddress(address)) ? SourceState.Watching : SourceState.Clean;
  }

  /**
   * A request from `address` carried credentials that did not verify. Matches the signature of
   * RequestAuthenticator's `onFailure` hook. Returns true when this failure started a ban.
   */
  recordAuthFailure = (address: string, _user?: string, _reason?: string): boolean => {
    if (this.closed) return false;
    this.stats.authFailures++;
    const a = normalizeAddress(address);
    if (this.exempt.has(a)) return false;
    const now = this.clock.now();
    this.sweep(now);
    if (this.isBanned(a)) return false; // a failure that slipped through a ban (e.g. before wiring) changes nothing
    let state = this.failures.has(a) ? SourceState.Watching : SourceState.Clean;
    let times = this.failures.get(a);
    if (times) {
      this.failures.delete(a);
      const from = now - this.o.failureWindowMs;
      let drop = 0;
      while (drop < times.length && times[drop]! <= from) drop++;
      if (drop > 0) times.splice(0, drop);
    } else {
      times = [];
      while (this.failures.size >= this.o.maxTrackedSources) this.evictOldest(this.failures);
    }
    times.push(now);
    if (times.length < this.o.maxFailures) {
      state = nextSourceState(state, SourceState.Watching);
      this.failures.set(a, times); // re-insert: most recently failed last
      return false;
    }
    nextSourceState(state, SourceState.Banned);
    this.startBan(a, 'auth-failures', now);
    return true;
  };

  /** Bans `address` now (admin action); extends a running ban. */
  ban(address: string, durationMs = this.o.banMs, cause = 'manual'): void {
    const a = normalizeAddress(address);
    const now = this.clock.now();
    nextSourceState(this.stateOf(a), SourceState.Banned);
    this.startBan(a, cause, now, durationMs);
  }

  /** Lifts a ban and forgets the failure history and strikes of `address`. */
  unban(address: string): boolean {
    const a = normalizeAddress(address);
    this.failures.delete(a);
    this.strikes.delete(a);
    return this.banned.delete(a);
  }

  /** Bans in force now. */
  bans(): BanInfo[] {
    const now = this.clock.now();
    this.sweep(now);
    const out: BanInfo[] = [];
    for (const [address, b] of this.banned) if (b.until > now) out.push({ address, ...b });
    return out;
  }

  /**
   * Takes an INVITE or dialog slot for `address`, or returns null when the source is at its cap
   * (counted). The slot is free again after `release()`, or as soon as `alive()` says false (so a
   * caller can pass `() => !tx.isTerminated` and never release explicitly).
   */
  acquire(kind: LeaseKind, address: string, alive?: () => boolean): Lease | null {
    const a = normalizeAddress(address);
    const noop: Lease = { release: () => undefined };
    if (this.closed || this.exempt.has(a)) return noop;
    const map = this.leases[kind];
    let set = map.get(a);
    if (set) {
      for (const l of set) if (l.released || (l.alive && !l.alive())) set.delete(l);
    } else {
      set = new Set();
      while (map.size >= this.o.maxTrackedSources) {
        if (!this.pruneOne(map)) break;
      }
    }
    const cap = kind === 'invite' ? this.o.maxInvitesPerSource : this.o.maxDialogsPerSource;
    if (set.size >= cap) {
      if (kind === 'invite') this.stats.invitesRefused++;
      else this.stats.dialogsRefused++;
      return null;
    }
    const entry: LeaseEntry = {
      released: false,
      alive,
      release: () => {
        if (entry.released) return;
        entry.released = true;
        const s = map.get(a);
        if (!s) return;
        s.delete(entry);
        if (s.size === 0) map.delete(a);
      },
    };
    set.add(entry);
    map.delete(a);
    map.set(a, set);
    return entry;
  }

  /** Slots held by `address` now (live ones only). */
  held(kind: LeaseKind, address: string): number {
    const set = this.leases[kind].get(normalizeAddress(address));
    if (!set) return 0;
    let n = 0;
    for (const l of set) if (!l.released && (!l.alive || l.alive())) n++;
    return n;
  }

  snapshot(): DefenceSnapshot {
    const count = (m: Map<string, Set<LeaseEntry>>) => {
      let n = 0;
      for (const s of m.values()) for (const l of s) if (!l.released && (!l.alive || l.alive())) n++;
      return n;
    };
    return {
      ...this.stats,
      activeBans: this.bans().length,
      trackedSources: this.failures.size,
      activeInvites: count(this.leases.invite),
      activeDialogs: count(this.leases.dialog),
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.failures.clear();
    this.banned.clear();
    this.strikes.clear();
    this.leases.invite.clear();
    this.leases.dialog.clear();
  }

  private startBan(a: string, cause: string, now: number, durationMs?: number): void {
    this.failures.delete(a);
    const prior = this.strikes.get(a);
    const strike = prior && prior.until > now ? prior.strike + 1 : 1;
    const base = durationMs ?? this.o.banMs;
    const ms = Math.min(Math.max(base, base * this.o.repeatFactor ** (strike - 1)), Math.max(this.o.maxBanMs, base));
    const until = now + ms;
    const running = this.banned.get(a);
    this.banned.delete(a);
    if (!running) while (this.banned.size >= this.o.maxBans) this.evictOldest(this.banned);
    this.banned.set(a, { until: Math.max(until, running?.until ?? 0), cause, strike });
    this.strikes.delete(a);
    if (this.strikes.size >= this.o.maxBans) this.evictOldest(this.strikes);
    // Remembered until one ban length after this ban ends.
    this.strikes.set(a, { strike, until: until + this.o.banMs });
    this.stats.bansIssued++;
    const ev: BanEvent = { address: a, until, durationMs: ms, cause, strike };
    try {
      this.o.onBan?.(ev);
    } catch {
      // A failing listener must not undo or break the ban.
    }
  }

  /**
   * Drops expired state at most once per second: failure histories whose newest failure left the
   * window (oldest first, stopping at the first recent one), expired bans and stale strikes.
   */
  private sweep(now: number): void {
    if (now - this.lastSweep < 1000) return;
    this.lastSweep = now;
    const from = now - this.o.failureWindowMs;
    for (const [a, times] of this.failures) {
      if (times[times.length - 1]! > from) break;
      this.failures.delete(a);
    }
    for (const [a, b] of this.banned) if (b.until <= now) this.banned.delete(a);
    for (const [a, s] of this.strikes) if (s.until <= now) this.strikes.delete(a);
  }

  private evictOldest(m: Map<string, unknown>): void {
    const oldest = m.keys().next().value as string | undefined;
    if (oldest === undefined) return;
    m.delete(oldest);
    this.stats.evictions++;
  }

  /** Frees the least recently used source's lease set if it is empty of live leases, else evicts it anyway. */
  private pruneOne(map: Map<string, Set<LeaseEntry>>): boolean {
    const oldest = map.keys().next().value as string | undefined;
    if (oldest === undefined) return false;
    const set = map.get(oldest)!;
    for (const l of set) if (l.released || (l.alive && !l.alive())) set.delete(l);
    if (set.size > 0) this.stats.evictions++;
    map.delete(oldest);
    return true;
  }
}
