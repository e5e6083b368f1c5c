/**
 * N-party audio mixer for conferences, three-way calls and supervisor listen/whisper, on fixed 160-sample
 * (20 ms at 8 kHz) linear frames.
 *
 * Each member hears the sum of every audible member except itself. The sum is computed once per frame and each
 * member's own contribution subtracted (O(N) per frame instead of O(N²)); only whisper routes add per-pair work.
 *  - muted: heard by nobody, still hears everyone;
 *  - listen-only (supervisor listen): hears everyone, heard by nobody;
 *  - whisper X → Y (supervisor coaching an agent): X is heard only by Y.
 * Every change of who hears a member (join, leave, mute, listen-only, whisper) is a linear gain ramp over one
 * frame, so nobody hears a click when a party appears or vanishes mid-waveform.
 * Buffers are allocated when a member joins, never per frame.
 *
 * A room where nobody is ramping, whispering or leaving (nearly every frame of a three-way call) is mixed in
 * integers: every gain is 0 or 1 there, so the result is the same as the general path's, in fewer passes.
 */

export const MIXER_FRAME = 160;

export interface MemberOptions {
  muted?: boolean;
  listenOnly?: boolean;
  /** Ramp the new member in over the first frame; default true. */
  fadeIn?: boolean;
}

/**
 * A member's frame buffers, for a caller that fills the input in place (a jitter buffer pops straight into it)
 * and reads the output without a lookup. Valid while the member is in the mixer.
 */
export interface MixerSlot {
  readonly id: string;
  /** This tick's input frame; set `hasInput` once it is filled. */
  readonly input: Int16Array;
  hasInput: boolean;
  /** The member's output of the last `mix()`. */
  readonly out: Int16Array;
}

class Member implements MixerSlot {
  readonly input: Int16Array;
  hasInput = false;
  /** Loudness envelope (join/leave/mute): value at the end of the last frame, and where it is heading. */
  gain: number;
  gainTarget: number;
  /** Share of the member's voice that goes to everybody (1) rather than to its whisper target (0). */
  pub: number;
  pubTarget: number;
  muted: boolean;
  listenOnly: boolean;
  whisperTo: Member | null = null;
  /** Where the non-public part goes: stays on the old target while a cleared whisper ramps back to public. */
  routeTo: Member | null = null;
  leaving = false;
  /** Whether `publicPart` holds this frame's contribution (false = silent this frame). */
  contributed = false;
  whispered = false;
  readonly publicPart: Float32Array;
  readonly whisperPart: Float32Array;
  readonly acc: Float32Array;
  readonly out: Int16Array;

  constructor(
    readonly id: string,
    n: number,
    opts: MemberOptions,
  ) {
    this.input = new Int16Array(n);
    this.publicPart = new Float32Array(n);
    this.whisperPart = new Float32Array(n);
    this.acc = new Float32Array(n);
    this.out = new Int16Array(n);
    this.muted = opts.muted ?? false;
    this.listenOnly = opts.listenOnly ?? false;
    this.gainTarget = this.muted ? 0 : 1;
    this.gain = opts.fadeIn === false ? this.gainTarget : 0;
    this.pubTarget = this.listenOnly ? 0 : 1;
    this.pub = this.pubTarget;
  }

  retarget(): void {
    this.gainTarget = this.muted || this.leaving ? 0 : 1;
    this.pubTarget = this.listenOnly || this.whisperTo ? 0 : 1;
  }

  /** Heard at full level or not at all, by everyone alike, with nothing changing this frame. */
  get steady(): boolean {
    return (
      this.gain === this.gainTarget &&
      this.pub === 1 &&
      this.pubTarget === 1 &&
      this.routeTo === null &&
      this.whisperTo === null &&
      !this.leaving
    );
  }
}

export class AudioMixer {
  private readonly members = new Map<string, Member>();
  private list: Member[] = [];
  private readonly total: Float32Array;
  private readonly totalInt: Int32Array;
  private closed = false;

  constructor(readonly frameSize = MIXER_FRAME) {
    this.total = new Float32Array(frameSize);
    this.totalInt = new Int32Array(frameSize);
  }

  get size(): number {
    return this.members.size;
  }
  has(id: string): boolean {
    return this.members.has(id);
  }
  ids(): string[] {
    return [...this.members.keys()];
  }

  add(id: string, opts: MemberOptions = {}): MixerSlot {
    if (this.closed) throw new Error('mixer is closed');
    const old = this.members.get(id);
    if (old && !old.leaving) throw new Error(`mixer member ${id} already present`);
    if (old) this.drop(old);
    const m = new Member(id, this.frameSize, opts);
    this.members.set(id, m);
    this.list.push(m);
    return m;
  }

  /** Fades the member out over the next frame (it still gets that frame's output), then removes it. Idempotent. */
  remove(id: string, opts: { fadeOut?: boolean } = {}): void {
    const m = this.members.get(id);
    if (!m) return;
    if (opts.fadeOut === false) {
      this.drop(m);
      return;
    }
    m.leaving = true;
    m.retarget();
  }

  setMuted(id: string, muted: boolean): void {
    const m = this.get(id);
    m.muted = muted;
    m.retarget();
  }

  setListenOnly(id: string, listenOnly: boolean): void {
    const m = this.get(id);
    m.listenOnly = listenOnly;
    m.retarget();
  }

  /** Routes `id`'s voice only to `targetId`; null makes it public again. */
  setWhisper(id: string, targetId: string | null): void {
    const m = this.get(id);
    if (targetId === id) throw new Error('a member cannot whisper to itself');
    m.whisperTo = targetId === null ? null : this.get(targetId);
    if (m.whisperTo) m.routeTo = m.whisperTo;
    m.retarget();
  }

  /** Copies this tick's input frame for a member. A member without input this tick is silent. */
  push(id: string, frame: Int16Array, offset = 0): void {
    const m = this.members.get(id);
    if (!m) return; // late packet of a member that already left
    if (frame.length - offset < this.frameSize) throw new RangeError('mixer frame too short');
    m.input.set(frame.subarray(offset, offset + this.frameSize));
    m.hasInput = true;
  }

  /** The member's output of the last `mix()`, valid until the next one. */
  output(id: string): Int16Array | undefined {
    return this.members.get(id)?.out;
  }

  /** Mixes one frame for everyone. */
  mix(): void {
    const list = this.list;
    let steady = true;
    for (let k = 0; k < list.length && steady; k++) steady = list[k]!.steady;
    if (steady) this.mixSteady();
    else this.mixRamping();
  }

  private mixSteady(): void {
    const n = this.frameSize;
    const total = this.totalInt;
    const list = this.list;
    total.fill(0);
    for (let k = 0; k < list.length; k++) {
      const m = list[k]!;
      m.contributed = m.hasInput && m.gain === 1;
      m.whispered = false;
      m.hasInput = false; // a frame is used once; a member that sends nothing next tick is silent
      if (!m.contributed) continue;
      const inp = m.input;
      for (let i = 0; i < n; i++) total[i] = total[i]! + inp[i]!;
    }
    for (let k = 0; k < list.length; k++) {
      const m = list[k]!;
      const out = m.out;
      if (m.contributed) {
        const own = m.input;
        for (let i = 0; i < n; i++) {
          const v = total[i]! - own[i]!;
          out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
        }
      } else {
        for (let i = 0; i < n; i++) {
          const v = total[i]!;
          out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
        }
      }
    }
  }

  private mixRamping(): void {
    const n = this.frameSize;
    const total = this.total;
    total.fill(0);
    const list = this.list;
    for (const m of list) {
      const g0 = m.gain;
      const g1 = m.gainTarget;
      const p0 = m.pub;
      const p1 = m.pubTarget;
      m.gain = g1;
      m.pub = p1;
      m.contributed = false;
      m.whispered = false;
      const hadInput = m.hasInput;
      m.hasInput = false; // a frame is used once; a member that sends nothing next tick is silent
      if (!hadInput || (g0 === 0 && g1 === 0)) continue;
      const inp = m.input;
      const pubPart = m.publicPart;
      const dg = (g1 - g0) / n;
      if (p0 === 1 && p1 === 1) {
        for (let i = 0; i < n; i++) {
          const v = inp[i]! * (g0 + dg * (i + 1));
          pubPart[i] = v;
          total[i] = total[i]! + v;
        }
      } else {
        const dp = (p1 - p0) / n;
        const wp = m.whisperPart;
        const route = m.routeTo;
        const toWhisper = route !== null && this.members.get(route.id) === route;
        for (let i = 0; i < n; i++) {
          const v = inp[i]! * (g0 + dg * (i + 1));
          const p = p0 + dp * (i + 1);
          const pv = v * p;
          pubPart[i] = pv;
          total[i] = total[i]! + pv;
          wp[i] = v - pv;
        }
        m.whispered = toWhisper;
      }
      m.contributed = true;
    }
    for (const m of list) {
      const acc = m.acc;
      if (m.contributed) {
        const own = m.publicPart;
        for (let i = 0; i < n; i++) acc[i] = total[i]! - own[i]!;
      } else acc.set(total);
    }
    for (const m of list) {
      if (m.whispered) {
        const acc = m.routeTo!.acc;
        const wp = m.whisperPart;
        for (let i = 0; i < n; i++) acc[i] = acc[i]! + wp[i]!;
      }
      if (m.pub === 1) m.routeTo = null; // ramp back to public finished
    }
    let finished = false;
    for (const m of list) {
      const acc = m.acc;
      const out = m.out;
      for (let i = 0; i < n; i++) {
        const v = acc[i]!;
        out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : Math.round(v);
      }
      if (m.leaving && m.gain === 0) finished = true;
    }
    if (finished) for (const m of list.slice()) if (m.leaving && m.gain === 0) this.drop(m);
  }

  private get(id: string): Member {
    const m = this.members.get(id);
    if (!m) throw new Error(`no mixer member ${id}`);
    return m;
  }

  private drop(m: Member): void {
    if (this.members.get(m.id) === m) this.members.delete(m.id);
    // A member whispering to `m` keeps its private route, which now leads nowhere: it must not suddenly
    // become audible to everyone because its target hung up.
    this.list = this.list.filter((x) => x !== m);
  }

  /** Drops every member. Safe to call twice. */
  close(): void {
    this.closed = true;
    this.members.clear();
    this.list = [];
  }
}
