import { describe, expect, it } from 'vitest';
import { RtpPacketView, serializeRtp } from '../../../server/media/rtp/packet.js';
import { RtpStreamRewriter } from '../../../server/media/rtp/rewriter.js';

function mk(): RtpStreamRewriter {
  return new RtpStreamRewriter({ ssrc: 0xabc, initialSeq: 65530, initialTimestamp: 0xfffffe00 });
}

describe('RtpStreamRewriter', () => {
  it('first packet lands on the initial values with the marker set; same source keeps deltas', () => {
    const r = mk();
    r.map('prompt', 100, 5000, false, 0);
    expect([r.seq, r.timestamp, r.marker]).toEqual([65530, 0xfffffe00, true]);
    r.map('prompt', 101, 5160, false, 20);
    expect([r.seq, r.timestamp, r.marker]).toEqual([65531, (0xfffffe00 + 160) >>> 0, false]);
    // A lost input packet stays a gap; a silence gap keeps its timestamp jump; wraps are clean.
    r.map('prompt', 103, 5480 + 8000, true, 1000);
    expect([r.seq, r.timestamp, r.marker]).toEqual([65533, (0xfffffe00 + 480 + 8000) >>> 0, true]);
    // A late (reordered) packet maps into the past without moving the stream forward.
    r.map('prompt', 102, 5320, false, 1001);
    expect(r.seq).toBe(65532);
    r.map('prompt', 104, 5640 + 8000, false, 1020);
    expect(r.seq).toBe(65534);
  });
  it('source change: seq continues at +1, timestamp advances by wall time, marker set', () => {
    const r = mk();
    for (let i = 0; i < 10; i++) r.map('prompt', i, i * 160, false, i * 20);
    const lastSeq = r.seq;
    const lastTs = r.timestamp;
    // The bridged caller (SIPp pcap: arbitrary seq/ts) starts 500 ms after the last prompt packet.
    r.map('leg-A', 40000, 123456789, false, 9 * 20 + 500);
    expect(r.seq).toBe((lastSeq + 1) & 0xffff);
    expect(r.timestamp).toBe((lastTs + 4000) >>> 0);
    expect(r.marker).toBe(true);
    r.map('leg-A', 40001, 123456789 + 160, false, 9 * 20 + 520);
    expect(r.seq).toBe((lastSeq + 2) & 0xffff);
    expect(r.timestamp).toBe((lastTs + 4160) >>> 0);
    expect(r.marker).toBe(false);
    // Immediate switch back: at least one packet of timestamp advance even with no elapsed time.
    r.map('prompt', 10, 1600, false, 9 * 20 + 520);
    expect(r.seq).toBe((lastSeq + 3) & 0xffff);
    expect(r.timestamp).toBe((lastTs + 4320) >>> 0);
    expect(r.marker).toBe(true);
  });
  it('an input restart inside one source (pcap loop: seq/ts jump back) is a new talkspurt, not a jump', () => {
    const r = mk();
    for (let i = 0; i < 300; i++) r.map('sipp', 1000 + i, 90000 + i * 160, false, i * 20);
    const s = r.seq;
    const t = r.timestamp;
    r.map('sipp', 1000, 90000, false, 300 * 20);
    expect(r.seq).toBe((s + 1) & 0xffff);
    expect(r.timestamp).toBe((t + 160) >>> 0);
    expect(r.marker).toBe(true);
    r.resync();
    r.map('sipp', 1001, 90160, false, 301 * 20);
    expect(r.marker).toBe(true);
    expect(r.seq).toBe((s + 2) & 0xffff);
  });
  it('rewrite patches a packet in place with our SSRC', () => {
    const r = new RtpStreamRewriter({ ssrc: 0x55667788, initialSeq: 1, initialTimestamp: 0 });
    const pkt = serializeRtp(
      { payloadType: 8, sequenceNumber: 999, timestamp: 77, ssrc: 0xdee0ee8f },
      new Uint8Array(160),
    );
    r.rewrite(pkt, 'x', 0);
    const v = new RtpPacketView();
    v.parse(pkt);
    expect([v.ssrc, v.sequenceNumber, v.timestamp, v.marker, v.payloadType]).toEqual([0x55667788, 1, 0, true, 8]);
  });
});
