/**
 * Issue 9: fuzzing the SIP parser for a fixed budget (tests/fuzz/harness.ts). Random bytes, mutated
 * RFC 4475 messages and grammar-built messages. The only failure the parser may signal is its typed
 * SipParseError (SipMessageParseError); no input may take more than PER_INPUT_MS; the heap does not
 * grow with the number of inputs; and whatever parses serializes to something that parses again to
 * the same method/status, Call-ID and body.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMessage, serializeMessage } from '../../server/sip/parser/index.js';
import { SipParseError } from '../../server/sip/message/types.js';
import { SipRequest } from '../../server/sip/message/message.js';
import { budget, heapUsed, mutatedArb, rfc4475Corpus, timed } from './harness.js';

const stats = { inputs: 0, parsed: 0, typedErrors: 0 };

/** Parses as UDP and as a stream; any throw but SipParseError fails the property. */
function check(buf: Buffer): void {
  for (const stream of [false, true]) {
    stats.inputs++;
    let msg;
    try {
      msg = timed('parseMessage', () => parseMessage(buf, { stream }));
    } catch (e) {
      if (e instanceof SipParseError) {
        stats.typedErrors++;
        expect(e.status === null || [400, 505, 513].includes(e.status)).toBe(true);
        continue;
      }
      throw e;
    }
    stats.parsed++;
    // What we accepted must survive our own serializer (we re-send parsed messages: proxies, 400s).
    const out = serializeMessage(msg);
    const again = timed('serialize+parse', () => parseMessage(out, { stream: true }));
    if (msg instanceof SipRequest) expect((again as SipRequest).method).toBe(msg.method);
    expect(again.headers.get('Call-ID')).toBe(msg.headers.get('Call-ID'));
    expect(Buffer.compare(again.body, msg.body)).toBe(0);
  }
}

const token = fc.stringMatching(/^[A-Za-z0-9\-.!%*_+`'~]{1,12}$/);
const anyText = fc.string({ unit: 'binary-ascii', maxLength: 80 });
const tricky = fc.oneof(
  token,
  anyText,
  fc.constantFrom('"', '\\', '<', '>', ';', ',', '=', '@', ':', '%', '%00', '%zz', '[', ']', ' ', '\t'),
  fc
    .tuple(fc.constantFrom(' ', '\t', ';', ',', '"', '<', '\\', '%'), fc.integer({ min: 100, max: 5000 }))
    .map(([c, n]) => c.repeat(n)),
);
const fragment = fc.oneof({ weight: 3, arbitrary: token }, { weight: 1, arbitrary: tricky });

const uri = fc
  .tuple(
    fc.constantFrom('sip', 'sips', 'tel', 'SIP', 'http', 'x'),
    fc.option(fragment, { nil: undefined }),
    fc.oneof(token, fc.constantFrom('127.0.0.1', '[::1]', '[::1', 'a..b', '12315.local')),
    fc.option(fc.integer({ min: -1, max: 70_000 }), { nil: undefined }),
    fc.array(fc.tuple(fragment, fc.option(fragment, { nil: undefined })), { maxLength: 4 }),
  )
  .map(
    ([scheme, user, host, port, params]) =>
      `${scheme}:${user !== undefined ? `${user}@` : ''}${host}${port !== undefined ? `:${port}` : ''}` +
      params.map(([k, v]) => `;${k}${v !== undefined ? `=${v}` : ''}`).join(''),
  );

const nameAddr = fc
  .tuple(
    fc.option(
      fc.oneof(
        token,
        anyText.map((s) => `"${s}"`),
      ),
      { nil: undefined },
    ),
    uri,
    fc.array(fc.tuple(token, fragment), { maxLength: 3 }),
  )
  .map(([d, u, ps]) => `${d !== undefined ? `${d} ` : ''}<${u}>${ps.map(([k, v]) => `;${k}=${v}`).join('')}`);

const via = fc
  .tuple(
    fc.constantFrom('SIP/2.0/UDP', 'SIP/2.0/TCP', 'SIP/2.0/WSS', 'SIP / 2.0 / TLS', 'SIP/3.0/UDP', 'X'),
    fc.oneof(token, fc.constantFrom('127.0.0.1:5060', '[::1]:5062', 'host:99999')),
    fc.array(
      fc.tuple(fc.constantFrom('branch', 'rport', 'received', 'maddr', 'ttl'), fc.option(fragment, { nil: undefined })),
      {
        maxLength: 4,
      },
    ),
  )
  .map(([p, h, ps]) => `${p} ${h}${ps.map(([k, v]) => `;${k}${v !== undefined ? `=${v}` : ''}`).join('')}`);

const header = fc.oneof(
  via.map((v) => ['Via', v] as const),
  nameAddr.map((v) => ['From', v] as const),
  nameAddr.map((v) => ['To', v] as const),
  nameAddr.map((v) => ['Contact', v] as const),
  fc.constant(['Contact', '*'] as const),
  nameAddr.map((v) => ['Route', v] as const),
  nameAddr.map((v) => ['Record-Route', v] as const),
  fragment.map((v) => ['Call-ID', v] as const),
  fc
    .tuple(fc.integer({ min: -5, max: 2 ** 32 + 5 }), fc.oneof(token, fc.constant('INVITE')))
    .map(([n, m]) => ['CSeq', `${n} ${m}`] as const),
  fc.integer({ min: -1, max: 300 }).map((n) => ['Max-Forwards', String(n)] as const),
  fc.oneof(fc.integer({ min: -1, max: 10 ** 12 }).map(String), fragment).map((v) => ['Content-Length', v] as const),
  fc.oneof(fc.constant('application/sdp'), fragment).map((v) => ['Content-Type', v] as const),
  fc.oneof(fc.integer({ min: -1, max: 10 ** 12 }).map(String), fragment).map((v) => ['Expires', v] as const),
  fc.array(token, { maxLength: 5 }).map((v) => ['Supported', v.join(', ')] as const),
  fc.array(token, { maxLength: 5 }).map((v) => ['Require', v.join(',')] as const),
  fc
    .tuple(fc.constantFrom('Digest', 'Basic', ''), fc.array(fc.tuple(token, fragment), { maxLength: 6 }))
    .map(([s, ps]) => ['Authorization', `${s} ${ps.map(([k, v]) => `${k}="${v}"`).join(', ')}`] as const),
  fc.tuple(token, fragment).map(([k, v]) => [k, v] as const),
  fc
    .tuple(fc.constantFrom('v', 'f', 't', 'm', 'i', 'l', 'c', 'k', 's', 'e'), fragment)
    .map(([k, v]) => [k, v] as const),
);

const message = fc
  .tuple(
    fc.boolean(),
    fc.oneof(
      fc.constantFrom('INVITE', 'ACK', 'BYE', 'CANCEL', 'REGISTER', 'OPTIONS', 'INFO', 'UPDATE', 'PRACK'),
      token,
    ),
    uri,
    fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.constant(200)),
    fc.array(header, { maxLength: 30 }),
    fc.oneof(
      fc.constant(''),
      anyText,
      fc.constant(
        'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n',
      ),
    ),
    fc.constantFrom('exact', 'none', 'wrong'),
    fc.constantFrom('\r\n', '\n', '\r\n '),
  )
  .map(([isReq, method, ruri, status, headers, body, cl, eol]) => {
    const start = isReq ? `${method} ${ruri} SIP/2.0` : `SIP/2.0 ${status} Reason phrase`;
    const lines = [start, ...headers.map(([k, v]) => `${k}: ${v}`)];
    if (cl === 'exact') lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
    if (cl === 'wrong') lines.push(`Content-Length: ${Buffer.byteLength(body) + 7}`);
    return Buffer.from(lines.join(eol) + eol + eol + body, 'latin1');
  });

describe('SIP parser fuzz (fixed budget)', () => {
  const corpus = rfc4475Corpus();
  const heap0 = heapUsed();

  it('the corpus itself: only typed errors', () => {
    expect(corpus.length).toBeGreaterThan(40);
    for (const m of corpus) check(m);
  });

  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (b) => check(Buffer.from(b))),
      budget(0.1),
    );
  });

  it('random printable text shaped like lines', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary-ascii', maxLength: 200 }), { maxLength: 40 }), (ls) =>
        check(Buffer.from(ls.join('\r\n') + '\r\n\r\n', 'latin1')),
      ),
      budget(0.05),
    );
  });

  it('mutated RFC 4475 messages', () => {
    fc.assert(fc.property(mutatedArb(corpus), check), budget(0.3));
  });

  it('grammar-built messages', () => {
    fc.assert(fc.property(message, check), budget(0.25));
  });

  it('the largest allowed message of pathological runs stays linear', () => {
    // Long runs of each separator in every well-known header: a backtracking regex would take seconds.
    const base = (h: string) =>
      `INVITE sip:1@a SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:1@a>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n${h}\r\nContent-Length: 0\r\n\r\n`;
    for (const name of ['Via', 'From', 'To', 'Contact', 'Route', 'Content-Type', 'Authorization', 'Supported', 'X-Any'])
      for (const ch of [' ', '\t', ';', ',', '"', '\\', '<', '%', '=', ';a', ',a', '<sip:a@b>,', '"\\'])
        check(Buffer.from(base(`${name}: x${ch.repeat(Math.floor(60_000 / ch.length))}`), 'latin1'));
  });

  it('heap stays bounded over the run', () => {
    const grown = heapUsed() - heap0;
    // Parsed messages are not retained, so growth is garbage not yet collected, not a leak.
    expect(grown).toBeLessThan(256 * 1024 * 1024);
    expect(stats.inputs).toBeGreaterThan(1000);
    console.log(
      `SIP parser fuzz: ${stats.inputs} inputs, ${stats.parsed} parsed, ${stats.typedErrors} typed errors, heap +${(grown / 1048576).toFixed(1)} MiB`,
    );
  });
});
