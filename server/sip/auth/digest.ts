import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../util/clock.js';
import { AuthParseError, formatAuthHeader, parseAuthHeader } from './params.js';

/**
 * HTTP Digest for SIP (RFC 3261 §22.4 as updated by RFC 8760, algorithms from RFC 7616). Pure: no
 * I/O; the caller supplies the stored HA1 through a look-up function and sends the 401 itself.
 *
 * Only qop=auth is offered and accepted. RFC 2069 style responses (no qop, hence no cnonce/nc) are
 * refused because they carry no client nonce and no counter, so replay protection is impossible.
 * The -sess algorithms and auth-int are not offered, so a response using them is refused too.
 */

export type DigestAlgorithm = 'SHA-256' | 'MD5';
/** RFC 8760 §2.4: a server offering several algorithms lists the preferred one first. */
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-256', 'MD5'];

const HASH_NAME: Record<DigestAlgorithm, string> = { 'SHA-256': 'sha256', MD5: 'md5' };

export function digestHash(algorithm: DigestAlgorithm, data: string): string {
  return createHash(HASH_NAME[algorithm]).update(data, 'utf8').digest('hex');
}

/** HA1 = H(username ":" realm ":" password) (RFC 7616 §3.4.2). This is what the directory stores. */
export function computeHa1(algorithm: DigestAlgorithm, username: string, realm: string, password: string): string {
  return digestHash(algorithm, `${username}:${realm}:${password}`);
}

/** response = KD(HA1, nonce:nc:cnonce:qop:H(method:uri)) for qop=auth (RFC 7616 §3.4.1). */
export function computeDigestResponse(a: {
  algorithm: DigestAlgorithm;
  ha1: string;
  method: string;
  uri: string;
  nonce: string;
  nc: string;
  cnonce: string;
  qop: 'auth';
}): string {
  const ha2 = digestHash(a.algorithm, `${a.method}:${a.uri}`);
  return digestHash(a.algorithm, `${a.ha1}:${a.nonce}:${a.nc}:${a.cnonce}:${a.qop}:${ha2}`);
}

export function parseDigestAlgorithm(v: string | undefined): DigestAlgorithm | null {
  // RFC 7616 §3.3: an absent algorithm parameter means MD5.
  if (v === undefined) return 'MD5';
  const u = v.toUpperCase();
  if (u === 'MD5') return 'MD5';
  if (u === 'SHA-256') return 'SHA-256';
  return null;
}

export type Ha1Lookup = (username: string, algorithm: DigestAlgorithm) => string | null | undefined;

export type VerifyFailure =
  | 'missing' // no credentials for our realm: send a challenge
  | 'malformed' // unparsable or a required parameter missing: 400 per RFC 7616 §3.4.6 is also fine
  | 'scheme'
  | 'realm'
  | 'algorithm'
  | 'qop' // includes RFC 2069 responses without qop
  | 'userhash'
  | 'uri-mismatch' // RFC 7616 §3.4.6: SHOULD answer 400
  | 'unknown-user'
  | 'bad-response'
  | 'nonce-invalid'
  | 'nonce-expired'
  | 'nc-replay';

export type VerifyResult =
  | { ok: true; user: string; algorithm: DigestAlgorithm }
  | { ok: false; stale: boolean; reason: VerifyFailure; user?: string };

export interface DigestAuthenticatorOptions {
  realm: string;
  /** HMAC key for the stateless nonces. */
  secret: string | Buffer;
  clock: Pick<Clock, 'now'>;
  /** How long a nonce may be used; an older one with a correct response gets stale=true. */
  nonceTtlMs?: number;
  /** Bound on the nonce → highest-nc table (replay protection memory). */
  maxTrackedNonces?: number;
  /**
   * Challenge order (RFC 8760 §2.4: preferred first). Default SHA-256 then MD5. Many deployed UAs
   * (SIPp 3.6, baresip 1.0/libre 1.1, older desk phones) answer only the first challenge and give up
   * when it is SHA-256, so a centre with such phones puts MD5 first (SIP_DIGEST_ALGORITHMS).
   */
  algorithms?: readonly DigestAlgorithm[];
}

interface Tracked {
  ts: number;
  nc: number;
}

const TS_BYTES = 8;
const BOOT_BYTES = 4;
const SALT_BYTES = 8;
const MAC_BYTES = 16;
const NONCE_BYTES = TS_BYTES + BOOT_BYTES + SALT_BYTES + MAC_BYTES;

export class DigestAuthenticator {
  readonly realm: string;
  private readonly secret: Buffer;
  private readonly clock: Pick<Clock, 'now'>;
  private readonly ttl: number;
  private readonly maxTracked: number;
  private readonly algorithms: DigestAlgorithm[];
  /**
   * Random per instance and covered by the MAC. After a restart the nc table is empty, so a nonce from
   * the previous process could be replayed with an nc already used; marking such nonces stale forces
   * the client onto a fresh one (it retries silently, RFC 7616 §3.3 stale).
   */
  private readonly boot = randomBytes(BOOT_BYTES);
  /** Untracked nonces issued at or before this time are treated as stale (their nc history was evicted). */
  private watermark = -Infinity;
  private readonly seen = new Map<string, Tracked>();

  constructor(opts: DigestAuthenticatorOptions) {
    if (!opts.realm || /["\\\r\n]/.test(opts.realm)) throw new Error('bad digest realm');
    const secret = typeof opts.secret === 'string' ? Buffer.from(opts.secret, 'utf8') : opts.secret;
    if (secret.length < 16) throw new Error('digest nonce secret must be at least 16 bytes');
    this.realm = opts.realm;
    this.secret = Buffer.from(secret);
    this.clock = opts.clock;
    this.ttl = opts.nonceTtlMs ?? 5 * 60_000;
    this.algorithms = opts.algorithms?.length ? [...opts.algorithms] : [...DIGEST_ALGORITHMS];
    this.maxTracked = Math.max(16, opts.maxTrackedNonces ?? 10_000);
  }

  /** Issues a fresh nonce: timestamp, boot id, salt, HMAC over all three and the realm. */
  newNonce(): string {
    const buf = Buffer.alloc(NONCE_BYTES);
    buf.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(this.clock.now()))), 0);
    this.boot.copy(buf, TS_BYTES);
    randomBytes(SALT_BYTES).copy(buf, TS_BYTES + BOOT_BYTES);
    this.mac(buf.subarray(0, NONCE_BYTES - MAC_BYTES)).copy(buf, NONCE_BYTES - MAC_BYTES);
    return buf.toString('base64url');
  }

  /**
   * WWW-Authenticate (or Proxy-Authenticate) values: SHA-256 first, then MD5 (RFC 8760 §2.4), both with
   * qop="auth" and one shared nonce. Send each as its own header line.
   */
  challenge(stale = false): string[] {
    const nonce = this.newNonce();
    return this.algorithms.map((algorithm) => {
      const p: Array<[string, string, 'quoted' | 'token']> = [
        ['realm', this.realm, 'quoted'],
        ['nonce', nonce, 'quoted'],
        ['algorithm', algorithm, 'token'],
        // RFC 7616 §3.3: qop in a challenge is a quoted list.
        ['qop', 'auth', 'quoted'],
      ];
      if (stale) p.push(['stale', 'true', 'token']);
      return formatAuthHeader('Digest', p);
    });
  }

  /**
   * Checks the Authorization (or Proxy-Authorization) header values of a request. `requestUri` is the
   * Request-URI as text; the digest `uri` parameter must name the same resource (RFC 7616 §3.4.6).
   * When several credentials are present, the one for our realm is used (RFC 3261 §22.4 lets a UA send
   * one per realm).
   */
  verify(
    request: { method: string; requestUri: string },
    authorization: string | readonly string[] | undefined,
    lookupHa1: Ha1Lookup,
  ): VerifyResult {
    const values =
      authorization === undefined ? [] : typeof authorization === 'string' ? [authorization] : authorization;
    let chosen: Map<string, string> | null = null;
    let firstFailure: VerifyFailure | null = null;
    for (const v of values) {
      let parsed;
      try {
        parsed = parseAuthHeader(v);
      } catch (err) {
        if (!(err instanceof AuthParseError)) throw err;
        firstFailure ??= 'malformed';
        continue;
      }
      if (parsed.scheme.toLowerCase() !== 'digest') {
        firstFailure ??= 'scheme';
        continue;
      }
      if (parsed.params.get('realm') !== this.realm) {
        firstFailure ??= 'realm';
        continue;
      }
      // Prefer the strongest algorithm when a UA answered both challenges.
      if (!chosen || parseDigestAlgorithm(parsed.params.get('algorithm')) === 'SHA-256') chosen = parsed.params;
    }
    if (!chosen) return { ok: false, stale: false, reason: values.length === 0 ? 'missing' : firstFailure! };
    return this.verifyParams(request, chosen, lookupHa1);
  }

  /** Number of nonces whose nc is being tracked (for metrics and tests). */
  get trackedNonces(): number {
    return this.seen.size;
  }

  private verifyParams(
    request: { method: string; requestUri: string },
    p: Map<string, string>,
    lookupHa1: Ha1Lookup,
  ): VerifyResult {
    const fail = (reason: VerifyFailure, user?: string, stale = false): VerifyResult => ({
      ok: false,
      stale,
      reason,
      ...(user !== undefined ? { user } : {}),
    });
    const algorithm = parseDigestAlgorithm(p.get('algorithm'));
    if (!algorithm) return fail('algorithm');
    if (p.get('userhash')?.toLowerCase() === 'true') return fail('userhash');
    const username = p.get('username');
    const nonce = p.get('nonce');
    const uri = p.get('uri');
    const response = p.get('response');
    if (username === undefined || nonce === undefined || uri === undefined || response === undefined) {
      return fail('malformed');
    }
    const qop = p.get('qop');
    if (qop === undefined || qop.toLowerCase() !== 'auth') return fail('qop', username);
    const cnonce = p.get('cnonce');
    const nc = p.get('nc');
    // RFC 7616 §3.4: nc is exactly 8 hex digits and cnonce is mandatory when qop is sent.
    if (!cnonce || nc === undefined || !/^[0-9a-fA-F]{8}$/.test(nc)) return fail('malformed', username);
    if (!sameRequestUri(uri, request.requestUri)) return fail('uri-mismatch', username);

    const ha1 = lookupHa1(username, algorithm);
    const expected = computeDigestResponse({
      algorithm,
      // An unknown user still costs one digest, so response time does not reveal which users exist.
      ha1: ha1 ?? digestHash(algorithm, `${username}:${this.realm}:${nonce}`),
      method: request.method,
      uri,
      nonce,
      nc,
      cnonce,
      qop: 'auth',
    });
    if (!ha1) return fail('unknown-user', username);
    if (!hexEqual(expected, response)) return fail('bad-response', username);

    // The client knows the password. Anything wrong with the nonce from here on is answered with
    // stale=true so that it retries with a fresh nonce without asking its user (RFC 7616 §3.3).
    const ts = this.checkNonce(nonce);
    if (ts === 'invalid') return fail('nonce-invalid', username, true);
    const now = this.clock.now();
    if (ts + this.ttl < now || ts > now + 1000) return fail('nonce-expired', username, true);
    const count = parseInt(nc, 16);
    const tracked = this.seen.get(nonce);
    if (tracked) {
      // Replay protection (RFC 7616 §3.4.5 / §5.9): nc must grow with every request on a nonce.
      if (count <= tracked.nc) return fail('nc-replay', username);
      tracked.nc = count;
    } else {
      if (ts <= this.watermark) return fail('nonce-expired', username, true);
      this.seen.set(nonce, { ts, nc: count });
      this.prune(now);
    }
    return { ok: true, user: username, algorithm };
  }

  /** The nonce's timestamp, or 'invalid' if it is not one of ours from this process. */
  private checkNonce(nonce: string): number | 'invalid' {
    if (!/^[A-Za-z0-9_-]+$/.test(nonce)) return 'invalid';
    const buf = Buffer.from(nonce, 'base64url');
    if (buf.length !== NONCE_BYTES) return 'invalid';
    const mac = this.mac(buf.subarray(0, NONCE_BYTES - MAC_BYTES));
    if (!timingSafeEqual(mac, buf.subarray(NONCE_BYTES - MAC_BYTES))) return 'invalid';
    if (!buf.subarray(TS_BYTES, TS_BYTES + BOOT_BYTES).equals(this.boot)) return 'invalid';
    return Number(buf.readBigUInt64BE(0));
  }

  private prune(now: number): void {
    if (this.seen.size <= this.maxTracked) return;
    for (const [k, v] of this.seen) {
      if (v.ts + this.ttl < now) this.seen.delete(k);
    }
    for (const [k, v] of this.seen) {
      if (this.seen.size <= this.maxTracked) break;
      // Forgetting a live nonce's nc would allow replays on it, so such nonces (and every untracked one
      // at least as old) are declared stale instead.
      this.watermark = Math.max(this.watermark, v.ts);
      this.seen.delete(k);
    }
  }

  private mac(data: Buffer): Buffer {
    return createHmac('sha256', this.secret)
      .update(this.realm + '\0')
      .update(data)
      .digest()
      .subarray(0, MAC_BYTES);
  }
}

function hexEqual(expected: string, got: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(got.toLowerCase(), 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Does the digest-uri name the Request-URI? Exact text first (UAs copy it verbatim); otherwise compare
 * the way §19.1.4 compares SIP URIs for the parts a UA might legitimately re-case or re-escape:
 * scheme, host and parameters case-insensitively, the userinfo case-sensitively, %XX escapes resolved.
 */
export function sameRequestUri(digestUri: string, requestUri: string): boolean {
  if (digestUri === requestUri) return true;
  const norm = (u: string): string | null => {
    const m = /^([A-Za-z][A-Za-z0-9+.-]*):(?:([^@;?]*)@)?(.*)$/.exec(u.trim());
    if (!m) return null;
    const user = m[2] !== undefined ? safeDecode(m[2]) + '@' : '';
    return `${m[1]!.toLowerCase()}:${user}${safeDecode(m[3]!).toLowerCase()}`;
  };
  const a = norm(digestUri);
  return a !== null && a === norm(requestUri);
}

function safeDecode(x: string): string {
  try {
    return decodeURIComponent(x);
  } catch {
    return x;
  }
}
