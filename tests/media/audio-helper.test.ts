import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeWav } from '../../server/media/wav.js';
import {
  dominantFrequency,
  goertzelPower,
  goertzelPowerOfFile,
  hasSpeechEnergy,
  readWav,
  rms,
  toneShare,
} from '../helpers/audio.js';

const dir = mkdtempSync(join(tmpdir(), 'audio-helper-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, ch: Int16Array[], rate = 8000): string {
  const p = join(dir, name);
  writeFileSync(p, encodeWav(ch, rate));
  return p;
}
function gen(n: number, f: (i: number) => number): Int16Array {
  const s = new Int16Array(n);
  for (let i = 0; i < n; i++) s[i] = Math.max(-32768, Math.min(32767, Math.round(f(i))));
  return s;
}
function rand(seed: number): () => number {
  let x = seed;
  return () => ((x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff) * 2 - 1;
}
/** Voiced syllables: a 110–220 Hz sawtooth-ish harmonic series, changing pitch, 4 syllables/s, plus a little noise. */
function voice(seconds: number): Int16Array {
  const r = rand(5);
  let ph = 0;
  return gen(8000 * seconds, (i) => {
    const f0 = 110 + (110 * ((Math.floor(i / 2000) * 37) % 10)) / 10;
    ph += f0 / 8000;
    let v = 0;
    for (let h = 1; h <= 15; h++) v += Math.sin(2 * Math.PI * h * ph) / h;
    const env = Math.max(0, Math.sin((Math.PI * (i % 2000)) / 2000));
    return 4000 * env * v + 100 * r();
  });
}

describe('tests/helpers/audio', () => {
  const tone = write('tone1k.wav', [gen(8000 * 3, (i) => 16000 * Math.sin((2 * Math.PI * 1000 * i) / 8000))]);
  // 1 s of silence at each end: the middle-80 % rule must still see mostly tone.
  const padded = write('tone440-padded.wav', [
    gen(8000 * 10, (i) => (i < 8000 || i >= 72000 ? 0 : 8000 * Math.sin((2 * Math.PI * 440 * i) / 8000))),
  ]);
  const speech = write('voice.wav', [voice(4)]);
  const silence = write('silence.wav', [new Int16Array(8000 * 2)]);
  const hiss = write('hiss.wav', [
    gen(
      16000,
      (() => {
        const r = rand(1);
        return () => 30 * r();
      })(),
    ),
  ]);

  it('goertzelPower gives a pure tone its mean square', () => {
    const s = gen(8000, (i) => 1000 * Math.sin((2 * Math.PI * 1000 * i) / 8000));
    expect(goertzelPower(s, 8000, 1000)).toBeCloseTo(500000, -3);
    expect(goertzelPower(s, 8000, 1500)).toBeLessThan(10);
    expect(goertzelPowerOfFile(tone, 1000)).toBeGreaterThan((16000 ** 2 / 2) * 0.99);
  });
  it('dominantFrequency finds tones to 1 Hz, also off the 10 Hz grid and at 16 kHz stereo', () => {
    expect(dominantFrequency(tone)).toBe(1000);
    expect(dominantFrequency(padded)).toBe(440);
    const odd = write('odd.wav', [gen(8000 * 2, (i) => 9000 * Math.sin((2 * Math.PI * 1234 * i) / 8000))]);
    expect(dominantFrequency(odd)).toBe(1234);
    const l = gen(32000, (i) => 8000 * Math.sin((2 * Math.PI * 3000 * i) / 16000));
    const st = write('stereo16k.wav', [l, l], 16000);
    expect(readWav(st).rate).toBe(16000);
    expect(dominantFrequency(st)).toBe(3000);
  });
  it('toneShare is ≈1 for a clean tone, small for others and for speech', () => {
    expect(toneShare(tone, 1000)).toBeGreaterThan(0.97);
    expect(toneShare(tone, 440)).toBeLessThan(0.01);
    expect(toneShare(padded, 440)).toBeGreaterThan(0.97);
    // A tone 3 Hz off still counts (drift in a real path).
    const drift = write('drift.wav', [gen(8000 * 2, (i) => 9000 * Math.sin((2 * Math.PI * 1003 * i) / 8000))]);
    expect(toneShare(drift, 1000)).toBeGreaterThan(0.95);
    expect(toneShare(speech, 1000)).toBeLessThan(0.1);
    expect(toneShare(silence, 1000)).toBe(0);
  });
  it('rms in int16 units', () => {
    expect(rms(tone)).toBeCloseTo(16000 / Math.SQRT2, -1);
    expect(rms(silence)).toBe(0);
  });
  it('hasSpeechEnergy: voice yes; tone, silence and low hiss no', () => {
    expect(hasSpeechEnergy(speech)).toBe(true);
    expect(hasSpeechEnergy(tone)).toBe(false);
    expect(hasSpeechEnergy(silence)).toBe(false);
    expect(hasSpeechEnergy(hiss)).toBe(false);
  });
});
