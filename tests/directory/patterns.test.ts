import { describe, expect, it } from 'vitest';
import { compileDialPattern, matchesDialPattern, mayDial } from '../../server/directory/patterns.js';

describe('dial patterns', () => {
  it.each([
    ['8XXX', '8001', true],
    ['8XXX', '800', false],
    ['8XXX', '80011', false],
    ['1[3-9]XXXXXXXXX', '13812345678', true],
    ['1[3-9]XXXXXXXXX', '12812345678', false],
    ['0ZX.', '02112345678', true],
    ['0ZX.', '021', false],
    ['0ZX.', '00112345', false],
    ['NXX', '200', true],
    ['NXX', '100', false],
    ['12315', '12315', true],
    ['12315', '123156', false],
    ['*9!', '*9', true],
    ['*9!', '*912', true],
    ['+86X.', '+8613800000000', true],
    ['[13#]', '#', true],
    ['[13#]', '2', false],
  ])('%s vs %s → %s', (p, n, want) => {
    expect(matchesDialPattern(p, n)).toBe(want);
  });

  it('rejects malformed patterns', () => {
    for (const p of ['8X.X', '[12', 'abc', '[a-z]', '8XXX;drop']) expect(() => compileDialPattern(p)).toThrow();
  });

  it('mayDial needs one matching pattern', () => {
    expect(mayDial(['8XXX', '3XXX'], '3001')).toBe(true);
    expect(mayDial(['8XXX'], '3001')).toBe(false);
    expect(mayDial([], '8001')).toBe(false);
  });
});
