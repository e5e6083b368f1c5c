/**
 * 统一社会信用代码 (unified social credit identifier), GB 32100-2015. 18 characters from a 31-symbol
 * alphabet (digits and capitals without I, O, Z, S, V):
 *   1      registration authority (1 机构编制, 5 民政, 9 工商/市场监管, Y 其他 …)
 *   2      organisation category
 *   3–8    registering authority's administrative division code (GB/T 2260, digits)
 *   9–17   organisation code (GB 11714)
 *   18     check character: C18 = 31 − (Σ Ci·Wi mod 31), Wi = 3^(i−1) mod 31, 31 → '0' (§4.3 / annex)
 */

export const CREDIT_CODE_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

export type CreditCodeProblem = 'length' | 'charset' | 'division' | 'check';

/** The check character for the first 17 characters, or null if they are not from the alphabet. */
export function creditCodeCheckChar(first17: string): string | null {
  if (first17.length !== 17) return null;
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = CREDIT_CODE_ALPHABET.indexOf(first17[i]!);
    if (v < 0) return null;
    sum += v * WEIGHTS[i]!;
  }
  const c = 31 - (sum % 31);
  return CREDIT_CODE_ALPHABET[c === 31 ? 0 : c]!;
}

/** Null when valid, else what is wrong. Lower case is accepted (callers should store `normalizeCreditCode`). */
export function checkCreditCode(code: string): CreditCodeProblem | null {
  const c = normalizeCreditCode(code);
  if (c.length !== 18) return 'length';
  for (const ch of c) if (!CREDIT_CODE_ALPHABET.includes(ch)) return 'charset';
  if (!/^\d{6}$/.test(c.slice(2, 8))) return 'division';
  return creditCodeCheckChar(c.slice(0, 17)) === c[17] ? null : 'check';
}

export function normalizeCreditCode(code: string): string {
  return code.trim().toUpperCase();
}

export const CREDIT_CODE_MESSAGES: Record<CreditCodeProblem, string> = {
  length: '统一社会信用代码应为 18 位',
  charset: '统一社会信用代码含有无效字符（不使用 I、O、Z、S、V）',
  division: '统一社会信用代码第 3–8 位应为行政区划代码',
  check: '统一社会信用代码校验位不正确',
};
