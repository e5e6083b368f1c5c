/**
 * Case numbers: `YYYYMMDD-NNNNNN`, the Asia/Shanghai date the case was opened and a 6-digit daily
 * sequence starting at 000001 (20261128-000123). Only digits, so the IVR can read it digit by digit
 * and a caller can key it in on the phone pad (14 digits, the dash is optional there). Unique by a
 * UNIQUE index and by the per-day counter incremented in the same transaction as the insert. Numbers
 * of discarded drafts are not reused, so the sequence can have gaps.
 */

export const CASE_NUMBER_RE = /^(\d{8})-(\d{6})$/;

export function formatCaseNumber(day: string, seq: number): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new RangeError(`bad day ${day}`);
  if (!Number.isInteger(seq) || seq < 1 || seq > 999_999) throw new RangeError(`daily sequence out of range: ${seq}`);
  return `${day.replace(/-/g, '')}-${String(seq).padStart(6, '0')}`;
}

/** Accepts `20261128-000123`, `20261128000123` (keyed on a phone pad) and surrounding spaces. */
export function normalizeCaseNumber(input: string): string | null {
  const s = input.trim().replace(/[\s#*]/g, '');
  const m = /^(\d{8})-?(\d{6})$/.exec(s);
  return m ? `${m[1]}-${m[2]}` : null;
}

const DIGIT_WORDS = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];

/** The 14 digits in reading order, for the IVR's digit-by-digit prompts. */
export function caseNumberDigits(number: string): string[] {
  return number.replace(/-/g, '').split('');
}

/** Readable text for TTS: 二零二六一一二八，零零零一二三 (一 is read as 幺 by some sites; keep 一). */
export function caseNumberSpeech(number: string): string {
  const [a, b] = number.split('-');
  const say = (s: string | undefined) => [...(s ?? '')].map((d) => DIGIT_WORDS[Number(d)]).join('');
  return `${say(a)}，${say(b)}`;
}
