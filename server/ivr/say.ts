/**
 * `say` composes digits, numbers, dates and times from short recorded prompts, so a read-back ("您的单号是
 * 二零二六……") needs no text-to-speech at run time. Pure functions: value in, prompt names out.
 *
 * Mandarin prompt names: say_0 … say_9, say_shi 十, say_bai 百, say_qian 千, say_wan 万, say_yi8 亿,
 * say_liang 两, say_nian 年, say_yue 月, say_ri 日, say_dian 点, say_fen 分, say_zheng 整.
 * English: say_0 … say_19, say_20 … say_90 (tens), say_hundred, say_thousand, say_million, month_1 … month_12,
 * say_oclock.
 */
import type { SayAs } from './flow.js';

export const ZH_SAY_PROMPTS = [
  ...Array.from({ length: 10 }, (_, i) => `say_${i}`),
  'say_shi',
  'say_bai',
  'say_qian',
  'say_wan',
  'say_yi8',
  'say_liang',
  'say_nian',
  'say_yue',
  'say_ri',
  'say_dian',
  'say_fen',
  'say_zheng',
];
export const EN_SAY_PROMPTS = [
  ...Array.from({ length: 20 }, (_, i) => `say_${i}`),
  ...[20, 30, 40, 50, 60, 70, 80, 90].map((n) => `say_${n}`),
  'say_hundred',
  'say_thousand',
  'say_million',
  ...Array.from({ length: 12 }, (_, i) => `month_${i + 1}`),
  'say_oclock',
];

/** Prompt names `say` may need for a language; null when the language has no say support. */
export function sayPromptsFor(language: string): string[] | null {
  if (language === 'zh') return ZH_SAY_PROMPTS;
  if (language === 'en') return EN_SAY_PROMPTS;
  return null;
}

export class SayError extends Error {}

export function sayDigits(value: string): string[] {
  return [...value].filter((c) => c >= '0' && c <= '9').map((c) => `say_${c}`);
}

/** Mandarin reading of 0 ≤ n < 10^12: 10 086 → 一万零八十六, 12 → 十二, 2000 → 两千. */
export function zhNumber(n: number): string[] {
  if (!Number.isSafeInteger(n) || n < 0 || n >= 1e12) throw new SayError(`cannot say number ${n}`);
  if (n === 0) return ['say_0'];
  const groups: number[] = [];
  for (let x = n; x > 0; x = Math.floor(x / 10000)) groups.unshift(x % 10000);
  const suffix = ['', 'say_wan', 'say_yi8'];
  const out: string[] = [];
  let zeroPending = false;
  groups.forEach((g, gi) => {
    const power = groups.length - 1 - gi;
    if (g === 0) {
      zeroPending = out.length > 0;
      return;
    }
    // A group below 1000 after a higher non-zero group starts with 零 (一万零八十六).
    if (out.length > 0 && (zeroPending || g < 1000)) out.push('say_0');
    zeroPending = false;
    out.push(...zhGroup(g, out.length === 0));
    if (suffix[power]) out.push(suffix[power]);
  });
  return out;
}

/** One 4-digit group (1–9999). `leading`: first group of the number, where 10–19 is read 十X, not 一十X. */
function zhGroup(g: number, leading: boolean): string[] {
  const digits = [Math.floor(g / 1000), Math.floor(g / 100) % 10, Math.floor(g / 10) % 10, g % 10];
  const units = ['say_qian', 'say_bai', 'say_shi', ''];
  const out: string[] = [];
  let zero = false;
  let started = false;
  digits.forEach((d, i) => {
    if (d === 0) {
      if (started) zero = true;
      return;
    }
    if (zero) out.push('say_0');
    zero = false;
    const first = !started;
    started = true;
    if (i === 2 && d === 1 && first && leading) {
      out.push('say_shi');
      return;
    }
    // 两 before 千 and 百 (两千, 两百) as callers expect to hear it; 二 elsewhere (二十, 十二).
    out.push(d === 2 && i < 2 ? 'say_liang' : `say_${d}`);
    if (units[i]) out.push(units[i]!);
  });
  return out;
}

/** English reading of 0 ≤ n < 10^9. */
export function enNumber(n: number): string[] {
  if (!Number.isSafeInteger(n) || n < 0 || n >= 1e9) throw new SayError(`cannot say number ${n}`);
  if (n === 0) return ['say_0'];
  const out: string[] = [];
  const below1000 = (x: number) => {
    if (x >= 100) {
      out.push(`say_${Math.floor(x / 100)}`, 'say_hundred');
      x %= 100;
    }
    if (x >= 20) {
      out.push(`say_${Math.floor(x / 10) * 10}`);
      x %= 10;
      if (x > 0) out.push(`say_${x}`);
    } else if (x > 0) out.push(`say_${x}`);
  };
  const m = Math.floor(n / 1e6);
  const k = Math.floor(n / 1000) % 1000;
  const r = n % 1000;
  if (m > 0) {
    below1000(m);
    out.push('say_million');
  }
  if (k > 0) {
    below1000(k);
    out.push('say_thousand');
  }
  below1000(r);
  return out;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})/;
const TIME_RE = /(?:^|T)(\d{2}):(\d{2})/;

/**
 * Prompt names reading `value` in `language`. Dates are `YYYY-MM-DD` (an ISO date-time is cut to its date);
 * times `HH:MM`. Throws SayError on a value it cannot read, so the engine can skip the read-back.
 */
export function compose(as: SayAs, value: string, language: string): string[] {
  const zh = language === 'zh';
  if (!zh && language !== 'en') throw new SayError(`no say prompts for language ${language}`);
  switch (as) {
    case 'digits': {
      const r = sayDigits(value);
      if (r.length === 0) throw new SayError('no digits to say');
      return r;
    }
    case 'number': {
      if (!/^\d+$/.test(value)) throw new SayError('not a whole number');
      return zh ? zhNumber(Number(value)) : enNumber(Number(value));
    }
    case 'date': {
      const m = DATE_RE.exec(value);
      if (!m) throw new SayError('not a YYYY-MM-DD date');
      const [y, mo, d] = [m[1]!, Number(m[2]), Number(m[3])];
      if (mo < 1 || mo > 12 || d < 1 || d > 31) throw new SayError('not a calendar date');
      // 二零二六年十一月二十八日: the year digit by digit, month and day as numbers.
      if (zh) return [...sayDigits(y), 'say_nian', ...zhNumber(mo), 'say_yue', ...zhNumber(d), 'say_ri'];
      // November twenty eight, twenty twenty six.
      const yn = Number(y);
      const year = yn % 100 === 0 || yn < 2000 || yn >= 2100 ? enNumber(yn) : [...enNumber(20), ...enNumber(yn % 100)];
      if (yn >= 2000 && yn < 2010) year.splice(0, year.length, ...enNumber(yn));
      return [`month_${mo}`, ...enNumber(d), ...year];
    }
    case 'time': {
      const m = TIME_RE.exec(value);
      if (!m) throw new SayError('not an HH:MM time');
      const h = Number(m[1]);
      const min = Number(m[2]);
      if (h > 23 || min > 59) throw new SayError('not a clock time');
      if (zh) {
        // 九点整 / 十四点零五分 / 十四点三十分
        const out = [...zhNumber(h), 'say_dian'];
        if (min === 0) out.push('say_zheng');
        else out.push(...(min < 10 ? ['say_0'] : []), ...zhNumber(min), 'say_fen');
        return out;
      }
      if (min === 0) return [...enNumber(h), 'say_oclock'];
      return [...enNumber(h), ...(min < 10 ? ['say_0'] : []), ...enNumber(min)];
    }
  }
}
