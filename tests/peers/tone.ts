/**
 * Minimal tone check for the peer self-tests. tests/helpers/audio.ts (owned by the media helper) was
 * not there when these tests were written; this inline Goertzel keeps the peers' tests independent.
 */
import { readFileSync } from 'node:fs';

export interface Pcm {
  rate: number;
  samples: Float64Array;
}

/** Reads a 16-bit PCM WAV (mono, or the first channel) into samples in [-1, 1). */
export function readWav16(file: string): Pcm {
  const b = readFileSync(file);
  if (b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WAVE')
    throw new Error(`${file}: not a WAV`);
  let off = 12;
  let rate = 0;
  let channels = 1;
  let bits = 0;
  let data: Buffer | null = null;
  while (off + 8 <= b.length) {
    const id = b.toString('latin1', off, off + 4);
    let size = b.readUInt32LE(off + 4);
    // sndfile leaves the data size at 0 / 0xFFFFFFFF while a call is still being recorded.
    if (id === 'data' && (size === 0 || off + 8 + size > b.length)) size = b.length - off - 8;
    if (id === 'fmt ') {
      channels = b.readUInt16LE(off + 10);
      rate = b.readUInt32LE(off + 12);
      bits = b.readUInt16LE(off + 22);
    } else if (id === 'data') {
      data = b.subarray(off + 8, off + 8 + size);
    }
    off += 8 + size + (size % 2);
  }
  if (!data || bits !== 16 || !rate) throw new Error(`${file}: unsupported WAV (bits ${bits}, rate ${rate})`);
  const n = Math.floor(data.length / (2 * channels));
  const samples = new Float64Array(n);
  for (let i = 0; i < n; i++) samples[i] = data.readInt16LE(i * 2 * channels) / 32768;
  return { rate, samples };
}

/** Power of `hz` in `x` (Goertzel), normalised so a full-share pure tone gives ≈ its mean square. */
export function goertzel(x: Float64Array, rate: number, hz: number): number {
  const w = (2 * Math.PI * hz) / rate;
  const c = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (const v of x) {
    const s0 = v + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return ((s1 * s1 + s2 * s2 - c * s1 * s2) * 2) / (x.length * x.length);
}

export interface ToneReport {
  seconds: number;
  rms: number;
  /** Share of the signal's energy at `hz` (≈1 for a clean tone). */
  share: number;
  /** Strongest frequency, 50 Hz..rate/2 in 10 Hz steps. */
  peakHz: number;
}

/** Analyses the middle 80 % of the recording (skips ramp-up and hang-up edges). */
export function toneReport(file: string, hz: number): ToneReport {
  const { rate, samples } = readWav16(file);
  const seg = samples.subarray(Math.floor(samples.length * 0.1), Math.floor(samples.length * 0.9));
  let energy = 0;
  for (const v of seg) energy += v * v;
  const meanSq = seg.length ? energy / seg.length : 0;
  let peakHz = 0;
  let peak = -1;
  for (let f = 50; f < rate / 2; f += 10) {
    const p = goertzel(seg, rate, f);
    if (p > peak) {
      peak = p;
      peakHz = f;
    }
  }
  return {
    seconds: samples.length / rate,
    rms: Math.sqrt(meanSq),
    share: meanSq > 0 ? goertzel(seg, rate, hz) / meanSq : 0,
    peakHz,
  };
}
