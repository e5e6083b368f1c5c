import { describe, expect, it } from 'vitest';
import { ULAW_DECODE } from '../../../server/media/codecs/g711.js';
import { SampleFifo } from '../../../server/media/engine/fifo.js';

const frame = (v: number) => new Int16Array(160).fill(v);

/** Pushes and pops in the given order ('p' = a packet arrives, 't' = a tick takes a frame); returns what each tick got. */
function drive(f: SampleFifo, pattern: string): number[] {
  const out = new Int16Array(160);
  const got: number[] = [];
  let v = 1;
  for (const c of pattern) {
    if (c === 'p') f.push(frame(v++));
    else got.push(f.pop(out) ? out[0]! : 0);
  }
  return got;
}

describe('SampleFifo', () => {
  // Steady packets, then one arrives just after its tick and the next just before the following one.
  const lateOnce = 'ptptpt' + 'tpp' + 'tptptpt';

  it('without prefill, one late packet costs a silent frame (the pre-jitter-buffer behaviour)', () => {
    const f = new SampleFifo(160);
    expect(drive(f, lateOnce)).toContain(0);
    expect(f.underruns).toBe(1);
  });

  it('with a two-frame prefill, the same late packet leaves no hole and no frame is skipped', () => {
    const f = new SampleFifo(160, 160 * 5, 2);
    const got = drive(f, lateOnce);
    // The first tick waits for the second frame; from then on every tick gets the next frame in order.
    expect(got[0]).toBe(0);
    const after = got.slice(1);
    expect(after).not.toContain(0);
    expect(after).toEqual(after.map((_, i) => i + 1));
    expect(f.underruns).toBe(0);
  });

  it('restarts after running dry only once the prefill is buffered again, and bounds the backlog', () => {
    const f = new SampleFifo(160, 160 * 5, 2);
    expect(drive(f, 'ppttt')).toEqual([1, 2, 0]);
    expect(f.underruns).toBe(1);
    expect(drive(f, 'ptpt')).toEqual([0, 1]); // re-priming: the first packet alone does not start output
    const g = new SampleFifo(160, 160 * 5, 2);
    drive(g, 'pppppppp'); // 8 frames pile up (a burst after a stall)
    expect(g.available).toBeLessThanOrEqual(160 * 5);
    expect(g.dropped).toBeGreaterThan(0);
  });

  it('pushDecoded decodes G.711 into the ring as decode-then-push does, across the wrap-around', () => {
    const bytes = Uint8Array.from({ length: 240 }, (_, i) => (i * 53 + 7) & 0xff);
    const viaPush = new SampleFifo(160);
    const direct = new SampleFifo(160);
    const pcm = new Int16Array(240);
    const a = new Int16Array(160);
    const b = new Int16Array(160);
    // 240-sample packets against 160-sample frames: the write and read positions wrap at every offset.
    for (let round = 0; round < 30; round++) {
      for (let i = 0; i < 240; i++) pcm[i] = ULAW_DECODE[bytes[(i + round) % 240]!]!;
      viaPush.push(pcm, 240);
      const shifted = Uint8Array.from({ length: 250 }, (_, i) => (i < 10 ? 0 : bytes[(i - 10 + round) % 240]!));
      direct.pushDecoded(shifted, 10, 240, ULAW_DECODE);
      for (let k = 0; k < 2; k++) {
        expect(direct.pop(b)).toBe(viaPush.pop(a));
        expect(Array.from(b)).toEqual(Array.from(a));
      }
      expect(direct.available).toBe(viaPush.available);
    }
    expect(direct.dropped).toBe(viaPush.dropped);
  });
});
