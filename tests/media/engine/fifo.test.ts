import { describe, expect, it } from 'vitest';
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
});
