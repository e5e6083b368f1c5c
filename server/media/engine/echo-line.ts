/**
 * The echo's delay line: the caller's frames, copied into a ring sized for the delay. Keeping the received
 * packets themselves (one Buffer each) for the ~200 ms delay made every echoed frame outlive a young-generation
 * collection or two, so the media worker promoted ~20 000 of them a second at 400 echo calls and ran a full
 * collection about once a second; copied into the ring, the packets die young.
 */

/** Largest payload a slot holds: 60 ms of G.711. A larger one is refused (`push` returns false). */
export const ECHO_SLOT_BYTES = 480;
/** Shortest packet time the ring is sized for; a caller sending shorter packets reaches the cap sooner. */
const MIN_PTIME_MS = 10;

export class EchoLine {
  private readonly bytes: Uint8Array;
  private readonly at: Float64Array;
  private readonly ts: Uint32Array;
  private readonly pt: Uint8Array;
  private readonly len: Uint16Array;
  private head = 0;
  private count = 0;
  readonly slots: number;

  /**
   * An echo `delayMs` behind the caller, with room for `spanMs` of packets at the shortest packet time, plus a
   * few, at most `maxSlots`.
   */
  constructor(
    readonly delayMs: number,
    /** How long a frame may wait in the line; an older one is stale (a player or DTMF held the echo back). */
    readonly spanMs: number,
    maxSlots: number,
  ) {
    this.slots = Math.max(4, Math.min(maxSlots, Math.ceil(spanMs / MIN_PTIME_MS) + 4));
    this.bytes = new Uint8Array(this.slots * ECHO_SLOT_BYTES);
    this.at = new Float64Array(this.slots);
    this.ts = new Uint32Array(this.slots);
    this.pt = new Uint8Array(this.slots);
    this.len = new Uint16Array(this.slots);
  }

  get length(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count === this.slots;
  }

  /** Arrival time of the oldest frame (call only when length > 0). */
  get headAt(): number {
    return this.at[this.head]!;
  }

  /** RTP timestamp of the oldest frame (call only when length > 0). */
  get headTs(): number {
    return this.ts[this.head]!;
  }

  /** Arrival time of the newest frame (call only when length > 0). */
  get lastAt(): number {
    return this.at[(this.head + this.count - 1) % this.slots]!;
  }

  /** Copies `src[off, off + n)` in as the newest frame; false (nothing stored) when full or too large. */
  push(at: number, ts: number, pt: number, src: Uint8Array, off: number, n: number): boolean {
    if (this.count === this.slots || n > ECHO_SLOT_BYTES) return false;
    const slot = (this.head + this.count) % this.slots;
    this.bytes.set(src.subarray(off, off + n), slot * ECHO_SLOT_BYTES);
    this.at[slot] = at;
    this.ts[slot] = ts;
    this.pt[slot] = pt;
    this.len[slot] = n;
    this.count++;
    return true;
  }

  /** Drops the oldest frame. */
  drop(): void {
    if (this.count === 0) return;
    this.head = (this.head + 1) % this.slots;
    this.count--;
  }

  /**
   * Takes the oldest frame: its payload type and payload. The payload is a view into the ring, valid until the
   * next push.
   */
  shift(): { pt: number; data: Uint8Array } | null {
    if (this.count === 0) return null;
    const slot = this.head;
    this.drop();
    const start = slot * ECHO_SLOT_BYTES;
    return { pt: this.pt[slot]!, data: this.bytes.subarray(start, start + this.len[slot]!) };
  }
}
