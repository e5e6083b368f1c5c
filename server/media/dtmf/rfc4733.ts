/**
 * RFC 4733 telephone-event (DTMF over RTP, formerly RFC 2833): payload codec, a receiver that reports each
 * key press exactly once, and a sender that plans the packets of one key press.
 *
 * Payload (§2.3):  event(8) | E(1) R(1) volume(6) | duration(16)
 */

/** Event codes 0–15 (§3.2 Table 3) and 16 = hook flash. */
const DIGITS = '0123456789*#ABCD';

export function eventToDigit(code: number): string | null {
  if (code >= 0 && code < 16) return DIGITS[code]!;
  if (code === 16) return 'F'; // flash
  return null;
}

export function digitToEvent(digit: string): number {
  const i = DIGITS.indexOf(digit.toUpperCase());
  if (i >= 0) return i;
  if (digit.toUpperCase() === 'F') return 16;
  throw new RangeError(`not a DTMF digit: ${JSON.stringify(digit)}`);
}

export interface TelephoneEvent {
  event: number;
  end: boolean;
  /** 0..63, power in −dBm0 (§2.3.4). */
  volume: number;
  /** In timestamp units since the event's RTP timestamp (§2.3.5). */
  duration: number;
}

/** Parses the first 4 bytes of `payload` (more may follow in redundant RFC 2198 forms; ignored). */
export function parseTelephoneEvent(
  payload: Uint8Array,
  offset = 0,
  length = payload.length - offset,
): TelephoneEvent | null {
  if (length < 4) return null;
  const b1 = payload[offset + 1]!;
  return {
    event: payload[offset]!,
    end: (b1 & 0x80) !== 0,
    volume: b1 & 0x3f,
    duration: (payload[offset + 2]! << 8) | payload[offset + 3]!,
  };
}

export function writeTelephoneEvent(out: Uint8Array, ev: TelephoneEvent, offset = 0): void {
  out[offset] = ev.event & 0xff;
  out[offset + 1] = (ev.end ? 0x80 : 0) | (ev.volume & 0x3f);
  out[offset + 2] = (ev.duration >>> 8) & 0xff;
  out[offset + 3] = ev.duration & 0xff;
}

export interface DtmfDigit {
  digit: string;
  event: number;
  /** RTP timestamp of the event (the same in all its packets, §2.5.1.1). */
  timestamp: number;
  ssrc: number;
}

/**
 * One per incoming RTP stream (5-tuple). Reports a digit on the FIRST packet of an event: baresip and some
 * gateways never send (or we never get) the end packets, and SIPp's DTMF pcaps have their own SSRC and repeat
 * one seq number on the 3 end packets (sip-test-peers.md §2.6). The identity of an event is its
 * (SSRC, RTP timestamp) pair (§2.5.1.1: all packets of one event share the timestamp): updates, the end
 * packet and its retransmissions (§2.5.1.4) and any reordered straggler of a recent event are ignored.
 *
 * A replayed pcap sends the SAME timestamp again for a second press of the same digit, so an event whose
 * last packet is older than `staleMs` counts as a new press (a real press sends updates every 50 ms at most,
 * §2.5.1.3, and its end retransmits follow right away).
 */
export class DtmfReceiver {
  /** Recent events, newest first: enough to absorb reordering across two quick presses. */
  private readonly recentTs = new Float64Array(4);
  private readonly recentSsrc = new Float64Array(4);
  private readonly recentAt = new Float64Array(4);
  private count = 0;

  constructor(private readonly staleMs = 1000) {}

  /**
   * Feed one telephone-event packet. Returns the digit when this packet starts a new event, else null.
   * `nowMs` is the arrival time from the injected clock.
   */
  push(
    ssrc: number,
    timestamp: number,
    payload: Uint8Array,
    nowMs: number,
    offset = 0,
    length?: number,
  ): DtmfDigit | null {
    // Read the event byte directly: this runs for every event packet, so no parse object is allocated.
    if ((length ?? payload.length - offset) < 4) return null;
    const code = payload[offset]!;
    const digit = eventToDigit(code);
    for (let i = 0; i < this.count; i++) {
      if (this.recentTs[i] === timestamp && this.recentSsrc[i] === ssrc) {
        if (nowMs - this.recentAt[i]! <= this.staleMs) {
          this.recentAt[i] = nowMs;
          return null;
        }
        break; // stale: a replay of the same packets, a new press
      }
    }
    // Newest first; drop the oldest.
    const n = Math.min(this.count, this.recentTs.length - 1);
    for (let i = n; i > 0; i--) {
      this.recentTs[i] = this.recentTs[i - 1]!;
      this.recentSsrc[i] = this.recentSsrc[i - 1]!;
      this.recentAt[i] = this.recentAt[i - 1]!;
    }
    this.recentTs[0] = timestamp;
    this.recentSsrc[0] = ssrc;
    this.recentAt[0] = nowMs;
    this.count = n + 1;
    if (digit === null) return null; // unknown event code: remembered so its repeats stay quiet
    return { digit, event: code, timestamp, ssrc };
  }

  reset(): void {
    this.count = 0;
  }
}

export interface DtmfSendOptions {
  /** Tone length; default 100 ms (Q.24 needs ≥ 40 ms). */
  durationMs?: number;
  /** Packet interval; default 20 ms. */
  ptimeMs?: number;
  /** −dBm0, default 10. */
  volume?: number;
  clockRate?: number;
  /** Copies of the end packet (§2.5.1.4 recommends 3 in total). */
  endPackets?: number;
}

export interface DtmfPacketPlan {
  payload: Uint8Array;
  /** Set on the first packet of the event only (§2.5.1.1). */
  marker: boolean;
  end: boolean;
  /** When to send, relative to the first packet. Every packet uses the event's start timestamp. */
  sendAtMs: number;
}

/**
 * Packets for one key press: a start packet with the marker bit, updates every ptime with the growing duration,
 * then the end packet `endPackets` times, one ptime apart so a short loss burst cannot take all of them, with
 * the final duration (§2.5.1.4: retransmissions keep the duration). The caller gives every packet its own RTP
 * sequence number and the event's single timestamp.
 */
export function planDtmfPackets(digit: string, opts: DtmfSendOptions = {}): DtmfPacketPlan[] {
  const event = digitToEvent(digit);
  const durationMs = opts.durationMs ?? 100;
  const ptime = opts.ptimeMs ?? 20;
  const volume = opts.volume ?? 10;
  const rate = opts.clockRate ?? 8000;
  const ends = opts.endPackets ?? 3;
  if (durationMs < ptime) throw new RangeError('DTMF duration shorter than one packet');
  const step = (ptime * rate) / 1000;
  // §2.5.2.3: one event longer than 0xFFFF units would need segmenting; 8 s at 8 kHz is far beyond a key press.
  const total = Math.min(0xffff, Math.round((durationMs * rate) / 1000));
  const out: DtmfPacketPlan[] = [];
  let d = step;
  let t = 0;
  for (; d < total; d += step, t += ptime) {
    const payload = new Uint8Array(4);
    writeTelephoneEvent(payload, { event, end: false, volume, duration: d });
    out.push({ payload, marker: out.length === 0, end: false, sendAtMs: t });
  }
  for (let i = 0; i < ends; i++) {
    const payload = new Uint8Array(4);
    writeTelephoneEvent(payload, { event, end: true, volume, duration: total });
    out.push({ payload, marker: out.length === 0, end: true, sendAtMs: t + i * ptime });
  }
  return out;
}
