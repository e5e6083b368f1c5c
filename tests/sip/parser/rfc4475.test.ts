import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  parseErrorResponse,
  parseMessage,
  serializeMessage,
  SipMessageParseError,
} from '../../../server/sip/parser/index.js';
import { SipRequest, SipResponse } from '../../../server/sip/message/message.js';
import { checkRequest, type RequestCheckOptions } from '../../../server/sip/ua/request-checks.js';

const dir = fileURLToPath(new URL('../../fixtures/rfc4475/', import.meta.url));
const index = JSON.parse(readFileSync(dir + 'index.json', 'utf8')) as Record<
  string,
  { sec: string; class: 'valid' | 'invalid' | 'semantic'; expect: string }
>;
const load = (name: string): Buffer => readFileSync(dir + name + '.dat');

function parseRequest(name: string): SipRequest {
  const m = parseMessage(load(name));
  if (!(m instanceof SipRequest)) throw new Error(`${name} is not a request`);
  return m;
}

function parseFailure(name: string, stream = false): SipMessageParseError {
  try {
    parseMessage(load(name), { stream });
  } catch (e) {
    expect(e).toBeInstanceOf(SipMessageParseError);
    return e as SipMessageParseError;
  }
  throw new Error(`${name} parsed although it is invalid`);
}

interface Expect {
  method?: string;
  status?: number;
  user?: string | null;
  host?: string;
  vias: number;
  callId: string;
  cseq: [number, string];
  body: number;
}

const VALID: Record<string, Expect> = {
  wsinv: {
    method: 'INVITE',
    user: 'vivekg',
    host: 'chair-dnrc.example.com',
    vias: 3,
    callId: 'wsinv.ndaksdj@192.0.2.1',
    cseq: [9, 'INVITE'],
    body: 150,
  },
  intmeth: {
    method: "!interesting-Method0123456789_*+`.%indeed'~",
    user: "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*",
    host: 'example.com',
    vias: 1,
    callId: 'intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{',
    cseq: [139122385, "!interesting-Method0123456789_*+`.%indeed'~"],
    body: 0,
  },
  esc01: {
    method: 'INVITE',
    user: 'sips%3Auser%40example.com',
    host: 'example.net',
    vias: 1,
    callId: 'esc01.239409asdfakjkn23onasd0-3234',
    cseq: [234234, 'INVITE'],
    body: 150,
  },
  escnull: {
    method: 'REGISTER',
    user: null,
    host: 'example.com',
    vias: 1,
    callId: 'escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd',
    cseq: [14398234, 'REGISTER'],
    body: 0,
  },
  esc02: {
    method: 'RE%47IST%45R',
    user: null,
    host: 'registrar.example.com',
    vias: 1,
    callId: 'esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf',
    cseq: [29344, 'RE%47IST%45R'],
    body: 0,
  },
  lwsdisp: {
    method: 'OPTIONS',
    user: 'user',
    host: 'example.com',
    vias: 1,
    callId: 'lwsdisp.1234abcd@funky.example.com',
    cseq: [60, 'OPTIONS'],
    body: 0,
  },
  longreq: {
    method: 'INVITE',
    user: 'user',
    host: 'example.com',
    vias: 34,
    callId:
      'longreq.onereallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallylongcallid',
    cseq: [3882340, 'INVITE'],
    body: 150,
  },
  dblreq: {
    method: 'REGISTER',
    user: null,
    host: 'example.com',
    vias: 1,
    callId: 'dblreq.0ha0isndaksdj99sdfafnl3lk233412',
    cseq: [8, 'REGISTER'],
    body: 0,
  },
  semiuri: {
    method: 'OPTIONS',
    user: 'user;par=u%40example.net',
    host: 'example.com',
    vias: 1,
    callId: 'semiuri.0ha0isndaksdj',
    cseq: [8, 'OPTIONS'],
    body: 0,
  },
  transports: {
    method: 'OPTIONS',
    user: 'user',
    host: 'example.com',
    vias: 5,
    callId: 'transports.kijh4akdnaqjkwendsasfdj',
    cseq: [60, 'OPTIONS'],
    body: 0,
  },
  mpart01: {
    method: 'MESSAGE',
    user: 'kumiko',
    host: 'example.org',
    vias: 1,
    callId: '3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..',
    cseq: [1, 'MESSAGE'],
    body: 553,
  },
  unreason: { status: 200, vias: 1, callId: 'unreason.1234ksdfak3j2erwedfsASdf', cseq: [35, 'INVITE'], body: 154 },
  noreason: { status: 100, vias: 1, callId: 'noreason.asndj203insdf99223ndf', cseq: [35, 'INVITE'], body: 0 },
  inv2543: {
    method: 'INVITE',
    user: 'UserB',
    host: 'example.com',
    vias: 1,
    callId: 'inv2543.1717@ift.client.example.com',
    cseq: [56, 'INVITE'],
    body: 105,
  },
};

describe('RFC 4475 valid messages parse with the right fields', () => {
  const valid = Object.keys(index).filter((n) => index[n]!.class === 'valid');
  it('covers every valid fixture', () => {
    expect(valid.sort()).toEqual(Object.keys(VALID).sort());
  });
  for (const name of valid) {
    it(`${name} (§${index[name]!.sec})`, () => {
      const m = parseMessage(load(name));
      const x = VALID[name]!;
      if (x.method !== undefined) {
        expect(m).toBeInstanceOf(SipRequest);
        const r = m as SipRequest;
        expect(r.method).toBe(x.method);
        expect(r.uri.user).toBe(x.user);
        expect(r.uri.host).toBe(x.host);
      } else {
        expect(m).toBeInstanceOf(SipResponse);
        expect((m as SipResponse).status).toBe(x.status);
      }
      expect(m.vias).toHaveLength(x.vias);
      expect(m.callId).toBe(x.callId);
      expect(m.cseq).toEqual({ seq: x.cseq[0], method: x.cseq[1] });
      expect(m.body.length).toBe(x.body);
      // parse ∘ serialize keeps every field
      const again = parseMessage(serializeMessage(m));
      expect(again.headers.fields.filter((f) => f.name !== 'Content-Length')).toEqual(
        m.headers.fields.filter((f) => f.name !== 'Content-Length'),
      );
      expect(again.body.equals(m.body)).toBe(true);
    });
  }

  it('wsinv: folding, compact forms, quoted display names and header params', () => {
    const m = parseRequest('wsinv');
    expect(m.uri.params.has('unknownparam')).toBe(true);
    expect(m.to.params.get('tag')).toBe('1918181833n');
    expect(m.from.displayName).toBe('J Rosenberg \\"');
    expect(m.from.params.get('tag')).toBe('98asjd8');
    expect(m.headers.get('max-forwards')).toBe('0068');
    expect(m.headers.get('Subject')).toBe('');
    expect(m.headers.get('NewFangledHeader')).toBe('newfangled value continued newfangled value');
    expect(m.vias.map((v) => [v.transport, v.host, v.params.get('branch')])).toEqual([
      ['UDP', '192.0.2.2', '390skdjuw'],
      ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
      ['UDP', '192.168.255.111', 'z9hG4bK30239'],
    ]);
    const [c] = m.contacts;
    expect(c!.displayName).toBe('Quoted string ""');
    expect(c!.params.get('newparam')).toBe('newvalue');
    expect(c!.params.get('secondparam')).toBeNull();
    expect(c!.params.get('q')).toBe('0.33');
    expect(m.headers.getAll('Route')).toEqual(['<sip:services.example.com;lr;unknownwith=value;unknown-no-value>']);
  });

  it('esc02: C%6Fntact is an unknown header, not a Contact', () => {
    const m = parseRequest('esc02');
    expect(m.headers.getAll('Contact')).toHaveLength(2);
    expect(m.headers.get('C%6Fntact')).toBe('<sip:alias2@host2.example.com>');
    expect(m.to.displayName).toBe('%Z%45');
  });

  it('escnull: %00 does not truncate the user part', () => {
    const m = parseRequest('escnull');
    expect(m.to.uri.user).toBe('null-%00-null');
    expect(m.contacts.map((c) => c.uri.user)).toEqual(['%00', '%00%00']);
  });

  it('intmeth: odd characters everywhere, password, UTF-8 in a quoted param', () => {
    const m = parseRequest('intmeth');
    expect(m.uri.password).toBe("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    expect(m.to.displayName).toBe('BEL:\x07 NUL:\x00 DEL:\x7f');
    expect(m.from.displayName).toBe("token1~` token2'+_ token3*%!.-");
    expect(m.from.params.get("fromparam''~+*_!.-%")).toBe('"работающий"');
  });

  it('unreason: UTF-8 reason phrase', () => {
    const m = parseMessage(load('unreason')) as SipResponse;
    expect(m.reason).toBe('= 2**3 * 5**2 но сто девяносто девять - простое');
    expect(parseMessage(serializeMessage(m))).toMatchObject({ reason: m.reason });
  });

  it('dblreq: octets after Content-Length are ignored on a datagram', () => {
    const m = parseRequest('dblreq');
    expect(m.body.length).toBe(0);
    expect(m.headers.getAll('To')).toEqual(['sip:j.user@example.com']);
  });

  it('mpart01: the binary multipart body is framed by Content-Length', () => {
    const buf = load('mpart01');
    const m = parseRequest('mpart01');
    expect(m.body.equals(buf.subarray(buf.length - 553))).toBe(true);
  });
});

/** Reason fragments that name the actual problem, per fixture. */
const INVALID: Record<string, { status: number | null; reason?: RegExp; stream?: boolean }> = {
  badinv01: { status: 400, reason: /Via/ },
  clerr: { status: 400, reason: /Content-Length 9999/ },
  ncl: { status: 400, reason: /Content-Length.*negative/ },
  scalar02: { status: 400, reason: /CSeq.*2\^31/ },
  scalarlg: { status: null },
  quotbal: { status: 400, reason: /To.*unterminated quoted string/ },
  ltgtruri: { status: 400, reason: /Request-URI.*<>/ },
  lwsruri: { status: 400, reason: /whitespace in Request-Line/ },
  lwsstart: { status: 400, reason: /whitespace in Request-Line/ },
  trws: { status: 400, reason: /whitespace in Request-Line/ },
  escruri: { status: 400, reason: /Request-URI must not contain headers/ },
  regbadct: { status: 400, reason: /Contact.*enclosed in <>/ },
  badaspec: { status: 400, reason: /To.*whitespace inside <>/ },
  baddn: { status: 400, reason: /From.*display name.*quoted/ },
  badvers: { status: 505, reason: /SIP\/7\.0/ },
  mismatch01: { status: 400, reason: /CSeq.*INVITE.*OPTIONS/ },
  mismatch02: { status: 400, reason: /CSeq.*INVITE.*NEWMETHOD/ },
  bigcode: { status: null },
};

describe('RFC 4475 invalid messages are refused with the right status', () => {
  for (const name of Object.keys(index).filter((n) => index[n]!.class === 'invalid')) {
    if (name === 'baddate') {
      it('baddate: accepted, since our UAS never interprets Date (§3.1.2.12 "may reject")', () => {
        expect(parseRequest('baddate').headers.get('Date')).toBe('Fri, 01 Jan 2010 16:00:00 EST');
      });
      continue;
    }
    it(`${name} (§${index[name]!.sec}): ${index[name]!.expect}`, () => {
      const x = INVALID[name];
      expect(x, `no expectation for ${name}`).toBeDefined();
      const err = parseFailure(name, x!.stream);
      expect(err.status).toBe(x!.status);
      if (x!.reason) expect(err.message).toMatch(x!.reason);
      const res = parseErrorResponse(err);
      if (x!.status === null) {
        expect(err.partial).toBeNull();
        expect(res).toBeNull();
      } else {
        // the stateless error response carries Via, From, To (tagged), Call-ID and CSeq (§8.2.6.2)
        expect(res).not.toBeNull();
        expect(res!.status).toBe(x!.status);
        expect(res!.reason).toContain(err.message);
        const raw = load(name).toString('latin1');
        expect(res!.headers.get('Call-ID')).toBe(/Call-ID: *(\S+)/.exec(raw)![1]);
        expect(res!.headers.getAll('Via').length).toBeGreaterThan(0);
        expect(res!.headers.get('CSeq')).toBe(/CSeq: *(.+?)\r\n/.exec(raw)![1]);
        // echoed as received, even when malformed: the client matches it by Via branch (§17.1.3)
        expect(serializeMessage(res!).toString('utf8')).toMatch(new RegExp(`^SIP/2\\.0 ${x!.status} `));
      }
    });
  }

  it('ncl over a stream transport is refused as well', () => {
    expect(parseFailure('ncl', true).status).toBe(400);
  });
});

const UAS: RequestCheckOptions = {
  supportedExtensions: ['replaces', 'timer', '100rel'],
  acceptedContentTypes: ['application/sdp', 'multipart/mixed', 'text/plain'],
};

/** What a UAS answers after parseMessage + checkRequest: [status, reason fragment, extra header]. */
const SEMANTIC: Record<string, [number | null, RegExp?, [string, RegExp]?]> = {
  badbranch: [null], // transaction layer falls back to RFC 2543 matching
  insuf: [400, /missing To, From, Call-ID headers/],
  unkscm: [416, /Unsupported URI Scheme/],
  novelsc: [416, /Unsupported URI Scheme/],
  unksm2: [null],
  bext01: [420, /Bad Extension/, ['Unsupported', /^nothingSupportsThis, nothingSupportsThisEither$/]],
  invut: [415, /Unsupported Media Type/, ['Accept', /application\/sdp/]],
  regaut01: [null], // the registrar challenges with 401
  multi01: [400, /multiple Call-ID, CSeq, From, To, Max-Forwards headers/],
  mcl01: [400, /Content-Length/],
  zeromf: [null], // OPTIONS with Max-Forwards 0 is answered normally by the UAS
  cparam01: [null],
  cparam02: [null],
  regescrt: [null],
  sdp01: [406, /Not Acceptable/, ['Accept', /application\/sdp/]],
};

describe('RFC 4475 semantic cases get the RFC answer from parseMessage + checkRequest', () => {
  for (const name of Object.keys(index).filter((n) => index[n]!.class === 'semantic')) {
    if (name === 'bcast') {
      it('bcast: a well-formed response; the broadcast Via is kept for the transport to refuse', () => {
        const m = parseMessage(load('bcast')) as SipResponse;
        expect(m.vias.map((v) => v.host)).toEqual(['192.0.2.198', '255.255.255.255']);
      });
      continue;
    }
    it(`${name} (§${index[name]!.sec}): ${index[name]!.expect}`, () => {
      const x = SEMANTIC[name];
      expect(x, `no expectation for ${name}`).toBeDefined();
      const [status, reason, header] = x!;
      let result: { status: number; reason: string; headers?: [string, string][] } | null;
      try {
        result = checkRequest(parseRequest(name), UAS);
      } catch (e) {
        if (!(e instanceof SipMessageParseError) || e.status === null) throw e;
        result = { status: e.status, reason: e.message };
      }
      if (status === null) {
        expect(result).toBeNull();
        return;
      }
      expect(result).not.toBeNull();
      expect(result!.status).toBe(status);
      if (reason) expect(result!.reason).toMatch(reason);
      if (header) {
        const h = result!.headers?.find(([n]) => n === header[0]);
        expect(h, `${header[0]} header`).toBeDefined();
        expect(h![1]).toMatch(header[1]);
      }
    });
  }

  it('unksm2: non-SIP URIs in To, From and Contact are kept opaque', () => {
    const m = parseRequest('unksm2');
    expect(m.to.uri).toMatchObject({ scheme: 'isbn', opaque: '2983792873' });
    expect(m.from.uri).toMatchObject({ scheme: 'http', opaque: '//www.example.com' });
    expect(m.contacts[0]!.uri).toMatchObject({ scheme: 'name', opaque: 'John_Smith' });
  });

  it('cparam01/cparam02: the parameter belongs to the header, resp. to the URI', () => {
    const a = parseRequest('cparam01').contacts[0]!;
    expect(a.params.has('unknownparam')).toBe(true);
    expect(a.uri.params.has('unknownparam')).toBe(false);
    const b = parseRequest('cparam02').contacts[0]!;
    expect(b.params.has('unknownparam')).toBe(false);
    expect(b.uri.params.has('unknownparam')).toBe(true);
  });

  it('regescrt: the escaped header stays with the Contact URI', () => {
    const c = parseRequest('regescrt').contacts[0]!;
    expect(c.uri.headers.get('Route')).toBe('%3Csip:sip.example.com%3E');
  });

  it('zeromf: a non-OPTIONS request with Max-Forwards 0 gets 483', () => {
    const m = parseRequest('zeromf');
    m.method = 'INFO';
    m.headers.set('CSeq', '39234321 INFO');
    expect(checkRequest(m, UAS)).toMatchObject({ status: 483 });
  });
});
