import { describe, expect, it } from 'vitest';
import {
  RtcpParseError,
  RtpReceiverStats,
  buildBye,
  buildReceiverReport,
  buildSdesCname,
  buildSenderReport,
  ntpFromUnixMs,
  ntpMiddle,
  parseRtcp,
  roundTripSeconds,
  type ReportBlock,
} from '../../../server/media/rtp/rtcp.js';

const block: ReportBlock = {
  ssrc: 0x11223344,
  fractionLost: 25,
  cumulativeLost: -3,
  extendedHighestSeq: 0x0001fffe,
  jitter: 77,
  lastSr: 0xabcd1234,
  delaySinceLastSr: 65536,
};

describe('RTCP packets (RFC 3550 §6.4)', () => {
  it('SR + SDES + BYE compound round-trips', () => {
    const sr = buildSenderReport(0xdeadbeef, { ntpMsw: 1, ntpLsw: 2, rtpTimestamp: 3, packetCount: 4, octetCount: 5 }, [
      block,
    ]);
    expect(sr.length).toBe(52);
    expect(sr.readUInt16BE(2)).toBe(52 / 4 - 1);
    const compound = Buffer.concat([sr, buildSdesCname(0xdeadbeef, 'hotline@12315'), buildBye([0xdeadbeef], 'bye')]);
    const pk = parseRtcp(compound);
    expect(pk.map((p) => p.type)).toEqual(['sr', 'sdes', 'bye']);
    const p0 = pk[0]!;
    if (p0.type !== 'sr') throw new Error('sr expected');
    expect(p0.ssrc).toBe(0xdeadbeef);
    expect(p0.sender).toEqual({ ntpMsw: 1, ntpLsw: 2, rtpTimestamp: 3, packetCount: 4, octetCount: 5 });
    expect(p0.reports).toEqual([block]);
    const p1 = pk[1]!;
    if (p1.type !== 'sdes') throw new Error('sdes expected');
    expect(p1.chunks).toEqual([{ ssrc: 0xdeadbeef, cname: 'hotline@12315' }]);
    const p2 = pk[2]!;
    if (p2.type !== 'bye') throw new Error('bye expected');
    expect(p2).toEqual({ type: 'bye', ssrcs: [0xdeadbeef], reason: 'bye' });
  });
  it('RR with several blocks; SDES chunk sizes stay 32-bit aligned for every CNAME length', () => {
    const rr = buildReceiverReport(5, [block, { ...block, ssrc: 9, cumulativeLost: 0x7fffff + 10 }]);
    const [p] = parseRtcp(rr);
    if (p?.type !== 'rr') throw new Error('rr expected');
    expect(p.reports[1]!.cumulativeLost).toBe(0x7fffff); // clamped to 24-bit signed
    for (let n = 1; n <= 9; n++) {
      const s = buildSdesCname(1, 'x'.repeat(n));
      expect(s.length % 4).toBe(0);
      const [q] = parseRtcp(Buffer.concat([s, rr]));
      if (q?.type !== 'sdes') throw new Error('sdes expected');
      expect(q.chunks[0]!.cname).toBe('x'.repeat(n));
    }
  });
  it('rejects bad versions, lengths and misplaced padding', () => {
    const rr = buildReceiverReport(5, [block]);
    const v1 = Buffer.from(rr);
    v1[0] = 0x41;
    expect(() => parseRtcp(v1)).toThrow(RtcpParseError);
    const long = Buffer.from(rr);
    long.writeUInt16BE(100, 2);
    expect(() => parseRtcp(long)).toThrow(/past the datagram/);
    const padded = Buffer.from(rr);
    padded[0]! |= 0x20;
    expect(() => parseRtcp(Buffer.concat([padded, rr]))).toThrow(/non-final/);
    const rcTooBig = Buffer.from(rr);
    rcTooBig[0] = 0x82;
    expect(() => parseRtcp(rcTooBig)).toThrow(/too short/);
  });
  it('NTP conversion, LSR middle bits and RTT', () => {
    const t = ntpFromUnixMs(1_700_000_000_500);
    expect(t.msw).toBe(1_700_000_000 + 2208988800);
    expect(t.lsw).toBe(0x80000000);
    expect(ntpMiddle(0x12345678, 0x9abcdef0)).toBe(0x56789abc);
    // Report says LSR = our SR at middle M, held 0.25 s; arrives 0.75 s after M → RTT 0.5 s.
    const M = 0x00100000;
    const rb = { ...block, lastSr: M, delaySinceLastSr: 0x4000 };
    expect(roundTripSeconds(rb, M + 0xc000)).toBeCloseTo(0.5, 6);
    expect(roundTripSeconds({ ...rb, lastSr: 0 }, M)).toBeNull();
  });
});

describe('RtpReceiverStats (RFC 3550 §A.1, §A.3, §A.8)', () => {
  it('counts loss and fraction per interval, across a sequence wrap', () => {
    const s = new RtpReceiverStats();
    let t = 0;
    let ts = 1000;
    const seqs: number[] = [];
    for (let i = 0; i < 200; i++) seqs.push((65500 + i) & 0xffff);
    // drop 10 packets in the middle
    const dropped = new Set([100, 101, 102, 103, 104, 150, 151, 152, 153, 154].map((i) => seqs[i]));
    for (const q of seqs) {
      if (!dropped.has(q)) s.update(q, ts, t);
      t += 20;
      ts += 160;
    }
    // Probation swallows the first packet, so the base is the second one.
    expect(s.expected).toBe(199);
    expect(s.received).toBe(189);
    expect(s.cumulativeLost).toBe(10);
    expect(s.extendedHighestSeq).toBe(65536 + ((65500 + 199) & 0xffff));
    const r1 = s.reportBlock(7, t);
    expect(r1.fractionLost).toBe(Math.floor((10 * 256) / 199));
    expect(r1.extendedHighestSeq).toBe(65536 + 163);
    for (let i = 200; i < 250; i++) {
      s.update((65500 + i) & 0xffff, ts, t);
      t += 20;
      ts += 160;
    }
    const r2 = s.reportBlock(7, t);
    expect(r2.fractionLost).toBe(0);
    expect(r2.cumulativeLost).toBe(10);
  });
  it('jitter is zero for perfect pacing and converges to the §A.8 estimate for alternating delay', () => {
    const perfect = new RtpReceiverStats();
    for (let i = 0; i < 100; i++) perfect.update(i, i * 160, i * 20);
    expect(perfect.jitter).toBe(0);
    const j = new RtpReceiverStats();
    // Arrivals alternate +0/+10 ms: |D| = 80 timestamp units every packet → jitter → 80.
    for (let i = 0; i < 400; i++) j.update(i, i * 160, i * 20 + (i % 2) * 10);
    expect(j.jitter).toBeGreaterThan(79);
    expect(j.jitter).toBeLessThanOrEqual(80);
    expect(j.jitterMs).toBeCloseTo(10, 0);
  });
  it('duplicates count as received (negative loss) and reordering does not move the maximum', () => {
    const s = new RtpReceiverStats();
    for (const q of [1, 2, 3, 4, 4, 4, 6, 5, 7]) s.update(q, q * 160, q * 20);
    expect(s.extendedHighestSeq).toBe(7);
    expect(s.expected).toBe(6); // 2..7
    expect(s.received).toBe(8);
    expect(s.cumulativeLost).toBe(-2);
  });
  it('a big jump is believed only when the next packet follows it (restart, §A.1)', () => {
    const s = new RtpReceiverStats();
    for (let q = 10; q < 20; q++) s.update(q, q * 160, q * 20);
    expect(s.update(40000, 0, 500)).toBe(false);
    expect(s.update(25, 0, 520)).toBe(true); // plain old stream continues... (gap of 6 within dropout)
    expect(s.update(50000, 0, 540)).toBe(false);
    expect(s.update(50001, 160, 560)).toBe(true);
    expect(s.expected).toBe(1);
    expect(s.received).toBe(1);
  });
  it('LSR/DLSR come from the last SR', () => {
    const s = new RtpReceiverStats();
    s.onSenderReport(0x12345678, 0x9abc0000, 1000);
    const r = s.reportBlock(1, 1500);
    expect(r.lastSr).toBe(0x56789abc);
    expect(r.delaySinceLastSr).toBe(32768);
  });
});
