import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../server/util/clock.js';
import { CallerHangup, DigitBuffer } from '../../server/ivr/digits.js';

describe('DigitBuffer', () => {
  it('buffers typeahead and times out on the clock', async () => {
    const clock = new FakeClock();
    const b = new DigitBuffer(clock);
    b.push('1');
    expect(await b.next(1000)).toBe('1');
    const p = b.next(1000);
    clock.advance(999);
    b.push('2');
    expect(await p).toBe('2');
    const q = b.next(1000);
    clock.advance(1000);
    expect(await q).toBeNull();
    expect(clock.pending).toBe(0);
  });

  it('swallows a terminator that follows a full entry, only within the window', async () => {
    const clock = new FakeClock();
    const b = new DigitBuffer(clock);
    b.swallowNext('#', 3000);
    clock.advance(500);
    b.push('#');
    expect(b.pending).toBe(0);
    b.swallowNext('#', 3000);
    clock.advance(3001);
    b.push('#');
    expect(b.pending).toBe(1);
    b.flush();
    b.swallowNext('#', 3000);
    b.push('5');
    b.push('#');
    expect(b.pending).toBe(2);
    b.flush();
    b.push('#');
    b.swallowNext('#', 3000);
    expect(b.pending).toBe(0);
  });

  it('fail() rejects the waiting reader and every later read', async () => {
    const clock = new FakeClock();
    const b = new DigitBuffer(clock);
    const p = b.next(5000);
    b.fail(new CallerHangup());
    await expect(p).rejects.toBeInstanceOf(CallerHangup);
    await expect(b.next(10)).rejects.toBeInstanceOf(CallerHangup);
    expect(clock.pending).toBe(0);
  });
});
