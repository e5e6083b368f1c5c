import { afterEach, describe, expect, it } from 'vitest';
import { CoalescingPusher } from '../../server/metrics/wallboard.js';
import { FakeClock } from '../../server/util/clock.js';

let p: CoalescingPusher | null = null;
afterEach(() => p?.close());

describe('wallboard push scheduling', () => {
  it('a burst of changes is one push; pushes are at least 250 ms apart (≤ 4/s)', () => {
    const clock = new FakeClock(0);
    const at: number[] = [];
    p = new CoalescingPusher(clock, () => at.push(clock.now()));
    for (let i = 0; i < 50; i++) p.changed();
    clock.advance(0);
    expect(at).toEqual([0]);
    // A change every 10 ms for a second: 4 more pushes, never closer than 250 ms.
    for (let t = 10; t <= 1000; t += 10) {
      clock.advance(10);
      p.changed();
    }
    clock.advance(0);
    expect(at).toEqual([0, 250, 500, 750, 1000]);
  });

  it('with nothing changing, a heartbeat push every second; a change resets it', () => {
    const clock = new FakeClock(0);
    const at: number[] = [];
    p = new CoalescingPusher(clock, () => at.push(clock.now()));
    clock.advance(3000);
    expect(at).toEqual([1000, 2000, 3000]);
    clock.advance(400);
    p.changed();
    clock.advance(1500);
    expect(at).toEqual([1000, 2000, 3000, 3400, 4400]);
  });

  it('close stops every timer and is safe twice', () => {
    const clock = new FakeClock(0);
    let n = 0;
    p = new CoalescingPusher(clock, () => n++);
    p.changed();
    p.close();
    p.close();
    clock.advance(5000);
    expect(n).toBe(0);
    expect(clock.pending).toBe(0);
  });
});
