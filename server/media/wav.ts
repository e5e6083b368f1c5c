/**
 * WAV (RIFF/WAVE) reading and writing for prompts and call recordings.
 *
 * Reading accepts PCM 8/16/24/32-bit integer, 32-bit float, µ-law and A-law, any rate, any channel count,
 * including WAVE_FORMAT_EXTENSIBLE. Prompts are converted ONCE at load (`loadPrompt8k`) to the engine's
 * native format, 8 kHz mono int16: channels are averaged, then the rate is converted with a Kaiser-windowed
 * sinc (band-limited) resampler whose cutoff sits just under the 4 kHz output Nyquist, so a 44.1/48 kHz studio
 * prompt does not alias its 4–20 kHz content into the telephone band.
 *
 * Writing: `encodeWav` for a whole buffer, and `WavWriter` for recordings: a streaming writer that appends
 * 16-bit PCM (mono, or 2-channel with caller on the left and agent on the right), rewrites the RIFF and
 * data sizes after every chunk it writes and again on close, so a crashed process still leaves a well-formed
 * file that is at most one buffer (about 1 s) short.
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { ALAW_DECODE, ULAW_DECODE } from './codecs/g711.js';

export const WAVE_FORMAT_PCM = 1;
export const WAVE_FORMAT_IEEE_FLOAT = 3;
export const WAVE_FORMAT_ALAW = 6;
export const WAVE_FORMAT_MULAW = 7;
export const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

export class WavError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WavError';
  }
}

export type WavEncoding = 'pcm' | 'float' | 'alaw' | 'ulaw';

export interface WavAudio {
  sampleRate: number;
  encoding: WavEncoding;
  bitsPerSample: number;
  /** One Int16Array per channel (de-interleaved, converted to int16). */
  channels: Int16Array[];
}

/** Parses a WAV file held in memory. Throws WavError on anything it cannot decode. */
export function decodeWav(buf: Uint8Array): WavAudio {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const tag = (o: number) => String.fromCharCode(buf[o]!, buf[o + 1]!, buf[o + 2]!, buf[o + 3]!);
  if (buf.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new WavError('not a RIFF/WAVE file');
  let fmt: { format: number; channels: number; rate: number; blockAlign: number; bits: number } | undefined;
  let data: Uint8Array | undefined;
  let off = 12;
  while (off + 8 <= buf.length) {
    const id = tag(off);
    let size = dv.getUint32(off + 4, true);
    const body = off + 8;
    // Streaming writers leave 0 or 0xFFFFFFFF in the data size; take the rest of the file then.
    if (body + size > buf.length || (id === 'data' && size === 0)) {
      if (id !== 'data') throw new WavError(`chunk ${id} runs past the end of the file`);
      size = buf.length - body;
    }
    if (id === 'fmt ') {
      if (size < 16) throw new WavError('fmt chunk too short');
      let format = dv.getUint16(body, true);
      const bits = dv.getUint16(body + 14, true);
      if (format === WAVE_FORMAT_EXTENSIBLE) {
        if (size < 40) throw new WavError('WAVE_FORMAT_EXTENSIBLE fmt chunk too short');
        format = dv.getUint16(body + 24, true); // first two bytes of the SubFormat GUID
      }
      fmt = {
        format,
        channels: dv.getUint16(body + 2, true),
        rate: dv.getUint32(body + 4, true),
        blockAlign: dv.getUint16(body + 12, true),
        bits,
      };
    } else if (id === 'data') {
      data = buf.subarray(body, body + size);
      if (fmt) break;
    }
    off = body + size + (size & 1); // RIFF chunks are word aligned
  }
  if (!fmt) throw new WavError('no fmt chunk');
  if (!data) throw new WavError('no data chunk');
  const { format, channels: nch, rate, bits } = fmt;
  if (nch < 1 || nch > 16) throw new WavError(`unsupported channel count ${nch}`);
  if (rate < 1000 || rate > 384000) throw new WavError(`unsupported sample rate ${rate}`);
  const bytes = bits >> 3;
  let encoding: WavEncoding;
  if (format === WAVE_FORMAT_PCM && (bits === 8 || bits === 16 || bits === 24 || bits === 32)) encoding = 'pcm';
  else if (format === WAVE_FORMAT_IEEE_FLOAT && bits === 32) encoding = 'float';
  else if (format === WAVE_FORMAT_MULAW && bits === 8) encoding = 'ulaw';
  else if (format === WAVE_FORMAT_ALAW && bits === 8) encoding = 'alaw';
  else throw new WavError(`unsupported WAV format ${format} with ${bits} bits`);
  const frameBytes = bytes * nch;
  const frames = Math.floor(data.length / frameBytes);
  const ddv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: Int16Array[] = [];
  for (let c = 0; c < nch; c++) out.push(new Int16Array(frames));
  for (let c = 0; c < nch; c++) {
    const ch = out[c]!;
    let p = c * bytes;
    for (let i = 0; i < frames; i++, p += frameBytes) {
      let v: number;
      switch (encoding) {
        case 'pcm':
          if (bits === 16) v = ddv.getInt16(p, true);
          else if (bits === 8) v = (data[p]! - 128) << 8;
          else if (bits === 24) v = ddv.getInt16(p + 1, true);
          else v = ddv.getInt32(p, true) >> 16;
          break;
        case 'float': {
          const f = ddv.getFloat32(p, true) * 32768;
          v = f > 32767 ? 32767 : f < -32768 ? -32768 : Math.round(f);
          break;
        }
        case 'ulaw':
          v = ULAW_DECODE[data[p]!]!;
          break;
        case 'alaw':
          v = ALAW_DECODE[data[p]!]!;
          break;
      }
      ch[i] = v;
    }
  }
  return { sampleRate: rate, encoding, bitsPerSample: bits, channels: out };
}

/** Averages all channels into one (a plain mean, so a signal on one side only loses 6 dB, never clips). */
export function downmix(channels: readonly Int16Array[]): Int16Array {
  if (channels.length === 0) return new Int16Array(0);
  if (channels.length === 1) return channels[0]!;
  const n = channels[0]!.length;
  const out = new Int16Array(n);
  const k = channels.length;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < k; c++) s += channels[c]![i]!;
    out[i] = Math.round(s / k);
  }
  return out;
}

export interface ResampleOptions {
  /** Sinc zero crossings on each side of the kernel (in units of the lower of the two rates); default 32. */
  zeroCrossings?: number;
  /** Cutoff as a fraction of the lower Nyquist frequency; default 0.92 (3.68 kHz for 8 kHz output). */
  cutoff?: number;
  /** Kaiser window beta; default 8.6 (≈ 85 dB side lobes). */
  beta?: number;
}

function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 50; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * Band-limited resampling (windowed sinc, Kaiser window). For rational ratios with up to 4096 phases (every
 * common audio rate to 8 kHz) the kernel is tabulated per output phase; otherwise it is evaluated directly.
 * Meant for load time, not for the per-packet path.
 */
export function resample(input: Int16Array, fromRate: number, toRate: number, opts: ResampleOptions = {}): Int16Array {
  if (!(fromRate > 0 && toRate > 0) || !Number.isInteger(fromRate) || !Number.isInteger(toRate))
    throw new RangeError(`bad rates ${fromRate} → ${toRate}`);
  if (fromRate === toRate) return input.slice();
  const zeros = opts.zeroCrossings ?? 32;
  const beta = opts.beta ?? 8.6;
  const ratio = toRate / fromRate;
  // Normalised cutoff relative to the INPUT sample rate's Nyquist.
  const fc = Math.min(1, ratio) * (opts.cutoff ?? 0.92);
  const half = Math.ceil(zeros / fc); // kernel half width in input samples
  const outLen = Math.floor((input.length * toRate) / fromRate);
  const out = new Int16Array(outLen);
  const i0b = besselI0(beta);
  const kernel = (t: number): number => {
    // t in input samples from the output instant.
    const r = t / (half + 1);
    if (r <= -1 || r >= 1) return 0;
    const w = besselI0(beta * Math.sqrt(1 - r * r)) / i0b;
    const x = Math.PI * fc * t;
    return fc * w * (x === 0 ? 1 : Math.sin(x) / x);
  };
  const g = gcd(fromRate, toRate);
  const phases = toRate / g; // output instants repeat their fractional position every `phases` samples
  const step = fromRate / g; // input samples advanced per `phases` outputs
  const taps = 2 * half;
  let table: Float64Array | undefined;
  if (phases <= 4096) {
    table = new Float64Array(phases * taps);
    for (let p = 0; p < phases; p++) {
      const frac = ((p * step) % phases) / phases;
      for (let j = 0; j < taps; j++) table[p * taps + j] = kernel(j - half + 1 - frac);
    }
  }
  const n = input.length;
  for (let o = 0; o < outLen; o++) {
    // Exact integer arithmetic for the input position: o * from / to = base + frac.
    const num = o * step;
    const base = Math.floor(num / phases);
    const p = o % phases;
    const first = base - half + 1;
    let acc = 0;
    if (table) {
      const t0 = p * taps;
      for (let j = 0; j < taps; j++) {
        const k = first + j;
        if (k >= 0 && k < n) acc += input[k]! * table[t0 + j]!;
      }
    } else {
      const frac = (num % phases) / phases;
      for (let j = 0; j < taps; j++) {
        const k = first + j;
        if (k >= 0 && k < n) acc += input[k]! * kernel(j - half + 1 - frac);
      }
    }
    out[o] = acc > 32767 ? 32767 : acc < -32768 ? -32768 : Math.round(acc);
  }
  return out;
}

/** Decodes a WAV buffer into 8 kHz mono int16, the engine's native format. */
export function toPrompt8k(audio: WavAudio, opts?: ResampleOptions): Int16Array {
  const mono = downmix(audio.channels);
  return audio.sampleRate === 8000 ? mono : resample(mono, audio.sampleRate, 8000, opts);
}

export async function readWavFile(path: string): Promise<WavAudio> {
  return decodeWav(await readFile(path));
}

/** Reads a prompt file and converts it to 8 kHz mono once. */
export async function loadPrompt8k(path: string, opts?: ResampleOptions): Promise<Int16Array> {
  return toPrompt8k(await readWavFile(path), opts);
}

const HEADER_BYTES = 44;

/** A canonical 44-byte PCM 16-bit header. `dataBytes` is clamped to what a 32-bit RIFF size can say. */
export function wavHeader(dataBytes: number, channels: number, sampleRate: number): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  const d = Math.min(dataBytes, 0xffffffff - 36);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + d, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(WAVE_FORMAT_PCM, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(d, 40);
  return h;
}

/** A complete 16-bit PCM WAV from one (mono) or several equally long channels. */
export function encodeWav(channels: readonly Int16Array[], sampleRate = 8000): Buffer {
  const nch = channels.length;
  if (nch < 1) throw new RangeError('encodeWav needs at least one channel');
  const frames = channels[0]!.length;
  for (const c of channels) if (c.length !== frames) throw new RangeError('channels differ in length');
  const buf = Buffer.alloc(HEADER_BYTES + frames * nch * 2);
  wavHeader(frames * nch * 2, nch, sampleRate).copy(buf, 0);
  let p = HEADER_BYTES;
  for (let i = 0; i < frames; i++) for (let c = 0; c < nch; c++, p += 2) buf.writeInt16LE(channels[c]![i]!, p);
  return buf;
}

export interface WavWriterOptions {
  channels?: 1 | 2;
  sampleRate?: number;
  /** Bytes buffered before a write is issued; default 32 KiB (1 s of 8 kHz stereo). */
  bufferBytes?: number;
}

/**
 * Streaming 16-bit PCM WAV writer for recordings. Samples are copied into a preallocated buffer and
 * written asynchronously in large chunks, in order; `close()` flushes, patches the sizes and closes the file.
 * A write error is kept and rethrown by `close()` (the recorder must not crash the call on a full disk).
 */
export class WavWriter {
  private buf: Buffer;
  private used = 0;
  private dataBytes = 0;
  /** File offset of the next chunk: positional writes leave the descriptor's own position untouched. */
  private filePos = HEADER_BYTES;
  private chain: Promise<void> = Promise.resolve();
  private error: unknown;
  private closing?: Promise<void>;
  readonly channels: 1 | 2;
  readonly sampleRate: number;

  private constructor(
    private readonly fh: FileHandle,
    opts: WavWriterOptions,
  ) {
    this.channels = opts.channels ?? 1;
    this.sampleRate = opts.sampleRate ?? 8000;
    this.buf = Buffer.alloc(Math.max(1024, opts.bufferBytes ?? 32768));
  }

  static async create(path: string, opts: WavWriterOptions = {}): Promise<WavWriter> {
    const fh = await open(path, 'w');
    const w = new WavWriter(fh, opts);
    try {
      // Provisional header with zero sizes; readers (and decodeWav) then take the rest of the file.
      await fh.write(wavHeader(0, w.channels, w.sampleRate), 0, HEADER_BYTES, 0);
    } catch (err) {
      await fh.close();
      throw err;
    }
    return w;
  }

  /** Bytes of sample data accepted so far. */
  get bytesWritten(): number {
    return this.dataBytes;
  }

  /** Appends mono samples (mono writer only). */
  write(samples: Int16Array, n = samples.length): void {
    if (this.channels !== 1) throw new Error('WavWriter.write on a stereo writer; use writeStereo');
    this.assertOpen();
    for (let i = 0; i < n; i++) {
      if (this.used + 2 > this.buf.length) this.flush();
      this.buf.writeInt16LE(samples[i]!, this.used);
      this.used += 2;
    }
    this.dataBytes += n * 2;
  }

  /** Appends `n` frames interleaving left and right (stereo writer only). A missing side is silence. */
  writeStereo(left: Int16Array | null, right: Int16Array | null, n: number): void {
    if (this.channels !== 2) throw new Error('WavWriter.writeStereo on a mono writer');
    this.assertOpen();
    for (let i = 0; i < n; i++) {
      if (this.used + 4 > this.buf.length) this.flush();
      this.buf.writeInt16LE(left ? left[i]! : 0, this.used);
      this.buf.writeInt16LE(right ? right[i]! : 0, this.used + 2);
      this.used += 4;
    }
    this.dataBytes += n * 4;
  }

  private assertOpen(): void {
    if (this.closing) throw new Error('WavWriter is closed');
  }

  private flush(): void {
    if (this.used === 0) return;
    const chunk = this.buf.subarray(0, this.used);
    // Hand the full buffer to the pending write and continue in a fresh one.
    this.buf = Buffer.alloc(this.buf.length);
    this.used = 0;
    const at = this.filePos;
    this.filePos += chunk.length;
    this.chain = this.chain.then(async () => {
      if (this.error) return;
      try {
        await this.fh.write(chunk, 0, chunk.length, at);
        // Keep the header true after every chunk, so a recording cut short by a crash is still well-formed.
        await this.patchSizes(at + chunk.length - HEADER_BYTES);
      } catch (err) {
        this.error = err;
      }
    });
  }

  private async patchSizes(dataBytes: number): Promise<void> {
    const h = wavHeader(dataBytes, this.channels, this.sampleRate);
    await this.fh.write(h, 4, 4, 4); // RIFF size
    await this.fh.write(h, 40, 4, 40); // data size
  }

  /** Flushes, writes the final sizes into the header and closes. Safe to call twice. */
  close(): Promise<void> {
    if (!this.closing) {
      this.flush();
      this.closing = this.chain.then(async () => {
        try {
          if (!this.error) await this.patchSizes(this.dataBytes);
        } finally {
          await this.fh.close();
        }
        if (this.error) throw this.error;
      });
    }
    return this.closing;
  }
}
