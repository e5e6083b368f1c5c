import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SipRequest } from '../../../server/sip/message/message.js';
import type { Endpoint } from '../../../server/sip/message/types.js';
import { parseMessage } from '../../../server/sip/parser/index.js';
import { Registrar, type BindingChange, type RegistrarOptions } from '../../../server/sip/registrar/registrar.js';
import { openDatabase, type Database } from '../../../server/storage/database.js';
import { FakeClock } from '../../../server/util/clock.js';

const UDP: Endpoint = { transport: 'UDP', address: '127.0.0.1', port: 5070 };

interface Reg {
  user?: string;
  to?: string;
  contacts?: string[];
  expires?: number | string | null;
  callId?: string;
  cseq?: number;
  extra?: string[];
  source?: Endpoint;
}

function register(o: Reg = {}): SipRequest {
  const user = o.user ?? '8001';
  const lines = [
    'REGISTER sip:12315.local SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-test;rport',
    'Max-Forwards: 70',
    `From: <sip:${user}@12315.local>;tag=f1`,
    `To: ${o.to ?? `<sip:${user}@12315.local>`}`,
    `Call-ID: ${o.callId ?? 'call-1'}`,
    `CSeq: ${o.cseq ?? 1} REGISTER`,
    ...(o.contacts ?? [`<sip:${user}@127.0.0.1:5070>`]).map((c) => `Contact: ${c}`),
    ...(o.expires !== undefined && o.expires !== null ? [`Expires: ${o.expires}`] : []),
    'User-Agent: test-phone/1.0',
    ...(o.extra ?? []),
    'Content-Length: 0',
    '',
    '',
  ];
  const req = parseMessage(Buffer.from(lines.join('\r\n'))) as SipRequest;
  req.source = o.source ?? UDP;
  return req;
}

let dir: string;
let db: Database;
let clock: FakeClock;
let reg: Registrar;
let changes: BindingChange[];
const START = 1_700_000_000_000;

function make(opts: Partial<RegistrarOptions> = {}): Registrar {
  const r = new Registrar({ db, domain: '12315.local', clock, now: () => clock.now(), ...opts });
  r.onChange((c) => changes.push(c));
  return r;
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hotline-reg-'));
  db = openDatabase(path.join(dir, 'loc.sqlite'));
  clock = new FakeClock(START);
  changes = [];
  reg = make();
});
afterEach(() => {
  reg.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const contactsOf = (o: { headers: Array<{ name: string; value: string }> }) =>
  o.headers.filter((h) => h.name === 'Contact').map((h) => h.value);

describe('REGISTER basics', () => {
  it('adds a binding and answers 200 with all bindings, their expires and a Date', () => {
    const out = reg.handleRegister(register(), { extension: '8001' });
    expect(out.status).toBe(200);
    expect(contactsOf(out)).toEqual(['<sip:8001@127.0.0.1:5070>;expires=3600']);
    expect(out.headers.find((h) => h.name === 'Date')?.value).toBe(new Date(START).toUTCString());
    const [b] = reg.lookup('8001');
    expect(b).toMatchObject({
      aor: 'sip:8001@12315.local',
      contact: 'sip:8001@127.0.0.1:5070',
      expiresAt: START + 3_600_000,
      callId: 'call-1',
      cseq: 1,
      source: UDP,
      userAgent: 'test-phone/1.0',
    });
    expect(reg.lookup('sip:8001@12315.local')).toHaveLength(1);
    expect(reg.isRegistered('8001')).toBe(true);
    expect(reg.isRegistered('8002')).toBe(false);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ extension: '8001', reason: 'register', online: true });
  });

  it('403 when the To AOR is not the authenticated device; 404 for a non-SIP AOR', () => {
    expect(reg.handleRegister(register({ user: '8002' }), { extension: '8001' }).status).toBe(403);
    expect(reg.handleRegister(register({ to: '<tel:8001>' }), { extension: '8001' }).status).toBe(404);
    expect(reg.lookup('8002')).toEqual([]);
    expect(changes).toEqual([]);
  });

  it('compares the AOR user part with escapes resolved and ignores the To host', () => {
    const out = reg.handleRegister(register({ to: '<sip:%38001@192.0.2.10>' }), { extension: '8001' });
    expect(out.status).toBe(200);
    expect(reg.lookup('8001')).toHaveLength(1);
  });

  it('404 for a foreign Request-URI domain when a domain check is configured', () => {
    const strict = make({ isLocalDomain: (h) => h === 'other.example' });
    expect(strict.handleRegister(register(), { extension: '8001' }).status).toBe(404);
    strict.close();
  });

  it('420 with Unsupported for a required extension we lack', () => {
    const out = reg.handleRegister(register({ extra: ['Require: path, gruu'] }), { extension: '8001' });
    expect(out.status).toBe(420);
    expect(out.headers).toContainEqual({ name: 'Unsupported', value: 'path, gruu' });
    const ok = make({ supportedExtensions: ['path', 'gruu'] });
    expect(ok.handleRegister(register({ extra: ['Require: path, gruu'] }), { extension: '8001' }).status).toBe(200);
    ok.close();
  });

  it('answers a query (no Contact) with the current bindings and changes nothing', () => {
    reg.handleRegister(register(), { extension: '8001' });
    clock.advance(100_000);
    const out = reg.handleRegister(register({ contacts: [], cseq: 2 }), { extension: '8001' });
    expect(out.status).toBe(200);
    expect(contactsOf(out)).toEqual(['<sip:8001@127.0.0.1:5070>;expires=3500']);
    expect(changes).toHaveLength(1);
  });
});

describe('expiry values (§10.3 step 7)', () => {
  it('prefers the Contact expires parameter over the Expires header', () => {
    const out = reg.handleRegister(
      register({ contacts: ['<sip:8001@127.0.0.1:5070>;expires=120', '<sip:8001@127.0.0.1:5071>'], expires: 300 }),
      { extension: '8001' },
    );
    expect(contactsOf(out).sort()).toEqual([
      '<sip:8001@127.0.0.1:5070>;expires=120',
      '<sip:8001@127.0.0.1:5071>;expires=300',
    ]);
  });

  it('423 with Min-Expires below the minimum, and nothing stored', () => {
    const out = reg.handleRegister(register({ expires: 30 }), { extension: '8001' });
    expect(out.status).toBe(423);
    expect(out.headers).toContainEqual({ name: 'Min-Expires', value: '60' });
    expect(reg.lookup('8001')).toEqual([]);
    const out2 = reg.handleRegister(register({ contacts: ['<sip:8001@h>;expires=59'] }), { extension: '8001' });
    expect(out2.status).toBe(423);
  });

  it('caps at the maximum and treats a malformed expires parameter as 3600', () => {
    const capped = make({ maxExpires: 1800 });
    const out = capped.handleRegister(register({ expires: 4294967295 }), { extension: '8001' });
    expect(contactsOf(out)).toEqual(['<sip:8001@127.0.0.1:5070>;expires=1800']);
    capped.close();
    const out2 = reg.handleRegister(register({ user: '8002', contacts: ['<sip:8002@h>;expires=soon'] }), {
      extension: '8002',
    });
    expect(contactsOf(out2)).toEqual(['<sip:8002@h>;expires=3600']);
  });

  it('400 for a malformed Expires header or q value', () => {
    // The parser already refuses this; the registrar must not rely on it (requests can be built in code).
    const r = register();
    r.headers.set('Expires', 'never');
    expect(reg.handleRegister(r, { extension: '8001' }).status).toBe(400);
    expect(reg.handleRegister(register({ contacts: ['<sip:8001@h>;q=1.5'] }), { extension: '8001' }).status).toBe(400);
  });

  it('removes one binding with expires=0 and reports the AOR offline', () => {
    reg.handleRegister(register(), { extension: '8001' });
    const out = reg.handleRegister(register({ expires: 0, cseq: 2 }), { extension: '8001' });
    expect(out.status).toBe(200);
    expect(contactsOf(out)).toEqual([]);
    expect(reg.lookup('8001')).toEqual([]);
    expect(changes.at(-1)).toMatchObject({ reason: 'unregister', online: false, bindings: [] });
  });
});

describe('Contact: * (§10.3 step 6)', () => {
  beforeEach(() => {
    reg.handleRegister(register({ contacts: ['<sip:8001@a>', '<sip:8001@b>'] }), { extension: '8001' });
  });

  it('with Expires: 0 removes every binding', () => {
    const out = reg.handleRegister(register({ contacts: ['*'], expires: 0, callId: 'other', cseq: 1 }), {
      extension: '8001',
    });
    expect(out.status).toBe(200);
    expect(reg.lookup('8001')).toEqual([]);
    expect(changes.at(-1)).toMatchObject({ reason: 'unregister', online: false });
  });

  it('400 with other contacts, a non-zero Expires, or no Expires', () => {
    const bad = [
      register({ contacts: ['*', '<sip:8001@c>'], expires: 0, cseq: 5 }),
      register({ contacts: ['*'], expires: 10, cseq: 5 }),
      register({ contacts: ['*'], cseq: 5 }),
    ];
    for (const r of bad) expect(reg.handleRegister(r, { extension: '8001' }).status).toBe(400);
    expect(reg.lookup('8001')).toHaveLength(2);
  });

  it('500 and nothing removed when the same Call-ID does not carry a higher CSeq', () => {
    const out = reg.handleRegister(register({ contacts: ['*'], expires: 0, cseq: 1 }), { extension: '8001' });
    expect(out.status).toBe(500);
    expect(reg.lookup('8001')).toHaveLength(2);
  });
});

describe('Call-ID / CSeq ordering (§10.3 step 7)', () => {
  it('fails the whole request with 500 on an equal or lower CSeq for the same Call-ID', () => {
    reg.handleRegister(register({ cseq: 5 }), { extension: '8001' });
    for (const cseq of [5, 4]) {
      const out = reg.handleRegister(
        register({ cseq, contacts: ['<sip:8001@new.example>', '<sip:8001@127.0.0.1:5070>;expires=0'] }),
        { extension: '8001' },
      );
      expect(out.status).toBe(500);
    }
    // All or nothing: the new contact was not added either, the old one is intact.
    expect(reg.lookup('8001').map((b) => b.contact)).toEqual(['sip:8001@127.0.0.1:5070']);
    expect(reg.lookup('8001')[0]!.cseq).toBe(5);
  });

  it('updates on a higher CSeq, and on any CSeq from a different Call-ID', () => {
    reg.handleRegister(register({ cseq: 5, expires: 600 }), { extension: '8001' });
    clock.advance(10_000);
    expect(reg.handleRegister(register({ cseq: 6, expires: 900 }), { extension: '8001' }).status).toBe(200);
    expect(reg.lookup('8001')[0]).toMatchObject({ cseq: 6, expiresAt: clock.now() + 900_000 });
    expect(reg.handleRegister(register({ callId: 'rebooted', cseq: 1 }), { extension: '8001' }).status).toBe(200);
    expect(reg.lookup('8001')).toHaveLength(1);
    expect(reg.lookup('8001')[0]).toMatchObject({ callId: 'rebooted', cseq: 1 });
  });

  it('an expired binding no longer exists for the CSeq rule, even before the purge ran', () => {
    reg.handleRegister(register({ cseq: 9, expires: 60 }), { extension: '8001' });
    // `now` passed explicitly: the expiry timer has not fired yet.
    const later = clock.now() + 61_000;
    expect(reg.lookup('8001', later)).toEqual([]);
    const out = reg.handleRegister(register({ cseq: 3, expires: 60 }), { extension: '8001' }, later);
    expect(out.status).toBe(200);
    expect(reg.lookup('8001', later)[0]).toMatchObject({ cseq: 3, expiresAt: later + 60_000 });
  });

  it('finds the existing binding by URI equivalence, not by text', () => {
    reg.handleRegister(register({ contacts: ['<sip:8001@Phone.Example;transport=UDP>'] }), { extension: '8001' });
    reg.handleRegister(register({ contacts: ['<sip:8001@phone.example;transport=udp>'], cseq: 2 }), {
      extension: '8001',
    });
    expect(reg.lookup('8001')).toHaveLength(1);
    reg.handleRegister(register({ contacts: ['<sip:8001@phone.example:5060>'], cseq: 3 }), { extension: '8001' });
    expect(reg.lookup('8001')).toHaveLength(2);
  });
});

describe('lookup and bindings', () => {
  it('orders by q (absent = 1.0), then most recent', () => {
    reg.handleRegister(register({ contacts: ['<sip:8001@low>;q=0.1', '<sip:8001@mid>;q=0.5'] }), { extension: '8001' });
    clock.advance(1000);
    reg.handleRegister(register({ contacts: ['<sip:8001@none>'], cseq: 2 }), { extension: '8001' });
    expect(reg.lookup('8001').map((b) => [b.contact, b.q])).toEqual([
      ['sip:8001@none', null],
      ['sip:8001@mid', 0.5],
      ['sip:8001@low', 0.1],
    ]);
    const out = reg.handleRegister(register({ contacts: [], cseq: 3 }), { extension: '8001' });
    expect(contactsOf(out)).toContain('<sip:8001@mid>;expires=3599;q=0.5');
  });

  it('a UA with the same +sip.instance and reg-id replaces its old binding', () => {
    const inst = ';+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";reg-id=1';
    const ws: Endpoint = { transport: 'WS', address: '127.0.0.1', port: 40000, connectionId: 'ws-1' };
    reg.handleRegister(register({ contacts: [`<sip:abc@x.invalid;transport=ws>${inst}`], source: ws }), {
      extension: '8001',
    });
    const ws2 = { ...ws, port: 40001, connectionId: 'ws-2' };
    reg.handleRegister(register({ contacts: [`<sip:def@y.invalid;transport=ws>${inst}`], callId: 'c2', source: ws2 }), {
      extension: '8001',
    });
    const bs = reg.lookup('8001');
    expect(bs).toHaveLength(1);
    expect(bs[0]).toMatchObject({
      contact: 'sip:def@y.invalid;transport=ws',
      instanceId: 'urn:uuid:00000000-0000-1000-8000-000A95A0E128',
      regId: 1,
      source: ws2,
    });
  });

  it('drops the oldest bindings beyond the per-AOR limit', () => {
    const small = make({ maxBindingsPerAor: 2 });
    for (let i = 1; i <= 4; i++) {
      clock.advance(1000);
      small.handleRegister(register({ contacts: [`<sip:8001@h${i}>`], callId: `c${i}` }), { extension: '8001' });
    }
    expect(small.lookup('8001').map((b) => b.contact)).toEqual(['sip:8001@h4', 'sip:8001@h3']);
    small.close();
  });

  it('keeps working when a change listener throws', () => {
    reg.onChange(() => {
      throw new Error('listener bug');
    });
    expect(reg.handleRegister(register(), { extension: '8001' }).status).toBe(200);
    expect(changes).toHaveLength(1);
  });

  it('stops notifying after unsubscribe', () => {
    const seen: string[] = [];
    const off = reg.onChange((c) => seen.push(c.reason));
    reg.handleRegister(register(), { extension: '8001' });
    off();
    reg.handleRegister(register({ cseq: 2, expires: 0 }), { extension: '8001' });
    expect(seen).toEqual(['register']);
  });
});

describe('expiry, connections and persistence', () => {
  it('expires bindings on the timer and reports the seat offline', () => {
    reg.handleRegister(register({ expires: 120 }), { extension: '8001' });
    reg.handleRegister(register({ user: '8002', expires: 300 }), { extension: '8002' });
    clock.advance(119_999);
    expect(reg.isRegistered('8001')).toBe(true);
    expect(changes.filter((c) => c.reason === 'expired')).toEqual([]);
    clock.advance(1);
    expect(reg.isRegistered('8001')).toBe(false);
    expect(changes.at(-1)).toMatchObject({ extension: '8001', reason: 'expired', online: false });
    clock.advance(180_000);
    expect(changes.at(-1)).toMatchObject({ extension: '8002', reason: 'expired', online: false });
    expect(db.sqlite.prepare('SELECT COUNT(*) FROM location_bindings').pluck().get()).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('a refresh pushes the expiry back', () => {
    reg.handleRegister(register({ expires: 120 }), { extension: '8001' });
    clock.advance(100_000);
    reg.handleRegister(register({ expires: 120, cseq: 2 }), { extension: '8001' });
    clock.advance(100_000);
    expect(reg.isRegistered('8001')).toBe(true);
    expect(changes.some((c) => c.reason === 'expired')).toBe(false);
    clock.advance(20_000);
    expect(reg.isRegistered('8001')).toBe(false);
  });

  it('drops bindings of a closed WebSocket connection', () => {
    const ws: Endpoint = { transport: 'WS', address: '127.0.0.1', port: 40000, connectionId: 'ws-9' };
    reg.handleRegister(register({ contacts: ['<sip:r@x.invalid;transport=ws>'], source: ws }), { extension: '8001' });
    reg.handleRegister(register({ user: '8002' }), { extension: '8002' });
    expect(reg.lookup('8001')[0]!.source).toEqual(ws);
    reg.connectionClosed('ws-9');
    expect(reg.isRegistered('8001')).toBe(false);
    expect(reg.isRegistered('8002')).toBe(true);
    expect(changes.at(-1)).toMatchObject({ extension: '8001', reason: 'connection-closed', online: false });
  });

  it('keeps UDP bindings across a restart but not connection-bound ones', () => {
    const ws: Endpoint = { transport: 'WSS', address: '127.0.0.1', port: 40000, connectionId: 'ws-1' };
    reg.handleRegister(register(), { extension: '8001' });
    reg.handleRegister(register({ user: '8002', contacts: ['<sip:r@x.invalid;transport=ws>'], source: ws }), {
      extension: '8002',
    });
    reg.close();
    reg.close();
    db.close();
    db = openDatabase(path.join(dir, 'loc.sqlite'));
    reg = make();
    expect(reg.lookup('8001')).toHaveLength(1);
    expect(reg.lookup('8002')).toEqual([]);
    // The restored binding still expires on time.
    clock.advance(3_600_000);
    expect(changes.at(-1)).toMatchObject({ extension: '8001', reason: 'expired' });
  });

  it('refuses work after close', () => {
    reg.close();
    expect(() => reg.handleRegister(register(), { extension: '8001' })).toThrow(/closed/);
  });
});
