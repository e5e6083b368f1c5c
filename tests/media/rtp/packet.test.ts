import { describe, expect, it } from 'vitest';
import {
  RtpPacketView,
  RtpParseStatus,
  isRtcpPacket,
  patchRtpHeader,
  serializeRtp,
  writeRtp,
} from '../../../server/media/rtp/packet.js';

describe('RTP header (RFC 3550 §5.1)', () => {
  it('parses a hand-made packet byte by byte', () => {
    // V=2 P=0 X=0 CC=0, M=1 PT=0, seq 0x1234, ts 0xdeadbeef, ssrc 0x01020304, payload ab cd
    const b = Buffer.from('8080' + '1234' + 'deadbeef' + '01020304' + 'abcd', 'hex');
    const v = new RtpPacketView();
    expect(v.parse(b)).toBe(RtpParseStatus.Ok);
    expect(v.marker).toBe(true);
    expect(v.payloadType).toBe(0);
    expect(v.sequenceNumber).toBe(0x1234);
    expect(v.timestamp).toBe(0xdeadbeef);
    expect(v.ssrc).toBe(0x01020304);
    expect(v.payloadOffset).toBe(12);
    expect(Buffer.from(v.payload()).toString('hex')).toBe('abcd');
  });
  it('round-trips CSRCs, extension and padding', () => {
    const ext = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const payload = new Uint8Array(160).fill(0xff);
    const pkt = serializeRtp(
      {
        payloadType: 8,
        sequenceNumber: 65535,
        timestamp: 0xffffffff,
        ssrc: 0x80000001,
        marker: false,
        csrcs: [1, 0xfffffffe],
        extension: { profile: 0xbede, data: ext },
        padding: 4,
      },
      payload,
    );
    expect(pkt.length).toBe(12 + 8 + 4 + 8 + 160 + 4);
    const v = new RtpPacketView();
    expect(v.parse(pkt)).toBe(RtpParseStatus.Ok);
    expect(v.payloadType).toBe(8);
    expect(v.sequenceNumber).toBe(65535);
    expect(v.timestamp).toBe(0xffffffff);
    expect(v.ssrc).toBe(0x80000001);
    expect(v.csrcCount).toBe(2);
    expect(Array.from(v.csrcs.subarray(0, 2))).toEqual([1, 0xfffffffe]);
    expect(v.extension).toBe(true);
    expect(v.extensionProfile).toBe(0xbede);
    expect(Array.from(pkt.subarray(v.extensionOffset, v.extensionOffset + v.extensionLength))).toEqual(Array.from(ext));
    expect(v.padding).toBe(true);
    expect(v.paddingLength).toBe(4);
    expect(v.payloadLength).toBe(160);
    expect(v.payload().every((x) => x === 0xff)).toBe(true);
  });
  it('reuses one view without stale state', () => {
    const v = new RtpPacketView();
    const withExt = serializeRtp(
      { payloadType: 0, sequenceNumber: 1, timestamp: 1, ssrc: 1, extension: { profile: 1, data: new Uint8Array(4) } },
      new Uint8Array(10),
    );
    const plain = serializeRtp({ payloadType: 0, sequenceNumber: 2, timestamp: 2, ssrc: 1 }, new Uint8Array(10));
    v.parse(withExt);
    expect(v.parse(plain)).toBe(RtpParseStatus.Ok);
    expect(v.extension).toBe(false);
    expect(v.extensionLength).toBe(0);
    expect(v.payloadOffset).toBe(12);
    expect(v.paddingLength).toBe(0);
  });
  it('rejects malformed packets with a reason', () => {
    const v = new RtpPacketView();
    expect(v.parse(new Uint8Array(11))).toBe(RtpParseStatus.TooShort);
    const ok = serializeRtp({ payloadType: 0, sequenceNumber: 1, timestamp: 2, ssrc: 3 }, new Uint8Array(20));
    const badVer = Buffer.from(ok);
    badVer[0] = 0x40;
    expect(v.parse(badVer)).toBe(RtpParseStatus.BadVersion);
    const cc = Buffer.from(ok.subarray(0, 16));
    cc[0] = 0x82; // claims 2 CSRCs, only 4 bytes follow
    expect(v.parse(cc)).toBe(RtpParseStatus.Truncated);
    const ext = Buffer.from(ok);
    ext[0] = 0x90;
    ext[14] = 0x00;
    ext[15] = 0x10; // 64 bytes of extension in a 32-byte packet
    expect(v.parse(ext)).toBe(RtpParseStatus.Truncated);
    const pad0 = Buffer.from(ok);
    pad0[0] = 0xa0;
    pad0[pad0.length - 1] = 0;
    expect(v.parse(pad0)).toBe(RtpParseStatus.BadPadding);
    const padBig = Buffer.from(ok);
    padBig[0] = 0xa0;
    padBig[padBig.length - 1] = 21;
    expect(v.parse(padBig)).toBe(RtpParseStatus.BadPadding);
    const rtcpish = Buffer.from(ok);
    rtcpish[1] = 0x80 | 72; // M=1 PT=72 → second byte 200 = SR
    expect(v.parse(rtcpish)).toBe(RtpParseStatus.LooksLikeRtcp);
    expect(isRtcpPacket(rtcpish)).toBe(true);
    expect(isRtcpPacket(ok)).toBe(false);
  });
  it('writes into a preallocated buffer at an offset and patches in place', () => {
    const out = new Uint8Array(300);
    const n = writeRtp(out, { payloadType: 0, sequenceNumber: 7, timestamp: 1600, ssrc: 42 }, new Uint8Array(160), 10);
    expect(n).toBe(172);
    const pkt = out.subarray(10, 10 + n);
    patchRtpHeader(pkt, 9, 3200, 0xcafebabe, true);
    const v = new RtpPacketView();
    expect(v.parse(pkt)).toBe(RtpParseStatus.Ok);
    expect([v.sequenceNumber, v.timestamp, v.ssrc, v.marker, v.payloadType]).toEqual([9, 3200, 0xcafebabe, true, 0]);
    expect(() =>
      writeRtp(new Uint8Array(100), { payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0 }, new Uint8Array(160)),
    ).toThrow(RangeError);
    expect(() =>
      serializeRtp({ payloadType: 128, sequenceNumber: 0, timestamp: 0, ssrc: 0 }, new Uint8Array(1)),
    ).toThrow(RangeError);
  });
});
