import { describe, expect, it } from 'vitest';
import { compose, enNumber, SayError, zhNumber } from '../../server/ivr/say.js';

const zh = (n: number) =>
  zhNumber(n)
    .map(
      (p) =>
        ({ say_shi: '十', say_bai: '百', say_qian: '千', say_wan: '万', say_yi8: '亿', say_liang: '两' })[p] ??
        '零一二三四五六七八九'[Number(p.slice(4))],
    )
    .join('');

describe('say: Mandarin numbers', () => {
  it.each([
    [0, '零'],
    [7, '七'],
    [10, '十'],
    [12, '十二'],
    [20, '二十'],
    [105, '一百零五'],
    [110, '一百一十'],
    [200, '两百'],
    [1010, '一千零一十'],
    [2000, '两千'],
    [10086, '一万零八十六'],
    [12315, '一万两千三百一十五'],
    [100000, '十万'],
    [1000010, '一百万零一十'],
    [20000000, '两千万'],
    [100000001, '一亿零一'],
    [100010000, '一亿零一万'],
  ])('%i → %s', (n, text) => {
    expect(zh(n)).toBe(text);
  });
  it('refuses what it cannot read', () => {
    expect(() => zhNumber(-1)).toThrow(SayError);
    expect(() => zhNumber(1.5)).toThrow(SayError);
  });
});

describe('say: compose', () => {
  it('digits skip non-digits', () => {
    expect(compose('digits', '12-3#', 'zh')).toEqual(['say_1', 'say_2', 'say_3']);
    expect(() => compose('digits', '#', 'zh')).toThrow(SayError);
  });
  it('dates: year digit by digit, then month and day', () => {
    expect(compose('date', '2026-10-01', 'zh')).toEqual([
      'say_2',
      'say_0',
      'say_2',
      'say_6',
      'say_nian',
      'say_shi',
      'say_yue',
      'say_1',
      'say_ri',
    ]);
    expect(compose('date', '2026-11-30T10:00:00Z', 'en')).toEqual(['month_11', 'say_30', 'say_20', 'say_20', 'say_6']);
    expect(compose('date', '2005-01-02', 'en')).toEqual(['month_1', 'say_2', 'say_2', 'say_thousand', 'say_5']);
    expect(() => compose('date', '2026-13-01', 'zh')).toThrow(SayError);
  });
  it('times', () => {
    expect(compose('time', '09:00', 'zh')).toEqual(['say_9', 'say_dian', 'say_zheng']);
    expect(compose('time', '14:05', 'zh')).toEqual(['say_shi', 'say_4', 'say_dian', 'say_0', 'say_5', 'say_fen']);
    expect(compose('time', '17:30', 'en')).toEqual(['say_17', 'say_30']);
    expect(compose('time', '08:00', 'en')).toEqual(['say_8', 'say_oclock']);
  });
  it('English numbers', () => {
    expect(enNumber(0)).toEqual(['say_0']);
    expect(enNumber(115)).toEqual(['say_1', 'say_hundred', 'say_15']);
    expect(enNumber(2_040_019)).toEqual(['say_2', 'say_million', 'say_40', 'say_thousand', 'say_19']);
    expect(compose('number', '42', 'en')).toEqual(['say_40', 'say_2']);
    expect(() => compose('number', '4.2', 'en')).toThrow(SayError);
    expect(() => compose('number', '1', 'fr')).toThrow(SayError);
  });
});
