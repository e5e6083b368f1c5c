/**
 * Gives one outgoing RTP stream a continuous SSRC, sequence number and timestamp while its source changes
 * (prompt → bridged caller → queue music → prompt ...).
 *
 * Why: RFC 3550 §5.1 wants seq to increase by one per packet and the timestamp to follow the sampling clock
 * of ONE source; a receiver that sees both jump treats it as a new sender (baresip logs an SSRC change,
 * jitter buffers flush, some phones go silent). SIPp's pcap playback even reuses one SSRC/seq/ts set for every
 * call (sip-test-peers.md §2.6), so every bridged packet must be rewritten.
 *
 * Within one source the input's own seq/ts deltas are kept (so loss, reordering and silence gaps stay
 * visible downstream); at a source change the output seq continues at +1, the timestamp advances by the wall
 * time elapsed (never less than one packet), and the marker bit flags the new talkspurt (RFC 3551 §4.1).
 */
import { patchRtpHeader } from './packet.js';

/** Same dropout/misorder window as RFC 3550 §A.1: beyond it the input itself restarted. */
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;

export interface RtpStreamRewriterOptions {
  ssrc: number;
  initialSeq: number;
  initialTimestamp: number;
  clockRate?: number;
  /** Timestamp increment of one packet, the minimum advance at a source change; default 160 (20 ms @ 8 kHz). */
  samplesPerPacket?: number;
  /** Largest plausible timestamp jump inside one source before it counts as a restart; default 30 s. */
  maxTimestampJumpSeconds?: number;
}

export class RtpStreamRewriter {
  readonly ssrc: number;
  private readonly clockRate: number;
  private readonly spp: number;
  private readonly maxTsJump: number;
  private source: unknown = undefined;
  private hasSource = false;
  private forceResync = false;
  private seqOffset = 0;
  private tsOffset = 0;
  /** Highest input seq/ts of the current source. */
  private lastInSeq = 0;
  private lastInTs = 0;
  /** Highest output seq/ts produced, and when. */
  private lastOutSeq: number;
  private lastOutTs: number;
  private lastOutMs = 0;
  private produced = false;

  /** Results of the last `map`/`rewrite`. */
  seq = 0;
  timestamp = 0;
  marker = false;

  constructor(opts: RtpStreamRewriterOptions) {
    this.ssrc = opts.ssrc >>> 0;
    this.clockRate = opts.clockRate ?? 8000;
    this.spp = opts.samplesPerPacket ?? 160;
    this.maxTsJump = (opts.maxTimestampJumpSeconds ?? 30) * this.clockRate;
    // Virtual "previous packet" so the first real one lands exactly on the initial values.
    this.lastOutSeq = (opts.initialSeq - 1) & 0xffff;
    this.lastOutTs = (opts.initialTimestamp - this.spp) >>> 0;
  }

  /** Makes the next packet start a new talkspurt even if it comes from the same source key. */
  resync(): void {
    this.forceResync = true;
  }

  /**
   * Maps one input packet. `sourceKey` identifies where the packet came from (e.g. the leg id or prompt
   * player id: NOT the input SSRC, which SIPp reuses). Sets `seq`, `timestamp`, `marker`.
   */
  map(sourceKey: unknown, inSeq: number, inTs: number, inMarker: boolean, nowMs: number): void {
    let newSpurt = this.forceResync || !this.hasSource || sourceKey !== this.source;
    let ahead = false;
    if (!newSpurt) {
      const sd = ((inSeq - this.lastInSeq) << 16) >> 16; // signed 16-bit delta
      const td = (inTs - this.lastInTs) | 0;
      if (sd >= MAX_DROPOUT || sd < -MAX_MISORDER || td > this.maxTsJump || td < -this.maxTsJump) newSpurt = true;
      else ahead = sd > 0;
    }
    if (newSpurt) {
      this.forceResync = false;
      this.hasSource = true;
      this.source = sourceKey;
      const outSeq = (this.lastOutSeq + 1) & 0xffff;
      const elapsed = this.produced ? Math.round(((nowMs - this.lastOutMs) * this.clockRate) / 1000) : this.spp;
      const outTs = (this.lastOutTs + Math.max(this.spp, elapsed)) >>> 0;
      this.seqOffset = (outSeq - inSeq) & 0xffff;
      this.tsOffset = (outTs - inTs) >>> 0;
      ahead = true;
    }
    this.seq = (inSeq + this.seqOffset) & 0xffff;
    this.timestamp = (inTs + this.tsOffset) >>> 0;
    this.marker = newSpurt || inMarker;
    if (ahead) {
      this.lastInSeq = inSeq;
      this.lastInTs = inTs;
      this.lastOutSeq = this.seq;
      this.lastOutTs = this.timestamp;
      this.lastOutMs = nowMs;
      this.produced = true;
    }
  }

  /** Maps a complete RTP packet in place (seq, timestamp, SSRC, marker). The buffer must hold a valid header. */
  rewrite(buf: Uint8Array, sourceKey: unknown, nowMs: number): void {
    const inSeq = (buf[2]! << 8) | buf[3]!;
    const inTs = ((buf[4]! << 24) | (buf[5]! << 16) | (buf[6]! << 8) | buf[7]!) >>> 0;
    this.map(sourceKey, inSeq, inTs, (buf[1]! & 0x80) !== 0, nowMs);
    patchRtpHeader(buf, this.seq, this.timestamp, this.ssrc, this.marker);
  }
}
