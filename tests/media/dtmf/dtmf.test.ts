import { describe, expect, it } from 'vitest';
import { decodeAlaw, decodeUlaw, encodeAlaw, encodeUlaw } from '../../../server/media/codecs/g711.js';
import { GoertzelDtmfDetector } from '../../../server/media/dtmf/goertzel.js';
import { buildDtmfRelay, parseDtmfInfo, parseDtmfRelay } from '../../../server/media/dtmf/dtmf-relay.js';
import {
  DtmfReceiver,
  digitToEvent,
  eventToDigit,
  parseTelephoneEvent,
  planDtmfPackets,
  writeTelephoneEvent,
} from '../../../server/media/dtmf/rfc4733.js';

const ROW: Record<string, number> = {};
const COL: Record<string, number> = {};
['123A', '456B', '789C', '*0#D'].forEach((keys, r) =>
  [...keys].forEach((k, c) => {
    ROW[k] = [697, 770, 852, 941][r]!;
    COL[k] = [1209, 1336, 1477, 1633][c]!;
  }),
);

/** Deterministic PRNG (mulberry32) so noise tests are reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Seg {
  digit?: string;
  ms: number;
  amp?: number;
  /** dB the column tone is below the row tone (negative: above). */
  twistDb?: number;
  rowHz?: number;
}

function synth(segs: Seg[], opts: { noise?: number; seed?: number; lead?: number } = {}): Int16Array {
  const total = (opts.lead ?? 0) + segs.reduce((a, s) => a + (s.ms * 8000) / 1000, 0);
  const out = new Int16Array(total);
  const rand = rng(opts.seed ?? 1);
  let p = opts.lead ?? 0;
  for (const s of segs) {
    const n = (s.ms * 8000) / 1000;
    for (let i = 0; i < n; i++) {
      let v = 0;
      if (s.digit) {
        const a = s.amp ?? 6000;
        const ac = a * 10 ** (-(s.twistDb ?? 0) / 20);
        v += a * Math.sin((2 * Math.PI * (s.rowHz ?? ROW[s.digit]!) * i) / 8000);
        v += ac * Math.sin((2 * Math.PI * COL[s.digit]! * i) / 8000 + 1);
      }
      if (opts.noise) v += (rand() * 2 - 1) * opts.noise;
      out[p + i] = Math.max(-32768, Math.min(32767, Math.round(v)));
    }
    p += n;
  }
  return out;
}

/** Feeds in 160-sample RTP frames, as the engine will. */
function detect(samples: Int16Array, det = new GoertzelDtmfDetector()): string {
  let s = '';
  for (let o = 0; o < samples.length; o += 160) s += det.process(samples, o, Math.min(160, samples.length - o));
  return s;
}

/** A crude speech model: glottal pulses (F0 90–260 Hz with vibrato) through moving formant resonators, with
 * syllable envelopes and fricative noise bursts. */
function speechLike(seconds: number, seed: number): Int16Array {
  const n = seconds * 8000;
  const out = new Int16Array(n);
  const rand = rng(seed);
  const formants = [
    [700, 1220, 2600],
    [300, 2300, 3000],
    [600, 1000, 2400],
    [350, 900, 2300],
    [500, 1700, 2500],
  ];
  const state = formants[0]!.map(() => [0, 0]);
  let phase = 0;
  let vowel = 0;
  let f0 = 150;
  for (let i = 0; i < n; i++) {
    if (i % 1600 === 0) {
      vowel = Math.floor(rand() * formants.length);
      f0 = 90 + rand() * 170;
    }
    const t = i / 8000;
    const syl = Math.max(0, Math.sin(Math.PI * ((i % 1600) / 1600))) ** 0.5;
    const fricative = i % 4800 < 800;
    const curF0 = f0 * (1 + 0.05 * Math.sin(2 * Math.PI * 5 * t));
    phase += curF0 / 8000;
    let src = 0;
    if (phase >= 1) {
      phase -= 1;
      src = 1;
    }
    let x = fricative ? (rand() * 2 - 1) * 0.3 : src * 8 + (rand() * 2 - 1) * 0.02;
    let y = 0;
    formants[vowel]!.forEach((f, k) => {
      const r = 0.97;
      const c = 2 * r * Math.cos((2 * Math.PI * f) / 8000);
      const st = state[k]!;
      const v = x + c * st[0]! - r * r * st[1]!;
      st[1] = st[0]!;
      st[0] = v;
      y += v / (k + 1);
    });
    x = y;
    out[i] = Math.max(-32768, Math.min(32767, Math.round(x * 300 * syl)));
  }
  return out;
}

describe('RFC 4733 payload', () => {
  it('parses and writes the 4-byte event', () => {
    const b = Buffer.from('0b8a0320', 'hex'); // '#', E=1, volume 10, duration 800
    expect(parseTelephoneEvent(b)).toEqual({ event: 11, end: true, volume: 10, duration: 800 });
    const out = new Uint8Array(4);
    writeTelephoneEvent(out, { event: 11, end: true, volume: 10, duration: 800 });
    expect(Buffer.from(out).toString('hex')).toBe('0b8a0320');
    expect(parseTelephoneEvent(new Uint8Array(3))).toBeNull();
    expect(eventToDigit(10)).toBe('*');
    expect(eventToDigit(15)).toBe('D');
    expect(eventToDigit(16)).toBe('F');
    expect(eventToDigit(42)).toBeNull();
    expect(digitToEvent('#')).toBe(11);
    expect(digitToEvent('a')).toBe(12);
    expect(() => digitToEvent('x')).toThrow(RangeError);
  });
});

describe('DtmfReceiver', () => {
  function pkt(event: number, end: boolean, duration: number): Uint8Array {
    const p = new Uint8Array(4);
    writeTelephoneEvent(p, { event, end, volume: 10, duration });
    return p;
  }
  it('reports a digit once from start, updates, and the 3 end packets (SIPp repeats their seq)', () => {
    const r = new DtmfReceiver();
    const got: string[] = [];
    let t = 0;
    for (const plan of planDtmfPackets('5', { durationMs: 200 })) {
      const d = r.push(0x01020305, 16000, plan.payload, (t += 20));
      if (d) got.push(d.digit);
    }
    expect(got).toEqual(['5']);
  });
  it('the same digit twice is two events (new timestamps); reordered stragglers are ignored', () => {
    const r = new DtmfReceiver();
    const seen: string[] = [];
    const push = (ts: number, p: Uint8Array, now: number) => {
      const d = r.push(7, ts, p, now);
      if (d) seen.push(d.digit);
    };
    push(1000, pkt(1, false, 160), 0);
    push(1000, pkt(1, true, 800), 100);
    push(2600, pkt(1, false, 160), 300);
    push(1000, pkt(1, true, 800), 310); // late end retransmit of the first press
    push(2600, pkt(1, true, 800), 400);
    push(4200, pkt(2, true, 800), 700); // start lost: the end packet alone still gives the digit
    push(4200, pkt(2, true, 800), 720);
    expect(seen).toEqual(['1', '1', '2']);
  });
  it('a different SSRC with the same timestamp is a different event; a stale replay is a new press', () => {
    const r = new DtmfReceiver(1000);
    expect(r.push(1, 500, pkt(9, false, 160), 0)?.digit).toBe('9');
    expect(r.push(2, 500, pkt(9, false, 160), 10)?.digit).toBe('9');
    expect(r.push(1, 500, pkt(9, false, 320), 60)).toBeNull();
    // SIPp replays dtmf_2833_9.pcap: identical SSRC/timestamp, seconds later.
    expect(r.push(1, 500, pkt(9, false, 160), 5000)?.digit).toBe('9');
    expect(r.push(1, 500, pkt(9, true, 800), 5100)).toBeNull();
    // An unknown event code yields nothing, and neither do its repeats.
    expect(r.push(1, 9999, pkt(200, false, 160), 6000)).toBeNull();
  });
});

describe('planDtmfPackets (RFC 4733 §2.5)', () => {
  it('start with marker, growing durations, 3 identical end packets', () => {
    const plan = planDtmfPackets('#', { durationMs: 100 });
    const evs = plan.map((p) => parseTelephoneEvent(p.payload)!);
    expect(plan.map((p) => p.marker)).toEqual([true, false, false, false, false, false, false]);
    expect(evs.map((e) => e.duration)).toEqual([160, 320, 480, 640, 800, 800, 800]);
    expect(evs.map((e) => e.end)).toEqual([false, false, false, false, true, true, true]);
    expect(evs.every((e) => e.event === 11 && e.volume === 10)).toBe(true);
    expect(plan.map((p) => p.sendAtMs)).toEqual([0, 20, 40, 60, 80, 100, 120]);
    expect(() => planDtmfPackets('5', { durationMs: 10 })).toThrow(RangeError);
  });
});

describe('GoertzelDtmfDetector', () => {
  it('detects all 16 keys in a 60 ms on / 60 ms off sequence', () => {
    const keys = '0123456789*#ABCD';
    const segs: Seg[] = [];
    for (const k of keys) segs.push({ digit: k, ms: 60 }, { ms: 60 });
    expect(detect(synth(segs))).toBe(keys);
  });
  it('detects with white noise at about 15 dB SNR and at low level (−30 dBm0 per tone)', () => {
    const segs: Seg[] = [];
    for (const k of '159#') segs.push({ digit: k, ms: 80 }, { ms: 80 });
    expect(detect(synth(segs, { noise: 2000, seed: 3 }))).toBe('159#');
    const quiet = segs.map((s) => ({ ...s, amp: 720 }));
    expect(detect(synth(quiet))).toBe('159#');
  });
  it('a long press is one digit; the same key after a 40 ms pause is a second digit', () => {
    expect(detect(synth([{ digit: '7', ms: 1500 }]))).toBe('7');
    expect(detect(synth([{ digit: '7', ms: 100 }, { ms: 40 }, { digit: '7', ms: 100 }]))).toBe('77');
  });
  it('40 ms tones are accepted and 15 ms tones rejected at every block alignment', () => {
    for (let lead = 0; lead < 102; lead += 7) {
      expect(detect(synth([{ digit: '3', ms: 40 }, { ms: 40 }], { lead }))).toBe('3');
      expect(detect(synth([{ digit: '3', ms: 15 }, { ms: 40 }], { lead }))).toBe('');
    }
  });
  it('twist: 6 dB either way passes, 12 dB fails; off-frequency by 5 % fails', () => {
    expect(detect(synth([{ digit: '8', ms: 80, twistDb: 6 }]))).toBe('8');
    expect(detect(synth([{ digit: '8', ms: 80, twistDb: -6 }]))).toBe('8');
    expect(detect(synth([{ digit: '8', ms: 80, twistDb: 12 }]))).toBe('');
    expect(detect(synth([{ digit: '8', ms: 80, twistDb: -12 }]))).toBe('');
    expect(detect(synth([{ digit: '8', ms: 80, rowHz: 852 * 1.05 }]))).toBe('');
    expect(detect(synth([{ digit: '8', ms: 80, rowHz: 852 * 1.015 }]))).toBe('8');
  });
  it('does not trigger on a 1 kHz tone, silence, white noise or speech-like audio', () => {
    const tone = new Int16Array(16000);
    for (let i = 0; i < tone.length; i++) tone[i] = Math.round(16000 * Math.sin((2 * Math.PI * 1000 * i) / 8000));
    expect(detect(tone)).toBe('');
    expect(detect(new Int16Array(8000))).toBe('');
    expect(detect(synth([{ ms: 3000 }], { noise: 12000, seed: 9 }))).toBe('');
    for (const seed of [1, 2, 3]) expect(detect(speechLike(10, seed))).toBe('');
  });
  it('the speech model is loud enough to matter (guards the test above)', () => {
    const s = speechLike(2, 1);
    let e = 0;
    for (const x of s) e += x * x;
    expect(Math.sqrt(e / s.length)).toBeGreaterThan(800);
  });
  it('detects tones that went through µ-law and A-law (the real path from a phone)', () => {
    const segs: Seg[] = [];
    for (const k of '2580') segs.push({ digit: k, ms: 60, amp: 3000 }, { ms: 60 });
    const pcm = synth(segs);
    for (const [enc, dec] of [
      [encodeUlaw, decodeUlaw],
      [encodeAlaw, decodeAlaw],
    ] as const) {
      const bytes = new Uint8Array(pcm.length);
      enc(pcm, bytes);
      const back = new Int16Array(pcm.length);
      dec(bytes, back);
      expect(detect(back)).toBe('2580');
    }
  });
  it('reset forgets a half-seen digit', () => {
    const det = new GoertzelDtmfDetector();
    const tone = synth([{ digit: '4', ms: 20 }]);
    det.process(tone);
    det.reset();
    expect(det.process(synth([{ digit: '4', ms: 10 }, { ms: 50 }]))).toBe('');
  });
});

describe('SIP INFO dtmf-relay', () => {
  it('parses JsSIP bodies and variants', () => {
    expect(parseDtmfRelay('Signal=3\r\nDuration=100')).toEqual({ digit: '3', durationMs: 100 });
    expect(parseDtmfRelay('signal= #\nduration=250\n')).toEqual({ digit: '#', durationMs: 250 });
    expect(parseDtmfRelay('Signal=11\r\nDuration=x')).toEqual({ digit: '#', durationMs: null });
    expect(parseDtmfRelay('Signal=a')).toEqual({ digit: 'A', durationMs: null });
    expect(parseDtmfRelay('Signal=xyz\r\nDuration=100')).toBeNull();
    expect(parseDtmfRelay('Duration=100')).toBeNull();
    expect(parseDtmfInfo('application/dtmf-relay; charset=utf-8', 'Signal=*\r\nDuration=160')?.digit).toBe('*');
    expect(parseDtmfInfo('application/dtmf', '5\r\n')).toEqual({ digit: '5', durationMs: null });
    expect(parseDtmfInfo('application/sdp', 'Signal=1')).toBeNull();
    expect(buildDtmfRelay('#', 160)).toBe('Signal=#\r\nDuration=160\r\n');
    expect(parseDtmfRelay(buildDtmfRelay('9'))).toEqual({ digit: '9', durationMs: 100 });
    expect(() => buildDtmfRelay('Z')).toThrow(RangeError);
  });
});
