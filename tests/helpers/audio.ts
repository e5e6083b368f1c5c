/**
 * Audio assertions for integration tests: what did the far end actually hear / record?
 * Reads any WAV that server/media/wav.ts reads (PCM 8–32 bit, float, µ-law, A-law; stereo is averaged).
 * Levels are in int16 units (full scale 32768). "Middle 80 %" skips ramp-up and hang-up edges.
 *
 * Every path function has a `...Of(samples, rate)` twin for audio already in memory.
 */
import { readFileSync } from 'node:fs';
import { decodeWav, downmix } from '../../server/media/wav.js';

export interface MonoAudio {
  rate: number;
  samples: Int16Array;
}

/** Reads a WAV file as mono at its own sample rate. */
export function readWav(path: string): MonoAudio {
  const w = decodeWav(readFileSync(path));
  return { rate: w.sampleRate, samples: downmix(w.channels) };
}

/** The middle 80 % of a signal. */
export function middle80(samples: Int16Array): Int16Array {
  return samples.subarray(Math.floor(samples.length * 0.1), Math.floor(samples.length * 0.9));
}

/**
 * Mean-square power of the `hz` component over all of `samples` (Goertzel, rectangular window): a pure tone of
 * amplitude A at exactly `hz` gives A²/2, i.e. its own mean square.
 */
export function goertzelPower(samples: ArrayLike<number>, rate: number, hz: number): number {
  const n = samples.length;
  if (n === 0) return 0;
  const c = 2 * Math.cos((2 * Math.PI * hz) / rate);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const s0 = samples[i]! + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (2 * (s1 * s1 + s2 * s2 - c * s1 * s2)) / (n * n);
}

// 50 ms blocks: 20 Hz bins, so a tone a few Hz off (drift, resampling) keeps > 95 % of its share.
const BLOCK_SECONDS = 0.05;

/** Hann-windowed block Goertzel: tone power per block, tolerant of a tone a few Hz off (clock drift, resampling). */
function blockTonePower(samples: Int16Array, rate: number, hz: number): { tone: number; total: number } {
  const n = Math.max(16, Math.round(rate * BLOCK_SECONDS));
  const c = 2 * Math.cos((2 * Math.PI * hz) / rate);
  const win = hann(n);
  let wsum = 0;
  for (let i = 0; i < n; i++) wsum += win[i]!;
  let tone = 0;
  let total = 0;
  for (let o = 0; o + n <= samples.length; o += n) {
    let s1 = 0;
    let s2 = 0;
    let e = 0;
    for (let i = 0; i < n; i++) {
      const x = samples[o + i]!;
      e += x * x;
      const s0 = x * win[i]! + c * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    // |X_w|² = A²(Σw)²/4 for a tone of amplitude A, whose mean square is A²/2.
    tone += (2 * (s1 * s1 + s2 * s2 - c * s1 * s2)) / (wsum * wsum);
    total += e / n;
  }
  return { tone, total };
}

const hannCache = new Map<number, Float64Array>();
function hann(n: number): Float64Array {
  let w = hannCache.get(n);
  if (!w) {
    w = new Float64Array(n);
    for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
    hannCache.set(n, w);
  }
  return w;
}

/** Share (0..1) of the signal's energy that is at `hz` (± a few Hz), over the middle 80 %. */
export function toneShareOf(samples: Int16Array, rate: number, hz: number): number {
  const { tone, total } = blockTonePower(middle80(samples), rate, hz);
  return total > 0 ? Math.min(1, tone / total) : 0;
}

/** Strongest frequency in the middle 80 %, to 1 Hz (10 Hz scan between minHz and maxHz, then refined). */
export function dominantFrequencyOf(samples: Int16Array, rate: number, minHz = 50, maxHz = rate / 2 - 50): number {
  const seg = middle80(samples);
  let best = 0;
  let bestP = -1;
  const scan = (from: number, to: number, step: number) => {
    for (let f = from; f <= to; f += step) {
      const p = blockTonePower(seg, rate, f).tone;
      if (p > bestP) {
        bestP = p;
        best = f;
      }
    }
  };
  scan(minHz, maxHz, 10);
  const coarse = best;
  scan(Math.max(minHz, coarse - 9), Math.min(maxHz, coarse + 9), 1);
  return best;
}

export function rmsOf(samples: Int16Array): number {
  if (samples.length === 0) return 0;
  let e = 0;
  for (let i = 0; i < samples.length; i++) e += samples[i]! * samples[i]!;
  return Math.sqrt(e / samples.length);
}

export interface SpeechOptions {
  /** A 20 ms frame is active above this RMS; default 180 (≈ −45 dBFS). */
  activeRms?: number;
  /** Share of active frames needed; default 0.2. */
  minActiveShare?: number;
  /** Above this share of one steady tone the audio is a tone, not speech; default 0.6. */
  maxToneShare?: number;
}

/**
 * "Somebody is talking" heuristic: enough 20 ms frames in the middle 80 % carry energy, and the energy is not
 * one steady tone (which is what a beep, ringback or test tone would be). Silence, comfort noise at −60 dBFS
 * and a 1 kHz test tone all return false; a recorded or synthesised voice returns true.
 */
export function hasSpeechEnergyOf(samples: Int16Array, rate: number, opts: SpeechOptions = {}): boolean {
  const seg = middle80(samples);
  const frame = Math.round(rate * 0.02);
  const frames = Math.floor(seg.length / frame);
  if (frames === 0) return false;
  let active = 0;
  for (let f = 0; f < frames; f++) {
    if (rmsOf(seg.subarray(f * frame, (f + 1) * frame)) >= (opts.activeRms ?? 180)) active++;
  }
  if (active / frames < (opts.minActiveShare ?? 0.2)) return false;
  const f0 = dominantFrequencyOf(samples, rate);
  return toneShareOf(samples, rate, f0) < (opts.maxToneShare ?? 0.6);
}

export function goertzelPowerOfFile(path: string, hz: number): number {
  const a = readWav(path);
  return goertzelPower(middle80(a.samples), a.rate, hz);
}
export function dominantFrequency(path: string): number {
  const a = readWav(path);
  return dominantFrequencyOf(a.samples, a.rate);
}
export function toneShare(path: string, hz: number): number {
  const a = readWav(path);
  return toneShareOf(a.samples, a.rate, hz);
}
/** RMS of the whole file in int16 units. */
export function rms(path: string): number {
  return rmsOf(readWav(path).samples);
}
export function hasSpeechEnergy(path: string, opts?: SpeechOptions): boolean {
  const a = readWav(path);
  return hasSpeechEnergyOf(a.samples, a.rate, opts);
}
