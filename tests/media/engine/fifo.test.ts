import { describe, expect, it } from 'vitest';
import { ULAW_DECODE } from '../../../server/media/codecs/g711.js';
import { SampleFifo } from '../../../server/media/engine/fifo.js';

/** A "codec" whose byte b decodes to the sample b: packet k is 160 bytes of k, so a frame tells which packet it was. */
const IDENTITY = Int16Array.from({ length: 256 }, (_, b) => b);
const packet = (v: number) => new Uint8Array(160).fill(v);

/** Pushes and pops in the given order ('p' = a packet arrives, 't' = a tick takes a frame); returns what each tick got. */
function drive(f: SampleFifo, pattern: string): number[] {
  const out = new Int16Array(160);
  const got: number[] = [];
  let v = 1;
  for (const c of pattern) {
    if (c === 'p') f.pushDecoded(packet(v++), 0, 160, IDENTITY);
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

  it('pushDecoded decodes G.711 in order across the ring’s wrap-around, from an offset', () => {
    // 240-sample packets behind a 12-byte header against 160-sample frames: two packets, three frames a cycle, so
    // the write and read positions cross the end of the ring at ever-changing offsets.
    const f = new SampleFifo(160);
    const expected: number[] = [];
    const out = new Int16Array(160);
    let b = 0;
    const push = () => {
      const pkt = new Uint8Array(12 + 240);
      for (let i = 0; i < 240; i++) pkt[12 + i] = b++ & 0xff;
      f.pushDecoded(pkt, 12, 240, ULAW_DECODE);
      for (let i = 0; i < 240; i++) expected.push(ULAW_DECODE[pkt[12 + i]!]!);
    };
    const pop = () => {
      expect(f.pop(out)).toBe(true);
      expect(Array.from(out)).toEqual(expected.splice(0, 160));
    };
    for (let cycle = 0; cycle < 30; cycle++) {
      push();
      pop();
      push();
      pop();
      pop();
    }
    expect(f.available).toBe(0);
    expect(f.dropped).toBe(0);
    expect(f.underruns).toBe(0);
  });
});
