import { describe, expect, it } from 'vitest';
import {
  MAGIC_COOKIE,
  REASON_PHRASES,
  addVia,
  createAckForNon2xx,
  createCancel,
  createResponse,
  newBranch,
  newCallId,
  newTag,
  reasonPhrase,
  withTag,
} from '../../../server/sip/message/build.js';
import { formatVia, parseVia } from '../../../server/sip/message/grammar.js';
import { serializeMessage } from '../../../server/sip/parser/index.js';
import { parse, req, res } from '../transactions/helpers.js';
import type { SipRequest } from '../../../server/sip/message/message.js';

describe('identifiers', () => {
  it('branch = magic cookie + ≥ 64 random bits, token characters only, unique', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const b = newBranch();
      expect(b.startsWith(MAGIC_COOKIE)).toBe(true);
      const rand = b.slice(MAGIC_COOKIE.length);
      expect(rand.length * 6).toBeGreaterThanOrEqual(64);
      expect(b).toMatch(/^[A-Za-z0-9\-_]+$/);
      seen.add(b);
    }
    expect(seen.size).toBe(1000);
  });

  it('tags and Call-IDs are random and distinct', () => {
    expect(newTag()).not.toBe(newTag());
    expect(newTag()).toMatch(/^[A-Za-z0-9\-_]{11,}$/);
    expect(newCallId()).not.toBe(newCallId());
    expect(newCallId('127.0.0.1')).toMatch(/@127\.0\.0\.1$/);
  });
});

describe('createResponse (§8.2.6)', () => {
  const r = parse([
    'INVITE sip:12315@127.0.0.1 SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-a;rport',
    'Via: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK-b',
    'Max-Forwards: 70',
    'From: "Caller" <sip:13812345678@127.0.0.1>;tag=ftag',
    'To: <sip:12315@127.0.0.1>',
    'Call-ID: abc@127.0.0.1',
    'CSeq: 7 INVITE',
    'Contact: <sip:13812345678@127.0.0.1:5070>',
    'Subject: should not be copied',
  ]) as SipRequest;

  it('copies Via list in order, From, To, Call-ID, CSeq and nothing else', () => {
    const out = createResponse(r, 486);
    expect(out.status).toBe(486);
    expect(out.reason).toBe('Busy Here');
    expect(out.headers.getAll('Via')).toEqual(r.headers.getAll('Via'));
    expect(out.headers.get('From')).toBe(r.headers.get('From'));
    expect(out.callId).toBe('abc@127.0.0.1');
    expect(out.headers.get('CSeq')).toBe('7 INVITE');
    expect(out.headers.fields.map((f) => f.name)).toEqual(['Via', 'Via', 'From', 'To', 'Call-ID', 'CSeq']);
  });

  it('topVia is parsed once per raw value and read again after the Via header is rewritten', () => {
    const r = req();
    expect(r.topVia).toBe(r.topVia);
    expect(r.topVia.params.get('branch')).toBe('z9hG4bK-1');
    r.headers.fields.find((f) => f.name === 'Via')!.value = 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-2;rport=5070';
    expect(r.topVia.params.get('branch')).toBe('z9hG4bK-2');
    expect(r.topVia.params.get('rport')).toBe('5070');
  });

  it('rememberTopVia: a Via the transport parsed and stamped is what topVia returns, until the header changes', () => {
    const r = req();
    const stamped = parseVia(r.headers.get('Via')!);
    stamped.params.set('received', '192.0.2.7');
    r.headers.fields.find((f) => f.name === 'Via')!.value = formatVia(stamped);
    r.rememberTopVia(stamped);
    expect(r.topVia).toBe(stamped);
    r.headers.fields.find((f) => f.name === 'Via')!.value = 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-3';
    expect(r.topVia).not.toBe(stamped);
    expect(r.topVia.params.get('branch')).toBe('z9hG4bK-3');
  });

  it('toTag and fromTag follow a rewritten header (remembered per raw value, not per message)', () => {
    const out = createResponse(req(), 180, undefined, { toTag: 'one' });
    expect(out.toTag).toBe('one');
    out.headers.set('To', withTag('<sip:12315@127.0.0.1>', 'two'));
    expect(out.toTag).toBe('two');
    expect(out.fromTag).toBe(out.from.params.get('tag'));
    out.headers.set('From', '<sip:a@127.0.0.1>');
    expect(out.fromTag).toBeNull();
  });

  it('adds a To tag for > 100 (given or fresh), none for 100 Trying', () => {
    expect(createResponse(r, 100).toTag).toBeNull();
    expect(createResponse(r, 180, undefined, { toTag: 'mine' }).toTag).toBe('mine');
    const fresh = createResponse(r, 200).toTag;
    expect(fresh).toBeTruthy();
    expect(createResponse(r, 200).toTag).not.toBe(fresh);
    expect(createResponse(r, 100, undefined, { toTag: 'x' }).toTag).toBe('x');
  });

  it('keeps an existing To tag (in-dialog request)', () => {
    const inDialog = req({ method: 'BYE', toTag: 'existing' });
    expect(createResponse(inDialog, 200, undefined, { toTag: 'other' }).toTag).toBe('existing');
  });

  it('custom reason; unknown codes take the class phrase; bad codes throw', () => {
    expect(createResponse(r, 480, '坐席忙').reason).toBe('坐席忙');
    expect(reasonPhrase(499)).toBe('Bad Request');
    expect(reasonPhrase(183)).toBe('Session Progress');
    expect(REASON_PHRASES[487]).toBe('Request Terminated');
    expect(() => createResponse(r, 99)).toThrow(RangeError);
    expect(() => createResponse(r, 700)).toThrow(RangeError);
  });

  it('serialises to a parseable response', () => {
    const text = serializeMessage(createResponse(r, 200, undefined, { toTag: 't1' })).toString();
    expect(text.startsWith('SIP/2.0 200 OK\r\n')).toBe(true);
    expect(text).toContain('To: <sip:12315@127.0.0.1>;tag=t1');
  });
});

describe('createAckForNon2xx (§17.1.1.3) and createCancel (§9.1)', () => {
  const inv = parse([
    'INVITE sip:12315@127.0.0.1;transport=udp SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-inv',
    'Max-Forwards: 69',
    'Route: <sip:127.0.0.5;lr>',
    'Route: <sip:127.0.0.6;lr>',
    'From: <sip:13812345678@127.0.0.1>;tag=ftag',
    'To: <sip:12315@127.0.0.1>',
    'Call-ID: c1',
    'CSeq: 42 INVITE',
    'Contact: <sip:13812345678@127.0.0.1:5070>',
  ]) as SipRequest;

  it('ACK: same R-URI, top Via, Route, From, Call-ID, CSeq number; To from the response', () => {
    const ack = createAckForNon2xx(inv, res(inv, 486, 'rt'));
    expect(ack.method).toBe('ACK');
    expect(ack.uri).toEqual(inv.uri);
    expect(ack.uri).not.toBe(inv.uri);
    expect(ack.headers.getAll('Via')).toEqual(['SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-inv']);
    expect(ack.headers.getAll('Route')).toEqual(inv.headers.getAll('Route'));
    expect(ack.toTag).toBe('rt');
    expect(ack.fromTag).toBe('ftag');
    expect(ack.cseq).toEqual({ seq: 42, method: 'ACK' });
    expect(ack.headers.get('Max-Forwards')).toBe('69');
    expect(ack.headers.has('Contact')).toBe(false);
  });

  it('CANCEL: same R-URI, top Via (same branch), To without tag, CSeq number', () => {
    const c = createCancel(inv);
    expect(c.method).toBe('CANCEL');
    expect(c.uri).toEqual(inv.uri);
    expect(c.headers.getAll('Via')).toEqual(['SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-inv']);
    expect(c.toTag).toBeNull();
    expect(c.cseq).toEqual({ seq: 42, method: 'CANCEL' });
    expect(c.headers.getAll('Route')).toHaveLength(2);
    expect(() => createCancel(req({ method: 'OPTIONS' }))).toThrow();
  });

  it('addVia prepends our Via with a fresh branch and rport', () => {
    const c = createCancel(inv);
    const branch = addVia(c, { transport: 'udp', host: '127.0.0.1', port: 5060 });
    expect(c.topVia.params.get('branch')).toBe(branch);
    expect(c.topVia.transport).toBe('UDP');
    expect(c.topVia.params.has('rport')).toBe(true);
    expect(c.headers.getAll('Via')).toHaveLength(2);
  });
});
