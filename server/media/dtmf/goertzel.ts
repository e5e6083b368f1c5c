/**
 * In-band DTMF detection on 8 kHz linear PCM (for callers whose gateway sends tones as audio instead of
 * RFC 4733 events).
 *
 * Eight Goertzel filters (4 row + 4 column frequencies, ITU-T Q.23) run sample by sample over 102-sample blocks
 * (12.75 ms; the block size spandsp and Asterisk use: short enough for the 40 ms minimum tone of Q.24, long
 * enough to separate 697 from 770 Hz). A block is classified as a digit only if
 *  - the strongest row and column tones are both above `minAmplitude`,
 *  - the twist (level difference between the two groups) is within limits,
 *  - every other tone in each group is `relativePeakDb` below the strongest (rejects chords and noise),
 *  - the two tones carry at least `minToneShare` of the block's energy (rejects speech and music, which spread
 *    their energy over many frequencies).
 * A digit is reported once when `minBlocks` consecutive blocks agree, and re-armed only after `releaseBlocks`
 * blocks without it, so a long press gives one digit and a single bad block inside a press does not give two.
 * State is carried between calls, so frames of any size (160-sample RTP frames) can be fed.
 */

const ROWS = [697, 770, 852, 941];
const COLS = [1209, 1336, 1477, 1633];
const KEYS = ['123A', '456B', '789C', '*0#D'];

export interface DtmfDetectorOptions {
  sampleRate?: number;
  blockSize?: number;
  /** Consecutive blocks that must agree before a digit is reported; default 2 (≈ 25–38 ms of tone). */
  minBlocks?: number;
  /** Consecutive blocks without the digit before it may be reported again; default 2. */
  releaseBlocks?: number;
  /** Minimum amplitude of each tone in int16 units; default 400 (≈ −35 dBm0). */
  minAmplitude?: number;
  /** Allowed level difference between the row and column tone, in dB, either direction; default 8. */
  maxTwistDb?: number;
  /** Other tones of a group must be this far below that group's peak; default 8 dB. */
  relativePeakDb?: number;
  /** Share of block energy that the two tones must hold; default 0.7. */
  minToneShare?: number;
}

export class GoertzelDtmfDetector {
  private readonly n: number;
  private readonly coef = new Float64Array(8);
  private readonly s1 = new Float64Array(8);
  private readonly s2 = new Float64Array(8);
  private readonly power = new Float64Array(8);
  private energy = 0;
  private pos = 0;
  private readonly minBlocks: number;
  private readonly releaseBlocks: number;
  private readonly minPower: number;
  private readonly twist: number;
  private readonly relPeak: number;
  private readonly minShare: number;
  private candidate = -1;
  private candidateCount = 0;
  private current = -1;
  private missCount = 0;

  constructor(opts: DtmfDetectorOptions = {}) {
    const rate = opts.sampleRate ?? 8000;
    this.n = opts.blockSize ?? 102;
    const freqs = [...ROWS, ...COLS];
    for (let i = 0; i < 8; i++) this.coef[i] = 2 * Math.cos((2 * Math.PI * freqs[i]!) / rate);
    this.minBlocks = opts.minBlocks ?? 2;
    this.releaseBlocks = opts.releaseBlocks ?? 2;
    // A sine of amplitude A gives Goertzel power (A·N/2)².
    const a = opts.minAmplitude ?? 400;
    this.minPower = ((a * this.n) / 2) ** 2;
    this.twist = 10 ** ((opts.maxTwistDb ?? 8) / 10);
    this.relPeak = 10 ** ((opts.relativePeakDb ?? 8) / 10);
    this.minShare = opts.minToneShare ?? 0.7;
  }

  /** Feeds samples; returns the digits that became valid during them ('' almost always). */
  process(samples: Int16Array, offset = 0, length = samples.length - offset): string {
    let found = '';
    const end = offset + length;
    const { coef, s1, s2 } = this;
    for (let i = offset; i < end; i++) {
      const x = samples[i]!;
      this.energy += x * x;
      for (let k = 0; k < 8; k++) {
        const s = x + coef[k]! * s1[k]! - s2[k]!;
        s2[k] = s1[k]!;
        s1[k] = s;
      }
      if (++this.pos === this.n) {
        const d = this.endBlock();
        if (d) found += d;
      }
    }
    return found;
  }

  private endBlock(): string | null {
    const { coef, s1, s2, power } = this;
    for (let k = 0; k < 8; k++) {
      power[k] = s1[k]! * s1[k]! + s2[k]! * s2[k]! - coef[k]! * s1[k]! * s2[k]!;
      s1[k] = 0;
      s2[k] = 0;
    }
    const energy = this.energy;
    this.energy = 0;
    this.pos = 0;
    const key = this.classify(energy);
    if (key === this.candidate) this.candidateCount++;
    else {
      this.candidate = key;
      this.candidateCount = 1;
    }
    let reported: string | null = null;
    if (this.current >= 0) {
      if (key === this.current) this.missCount = 0;
      else if (++this.missCount >= this.releaseBlocks) this.current = -1;
    }
    if (key >= 0 && key !== this.current && this.candidateCount >= this.minBlocks) {
      this.current = key;
      this.missCount = 0;
      reported = KEYS[key >> 2]![key & 3]!;
    }
    return reported;
  }

  /** Returns row*4+col of the block's digit, or -1. */
  private classify(energy: number): number {
    const p = this.power;
    let r = 0;
    let c = 4;
    for (let k = 1; k < 4; k++) if (p[k]! > p[r]!) r = k;
    for (let k = 5; k < 8; k++) if (p[k]! > p[c]!) c = k;
    const pr = p[r]!;
    const pc = p[c]!;
    if (pr < this.minPower || pc < this.minPower) return -1;
    if (pr > pc * this.twist || pc > pr * this.twist) return -1;
    for (let k = 0; k < 4; k++) if (k !== r && p[k]! * this.relPeak > pr) return -1;
    for (let k = 4; k < 8; k++) if (k !== c && p[k]! * this.relPeak > pc) return -1;
    // Tone mean-square power is 2·P/N²; block mean square is energy/N.
    if ((2 * (pr + pc)) / this.n < this.minShare * energy) return -1;
    return r * 4 + (c - 4);
  }

  /** Forgets partial blocks and the current digit (e.g. when the stream's source changes). */
  reset(): void {
    this.s1.fill(0);
    this.s2.fill(0);
    this.energy = 0;
    this.pos = 0;
    this.candidate = -1;
    this.candidateCount = 0;
    this.current = -1;
    this.missCount = 0;
  }
}
