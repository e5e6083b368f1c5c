import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../server/util/clock.js';
import {
  computeDigestResponse,
  computeHa1,
  DigestAuthenticator,
  sameRequestUri,
  type DigestAlgorithm,
} from '../../../server/sip/auth/digest.js';
import { parseAuthHeader } from '../../../server/sip/auth/params.js';

const h = (alg: DigestAlgorithm, s: string) =>
  createHash(alg === 'MD5' ? 'md5' : 'sha256')
    .update(s)
    .digest('hex');

const REALM = '12315.local';
const SECRET = 'test-secret-0123456789abcdef';
const PASSWORDS: Record<string, string> = { '8001': 'demo8001', '8002': 'demo8002' };
const lookup = (user: string, alg: DigestAlgorithm) => {
  const pw = PASSWORDS[user];
  return pw === undefined ? null : h(alg, `${user}:${REALM}:${pw}`);
};

/** Builds an Authorization header the way a UA does, computing the digest independently of the server code. */
function answer(
  challenge: string,
  o: {
    user?: string;
    password?: string;
    method?: string;
    uri?: string;
    nc?: number;
    cnonce?: string;
    qop?: string | null;
  },
): string {
  const p = parseAuthHeader(challenge).params;
  const alg = p.get('algorithm') as DigestAlgorithm;
  const user = o.user ?? '8001';
  const password = o.password ?? PASSWORDS[user] ?? 'x';
  const method = o.method ?? 'REGISTER';
  const uri = o.uri ?? 'sip:12315.local';
  const nc = (o.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = o.cnonce ?? 'c0ffee';
  const ha1 = h(alg, `${user}:${p.get('realm')}:${password}`);
  const ha2 = h(alg, `${method}:${uri}`);
  if (o.qop === null) {
    const resp = h(alg, `${ha1}:${p.get('nonce')}:${ha2}`);
    return `Digest username="${user}", realm="${p.get('realm')}", nonce="${p.get('nonce')}", uri="${uri}", response="${resp}", algorithm=${alg}`;
  }
  const resp = h(alg, `${ha1}:${p.get('nonce')}:${nc}:${cnonce}:auth:${ha2}`);
  return `Digest username="${user}", realm="${p.get('realm')}", nonce="${p.get('nonce')}", uri="${uri}", response="${resp}", algorithm=${alg}, cnonce="${cnonce}", qop=${o.qop ?? 'auth'}, nc=${nc}`;
}

function make(clock = new FakeClock(1_000_000), opts: { ttl?: number; max?: number } = {}) {
  const auth = new DigestAuthenticator({
    realm: REALM,
    secret: SECRET,
    clock,
    nonceTtlMs: opts.ttl ?? 60_000,
    maxTrackedNonces: opts.max,
  });
  return { auth, clock };
}
const REQ = { method: 'REGISTER', requestUri: 'sip:12315.local' };

describe('digest primitives', () => {
  it('matches the RFC 7616 §3.9.1 example for SHA-256 and MD5', () => {
    const base = {
      method: 'GET',
      uri: '/dir/index.html',
      nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
      nc: '00000001',
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
      qop: 'auth' as const,
    };
    const sha = computeDigestResponse({
      ...base,
      algorithm: 'SHA-256',
      ha1: computeHa1('SHA-256', 'Mufasa', 'http-auth@example.org', 'Circle of Life'),
    });
    expect(sha).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
    const md5 = computeDigestResponse({
      ...base,
      algorithm: 'MD5',
      ha1: computeHa1('MD5', 'Mufasa', 'http-auth@example.org', 'Circle of Life'),
    });
    expect(md5).toBe('8ca523f5e9506fed4657c9700eebdbec');
  });

  it('computes HA1 as H(user:realm:password)', () => {
    expect(computeHa1('MD5', '8001', REALM, 'demo8001')).toBe(h('MD5', '8001:12315.local:demo8001'));
    expect(computeHa1('SHA-256', '8001', REALM, 'demo8001')).toBe(h('SHA-256', '8001:12315.local:demo8001'));
  });

  it('compares digest uri with the Request-URI tolerantly but not loosely', () => {
    expect(sameRequestUri('sip:12315.local', 'sip:12315.local')).toBe(true);
    expect(sameRequestUri('SIP:12315.LOCAL;Transport=UDP', 'sip:12315.local;transport=udp')).toBe(true);
    expect(sameRequestUri('sip:%38001@h', 'sip:8001@h')).toBe(true);
    expect(sameRequestUri('sip:Alice@h', 'sip:alice@h')).toBe(false);
    expect(sameRequestUri('sip:other.example', 'sip:12315.local')).toBe(false);
    expect(sameRequestUri('garbage', 'sip:12315.local')).toBe(false);
  });
});

describe('DigestAuthenticator', () => {
  it('challenges with SHA-256 first, then MD5, qop="auth", one nonce, stale only when asked', () => {
    const { auth } = make();
    const c = auth.challenge();
    expect(c).toHaveLength(2);
    const [a, b] = c.map((v) => parseAuthHeader(v));
    expect(a!.params.get('algorithm')).toBe('SHA-256');
    expect(b!.params.get('algorithm')).toBe('MD5');
    expect(c[0]).toContain('qop="auth"');
    expect(a!.params.get('realm')).toBe(REALM);
    expect(a!.params.get('nonce')).toBe(b!.params.get('nonce'));
    expect(a!.params.has('stale')).toBe(false);
    expect(parseAuthHeader(auth.challenge(true)[1]!).params.get('stale')).toBe('true');
    expect(auth.newNonce()).not.toBe(auth.newNonce());
  });

  it.each([0, 1])('accepts a correct response for challenge %i', (i) => {
    const { auth } = make();
    const ch = auth.challenge()[i]!;
    const r = auth.verify(REQ, answer(ch, {}), lookup);
    expect(r).toEqual({ ok: true, user: '8001', algorithm: i === 0 ? 'SHA-256' : 'MD5' });
  });

  it('treats a missing algorithm parameter as MD5', () => {
    const { auth } = make();
    const v = answer(auth.challenge()[1]!, {}).replace(', algorithm=MD5', '');
    expect(auth.verify(REQ, v, lookup)).toMatchObject({ ok: true, algorithm: 'MD5' });
  });

  it('rejects a wrong password, an unknown user and a wrong method', () => {
    const { auth } = make();
    const ch = auth.challenge()[0]!;
    expect(auth.verify(REQ, answer(ch, { password: 'nope' }), lookup)).toMatchObject({
      ok: false,
      stale: false,
      reason: 'bad-response',
      user: '8001',
    });
    expect(auth.verify(REQ, answer(ch, { user: '9999' }), lookup)).toMatchObject({ ok: false, reason: 'unknown-user' });
    expect(auth.verify({ ...REQ, method: 'INVITE' }, answer(ch, {}), lookup)).toMatchObject({
      ok: false,
      reason: 'bad-response',
    });
  });

  it('rejects RFC 2069 (qop-less) responses even when the digest is right', () => {
    const { auth } = make();
    const r = auth.verify(REQ, answer(auth.challenge()[0]!, { qop: null }), lookup);
    expect(r).toMatchObject({ ok: false, reason: 'qop' });
    expect(auth.verify(REQ, answer(auth.challenge()[0]!, { qop: 'auth-int' }), lookup)).toMatchObject({
      ok: false,
      reason: 'qop',
    });
  });

  it('checks that the uri parameter names the Request-URI', () => {
    const { auth } = make();
    const v = answer(auth.challenge()[0]!, { uri: 'sip:evil.example' });
    expect(auth.verify(REQ, v, lookup)).toMatchObject({ ok: false, reason: 'uri-mismatch' });
  });

  it('rejects nc reuse on a nonce and accepts a growing nc', () => {
    const { auth } = make();
    const ch = auth.challenge()[0]!;
    expect(auth.verify(REQ, answer(ch, { nc: 1 }), lookup).ok).toBe(true);
    expect(auth.verify(REQ, answer(ch, { nc: 1, cnonce: 'other' }), lookup)).toMatchObject({
      ok: false,
      stale: false,
      reason: 'nc-replay',
    });
    expect(auth.verify(REQ, answer(ch, { nc: 2 }), lookup).ok).toBe(true);
    expect(auth.verify(REQ, answer(ch, { nc: 2 }), lookup).ok).toBe(false);
    expect(auth.verify(REQ, answer(ch, { nc: 5 }), lookup).ok).toBe(true);
    expect(auth.verify(REQ, answer(ch, { nc: 4 }), lookup).ok).toBe(false);
  });

  it('answers stale=true for an expired nonce with a correct response, and not for a wrong one', () => {
    const { auth, clock } = make(new FakeClock(5_000), { ttl: 30_000 });
    const ch = auth.challenge()[0]!;
    clock.advance(29_000);
    expect(auth.verify(REQ, answer(ch, { nc: 1 }), lookup).ok).toBe(true);
    clock.advance(2_000);
    expect(auth.verify(REQ, answer(ch, { nc: 2 }), lookup)).toMatchObject({
      ok: false,
      stale: true,
      reason: 'nonce-expired',
    });
    expect(auth.verify(REQ, answer(ch, { nc: 3, password: 'bad' }), lookup)).toMatchObject({
      ok: false,
      stale: false,
      reason: 'bad-response',
    });
  });

  it('marks a forged nonce, or one from another instance, stale only if the password was right', () => {
    const { auth } = make();
    const other = new DigestAuthenticator({ realm: REALM, secret: SECRET, clock: new FakeClock(1_000_000) });
    const foreign = other.challenge()[0]!;
    expect(auth.verify(REQ, answer(foreign, {}), lookup)).toMatchObject({
      ok: false,
      stale: true,
      reason: 'nonce-invalid',
    });
    const forged = auth.challenge()[0]!.replace(/nonce="[^"]*"/, 'nonce="AAAA"');
    expect(auth.verify(REQ, answer(forged, {}), lookup)).toMatchObject({ stale: true, reason: 'nonce-invalid' });
    expect(auth.verify(REQ, answer(forged, { password: 'bad' }), lookup)).toMatchObject({ stale: false });
  });

  it('uses the credentials for its own realm among several, and prefers SHA-256', () => {
    const { auth } = make();
    const [sha, md5] = auth.challenge();
    const foreign =
      'Digest username="x", realm="elsewhere", nonce="n", uri="sip:a", response="00", qop=auth, nc=00000001, cnonce="c"';
    const r = auth.verify(REQ, [foreign, answer(md5!, {}), answer(sha!, {})], lookup);
    expect(r).toMatchObject({ ok: true, algorithm: 'SHA-256' });
    expect(auth.verify(REQ, [foreign], lookup)).toMatchObject({ ok: false, reason: 'realm' });
    expect(auth.verify(REQ, undefined, lookup)).toMatchObject({ ok: false, reason: 'missing' });
    expect(auth.verify(REQ, 'Basic Zm9vOmJhcg==', lookup)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(auth.verify(REQ, 'Basic realm="x"', lookup)).toMatchObject({ ok: false, reason: 'scheme' });
  });

  it('rejects unsupported algorithms, userhash and malformed nc', () => {
    const { auth } = make();
    const ch = auth.challenge()[0]!;
    const good = answer(ch, {});
    expect(auth.verify(REQ, good.replace('algorithm=SHA-256', 'algorithm=SHA-256-sess'), lookup)).toMatchObject({
      reason: 'algorithm',
    });
    expect(auth.verify(REQ, good + ', userhash=true', lookup)).toMatchObject({ reason: 'userhash' });
    expect(auth.verify(REQ, good.replace('nc=00000001', 'nc=1'), lookup)).toMatchObject({ reason: 'malformed' });
    expect(auth.verify(REQ, good.replace(/, cnonce="[^"]*"/, ''), lookup)).toMatchObject({ reason: 'malformed' });
  });

  it('bounds the nc table; nonces whose history was evicted become stale, never replayable', () => {
    const { auth, clock } = make(new FakeClock(0), { ttl: 1_000_000, max: 16 });
    const first = auth.challenge()[0]!;
    expect(auth.verify(REQ, answer(first, { nc: 1 }), lookup).ok).toBe(true);
    for (let i = 0; i < 40; i++) {
      clock.advance(10);
      expect(auth.verify(REQ, answer(auth.challenge()[0]!, {}), lookup).ok).toBe(true);
    }
    expect(auth.trackedNonces).toBeLessThanOrEqual(16);
    // The first nonce was evicted: replaying nc=1 on it must not succeed.
    expect(auth.verify(REQ, answer(first, { nc: 1 }), lookup)).toMatchObject({ ok: false, stale: true });
    // Expired entries are dropped first when pruning.
    clock.advance(2_000_000);
    const fresh = auth.challenge()[0]!;
    expect(auth.verify(REQ, answer(fresh, {}), lookup).ok).toBe(true);
  });

  it('refuses weak configuration', () => {
    expect(() => new DigestAuthenticator({ realm: REALM, secret: 'short', clock: new FakeClock() })).toThrow();
    expect(() => new DigestAuthenticator({ realm: 'a"b', secret: SECRET, clock: new FakeClock() })).toThrow();
  });
});
