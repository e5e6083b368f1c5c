/**
 * G.711 µ-law (PCMU, RTP PT 0) and A-law (PCMA, RTP PT 8) codecs, table driven.
 *
 * The encoders follow the ITU-T G.191 Software Tool Library reference (`g711.c`, ulaw_compress /
 * alaw_compress), which is what ITU G.711 Tables 1a/2a describe for 14-bit (µ-law) and 13-bit (A-law)
 * linear input; a 16-bit sample is first reduced by dropping its low bits, exactly as the reference does.
 * The per-sample bit arithmetic runs once at module load to fill 64 K-entry tables (one byte per possible
 * int16), so encoding on the hot path is one array load per sample and never allocates.
 *
 * µ-law ↔ A-law transcoding goes through the linear value (decode then re-encode). G.711 §3/Tables 3-4
 * define a slightly different direct mapping for a few low-level codes; the difference is at most one
 * quantisation step and inaudible, and going through linear keeps a bridged PCMU↔PCMA call identical to
 * decode-mix-encode.
 */

/** The byte a silent frame carries: encode(0). */
export const ULAW_SILENCE = 0xff;
export const ALAW_SILENCE = 0xd5;

/** ITU G.191 ulaw_compress for one 16-bit sample. */
function ulawCompress(x: number): number {
  // ~x (= -x-1) for negatives makes the 16→14-bit truncation symmetric, as in the reference.
  let absno = (x < 0 ? ~x >> 2 : x >> 2) + 33;
  if (absno > 0x1fff) absno = 0x1fff;
  let i = absno >> 6;
  let segno = 1;
  while (i !== 0) {
    segno++;
    i >>= 1;
  }
  const high = 0x08 - segno;
  const low = 0x0f - ((absno >> segno) & 0x0f);
  let out = (high << 4) | low;
  if (x >= 0) out |= 0x80;
  return out;
}

/** ITU G.191 ulaw_expand for one code byte, scaled to 16 bits. */
function ulawExpand(code: number): number {
  const sign = code < 0x80 ? -1 : 1;
  const m = ~code & 0xff;
  const exponent = (m >> 4) & 0x07;
  const mantissa = m & 0x0f;
  const step = 4 << (exponent + 1);
  return sign * ((0x80 << exponent) + step * mantissa + step / 2 - 4 * 33);
}

/** ITU G.191 alaw_compress for one 16-bit sample (13-bit magnitude, even bits inverted: XOR 0x55). */
function alawCompress(x: number): number {
  let ix = x < 0 ? ~x >> 4 : x >> 4;
  if (ix > 15) {
    let iexp = 1;
    while (ix > 16 + 15) {
      ix >>= 1;
      iexp++;
    }
    ix -= 16;
    ix += iexp << 4;
  }
  if (x >= 0) ix |= 0x80;
  return ix ^ 0x55;
}

/** ITU G.191 alaw_expand for one code byte, scaled to 16 bits. */
function alawExpand(code: number): number {
  let ix = code ^ 0x55;
  ix &= 0x7f;
  const iexp = ix >> 4;
  let mant = ix & 0x0f;
  if (iexp > 0) mant += 16;
  mant = (mant << 4) + 0x08;
  if (iexp > 1) mant <<= iexp - 1;
  return code > 127 ? mant : -mant;
}

/** Decoded linear value of every µ-law / A-law byte. */
export const ULAW_DECODE = new Int16Array(256);
export const ALAW_DECODE = new Int16Array(256);
/** Encoded byte of every int16, indexed by `sample & 0xffff`. */
const ULAW_ENCODE = new Uint8Array(65536);
const ALAW_ENCODE = new Uint8Array(65536);
/** Direct transcoding tables, indexed by the source byte. */
export const ULAW_TO_ALAW = new Uint8Array(256);
export const ALAW_TO_ULAW = new Uint8Array(256);

for (let c = 0; c < 256; c++) {
  ULAW_DECODE[c] = ulawExpand(c);
  ALAW_DECODE[c] = alawExpand(c);
}
for (let x = -32768; x < 32768; x++) {
  ULAW_ENCODE[x & 0xffff] = ulawCompress(x);
  ALAW_ENCODE[x & 0xffff] = alawCompress(x);
}
for (let c = 0; c < 256; c++) {
  ULAW_TO_ALAW[c] = ALAW_ENCODE[ULAW_DECODE[c]! & 0xffff]!;
  ALAW_TO_ULAW[c] = ULAW_ENCODE[ALAW_DECODE[c]! & 0xffff]!;
}

export function linearToUlaw(sample: number): number {
  return ULAW_ENCODE[sample & 0xffff]!;
}
export function ulawToLinear(code: number): number {
  return ULAW_DECODE[code & 0xff]!;
}
export function linearToAlaw(sample: number): number {
  return ALAW_ENCODE[sample & 0xffff]!;
}
export function alawToLinear(code: number): number {
  return ALAW_DECODE[code & 0xff]!;
}

/** Encodes `n` samples of `pcm` (default all) into `out`, which must hold at least `n` bytes. */
/** `at`: where in `out` the bytes go (an RTP packet's payload offset: no copy through a scratch frame). */
export function encodeUlaw(pcm: Int16Array, out: Uint8Array, n = pcm.length, at = 0): void {
  checkLength(n, pcm.length, out.length - at);
  for (let i = 0; i < n; i++) out[at + i] = ULAW_ENCODE[pcm[i]! & 0xffff]!;
}
export function decodeUlaw(data: Uint8Array, out: Int16Array, n = data.length): void {
  checkLength(n, data.length, out.length);
  for (let i = 0; i < n; i++) out[i] = ULAW_DECODE[data[i]!]!;
}
export function encodeAlaw(pcm: Int16Array, out: Uint8Array, n = pcm.length, at = 0): void {
  checkLength(n, pcm.length, out.length - at);
  for (let i = 0; i < n; i++) out[at + i] = ALAW_ENCODE[pcm[i]! & 0xffff]!;
}
export function decodeAlaw(data: Uint8Array, out: Int16Array, n = data.length): void {
  checkLength(n, data.length, out.length);
  for (let i = 0; i < n; i++) out[i] = ALAW_DECODE[data[i]!]!;
}
/** µ-law bytes → A-law bytes; `out` may be `data` itself (in-place). */
export function ulawToAlaw(data: Uint8Array, out: Uint8Array, n = data.length): void {
  checkLength(n, data.length, out.length);
  for (let i = 0; i < n; i++) out[i] = ULAW_TO_ALAW[data[i]!]!;
}
export function alawToUlaw(data: Uint8Array, out: Uint8Array, n = data.length): void {
  checkLength(n, data.length, out.length);
  for (let i = 0; i < n; i++) out[i] = ALAW_TO_ULAW[data[i]!]!;
}

function checkLength(n: number, inLen: number, outLen: number): void {
  // A short output would silently drop samples (typed arrays ignore out-of-range writes).
  if (n > inLen || n > outLen) throw new RangeError(`g711: ${n} samples but input ${inLen}, output ${outLen}`);
}

export type G711Name = 'PCMU' | 'PCMA';

/** A codec as the media engine uses it: static payload type (RFC 3551 §6 Table 4), 8 kHz, 1 byte per sample. */
export interface G711Codec {
  readonly name: G711Name;
  readonly payloadType: 0 | 8;
  readonly silenceByte: number;
  encode(pcm: Int16Array, out: Uint8Array, n?: number): void;
  decode(data: Uint8Array, out: Int16Array, n?: number): void;
}

export const PCMU: G711Codec = {
  name: 'PCMU',
  payloadType: 0,
  silenceByte: ULAW_SILENCE,
  encode: encodeUlaw,
  decode: decodeUlaw,
};
export const PCMA: G711Codec = {
  name: 'PCMA',
  payloadType: 8,
  silenceByte: ALAW_SILENCE,
  encode: encodeAlaw,
  decode: decodeAlaw,
};

export function g711ByName(name: string): G711Codec | undefined {
  const n = name.toUpperCase();
  return n === 'PCMU' ? PCMU : n === 'PCMA' ? PCMA : undefined;
}
