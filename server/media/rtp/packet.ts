/**
 * RTP fixed header parse/serialize (RFC 3550 §5.1) for the per-packet hot path.
 *
 * `RtpPacketView.parse` fills a reusable object in place (no allocation per packet) and returns a status
 * instead of throwing, because bad packets from the network are routine and must be counted and dropped,
 * never crash or slow the receive loop. The payload is described by offset/length into the caller's buffer.
 */

export const RTP_VERSION = 2;
export const RTP_HEADER_BYTES = 12;

export enum RtpParseStatus {
  Ok = 0,
  TooShort,
  BadVersion,
  /** CSRC list or header extension runs past the end of the packet. */
  Truncated,
  /** Padding count of zero or larger than the payload (RFC 3550 §5.1 "P" and §A.1). */
  BadPadding,
  /** PT 72–76 collides with RTCP SR/RR when the marker bit is set (RFC 3550 §A.1, RFC 5761 §4). */
  LooksLikeRtcp,
}

/**
 * RFC 5761 §4 demultiplexing of rtcp-mux: RTCP packet types 192–223 occupy the second byte's full range,
 * which RTP can only produce with PT 64–95 (avoided for that reason).
 */
export function isRtcpPacket(buf: Uint8Array): boolean {
  return buf.length >= 8 && buf[0]! >> 6 === 2 && buf[1]! >= 192 && buf[1]! <= 223;
}

export class RtpPacketView {
  padding = false;
  extension = false;
  marker = false;
  payloadType = 0;
  sequenceNumber = 0;
  timestamp = 0;
  ssrc = 0;
  csrcCount = 0;
  /** Valid entries are [0, csrcCount). Preallocated for the maximum of 15 (§5.1 CC is 4 bits). */
  readonly csrcs = new Uint32Array(15);
  /** Header extension (§5.3.1): profile-defined 16 bits, data offset/length in 32-bit words × 4. */
  extensionProfile = 0;
  extensionOffset = 0;
  extensionLength = 0;
  payloadOffset = 0;
  payloadLength = 0;
  paddingLength = 0;
  /** The buffer last parsed; `payload()` slices it. */
  buffer: Uint8Array = new Uint8Array(0);

  /** Parses `buf` into this view. On a non-Ok status the fields are unspecified. */
  parse(buf: Uint8Array, length = buf.length): RtpParseStatus {
    if (length < RTP_HEADER_BYTES) return RtpParseStatus.TooShort;
    const b0 = buf[0]!;
    const b1 = buf[1]!;
    if (b0 >> 6 !== RTP_VERSION) return RtpParseStatus.BadVersion;
    this.buffer = buf;
    this.padding = (b0 & 0x20) !== 0;
    this.extension = (b0 & 0x10) !== 0;
    this.csrcCount = b0 & 0x0f;
    this.marker = (b1 & 0x80) !== 0;
    this.payloadType = b1 & 0x7f;
    if (this.marker && this.payloadType >= 72 && this.payloadType <= 76) return RtpParseStatus.LooksLikeRtcp;
    this.sequenceNumber = (buf[2]! << 8) | buf[3]!;
    this.timestamp = ((buf[4]! << 24) | (buf[5]! << 16) | (buf[6]! << 8) | buf[7]!) >>> 0;
    this.ssrc = ((buf[8]! << 24) | (buf[9]! << 16) | (buf[10]! << 8) | buf[11]!) >>> 0;
    let off = RTP_HEADER_BYTES;
    if (off + 4 * this.csrcCount > length) return RtpParseStatus.Truncated;
    for (let i = 0; i < this.csrcCount; i++, off += 4) {
      this.csrcs[i] = ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
    }
    if (this.extension) {
      if (off + 4 > length) return RtpParseStatus.Truncated;
      this.extensionProfile = (buf[off]! << 8) | buf[off + 1]!;
      const words = (buf[off + 2]! << 8) | buf[off + 3]!;
      this.extensionOffset = off + 4;
      this.extensionLength = words * 4;
      off += 4 + this.extensionLength;
      if (off > length) return RtpParseStatus.Truncated;
    } else {
      this.extensionProfile = 0;
      this.extensionOffset = 0;
      this.extensionLength = 0;
    }
    let end = length;
    this.paddingLength = 0;
    if (this.padding) {
      // §5.1: the last octet counts the padding octets including itself, so 0 is invalid.
      const pad = buf[length - 1]!;
      if (pad === 0 || off + pad > length) return RtpParseStatus.BadPadding;
      this.paddingLength = pad;
      end -= pad;
    }
    this.payloadOffset = off;
    this.payloadLength = end - off;
    return RtpParseStatus.Ok;
  }

  /** The payload as a view into the parsed buffer (allocates only the small view object). */
  payload(): Uint8Array {
    return this.buffer.subarray(this.payloadOffset, this.payloadOffset + this.payloadLength);
  }
}

export interface RtpHeaderFields {
  marker?: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  csrcs?: readonly number[];
  /** Header extension: 16-bit profile and data whose length is a multiple of 4. */
  extension?: { profile: number; data: Uint8Array };
  /** Padding octets to append (RFC 3550 §5.1), 1..255; e.g. for SRTP block alignment. */
  padding?: number;
}

/** Header length in bytes that `writeRtpHeader` will produce for these fields. */
export function rtpHeaderLength(h: RtpHeaderFields): number {
  return RTP_HEADER_BYTES + 4 * (h.csrcs?.length ?? 0) + (h.extension ? 4 + h.extension.data.length : 0);
}

/**
 * Writes a header at `out[offset]` and returns its length. The padding bit is set if `h.padding` is given; the
 * caller appends the padding octets (see `writeRtp`).
 */
export function writeRtpHeader(out: Uint8Array, h: RtpHeaderFields, offset = 0): number {
  const cc = h.csrcs?.length ?? 0;
  if (cc > 15) throw new RangeError('RTP allows at most 15 CSRCs');
  if (h.payloadType < 0 || h.payloadType > 127) throw new RangeError(`bad payload type ${h.payloadType}`);
  const len = rtpHeaderLength(h);
  if (offset + len > out.length) throw new RangeError('RTP header does not fit');
  out[offset] = 0x80 | (h.padding ? 0x20 : 0) | (h.extension ? 0x10 : 0) | cc;
  out[offset + 1] = (h.marker ? 0x80 : 0) | h.payloadType;
  out[offset + 2] = (h.sequenceNumber >>> 8) & 0xff;
  out[offset + 3] = h.sequenceNumber & 0xff;
  writeU32(out, offset + 4, h.timestamp);
  writeU32(out, offset + 8, h.ssrc);
  let off = offset + RTP_HEADER_BYTES;
  for (let i = 0; i < cc; i++, off += 4) writeU32(out, off, h.csrcs![i]!);
  if (h.extension) {
    const n = h.extension.data.length;
    if (n % 4 !== 0) throw new RangeError('RTP header extension length must be a multiple of 4');
    out[off] = (h.extension.profile >>> 8) & 0xff;
    out[off + 1] = h.extension.profile & 0xff;
    out[off + 2] = ((n / 4) >>> 8) & 0xff;
    out[off + 3] = (n / 4) & 0xff;
    out.set(h.extension.data, off + 4);
  }
  return len;
}

/** Header + payload (+ padding) into `out` at `offset`; returns the packet length. No allocation. */
export function writeRtp(out: Uint8Array, h: RtpHeaderFields, payload: Uint8Array, offset = 0): number {
  const hl = writeRtpHeader(out, h, offset);
  const pad = h.padding ?? 0;
  if (pad < 0 || pad > 255) throw new RangeError('RTP padding must be 0..255');
  const total = hl + payload.length + pad;
  if (offset + total > out.length) throw new RangeError('RTP packet does not fit');
  out.set(payload, offset + hl);
  if (pad > 0) {
    out.fill(0, offset + hl + payload.length, offset + total - 1);
    out[offset + total - 1] = pad;
  }
  return total;
}

/** Allocating convenience for tests and rare paths. */
export function serializeRtp(h: RtpHeaderFields, payload: Uint8Array): Buffer {
  const out = Buffer.alloc(rtpHeaderLength(h) + payload.length + (h.padding ?? 0));
  writeRtp(out, h, payload);
  return out;
}

/** Rewrites sequence number, timestamp, SSRC and marker of an already-built packet in place. */
export function patchRtpHeader(buf: Uint8Array, seq: number, timestamp: number, ssrc: number, marker: boolean): void {
  buf[1] = (marker ? 0x80 : 0) | (buf[1]! & 0x7f);
  buf[2] = (seq >>> 8) & 0xff;
  buf[3] = seq & 0xff;
  writeU32(buf, 4, timestamp);
  writeU32(buf, 8, ssrc);
}

function writeU32(out: Uint8Array, off: number, v: number): void {
  out[off] = (v >>> 24) & 0xff;
  out[off + 1] = (v >>> 16) & 0xff;
  out[off + 2] = (v >>> 8) & 0xff;
  out[off + 3] = v & 0xff;
}
