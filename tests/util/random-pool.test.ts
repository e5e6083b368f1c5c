import { describe, expect, it } from 'vitest';
import { RandomPool } from '../../server/util/random-pool.js';

describe('RandomPool', () => {
  it('hands out fresh values across refills, in the asked shapes', () => {
    const pool = new RandomPool(64);
    const words = new Set<number>();
    for (let i = 0; i < 1000; i++) words.add(pool.uint32()); // ~63 refills of 64 bytes
    // 1000 draws from 2^32: a repeat is a one-in-ten-thousand event, a stuck pool repeats at once.
    expect(words.size).toBeGreaterThan(995);
    for (const w of words) expect(Number.isInteger(w) && w >= 0 && w < 2 ** 32).toBe(true);
    const halves = Array.from({ length: 200 }, () => pool.uint16());
    expect(Math.max(...halves)).toBeLessThan(2 ** 16);
    expect(new Set(halves).size).toBeGreaterThan(150);
    expect(pool.token(6, 'hex')).toMatch(/^[0-9a-f]{12}$/);
    expect(pool.token(12)).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(pool.token(60)).not.toBe(pool.token(60)); // a take that does not fit what is left refills first
  });

  it('refuses more than one pool at once', () => {
    expect(() => new RandomPool(16).token(17)).toThrow(RangeError);
  });
});
