/**
 * RTCP sender/receiver reports (RFC 3550 §6.4) and the receiver-side statistics that feed them
 * (sequence validation §A.1, loss §A.3, interarrival jitter §A.8).
 *
 * RTCP runs at about one compound packet per 5 s per stream (§6.2), so building and parsing here may allocate;
 * only `RtpReceiverStats.update` is on the per-packet path and it allocates nothing.
 */

export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;
export const RTCP_APP = 204;

export interface ReportBlock {
  ssrc: number;
  /** Fraction lost since the previous report, fixed point /256 (§6.4.1). */
  fractionLost: number;
  /** Cumulative packets lost, signed 24-bit (duplicates can make it negative). */
  cumulativeLost: number;
  extendedHighestSeq: number;
  /** Interarrival jitter in timestamp units. */
  jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received, 0 if none. */
  lastSr: number;
  /** Delay since that SR in units of 1/65536 s, 0 if none. */
  delaySinceLastSr: number;
}

export interface SenderInfo {
  ntpMsw: number;
  ntpLsw: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
}

export type RtcpPacket =
  | { type: 'sr'; ssrc: number; sender: SenderInfo; reports: ReportBlock[] }
  | { type: 'rr'; ssrc: number; reports: ReportBlock[] }
  | { type: 'sdes'; chunks: { ssrc: number; cname: string | null }[] }
  | { type: 'bye'; ssrcs: number[]; reason: string | null }
  | { type: 'other'; packetType: number; count: number; body: Uint8Array };

export class RtcpParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RtcpParseError';
  }
}

/** Seconds between the NTP era (1900) and the Unix epoch (1970). */
const NTP_UNIX_OFFSET = 2208988800;

/** Wall-clock milliseconds since the Unix epoch → 64-bit NTP timestamp as two uint32 words. */
export function ntpFromUnixMs(ms: number): { msw: number; lsw: number } {
  const secs = Math.floor(ms / 1000);
  const frac = ms / 1000 - secs;
  return { msw: (secs + NTP_UNIX_OFFSET) >>> 0, lsw: Math.floor(frac * 0x100000000) >>> 0 };
}

/** The "middle 32 bits" of an NTP timestamp, as carried in LSR (§6.4.1). */
export function ntpMiddle(msw: number, lsw: number): number {
  return (((msw & 0xffff) << 16) | (lsw >>> 16)) >>> 0;
}

/**
 * Round-trip time in seconds from a report block about our stream (§6.4.1: A − LSR − DLSR), given the middle 32
 * bits of the NTP time at which the report arrived. Null when the peer has not yet seen an SR from us.
 */
export function roundTripSeconds(block: ReportBlock, arrivalNtpMiddle: number): number | null {
  if (block.lastSr === 0) return null;
  const rtt = (arrivalNtpMiddle - block.lastSr - block.delaySinceLastSr) >>> 0;
  return rtt > 0x80000000 ? 0 : rtt / 65536;
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}
function putU32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

function writeCommonHeader(b: Uint8Array, o: number, count: number, type: number, bytes: number): void {
  b[o] = 0x80 | (count & 0x1f);
  b[o + 1] = type;
  const words = bytes / 4 - 1; // §6.4.1 length: 32-bit words minus one
  b[o + 2] = (words >>> 8) & 0xff;
  b[o + 3] = words & 0xff;
}

function writeReportBlock(b: Uint8Array, o: number, r: ReportBlock): void {
  putU32(b, o, r.ssrc);
  b[o + 4] = r.fractionLost & 0xff;
  const lost = clampLost(r.cumulativeLost) & 0xffffff;
  b[o + 5] = (lost >>> 16) & 0xff;
  b[o + 6] = (lost >>> 8) & 0xff;
  b[o + 7] = lost & 0xff;
  putU32(b, o + 8, r.extendedHighestSeq);
  putU32(b, o + 12, r.jitter);
  putU32(b, o + 16, r.lastSr);
  putU32(b, o + 20, r.delaySinceLastSr);
}

function readReportBlock(b: Uint8Array, o: number): ReportBlock {
  let lost = (b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!;
  if (lost & 0x800000) lost -= 0x1000000;
  return {
    ssrc: u32(b, o),
    fractionLost: b[o + 4]!,
    cumulativeLost: lost,
    extendedHighestSeq: u32(b, o + 8),
    jitter: u32(b, o + 12),
    lastSr: u32(b, o + 16),
    delaySinceLastSr: u32(b, o + 20),
  };
}

function clampLost(n: number): number {
  return n > 0x7fffff ? 0x7fffff : n < -0x800000 ? -0x800000 : n;
}

/** SR (§6.4.1). At most 31 report blocks (5-bit RC). */
export function buildSenderReport(ssrc: number, sender: SenderInfo, reports: readonly ReportBlock[] = []): Buffer {
  if (reports.length > 31) throw new RangeError('at most 31 report blocks per SR');
  const b = Buffer.alloc(28 + 24 * reports.length);
  writeCommonHeader(b, 0, reports.length, RTCP_SR, b.length);
  putU32(b, 4, ssrc);
  putU32(b, 8, sender.ntpMsw);
  putU32(b, 12, sender.ntpLsw);
  putU32(b, 16, sender.rtpTimestamp);
  putU32(b, 20, sender.packetCount);
  putU32(b, 24, sender.octetCount);
  reports.forEach((r, i) => writeReportBlock(b, 28 + 24 * i, r));
  return b;
}

/** RR (§6.4.2). */
export function buildReceiverReport(ssrc: number, reports: readonly ReportBlock[] = []): Buffer {
  if (reports.length > 31) throw new RangeError('at most 31 report blocks per RR');
  const b = Buffer.alloc(8 + 24 * reports.length);
  writeCommonHeader(b, 0, reports.length, RTCP_RR, b.length);
  putU32(b, 4, ssrc);
  reports.forEach((r, i) => writeReportBlock(b, 8 + 24 * i, r));
  return b;
}

/** SDES with one CNAME item (§6.5.1): every compound packet MUST carry it (§6.1). */
export function buildSdesCname(ssrc: number, cname: string): Buffer {
  const text = Buffer.from(cname, 'utf8');
  if (text.length > 255) throw new RangeError('CNAME longer than 255 octets');
  // ssrc + (type, len, text) + at least one null terminating the item list, padded to 32 bits.
  const chunk = 4 + 2 + text.length + 1;
  const padded = (chunk + 3) & ~3;
  const b = Buffer.alloc(4 + padded);
  writeCommonHeader(b, 0, 1, RTCP_SDES, b.length);
  putU32(b, 4, ssrc);
  b[8] = 1; // CNAME
  b[9] = text.length;
  text.copy(b, 10);
  return b;
}

/** BYE (§6.6). */
export function buildBye(ssrcs: readonly number[], reason?: string): Buffer {
  const r = reason ? Buffer.from(reason, 'utf8').subarray(0, 255) : null;
  const len = 4 + 4 * ssrcs.length + (r ? (1 + r.length + 3) & ~3 : 0);
  const b = Buffer.alloc(len);
  writeCommonHeader(b, 0, ssrcs.length, RTCP_BYE, len);
  ssrcs.forEach((s, i) => putU32(b, 4 + 4 * i, s));
  if (r) {
    b[4 + 4 * ssrcs.length] = r.length;
    r.copy(b, 5 + 4 * ssrcs.length);
  }
  return b;
}

/** Parses a compound RTCP packet (§6.1) with the validity checks of §A.2. */
export function parseRtcp(buf: Uint8Array): RtcpPacket[] {
  const out: RtcpPacket[] = [];
  let o = 0;
  if (buf.length < 4) throw new RtcpParseError('RTCP packet too short');
  while (o < buf.length) {
    if (o + 4 > buf.length) throw new RtcpParseError('trailing bytes after RTCP packet');
    const b0 = buf[o]!;
    if (b0 >> 6 !== 2) throw new RtcpParseError('RTCP version is not 2');
    const count = b0 & 0x1f;
    const type = buf[o + 1]!;
    const bytes = (((buf[o + 2]! << 8) | buf[o + 3]!) + 1) * 4;
    if (o + bytes > buf.length) throw new RtcpParseError('RTCP length runs past the datagram');
    let end = o + bytes;
    if (b0 & 0x20) {
      // §6.4.1: only the last packet of a compound may be padded.
      if (end !== buf.length) throw new RtcpParseError('padding on a non-final RTCP packet');
      const pad = buf[end - 1]!;
      if (pad === 0 || pad > bytes - 4) throw new RtcpParseError('bad RTCP padding');
      end -= pad;
    }
    const body = o + 4;
    switch (type) {
      case RTCP_SR: {
        if (body + 24 + 24 * count > end) throw new RtcpParseError('SR too short for its report count');
        const reports: ReportBlock[] = [];
        for (let i = 0; i < count; i++) reports.push(readReportBlock(buf, body + 24 + 24 * i));
        out.push({
          type: 'sr',
          ssrc: u32(buf, body),
          sender: {
            ntpMsw: u32(buf, body + 4),
            ntpLsw: u32(buf, body + 8),
            rtpTimestamp: u32(buf, body + 12),
            packetCount: u32(buf, body + 16),
            octetCount: u32(buf, body + 20),
          },
          reports,
        });
        break;
      }
      case RTCP_RR: {
        if (body + 4 + 24 * count > end) throw new RtcpParseError('RR too short for its report count');
        const reports: ReportBlock[] = [];
        for (let i = 0; i < count; i++) reports.push(readReportBlock(buf, body + 4 + 24 * i));
        out.push({ type: 'rr', ssrc: u32(buf, body), reports });
        break;
      }
      case RTCP_SDES: {
        const chunks: { ssrc: number; cname: string | null }[] = [];
        let p = body;
        for (let i = 0; i < count; i++) {
          if (p + 4 > end) throw new RtcpParseError('SDES chunk truncated');
          const ssrc = u32(buf, p);
          p += 4;
          let cname: string | null = null;
          while (p < end && buf[p] !== 0) {
            if (p + 2 > end || p + 2 + buf[p + 1]! > end) throw new RtcpParseError('SDES item truncated');
            if (buf[p] === 1) cname = Buffer.from(buf.subarray(p + 2, p + 2 + buf[p + 1]!)).toString('utf8');
            p += 2 + buf[p + 1]!;
          }
          // The item list ends with a null octet, then pads to the next 32-bit boundary (§6.5).
          p = body + Math.ceil((p + 1 - body) / 4) * 4;
          chunks.push({ ssrc, cname });
        }
        out.push({ type: 'sdes', chunks });
        break;
      }
      case RTCP_BYE: {
        if (body + 4 * count > end) throw new RtcpParseError('BYE too short');
        const ssrcs: number[] = [];
        for (let i = 0; i < count; i++) ssrcs.push(u32(buf, body + 4 * i));
        let reason: string | null = null;
        const rp = body + 4 * count;
        if (rp < end) {
          const n = buf[rp]!;
          if (rp + 1 + n > end) throw new RtcpParseError('BYE reason truncated');
          reason = Buffer.from(buf.subarray(rp + 1, rp + 1 + n)).toString('utf8');
        }
        out.push({ type: 'bye', ssrcs, reason });
        break;
      }
      default:
        out.push({ type: 'other', packetType: type, count, body: buf.subarray(body, end) });
    }
    o += bytes;
  }
  return out;
}

const RTP_SEQ_MOD = 1 << 16;
/** §A.1 recommended constants. */
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;

/**
 * Receiver statistics for ONE source (one SSRC on one 5-tuple). Feed it every packet of that source with
 * the arrival time from the injected clock; read a report block when an RR/SR is due.
 */
export class RtpReceiverStats {
  private maxSeq = 0;
  private cycles = 0;
  private baseSeq = 0;
  private badSeq = RTP_SEQ_MOD + 1;
  private probation: number;
  private started = false;
  /** Packets accepted (after probation), duplicates included as §A.3 prescribes. */
  received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private transit = 0;
  private haveTransit = false;
  private jitterValue = 0;
  private lastSrMiddle = 0;
  private lastSrArrivalMs = 0;
  /** Packets rejected by sequence validation (probation, big jumps before a restart). */
  rejected = 0;

  constructor(
    readonly clockRate = 8000,
    /** §A.1 MIN_SEQUENTIAL: packets in sequence before a source is valid. */
    private readonly minSequential = 2,
  ) {
    this.probation = minSequential;
  }

  private initSeq(seq: number): void {
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.badSeq = RTP_SEQ_MOD + 1;
    this.cycles = 0;
    this.received = 0;
    this.receivedPrior = 0;
    this.expectedPrior = 0;
  }

  /**
   * §A.1 update_seq plus §A.8 jitter. Returns false when the packet should not be played (source still in
   * probation, or a jump too large to be anything but a restart not yet confirmed).
   */
  update(seq: number, rtpTimestamp: number, arrivalMs: number): boolean {
    if (!this.started) {
      this.started = true;
      this.initSeq(seq);
      this.maxSeq = (seq - 1) & 0xffff;
      this.probation = this.minSequential;
      if (this.probation === 0) {
        this.maxSeq = seq;
        this.received = 1;
        this.updateJitter(rtpTimestamp, arrivalMs);
        return true;
      }
    }
    const udelta = (seq - this.maxSeq) & 0xffff;
    if (this.probation > 0) {
      if (seq === ((this.maxSeq + 1) & 0xffff)) {
        this.probation--;
        this.maxSeq = seq;
        if (this.probation === 0) {
          this.initSeq(seq);
          this.received++;
          this.updateJitter(rtpTimestamp, arrivalMs);
          return true;
        }
      } else {
        this.probation = this.minSequential - 1;
        this.maxSeq = seq;
      }
      this.rejected++;
      return false;
    } else if (udelta < MAX_DROPOUT) {
      if (seq < this.maxSeq) this.cycles += RTP_SEQ_MOD; // wrapped
      this.maxSeq = seq;
    } else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
      // A very large jump: the sender restarted, or it is garbage. Believe it on the second packet in a row.
      if (seq === this.badSeq) {
        this.initSeq(seq);
        this.haveTransit = false;
      } else {
        this.badSeq = (seq + 1) & 0xffff;
        this.rejected++;
        return false;
      }
    }
    // else: duplicate or reordered packet, counted but does not move maxSeq.
    this.received++;
    this.updateJitter(rtpTimestamp, arrivalMs);
    return true;
  }

  private updateJitter(ts: number, arrivalMs: number): void {
    // §A.8: both clocks in timestamp units; wrap-safe difference through int32.
    const arrival = Math.round((arrivalMs * this.clockRate) / 1000);
    const transit = (arrival - ts) | 0;
    if (this.haveTransit) {
      let d = (transit - this.transit) | 0;
      if (d < 0) d = -d;
      this.jitterValue += (d - this.jitterValue) / 16;
    }
    this.transit = transit;
    this.haveTransit = true;
  }

  get extendedHighestSeq(): number {
    return this.cycles + this.maxSeq;
  }
  /** §A.3 expected = extended max − base + 1 (0 before the source is valid). */
  get expected(): number {
    return this.started && this.probation === 0 ? this.extendedHighestSeq - this.baseSeq + 1 : 0;
  }
  get cumulativeLost(): number {
    return clampLost(this.expected - this.received);
  }
  /** Interarrival jitter in timestamp units (§6.4.1). */
  get jitter(): number {
    return this.jitterValue;
  }
  get jitterMs(): number {
    return (this.jitterValue * 1000) / this.clockRate;
  }

  /** Remember an SR from this source for LSR/DLSR (§6.4.1). */
  onSenderReport(ntpMsw: number, ntpLsw: number, arrivalMs: number): void {
    this.lastSrMiddle = ntpMiddle(ntpMsw, ntpLsw);
    this.lastSrArrivalMs = arrivalMs;
  }

  /** Builds a report block and starts a new interval for `fractionLost` (§A.3). */
  reportBlock(ssrc: number, nowMs: number): ReportBlock {
    const expected = this.expected;
    const expectedInterval = expected - this.expectedPrior;
    this.expectedPrior = expected;
    const receivedInterval = this.received - this.receivedPrior;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    const fraction =
      expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval << 8) / expectedInterval);
    return {
      ssrc,
      fractionLost: Math.min(255, fraction),
      cumulativeLost: this.cumulativeLost,
      extendedHighestSeq: this.extendedHighestSeq >>> 0,
      jitter: Math.floor(this.jitterValue) >>> 0,
      lastSr: this.lastSrMiddle,
      delaySinceLastSr: this.lastSrMiddle ? Math.floor(((nowMs - this.lastSrArrivalMs) * 65536) / 1000) >>> 0 : 0,
    };
  }
}
