/**
 * The real RTP that SIPp replays in our integration tests (Debian package sip-tester, installed in CI;
 * sip-test-peers.md §2.1), run through the pure media blocks: A-law audio and RFC 2833 DTMF with SIPp's quirks.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeAlaw } from '../../server/media/codecs/g711.js';
import { DtmfReceiver } from '../../server/media/dtmf/rfc4733.js';
import { RtpPacketView, RtpParseStatus } from '../../server/media/rtp/packet.js';
import { RtpReceiverStats } from '../../server/media/rtp/rtcp.js';

const DIR = '/usr/share/sip-tester';

interface Captured {
  ms: number;
  rtp: Uint8Array;
}

/** Classic libpcap, Ethernet + IPv4 + UDP only (what these files are). */
function readPcap(path: string): Captured[] {
  const b = readFileSync(path);
  expect(b.readUInt32LE(0)).toBe(0xa1b2c3d4);
  expect(b.readUInt32LE(20)).toBe(1); // LINKTYPE_ETHERNET
  const out: Captured[] = [];
  for (let o = 24; o + 16 <= b.length;) {
    const sec = b.readUInt32LE(o);
    const usec = b.readUInt32LE(o + 4);
    const len = b.readUInt32LE(o + 8);
    const frame = b.subarray(o + 16, o + 16 + len);
    o += 16 + len;
    if (frame.readUInt16BE(12) !== 0x0800) continue;
    const ihl = (frame[14]! & 0x0f) * 4;
    if (frame[14 + 9] !== 17) continue;
    const udp = 14 + ihl;
    const udpLen = frame.readUInt16BE(udp + 4);
    out.push({ ms: sec * 1000 + usec / 1000, rtp: frame.subarray(udp + 8, udp + udpLen) });
  }
  return out;
}

describe('SIPp pcaps through the media blocks', () => {
  const names: [string, string][] = [
    ...'0123456789'.split('').map((d): [string, string] => [`dtmf_2833_${d}.pcap`, d]),
    ['dtmf_2833_pound.pcap', '#'],
    ['dtmf_2833_star.pcap', '*'],
  ];

  it('each DTMF pcap gives its digit exactly once (repeated end-packet seq, own SSRC)', () => {
    const view = new RtpPacketView();
    for (const [file, digit] of names) {
      const rx = new DtmfReceiver();
      const got: string[] = [];
      const pkts = readPcap(`${DIR}/${file}`);
      expect(pkts.length).toBe(10);
      for (const p of pkts) {
        expect(view.parse(p.rtp)).toBe(RtpParseStatus.Ok);
        expect(view.payloadType).toBe(101);
        const d = rx.push(view.ssrc, view.timestamp, view.buffer, p.ms, view.payloadOffset, view.payloadLength);
        if (d) got.push(d.digit);
      }
      expect(got, file).toEqual([digit]);
    }
  });

  it('the same pcap replayed later (second press of the same key, same SSRC and timestamp) counts twice', () => {
    const view = new RtpPacketView();
    const rx = new DtmfReceiver();
    const pkts = readPcap(`${DIR}/dtmf_2833_5.pcap`);
    let digits = '';
    for (const offset of [0, 3000]) {
      for (const p of pkts) {
        view.parse(p.rtp);
        const d = rx.push(
          view.ssrc,
          view.timestamp,
          view.buffer,
          offset + p.ms - pkts[0]!.ms,
          view.payloadOffset,
          view.payloadLength,
        );
        if (d) digits += d.digit;
      }
    }
    expect(digits).toBe('55');
  });

  it('g711a.pcap: 236 PCMA packets of 240 bytes, no loss, decodes to non-silent audio', () => {
    const pkts = readPcap(`${DIR}/g711a.pcap`);
    const view = new RtpPacketView();
    const stats = new RtpReceiverStats(8000, 0);
    const pcm = new Int16Array(240);
    let energy = 0;
    let n = 0;
    for (const p of pkts) {
      expect(view.parse(p.rtp)).toBe(RtpParseStatus.Ok);
      expect(view.payloadType).toBe(8);
      expect(view.payloadLength).toBe(240);
      stats.update(view.sequenceNumber, view.timestamp, p.ms);
      decodeAlaw(view.payload(), pcm);
      for (const x of pcm) energy += x * x;
      n += pcm.length;
    }
    expect(pkts.length).toBe(236);
    expect(stats.expected).toBe(236);
    expect(stats.cumulativeLost).toBe(0);
    expect(Math.sqrt(energy / n)).toBeGreaterThan(300);
  });
});
