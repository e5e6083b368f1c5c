import { describe, expect, it } from 'vitest';
import { StreamFramer, contentLength, type FrameEvent } from '../../../server/sip/transport/stream-framer.js';

const msg = (body: string, extra = '') =>
  `INVITE sip:12315@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK1\r\n${extra}` +
  `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

function summary(events: FrameEvent[]): string[] {
  return events.map((e) =>
    e.kind === 'message' ? `msg:${e.data.toString('latin1')}` : e.kind === 'ping' ? 'ping' : `err:${e.status}`,
  );
}

function feedAll(stream: Buffer, cuts: number[], limits = {}): string[] {
  const f = new StreamFramer(limits);
  const out: FrameEvent[] = [];
  let at = 0;
  for (const c of [...cuts, stream.length]) {
    out.push(...f.push(stream.subarray(at, c)));
    at = c;
  }
  return summary(out);
}

describe('StreamFramer', () => {
  const a = msg('v=0\r\n');
  const b = msg('', 'l: 0\r\n').replace('Content-Length: 0\r\n', '');
  const c = msg('hello\r\n\r\nworld');
  const stream = Buffer.from('\r\n\r\n' + a + '\r\n' + b + c + '\r\n\r\n', 'latin1');
  const expected = ['ping', `msg:${a}`, `msg:${b}`, `msg:${c}`, 'ping'];

  it('frames pipelined messages, keep-alives and compact l in one chunk', () => {
    expect(feedAll(stream, [])).toEqual(expected);
  });

  it('gives the same result whatever single offset the stream is split at', () => {
    for (let i = 0; i <= stream.length; i++) expect(feedAll(stream, [i])).toEqual(expected);
  });

  it('gives the same result fed one byte at a time', () => {
    const cuts = Array.from({ length: stream.length }, (_, i) => i);
    expect(feedAll(stream, cuts)).toEqual(expected);
  });

  it('does not deliver until the whole body arrived', () => {
    const f = new StreamFramer();
    const whole = Buffer.from(a);
    expect(f.push(whole.subarray(0, whole.length - 1))).toEqual([]);
    expect(f.buffered).toBe(whole.length - 1);
    expect(summary(f.push(whole.subarray(whole.length - 1)))).toEqual([`msg:${a}`]);
    expect(f.buffered).toBe(0);
  });

  it('a lone CRLF before a message is ignored, not a ping', () => {
    expect(feedAll(Buffer.from('\r\n' + a), [1, 2])).toEqual([`msg:${a}`]);
  });

  it('rejects a missing Content-Length with 400 and the header section', () => {
    const f = new StreamFramer();
    const ev = f.push(Buffer.from('OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n'));
    expect(ev).toHaveLength(1);
    const e = ev[0]!;
    expect(e.kind).toBe('error');
    if (e.kind !== 'error') return;
    expect(e.status).toBe(400);
    expect(e.head?.toString()).toContain('Via: SIP/2.0/TCP h');
    expect(f.failed).toBe(true);
    expect(f.push(Buffer.from(a))).toEqual([]);
  });

  it('rejects negative, non-numeric and conflicting Content-Length', () => {
    for (const cl of ['Content-Length: -999', 'Content-Length: 12abc', 'Content-Length: 1\r\nl: 2']) {
      const ev = new StreamFramer().push(Buffer.from(`MESSAGE sip:x SIP/2.0\r\n${cl}\r\n\r\nx`));
      expect(summary(ev)).toEqual(['err:400']);
    }
  });

  it('caps the header section: an endless header list errors with 513 and stops buffering', () => {
    const f = new StreamFramer({ maxHeaderBytes: 1024 });
    f.push(Buffer.from('INVITE sip:x SIP/2.0\r\n'));
    let events: FrameEvent[] = [];
    for (let i = 0; i < 200 && events.length === 0; i++)
      events = f.push(Buffer.from(`X-Junk-${i}: ${'a'.repeat(20)}\r\n`));
    expect(summary(events)).toEqual(['err:513']);
    expect(f.buffered).toBe(0);
    expect(f.push(Buffer.from('more\r\n'))).toEqual([]);
  });

  it('caps the header section even when the end arrives in the same chunk', () => {
    const big = msg('', `X-Big: ${'a'.repeat(2000)}\r\n`);
    expect(feedAll(Buffer.from(big), [], { maxHeaderBytes: 1024 })).toEqual(['err:513']);
  });

  it('caps the body with 413 before reading it', () => {
    const f = new StreamFramer({ maxBodyBytes: 100 });
    const ev = f.push(Buffer.from('MESSAGE sip:x SIP/2.0\r\nContent-Length: 101\r\n\r\n'));
    expect(summary(ev)).toEqual(['err:413']);
    expect(
      summary(new StreamFramer().push(Buffer.from('MESSAGE sip:x SIP/2.0\r\nl: 99999999999999999999\r\n\r\n'))),
    ).toEqual(['err:413']);
  });

  it('accepts bare LF line ends and folded Content-Length', () => {
    const lf = 'MESSAGE sip:x SIP/2.0\nContent-Length:\n 3\n\nabc';
    expect(feedAll(Buffer.from(lf), [])).toEqual([`msg:${lf}`]);
  });
});

describe('contentLength', () => {
  it('reads the full and compact forms, case-insensitively', () => {
    expect(contentLength(Buffer.from('X sip:a SIP/2.0\r\ncontent-LENGTH : 12\r\n\r\n'))).toBe(12);
    expect(contentLength(Buffer.from('X sip:a SIP/2.0\r\nL:7\r\n\r\n'))).toBe(7);
    expect(contentLength(Buffer.from('X sip:a SIP/2.0\r\nContent-Type: a\r\n\r\n'))).toMatch(/missing/);
  });
});
