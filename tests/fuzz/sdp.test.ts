/**
 * Issue 9: fuzzing the SDP parser and the RFC 3264 answerer for a fixed budget. Only SdpParseError
 * (→ 400/488 upstream) and SdpNegotiationError (→ 488) may come out; every input parses in bounded
 * time; an accepted offer's answer keeps the offer's m-line count (RFC 3264 §6) and parses again.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { answerOffer, LocalSdpSession, SdpNegotiationError } from '../../server/media/sdp/offer-answer.js';
import { parseSdp, SdpParseError, serializeSdp } from '../../server/media/sdp/sdp.js';
import { budget, heapUsed, mutationArb, timed } from './harness.js';

const crlf = (s: string) =>
  s
    .trim()
    .split('\n')
    .map((l) => l.trim())
    .join('\r\n') + '\r\n';

const SEEDS = [
  crlf(`v=0
  o=user1 53655765 2353687637 IN IP4 127.0.0.1
  s=-
  c=IN IP4 127.0.0.1
  t=0 0
  m=audio 17000 RTP/AVP 8 101
  a=rtpmap:8 PCMA/8000
  a=rtpmap:101 telephone-event/8000`),
  crlf(`v=0
  o=- 1727 2121 IN IP4 127.0.0.1
  s=-
  c=IN IP4 127.0.0.1
  t=0 0
  m=audio 10002 RTP/AVP 9 0 8 101
  b=AS:64
  a=rtpmap:9 G722/8000
  a=rtpmap:101 telephone-event/8000
  a=fmtp:101 0-15
  a=rtcp:10005
  a=ptime:30
  a=sendrecv
  m=video 0 RTP/AVP 96`),
  crlf(`v=0
  o=- 4611731400430051336 2 IN IP6 ::1
  s=-
  t=0 0
  a=group:BUNDLE 0
  a=msid-semantic: WMS
  m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 126
  c=IN IP6 ::1
  a=rtcp:9 IN IP4 0.0.0.0
  a=ice-ufrag:abcd
  a=ice-pwd:abcdefghijklmnopqrstuvwx
  a=fingerprint:sha-256 00:11:22
  a=setup:actpass
  a=mid:0
  a=rtcp-mux
  a=rtpmap:111 opus/48000/2
  a=rtpmap:126 telephone-event/8000
  a=inactive`),
].map((s) => Buffer.from(s));

const stats = { inputs: 0, parsed: 0, answered: 0 };
const local = { address: '127.0.0.1', port: 20000 };

function check(buf: Buffer): void {
  stats.inputs++;
  let d;
  try {
    d = timed('parseSdp', () => parseSdp(buf));
  } catch (e) {
    if (e instanceof SdpParseError) return;
    throw e;
  }
  stats.parsed++;
  try {
    const { answer } = timed('answerOffer', () => answerOffer(d, local, new LocalSdpSession('127.0.0.1')));
    stats.answered++;
    expect(answer.media.length).toBe(d.media.length);
    const back = parseSdp(serializeSdp(answer));
    expect(back.media.length).toBe(d.media.length);
  } catch (e) {
    if (e instanceof SdpNegotiationError || e instanceof SdpParseError) return;
    throw e;
  }
}

const line = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('v', 'o', 's', 'c', 't', 'm', 'a', 'b', 'i', 'k', 'z', 'x', ''),
      fc.string({ unit: 'binary-ascii', maxLength: 60 }),
    )
    .map(([k, v]) => `${k}=${v}`),
  fc
    .tuple(
      fc.constantFrom('audio', 'video', 'application', 'x'),
      fc.oneof(fc.integer({ min: -1, max: 70000 }).map(String), fc.constant('9/2'), fc.string({ maxLength: 6 })),
      fc.constantFrom('RTP/AVP', 'RTP/SAVP', 'UDP/TLS/RTP/SAVPF', 'udp', ''),
      fc.array(fc.oneof(fc.integer({ min: -1, max: 300 }).map(String), fc.string({ maxLength: 4 })), { maxLength: 12 }),
    )
    .map(([t, p, proto, fmts]) => `m=${t} ${p} ${proto} ${fmts.join(' ')}`),
  fc
    .tuple(
      fc.constantFrom(
        'rtpmap',
        'fmtp',
        'ptime',
        'rtcp',
        'sendonly',
        'recvonly',
        'inactive',
        'crypto',
        'rtcp-mux',
        'maxptime',
      ),
      fc.string({ unit: 'binary-ascii', maxLength: 40 }),
    )
    .map(([n, v]) => `a=${n}:${v}`),
  fc
    .tuple(
      fc.constantFrom('IN IP4', 'IN IP6', 'IN', 'XX IP4'),
      fc.constantFrom('127.0.0.1', '::1', '0.0.0.0', '999.1.1.1', '', 'host'),
    )
    .map(([n, a]) => `c=${n} ${a}`),
);

describe('SDP fuzz (fixed budget)', () => {
  const heap0 = heapUsed();
  it('the seeds are accepted and answered', () => {
    for (const s of SEEDS) expect(() => parseSdp(s)).not.toThrow();
    for (const s of SEEDS) check(s);
    expect(stats.answered).toBeGreaterThanOrEqual(2);
  });

  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (b) => check(Buffer.from(b))),
      budget(0.05),
    );
  });

  it('mutated offers', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SEEDS), fc.array(mutationArb(), { minLength: 1, maxLength: 5 }), (seed, ms) =>
        check(ms.reduce<Buffer>((b, m) => m(b), seed)),
      ),
      budget(0.1),
    );
  });

  it('grammar-built descriptions', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 40 }), fc.constantFrom('\r\n', '\n'), (ls, eol) =>
        check(Buffer.from(['v=0', ...ls].join(eol) + eol, 'latin1')),
      ),
      budget(0.1),
    );
  });

  it('heap stays bounded', () => {
    const grown = heapUsed() - heap0;
    expect(grown).toBeLessThan(256 * 1024 * 1024);
    expect(stats.inputs).toBeGreaterThan(500);
    console.log(
      `SDP fuzz: ${stats.inputs} inputs, ${stats.parsed} parsed, ${stats.answered} answered, heap +${(grown / 1048576).toFixed(1)} MiB`,
    );
  });
});
