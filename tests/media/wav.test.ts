import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { linearToAlaw, linearToUlaw } from '../../server/media/codecs/g711.js';
import {
  WavError,
  WavWriter,
  decodeWav,
  downmix,
  encodeWav,
  loadPrompt8k,
  resample,
  toPrompt8k,
} from '../../server/media/wav.js';

const dir = mkdtempSync(join(tmpdir(), 'wav-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Hand-built WAV, independent of the module's writer. */
function buildWav(opts: {
  format: number;
  channels: number;
  rate: number;
  bits: number;
  data: Buffer;
  extensible?: boolean;
  extraChunk?: boolean;
}): Buffer {
  const fmtLen = opts.extensible ? 40 : 16;
  const fmt = Buffer.alloc(8 + fmtLen);
  fmt.write('fmt ', 0, 'latin1');
  fmt.writeUInt32LE(fmtLen, 4);
  fmt.writeUInt16LE(opts.extensible ? 0xfffe : opts.format, 8);
  fmt.writeUInt16LE(opts.channels, 10);
  fmt.writeUInt32LE(opts.rate, 12);
  const blockAlign = (opts.channels * opts.bits) / 8;
  fmt.writeUInt32LE(opts.rate * blockAlign, 16);
  fmt.writeUInt16LE(blockAlign, 20);
  fmt.writeUInt16LE(opts.bits, 22);
  if (opts.extensible) {
    fmt.writeUInt16LE(22, 24);
    fmt.writeUInt16LE(opts.bits, 26);
    fmt.writeUInt32LE(0, 28);
    fmt.writeUInt16LE(opts.format, 32);
  }
  // An odd-sized LIST chunk tests the RIFF word-alignment pad byte.
  const extra = opts.extraChunk ? Buffer.from('LIST\x03\x00\x00\x00abc\x00', 'latin1') : Buffer.alloc(0);
  const dataHdr = Buffer.alloc(8);
  dataHdr.write('data', 0, 'latin1');
  dataHdr.writeUInt32LE(opts.data.length, 4);
  const body = Buffer.concat([Buffer.from('WAVE', 'latin1'), fmt, extra, dataHdr, opts.data]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

function sine(rate: number, hz: number, n: number, amp = 10000): Int16Array {
  const s = new Int16Array(n);
  for (let i = 0; i < n; i++) s[i] = Math.round(amp * Math.sin((2 * Math.PI * hz * i) / rate));
  return s;
}

/** Amplitude of a frequency component (Goertzel, rectangular window over whole cycles). */
function amplitudeAt(s: Int16Array, rate: number, hz: number, from = 0, to = s.length): number {
  const w = (2 * Math.PI * hz) / rate;
  let re = 0;
  let im = 0;
  for (let i = from; i < to; i++) {
    re += s[i]! * Math.cos(w * i);
    im -= s[i]! * Math.sin(w * i);
  }
  return (2 * Math.hypot(re, im)) / (to - from);
}

function rms(s: Int16Array, from = 0, to = s.length): number {
  let e = 0;
  for (let i = from; i < to; i++) e += s[i]! * s[i]!;
  return Math.sqrt(e / (to - from));
}

describe('decodeWav', () => {
  it('reads 16-bit stereo with an odd extra chunk and de-interleaves', () => {
    const data = Buffer.alloc(4 * 3);
    [100, -100, 200, -200, 32767, -32768].forEach((v, i) => data.writeInt16LE(v, i * 2));
    const w = decodeWav(buildWav({ format: 1, channels: 2, rate: 16000, bits: 16, data, extraChunk: true }));
    expect(w.sampleRate).toBe(16000);
    expect(w.encoding).toBe('pcm');
    expect(Array.from(w.channels[0]!)).toEqual([100, 200, 32767]);
    expect(Array.from(w.channels[1]!)).toEqual([-100, -200, -32768]);
    expect(Array.from(downmix(w.channels))).toEqual([0, 0, 0]);
  });
  it('reads µ-law and A-law WAV', () => {
    const pcm = [0, 1000, -1000, 30000];
    const u = decodeWav(
      buildWav({ format: 7, channels: 1, rate: 8000, bits: 8, data: Buffer.from(pcm.map(linearToUlaw)) }),
    );
    const a = decodeWav(
      buildWav({ format: 6, channels: 1, rate: 8000, bits: 8, data: Buffer.from(pcm.map(linearToAlaw)) }),
    );
    expect(u.encoding).toBe('ulaw');
    expect(a.encoding).toBe('alaw');
    for (let i = 0; i < pcm.length; i++) {
      expect(Math.abs(u.channels[0]![i]! - pcm[i]!)).toBeLessThanOrEqual(Math.abs(pcm[i]!) / 16 + 8);
      expect(Math.abs(a.channels[0]![i]! - pcm[i]!)).toBeLessThanOrEqual(Math.abs(pcm[i]!) / 16 + 8);
    }
  });
  it('reads 8-bit, 24-bit, float and WAVE_FORMAT_EXTENSIBLE', () => {
    const d8 = Buffer.from([128, 255, 0]);
    expect(
      Array.from(decodeWav(buildWav({ format: 1, channels: 1, rate: 8000, bits: 8, data: d8 })).channels[0]!),
    ).toEqual([0, 127 << 8, -32768]);
    const d24 = Buffer.from([0x00, 0x34, 0x12, 0x00, 0x00, 0x80]);
    const w24 = decodeWav(buildWav({ format: 1, channels: 1, rate: 8000, bits: 24, data: d24, extensible: true }));
    expect(Array.from(w24.channels[0]!)).toEqual([0x1234, -32768]);
    const df = Buffer.alloc(12);
    df.writeFloatLE(0.5, 0);
    df.writeFloatLE(-1.5, 4);
    df.writeFloatLE(-0.25, 8);
    const wf = decodeWav(buildWav({ format: 3, channels: 1, rate: 22050, bits: 32, data: df }));
    expect(Array.from(wf.channels[0]!)).toEqual([16384, -32768, -8192]);
  });
  it('rejects garbage and unsupported formats', () => {
    expect(() => decodeWav(Buffer.from('not a wav file at all'))).toThrow(WavError);
    expect(() => decodeWav(buildWav({ format: 2, channels: 1, rate: 8000, bits: 4, data: Buffer.alloc(10) }))).toThrow(
      /unsupported WAV format/,
    );
    const truncated = buildWav({ format: 1, channels: 1, rate: 8000, bits: 16, data: Buffer.alloc(10) });
    expect(() => decodeWav(truncated.subarray(0, 30))).toThrow(WavError);
  });
});

describe('resample (windowed sinc)', () => {
  it('keeps a 1 kHz tone at its amplitude from 48 kHz and 44.1 kHz', () => {
    for (const rate of [48000, 44100, 16000, 11025]) {
      const out = resample(sine(rate, 1000, rate), rate, 8000);
      expect(out.length).toBe(8000);
      const a = amplitudeAt(out, 8000, 1000, 800, 7200);
      expect(a).toBeGreaterThan(10000 * 0.97);
      expect(a).toBeLessThan(10000 * 1.03);
      // Nothing else: the residual after the tone is tiny.
      expect(amplitudeAt(out, 8000, 3000, 800, 7200)).toBeLessThan(20);
    }
  });
  it('removes content above 4 kHz instead of aliasing it (4.5 kHz and 6 kHz at 48 kHz)', () => {
    for (const hz of [4500, 6000]) {
      const out = resample(sine(48000, hz, 48000), 48000, 8000);
      // Unfiltered decimation would fold these to 3.5 kHz / 2 kHz at full amplitude.
      expect(rms(out, 800, 7200)).toBeLessThan(10000 * 0.001);
    }
  });
  it('passes 3 kHz nearly unchanged from 44.1 kHz', () => {
    const out = resample(sine(44100, 3000, 44100), 44100, 8000);
    expect(amplitudeAt(out, 8000, 3000, 800, 7200)).toBeGreaterThan(10000 * 0.95);
  });
  it('upsamples 6 kHz to 8 kHz and copies equal rates', () => {
    const out = resample(sine(6000, 500, 6000), 6000, 8000);
    expect(out.length).toBe(8000);
    expect(amplitudeAt(out, 8000, 500, 800, 7200)).toBeGreaterThan(9700);
    const same = sine(8000, 440, 100);
    const copy = resample(same, 8000, 8000);
    expect(copy).not.toBe(same);
    expect(Array.from(copy)).toEqual(Array.from(same));
  });
  it('stereo 48 kHz prompt → 8 kHz mono', () => {
    const l = sine(48000, 1000, 4800);
    const r = sine(48000, 1000, 4800);
    const mono = toPrompt8k({ sampleRate: 48000, encoding: 'pcm', bitsPerSample: 16, channels: [l, r] });
    expect(mono.length).toBe(800);
    expect(amplitudeAt(mono, 8000, 1000, 200, 600)).toBeGreaterThan(9500);
  });
});

describe('writing', () => {
  it('encodeWav round-trips through decodeWav', () => {
    const l = sine(8000, 440, 333);
    const r = sine(8000, 1000, 333);
    const buf = encodeWav([l, r]);
    expect(buf.length).toBe(44 + 333 * 4);
    const w = decodeWav(buf);
    expect(w.sampleRate).toBe(8000);
    expect(Array.from(w.channels[0]!)).toEqual(Array.from(l));
    expect(Array.from(w.channels[1]!)).toEqual(Array.from(r));
  });
  it('WavWriter streams mono in several flushes and patches the sizes; close twice is safe', async () => {
    const path = join(dir, 'mono.wav');
    const w = await WavWriter.create(path, { bufferBytes: 1024 });
    const parts = [sine(8000, 400, 700), sine(8000, 800, 160), sine(8000, 1200, 1000)];
    for (const p of parts) w.write(p);
    expect(w.bytesWritten).toBe(1860 * 2);
    await Promise.all([w.close(), w.close()]);
    await w.close();
    expect(() => w.write(parts[0]!)).toThrow(/closed/);
    const file = readFileSync(path);
    expect(file.length).toBe(44 + 1860 * 2);
    expect(file.readUInt32LE(4)).toBe(file.length - 8);
    expect(file.readUInt32LE(40)).toBe(1860 * 2);
    const all = new Int16Array(1860);
    all.set(parts[0]!, 0);
    all.set(parts[1]!, 700);
    all.set(parts[2]!, 860);
    expect(Array.from(decodeWav(file).channels[0]!)).toEqual(Array.from(all));
    expect(Array.from(await loadPrompt8k(path))).toEqual(Array.from(all));
  });
  it('WavWriter stereo interleaves caller left, agent right; a missing side is silence', async () => {
    const path = join(dir, 'stereo.wav');
    const w = await WavWriter.create(path, { channels: 2 });
    const a = sine(8000, 500, 160);
    const b = sine(8000, 700, 160);
    w.writeStereo(a, b, 160);
    w.writeStereo(null, b, 160);
    // Before close the header still says 0 bytes; the reader takes the rest of the file.
    await w.close();
    const d = decodeWav(readFileSync(path));
    expect(d.channels.length).toBe(2);
    expect(Array.from(d.channels[0]!.subarray(0, 160))).toEqual(Array.from(a));
    expect(Array.from(d.channels[0]!.subarray(160))).toEqual(new Array(160).fill(0));
    expect(Array.from(d.channels[1]!.subarray(160))).toEqual(Array.from(b));
    expect(statSync(path).size).toBe(44 + 320 * 4);
  });
  it('a header left with zero sizes (crashed recorder) is still readable', () => {
    const buf = encodeWav([sine(8000, 440, 50)]);
    buf.writeUInt32LE(0, 4);
    buf.writeUInt32LE(0, 40);
    expect(decodeWav(buf).channels[0]!.length).toBe(50);
  });
});

describe('WavWriter crash safety', () => {
  it('the header already matches the data written before close', async () => {
    const path = join(dir, 'partial.wav');
    const w = await WavWriter.create(path, { bufferBytes: 1024 });
    w.write(sine(8000, 440, 2000)); // 4000 bytes: three full 1024-byte chunks are flushed
    // Let the queued writes land without closing (as if the process died now).
    for (let i = 0; i < 200 && readFileSync(path).readUInt32LE(40) < 3 * 1024; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const file = readFileSync(path);
    expect(file.length).toBe(44 + 3 * 1024);
    expect(file.readUInt32LE(40)).toBe(3 * 1024);
    expect(file.readUInt32LE(4)).toBe(36 + 3 * 1024);
    await w.close();
    expect(readFileSync(path).readUInt32LE(40)).toBe(4000);
  });
});
