import { createHash } from 'node:crypto';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Directory } from '../../../server/directory/directory.js';
import { seedDemo } from '../../../server/directory/seed.js';
import { DigestAuthenticator } from '../../../server/sip/auth/digest.js';
import { parseAuthHeader } from '../../../server/sip/auth/params.js';
import type { SipRequest } from '../../../server/sip/message/message.js';
import { parseMessage } from '../../../server/sip/parser/index.js';
import { authenticateAndRegister } from '../../../server/sip/registrar/authenticated.js';
import { Registrar } from '../../../server/sip/registrar/registrar.js';
import { openDatabase, type Database } from '../../../server/storage/database.js';
import { FakeClock } from '../../../server/util/clock.js';

let db: Database;
let clock: FakeClock;
let registrar: Registrar;
let deps: Parameters<typeof authenticateAndRegister>[1];

beforeEach(async () => {
  db = openDatabase(':memory:');
  await seedDemo(db, { scrypt: { N: 1024, r: 8, p: 1 } });
  clock = new FakeClock(1_700_000_000_000);
  registrar = new Registrar({ db, domain: '12315.local', clock, now: () => clock.now() });
  deps = {
    authenticator: new DigestAuthenticator({ realm: '12315.local', secret: 'x'.repeat(32), clock, nonceTtlMs: 60_000 }),
    lookupHa1: new Directory(db).devices.ha1Lookup('12315.local'),
    registrar,
  };
});
afterEach(() => {
  registrar.close();
  db.close();
});

function register(user: string, cseq: number, authorization?: string): SipRequest {
  const text = [
    'REGISTER sip:12315.local SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-' + cseq,
    'Max-Forwards: 70',
    `From: <sip:${user}@12315.local>;tag=t`,
    `To: <sip:${user}@12315.local>`,
    'Call-ID: flow-1',
    `CSeq: ${cseq} REGISTER`,
    `Contact: <sip:${user}@127.0.0.1:5070>`,
    ...(authorization ? [`Authorization: ${authorization}`] : []),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const req = parseMessage(Buffer.from(text)) as SipRequest;
  req.source = { transport: 'UDP', address: '127.0.0.1', port: 5070 };
  return req;
}

/** What a softphone computes, independently of the server code. */
function answer(challenge: string, user: string, password: string, nc = 1): string {
  const p = parseAuthHeader(challenge).params;
  const H = (s: string) => createHash('sha256').update(s).digest('hex');
  const ha1 = H(`${user}:12315.local:${password}`);
  const ha2 = H('REGISTER:sip:12315.local');
  const ncs = nc.toString(16).padStart(8, '0');
  const resp = H(`${ha1}:${p.get('nonce')}:${ncs}:abc:auth:${ha2}`);
  return `Digest username="${user}", realm="12315.local", nonce="${p.get('nonce')}", uri="sip:12315.local", response="${resp}", algorithm=SHA-256, qop=auth, nc=${ncs}, cnonce="abc"`;
}

it('challenges, then registers a seeded seat with the demo password', () => {
  const first = authenticateAndRegister(register('8003', 1), deps);
  expect(first.status).toBe(401);
  const challenges = first.headers.filter((h) => h.name === 'WWW-Authenticate').map((h) => h.value);
  expect(challenges).toHaveLength(2);
  const ok = authenticateAndRegister(register('8003', 2, answer(challenges[0]!, '8003', 'demo8003')), deps);
  expect(ok.status).toBe(200);
  expect(registrar.isRegistered('8003')).toBe(true);
});

it('refuses a wrong password, another seat’s AOR, and answers stale after nonce expiry', () => {
  const ch = authenticateAndRegister(register('8003', 1), deps).headers[0]!.value;
  expect(authenticateAndRegister(register('8003', 2, answer(ch, '8003', 'wrong-pw')), deps).status).toBe(401);
  // 8004 authenticates correctly but asks to bind 8003's AOR.
  const r = register('8003', 3, answer(ch, '8004', 'demo8004'));
  expect(authenticateAndRegister(r, deps).status).toBe(403);
  clock.advance(61_000);
  const stale = authenticateAndRegister(register('8003', 4, answer(ch, '8003', 'demo8003', 2)), deps);
  expect(stale.status).toBe(401);
  expect(stale.headers[0]!.value).toContain('stale=true');
  expect(registrar.isRegistered('8003')).toBe(false);
});

it('400 for a malformed Authorization header', () => {
  expect(authenticateAndRegister(register('8003', 1, 'Digest realm="12315.local'), deps).status).toBe(400);
});
