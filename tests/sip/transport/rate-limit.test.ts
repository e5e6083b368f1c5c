import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../server/util/clock.js';
import { RateLimiter } from '../../../server/sip/transport/rate-limit.js';

describe('RateLimiter', () => {
  it('allows a burst, then refills at the sustained rate', () => {
    const clock = new FakeClock();
    const rl = new RateLimiter({ perSecond: 10, burst: 5 }, clock);
    const first = Array.from({ length: 8 }, () => rl.allow('1.2.3.4'));
    expect(first).toEqual([true, true, true, true, true, false, false, false]);
    expect(rl.droppedCount).toBe(3);
    clock.advance(100); // one token at 10/s
    expect(rl.allow('1.2.3.4')).toBe(true);
    expect(rl.allow('1.2.3.4')).toBe(false);
    clock.advance(10_000);
    expect(Array.from({ length: 6 }, () => rl.allow('1.2.3.4')).filter(Boolean)).toHaveLength(5);
  });

  it('keeps sources apart', () => {
    const clock = new FakeClock();
    const rl = new RateLimiter({ perSecond: 1, burst: 1 }, clock);
    expect(rl.allow('a')).toBe(true);
    expect(rl.allow('a')).toBe(false);
    expect(rl.allow('b')).toBe(true);
  });

  it('never tracks more than maxSources, evicting the least recently seen', () => {
    const clock = new FakeClock();
    const rl = new RateLimiter({ perSecond: 1, burst: 1, maxSources: 3 }, clock);
    for (const k of ['a', 'b', 'c']) rl.allow(k);
    rl.allow('a'); // a is now most recent (and empty)
    rl.allow('d'); // evicts b
    expect(rl.size).toBe(3);
    expect(rl.allow('a')).toBe(false); // a was kept: still empty
    expect(rl.allow('b')).toBe(true); // b was forgotten: fresh bucket
    for (let i = 0; i < 1000; i++) rl.allow(`x${i}`);
    expect(rl.size).toBe(3);
  });

  it('forgets idle sources once their bucket would be full again', () => {
    const clock = new FakeClock();
    const rl = new RateLimiter({ perSecond: 10, burst: 10 }, clock); // refills in 1 s
    for (let i = 0; i < 100; i++) rl.allow(`10.0.0.${i}`);
    expect(rl.size).toBe(100);
    clock.advance(1500);
    rl.allow('10.0.1.1');
    expect(rl.size).toBe(1);
  });

  it('refuses nonsense settings', () => {
    expect(() => new RateLimiter({ perSecond: 0, burst: 1 }, new FakeClock())).toThrow();
  });
});
