import { describe, expect, it } from 'vitest';
import {
  ALAW_DECODE,
  ALAW_TO_ULAW,
  PCMA,
  PCMU,
  ULAW_DECODE,
  ULAW_TO_ALAW,
  alawToLinear,
  alawToUlaw,
  decodeAlaw,
  decodeUlaw,
  encodeAlaw,
  encodeUlaw,
  g711ByName,
  linearToAlaw,
  linearToUlaw,
  ulawToAlaw,
  ulawToLinear,
} from '../../../server/media/codecs/g711.js';

// Independent scalar implementation of the classic Sun Microsystems g711.c (CCITT reference
// used by sox/ffmpeg/asterisk) to cross-check the table-driven G.191 port.
const SEG_AEND = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
const SEG_UEND = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];
function search(v: number, table: number[]): number {
  for (let i = 0; i < table.length; i++) if (v <= table[i]!) return i;
  return table.length;
}
function sunLinear2alaw(pcm: number): number {
  let v = pcm >> 3;
  let mask: number;
  if (v >= 0) mask = 0xd5;
  else {
    mask = 0x55;
    v = -v - 1;
  }
  const seg = search(v, SEG_AEND);
  if (seg >= 8) return 0x7f ^ mask;
  let aval = seg << 4;
  aval |= seg < 2 ? (v >> 1) & 0xf : (v >> seg) & 0xf;
  return aval ^ mask;
}
function sunLinear2ulaw(pcm: number): number {
  let v = pcm >> 2;
  let mask: number;
  if (v < 0) {
    v = -v;
    mask = 0x7f;
  } else mask = 0xff;
  if (v > 8159) v = 8159;
  v += 33;
  const seg = search(v, SEG_UEND);
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((v >> (seg + 1)) & 0xf)) ^ mask;
}

describe('G.711 reference points (ITU G.711 Tables 1a/2a, 16-bit scaled)', () => {
  it('µ-law decoder outputs', () => {
    expect(ulawToLinear(0xff)).toBe(0);
    expect(ulawToLinear(0x7f)).toBe(0);
    expect(ulawToLinear(0x80)).toBe(32124);
    expect(ulawToLinear(0x00)).toBe(-32124);
    expect(ulawToLinear(0xf0)).toBe(120); // end of segment 0 (14-bit value 30)
    expect(ulawToLinear(0xef)).toBe(132); // start of segment 1 (14-bit value 33)
    expect(ulawToLinear(0x70)).toBe(-120);
    expect(ulawToLinear(0xdf)).toBe(396); // segment 2 start (99 × 4)
  });
  it('µ-law encoder decisions', () => {
    expect(linearToUlaw(0)).toBe(0xff);
    expect(linearToUlaw(-1)).toBe(0x7f);
    expect(linearToUlaw(32767)).toBe(0x80);
    expect(linearToUlaw(-32768)).toBe(0x00);
    expect(linearToUlaw(120)).toBe(0xf0);
    expect(linearToUlaw(132)).toBe(0xef);
    // 14-bit decision level 31 (= 124 in 16-bit) separates codes 0xF0 and 0xEF.
    expect(linearToUlaw(123)).toBe(0xf0);
    expect(linearToUlaw(124)).toBe(0xef);
  });
  it('A-law decoder outputs (even-bit inversion, 0xD5 is +0)', () => {
    expect(alawToLinear(0xd5)).toBe(8);
    expect(alawToLinear(0x55)).toBe(-8);
    expect(alawToLinear(0xaa)).toBe(32256);
    expect(alawToLinear(0x2a)).toBe(-32256);
    expect(alawToLinear(0xc5)).toBe(264); // segment 1 start (13-bit 33)
    expect(alawToLinear(0xd4)).toBe(24);
  });
  it('A-law encoder decisions', () => {
    expect(linearToAlaw(0)).toBe(0xd5);
    expect(linearToAlaw(-1)).toBe(0x55);
    expect(linearToAlaw(15)).toBe(0xd5);
    expect(linearToAlaw(16)).toBe(0xd4);
    expect(linearToAlaw(32767)).toBe(0xaa);
    expect(linearToAlaw(-32768)).toBe(0x2a);
  });
});

describe('G.711 tables over the whole int16 range', () => {
  it('A-law agrees with the Sun g711.c reference for every sample', () => {
    let mismatches = 0;
    for (let x = -32768; x < 32768; x++) if (linearToAlaw(x) !== sunLinear2alaw(x)) mismatches++;
    expect(mismatches).toBe(0);
  });
  it('µ-law agrees with Sun g711.c for x ≥ 0 and within one step for negatives', () => {
    for (let x = 0; x < 32768; x++) {
      if (linearToUlaw(x) !== sunLinear2ulaw(x)) throw new Error(`x=${x}`);
    }
    for (let x = -32768; x < 0; x++) {
      const a = ulawToLinear(linearToUlaw(x));
      const b = ulawToLinear(sunLinear2ulaw(x));
      expect(Math.abs(a - b)).toBeLessThanOrEqual(1024);
    }
  });
  it('round trip error is at most half a quantisation step (plus the clip region)', () => {
    for (let x = -32768; x < 32768; x++) {
      const u = ulawToLinear(linearToUlaw(x));
      const a = alawToLinear(linearToAlaw(x));
      const mag = Math.abs(x);
      // µ-law step in 16-bit units is 8 << segment; segment from the biased magnitude.
      const useg = Math.max(0, Math.floor(Math.log2((Math.min(mag, 32635) + 132) >> 7)));
      const ustep = 8 << useg;
      const uErr = mag > 32124 ? mag - 32124 + ustep : ustep / 2 + 4;
      if (Math.abs(u - x) > uErr) throw new Error(`µ-law x=${x} → ${u}`);
      const aseg = mag < 512 ? 0 : Math.floor(Math.log2(mag >> 8));
      const astep = mag < 512 ? 16 : 16 << aseg;
      const aErr = mag > 32256 ? mag - 32256 + astep : astep / 2 + 8;
      if (Math.abs(a - x) > aErr) throw new Error(`A-law x=${x} → ${a}`);
    }
  });
  it('decode tables are odd-symmetric and monotone per sign half', () => {
    for (let c = 0; c < 128; c++) {
      expect(ULAW_DECODE[c]! + ULAW_DECODE[c | 0x80]!).toBe(0);
      expect(ALAW_DECODE[c]! + ALAW_DECODE[c | 0x80]!).toBe(0);
    }
    // µ-law: codes 0x80..0xFF decrease in value as the code increases.
    for (let c = 0x80; c < 0xff; c++) expect(ULAW_DECODE[c]!).toBeGreaterThan(ULAW_DECODE[c + 1]!);
    // encode(decode(c)) is the identity except for µ-law's negative zero.
    for (let c = 0; c < 256; c++) {
      if (c !== 0x7f) expect(linearToUlaw(ULAW_DECODE[c]!)).toBe(c);
      expect(linearToAlaw(ALAW_DECODE[c]!)).toBe(c);
    }
  });
  it('transcoding tables go through the linear value and survive a round trip', () => {
    for (let c = 0; c < 256; c++) {
      expect(ULAW_TO_ALAW[c]).toBe(linearToAlaw(ulawToLinear(c)));
      const back = ulawToLinear(ALAW_TO_ULAW[ULAW_TO_ALAW[c]!]!);
      const v = ulawToLinear(c);
      // A-law has coarser steps near zero and finer ones near the top: bounded drift.
      expect(Math.abs(back - v)).toBeLessThanOrEqual(Math.max(16, Math.abs(v) / 16));
    }
  });
});

describe('block functions', () => {
  it('encode/decode a sine frame in both laws', () => {
    const pcm = new Int16Array(160);
    for (let i = 0; i < 160; i++) pcm[i] = Math.round(12000 * Math.sin((2 * Math.PI * 1000 * i) / 8000));
    const u = new Uint8Array(160);
    const a = new Uint8Array(160);
    encodeUlaw(pcm, u);
    encodeAlaw(pcm, a);
    const du = new Int16Array(160);
    const da = new Int16Array(160);
    decodeUlaw(u, du);
    decodeAlaw(a, da);
    for (let i = 0; i < 160; i++) {
      expect(Math.abs(du[i]! - pcm[i]!)).toBeLessThanOrEqual(512);
      expect(Math.abs(da[i]! - pcm[i]!)).toBeLessThanOrEqual(512);
    }
    const t = new Uint8Array(u);
    ulawToAlaw(t, t); // in place
    for (let i = 0; i < 160; i++) expect(t[i]).toBe(ULAW_TO_ALAW[u[i]!]);
    alawToUlaw(t, t);
    for (let i = 0; i < 160; i++) expect(Math.abs(ulawToLinear(t[i]!) - du[i]!)).toBeLessThanOrEqual(512);
  });
  it('honours n and rejects a short output', () => {
    const pcm = new Int16Array([1000, 2000, 3000]);
    const out = new Uint8Array(3).fill(7);
    encodeUlaw(pcm, out, 2);
    expect(out[2]).toBe(7);
    expect(() => encodeUlaw(pcm, new Uint8Array(2))).toThrow(RangeError);
    expect(() => decodeAlaw(new Uint8Array(4), new Int16Array(3))).toThrow(RangeError);
  });
  it('codec descriptors', () => {
    expect(g711ByName('pcmu')).toBe(PCMU);
    expect(g711ByName('PCMA')).toBe(PCMA);
    expect(g711ByName('G722')).toBeUndefined();
    expect(PCMU.payloadType).toBe(0);
    expect(PCMA.payloadType).toBe(8);
    expect(linearToUlaw(0)).toBe(PCMU.silenceByte);
    expect(linearToAlaw(0)).toBe(PCMA.silenceByte);
  });
});
