import { describe, expect, it } from 'vitest';
import { codePoints } from '../../server/util/text.js';

describe('codePoints', () => {
  it('counts a surrogate pair once and a lone surrogate as one', () => {
    expect(codePoints('中文abc')).toBe(5);
    expect(codePoints('😀a😀')).toBe(3);
    expect(codePoints('\ud83d')).toBe(1);
    expect(codePoints('a\ude00\ud83d')).toBe(3);
    expect(codePoints('')).toBe(0);
  });
});
