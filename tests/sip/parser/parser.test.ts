import { describe, expect, it } from 'vitest';
import {
  parseErrorResponse,
  parseMessage,
  serializeMessage,
  SipMessageParseError,
  type ParseOptions,
} from '../../../server/sip/parser/index.js';
import { SipRequest, SipResponse } from '../../../server/sip/message/message.js';
import { parseUri } from '../../../server/sip/message/grammar.js';

const HEAD = [
  'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776',
  'Max-Forwards: 70',
  'From: <sip:13812345678@carrier.example.cn>;tag=a1',
  'To: <sip:12315@hotline.example.cn>',
  'Call-ID: c1@192.0.2.1',
  'CSeq: 1 INVITE',
];

function req(lines: string[], body = '', first = 'INVITE sip:12315@hotline.example.cn SIP/2.0'): Buffer {
  return Buffer.from([first, ...lines].join('\r\n') + '\r\n\r\n' + body, 'utf8');
}

function failure(buf: Buffer, opts?: ParseOptions): SipMessageParseError {
  try {
    parseMessage(buf, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(SipMessageParseError);
    return e as SipMessageParseError;
  }
  throw new Error('parsed although invalid');
}

describe('parseMessage: structure', () => {
  it('parses a request and keeps header order', () => {
    const m = parseMessage(req([...HEAD, 'Content-Length: 0'])) as SipRequest;
    expect(m).toBeInstanceOf(SipRequest);
    expect(m.method).toBe('INVITE');
    expect(m.uri.user).toBe('12315');
    expect(m.headers.fields.map((f) => f.name)).toEqual([
      'Via',
      'Max-Forwards',
      'From',
      'To',
      'Call-ID',
      'CSeq',
      'Content-Length',
    ]);
    expect(m.fromTag).toBe('a1');
    expect(m.toTag).toBeNull();
  });

  it('ignores CRLFs before the start line (§7.5) and accepts bare LF line ends', () => {
    const m = parseMessage(Buffer.concat([Buffer.from('\r\n\r\n'), req([...HEAD, 'Content-Length: 0'])]));
    expect((m as SipRequest).method).toBe('INVITE');
    const lf = Buffer.from(
      ['OPTIONS sip:a@b SIP/2.0', ...HEAD.slice(0, 5), 'CSeq: 1 OPTIONS', 'l: 0', '', ''].join('\n'),
    );
    expect((parseMessage(lf) as SipRequest).callId).toBe('c1@192.0.2.1');
  });

  it('treats a CRLF-only buffer as a keep-alive to drop', () => {
    expect(failure(Buffer.from('\r\n\r\n')).status).toBeNull();
  });

  it('unfolds continuation lines with one SP (§7.3.1)', () => {
    const m = parseMessage(req([...HEAD, 'Subject: first\r\n  second\r\n\tthird', 'Content-Length: 0']));
    expect(m.headers.get('Subject')).toBe('first second third');
  });

  it('expands compact forms and splits list headers, but not auth or Date', () => {
    const m = parseMessage(
      req([
        'v: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/TCP b;branch=z9hG4bK2',
        ...HEAD.slice(1),
        'm: <sip:a@1>, "x, y" <sip:b@2>',
        'Record-Route: <sip:p1;lr>,<sip:p2;lr>',
        'WWW-Authenticate: Digest realm="r", nonce="n", qop="auth,auth-int"',
        'Date: Sat, 13 Nov 2010 23:29:00 GMT',
        'l: 0',
      ]),
    );
    expect(m.headers.getAll('Via')).toEqual(['SIP/2.0/UDP a;branch=z9hG4bK1', 'SIP/2.0/TCP b;branch=z9hG4bK2']);
    expect(m.headers.getAll('Contact')).toEqual(['<sip:a@1>', '"x, y" <sip:b@2>']);
    expect(m.headers.getAll('Record-Route')).toHaveLength(2);
    expect(m.headers.getAll('WWW-Authenticate')).toHaveLength(1);
    expect(m.headers.get('Date')).toBe('Sat, 13 Nov 2010 23:29:00 GMT');
    expect(m.contacts[1]!.displayName).toBe('x, y');
  });

  it('decodes UTF-8 display names and reason phrases', () => {
    const m = parseMessage(req([...HEAD.slice(0, 2), 'From: "消费者 张" <sip:1@a>;tag=1', ...HEAD.slice(3), 'l: 0']));
    expect(m.from.displayName).toBe('消费者 张');
    const r = parseMessage(Buffer.from('SIP/2.0 486 忙 线\r\n' + HEAD.join('\r\n') + '\r\nl: 0\r\n\r\n'));
    expect(r).toBeInstanceOf(SipResponse);
    expect((r as SipResponse).reason).toBe('忙 线');
  });
});

describe('parseMessage: start line', () => {
  it('rejects malformed request lines with 400 and bad versions with 505', () => {
    expect(failure(req(HEAD, '', 'INVITE sip:a@b')).message).toMatch(/Request-Line/);
    expect(failure(req(HEAD, '', 'INVITE sip:a@b SIP/2.0 ')).message).toMatch(/whitespace/);
    expect(failure(req(HEAD, '', 'INV@TE sip:a@b SIP/2.0')).message).toMatch(/method/);
    expect(failure(req(HEAD, '', 'INVITE sip:a@b HTTP/1.1')).status).toBe(400);
    const v = failure(req(HEAD, '', 'INVITE sip:a@b SIP/3.0'));
    expect(v.status).toBe(505);
  });

  it('accepts status 100..699 and drops anything else silently', () => {
    const ok = (line: string) => parseMessage(Buffer.from(line + '\r\n' + HEAD.join('\r\n') + '\r\nl: 0\r\n\r\n'));
    expect((ok('SIP/2.0 100 Trying') as SipResponse).status).toBe(100);
    expect((ok('SIP/2.0 699 Whatever') as SipResponse).status).toBe(699);
    expect((ok('SIP/2.0 180') as SipResponse).reason).toBe('');
    for (const line of ['SIP/2.0 099 x', 'SIP/2.0 700 x', 'SIP/2.0 2000 x', 'SIP/2.0 20 x', 'SIP/3.0 200 OK']) {
      const e = failure(Buffer.from(line + '\r\n' + HEAD.join('\r\n') + '\r\nl: 0\r\n\r\n'));
      expect(e.status, line).toBeNull();
      expect(e.partial).toBeNull();
    }
  });
});

describe('parseMessage: well-known headers are checked eagerly', () => {
  const cases: [string, string, RegExp][] = [
    ['Max-Forwards', 'Max-Forwards: 256', /Max-Forwards.*out of range/],
    ['Max-Forwards', 'Max-Forwards: ten', /Max-Forwards.*not a number/],
    ['CSeq', 'CSeq: 2147483648 INVITE', /CSeq.*2\^31/],
    ['Call-ID', 'Call-ID: a b', /Call-ID/],
    ['From', 'From: <sip:a@b', /From.*'>'/],
    ['Via', 'Via: SIP/2.0 nohost', /Via/],
    ['Expires', 'Expires: 4294967296', /Expires.*out of range/],
    ['Content-Type', 'Content-Type: sdp', /Content-Type/],
    ['Require', 'Require: a b', /Require/],
  ];
  for (const [name, line, re] of cases) {
    it(`refuses a bad ${name}: ${line}`, () => {
      const lines = HEAD.filter((h) => !h.startsWith(name + ':'));
      const e = failure(req([...lines, line, 'Content-Length: 0']));
      expect(e.status).toBe(400);
      expect(e.message).toMatch(re);
    });
  }

  it('accepts Max-Forwards 0 and 255, CSeq 2^31-1', () => {
    for (const mf of ['0', '255']) {
      const m = parseMessage(req([...HEAD.filter((h) => !h.startsWith('Max')), `Max-Forwards: ${mf}`, 'l: 0']));
      expect(m.headers.get('Max-Forwards')).toBe(mf);
    }
    const lines = HEAD.filter((h) => !h.startsWith('CSeq'));
    expect(parseMessage(req([...lines, 'CSeq: 2147483647 INVITE', 'l: 0'])).cseq.seq).toBe(2147483647);
  });

  it('refuses header lines without a colon and bad header names', () => {
    expect(failure(req([...HEAD, 'NoColonHere', 'l: 0'])).message).toMatch(/without ':'/);
    expect(failure(req([...HEAD, 'Bad Name: x', 'l: 0'])).message).toMatch(/header name/);
  });

  it('bounds the number of header fields', () => {
    const many = Array.from({ length: 300 }, (_, i) => `X-H${i}: ${i}`);
    const e = failure(req([...HEAD, ...many, 'l: 0']));
    expect(e.status).toBe(513);
    expect(parseMessage(req([...HEAD, ...many, 'l: 0']), { maxHeaders: 400 }).headers.fields.length).toBe(307);
  });

  it('refuses messages over maxBytes with 513', () => {
    const e = failure(req([...HEAD, 'l: 0']), { maxBytes: 100 });
    expect(e.status).toBe(513);
    expect(parseErrorResponse(e)!.status).toBe(513);
  });
});

describe('parseMessage: Content-Length (§18.3, §20.14)', () => {
  const body = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n';
  const n = Buffer.byteLength(body);

  it('datagram: truncates a longer body, refuses a shorter one, takes the rest when absent', () => {
    expect(parseMessage(req([...HEAD, `Content-Length: ${n}`], body + 'JUNK')).body.toString()).toBe(body);
    const e = failure(req([...HEAD, `Content-Length: ${n + 10}`], body));
    expect(e.status).toBe(400);
    expect(e.message).toMatch(/Content-Length/);
    expect(parseMessage(req(HEAD, body)).body.toString()).toBe(body);
  });

  it('stream: Content-Length is mandatory', () => {
    expect(failure(req(HEAD, body), { stream: true }).message).toMatch(/missing Content-Length/);
    expect(parseMessage(req([...HEAD, `l: ${n}`], body), { stream: true }).body.length).toBe(n);
  });

  it('counts bytes, not characters', () => {
    const utf = '主题=投诉';
    const m = parseMessage(req([...HEAD, `Content-Length: ${Buffer.byteLength(utf)}`], utf));
    expect(m.body.toString('utf8')).toBe(utf);
  });

  it('refuses conflicting Content-Length values', () => {
    expect(failure(req([...HEAD, 'Content-Length: 3', 'l: 4'], 'abcd')).message).toMatch(/conflicting/);
  });
});

describe('parse errors keep what the 400 needs', () => {
  it('salvages Via, From, To, Call-ID and CSeq and builds a tagged 400', () => {
    const e = failure(req([...HEAD, 'Max-Forwards: 999', 'l: 0']));
    expect(e.partial!.method).toBe('INVITE');
    const res = parseErrorResponse(e)!;
    expect(res.status).toBe(400);
    expect(res.reason).toMatch(/^Bad Request \(.*Max-Forwards/);
    expect(res.headers.get('Via')).toBe(HEAD[0]!.slice(5));
    expect(res.headers.get('Call-ID')).toBe('c1@192.0.2.1');
    expect(res.headers.get('CSeq')).toBe('1 INVITE');
    expect(res.to.params.get('tag')).toMatch(/^[0-9a-f]{12}$/);
    expect(res.from.params.get('tag')).toBe('a1');
  });

  it('never answers an ACK or a message without Via', () => {
    const ack = failure(
      req([...HEAD.slice(0, 5), 'CSeq: 1 ACK', 'Max-Forwards: x', 'l: 0'], '', 'ACK sip:a@b SIP/2.0'),
    );
    expect(ack.status).toBe(400);
    expect(parseErrorResponse(ack)).toBeNull();
    expect(parseErrorResponse(failure(req([...HEAD.slice(1), 'Max-Forwards: x'])))).toBeNull();
    expect(parseErrorResponse(new Error('other'))).toBeNull();
  });

  it('keeps reason phrases on one line', () => {
    const e = new SipMessageParseError('bad\r\nInjected: yes', 400, failure(req([...HEAD, 'CSeq: x'])).partial);
    const wire = serializeMessage(parseErrorResponse(e)!).toString();
    expect(wire.split('\r\n')[0]).toBe('SIP/2.0 400 Bad Request (bad??Injected: yes)');
  });
});

describe('serializeMessage', () => {
  it('writes Content-Length from the body in place of the stale one', () => {
    const m = parseMessage(req([...HEAD, 'Content-Length: 3', 'Subject: s'], 'abc'));
    m.body = Buffer.from('hello');
    const text = serializeMessage(m).toString();
    expect(text).toContain('\r\nContent-Length: 5\r\nSubject: s\r\n\r\nhello');
    expect(text.match(/Content-Length/g)).toHaveLength(1);
  });

  it('appends Content-Length when missing and builds messages from scratch', () => {
    const r = new SipRequest('OPTIONS', parseUri('sip:12315@[::1]:5070;transport=tcp'));
    r.headers.add('Via', 'SIP/2.0/TCP [::1]:5071;branch=z9hG4bKq').add('CSeq', '7 OPTIONS');
    expect(serializeMessage(r).toString()).toBe(
      'OPTIONS sip:12315@[::1]:5070;transport=tcp SIP/2.0\r\nVia: SIP/2.0/TCP [::1]:5071;branch=z9hG4bKq\r\n' +
        'CSeq: 7 OPTIONS\r\nContent-Length: 0\r\n\r\n',
    );
    const s = new SipResponse(200, 'OK');
    s.body = Buffer.from([0, 1, 2]);
    expect(serializeMessage(s).subarray(-3)).toEqual(Buffer.from([0, 1, 2]));
  });

  it('refuses CR/LF in values (no header injection)', () => {
    const r = new SipResponse(200, 'OK');
    r.headers.add('Subject', 'a\r\nVia: evil');
    expect(() => serializeMessage(r)).toThrow(/CR or LF/);
  });

  it('round-trips parse ∘ serialize', () => {
    const body = 'v=0\r\n';
    const a = parseMessage(req([...HEAD, 'Contact: <sip:a@1>;expires=60, <sip:b@2>', `l: ${body.length}`], body));
    const b = parseMessage(serializeMessage(a)) as SipRequest;
    expect(b.headers.fields).toEqual(
      a.headers.fields.map((f) => (f.name === 'Content-Length' ? { ...f, value: '5' } : f)),
    );
    expect(b.body.toString()).toBe(body);
    expect(serializeMessage(b).equals(serializeMessage(a))).toBe(true);
  });
});
