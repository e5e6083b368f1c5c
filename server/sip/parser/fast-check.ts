/**
 * Allocation-free validation of the common shapes of the well-known headers.
 *
 * Eager validation (so that a malformed header is a 400 at the door) used to build every URI and
 * parameter map just to throw them away; that was half of the parse time. Each regular expression
 * here accepts a strict SUBSET of what the grammar.ts scanners accept (no IPv6, lower-case scheme,
 * no CR/LF/HT inside quoted strings ...), so a match proves the value parses; anything else falls
 * back to the full scanner, which either accepts it or produces the precise 400 reason. V8 compiles
 * these to native code, and none of them has nested ambiguous quantifiers (no catastrophic
 * backtracking on hostile input). tests/sip/parser/fast-check.test.ts checks the subset property.
 */

const TOKEN_C = "A-Za-z0-9\\-.!%*_+`'~";
const TOKEN = `[${TOKEN_C}]+`;
const ESC = '%[0-9A-Fa-f]{2}';
const UNRES = "A-Za-z0-9\\-_.!~*'()";
const HOST = '[A-Za-z0-9._-]+';
const PORT = '(?:6553[0-5]|655[0-2]\\d|65[0-4]\\d\\d|6[0-4]\\d{3}|[1-5]\\d{4}|\\d{1,4})';
const QUOTED = '"(?:[^"\\\\\\x00-\\x1f\\x7f]|\\\\[\\x00-\\x09\\x0b\\x0c\\x0e-\\x7f])*"';
const SP = '[ \\t]*';

// SIP URI inside <>: user may hold ; ? / (§25.1 user-unreserved), params and headers allowed
const USER_B = `(?:[${UNRES}&=+$,;?/]|${ESC})+`;
const PASS = `(?:[${UNRES}&=+$,]|${ESC})*`;
const PCHAR = `(?:[${UNRES}\\[\\]/:&+$]|${ESC})`;
const HCHAR = `(?:[${UNRES}\\[\\]/?:+$]|${ESC})`;
const URI_B =
  `sips?:(?:${USER_B}(?::${PASS})?@)?${HOST}(?::${PORT})?` +
  `(?:;${PCHAR}+(?:=${PCHAR}+)?)*(?:\\?${HCHAR}+=${HCHAR}*(?:&${HCHAR}+=${HCHAR}*)*)?`;
// addr-spec without <>: ends at ';', so no params, headers or ; , ? in the userinfo (§20.10)
const URI_A = `sips?:(?:(?:[${UNRES}&=+$/]|${ESC})+(?::(?:[${UNRES}&=+$]|${ESC})*)?@)?${HOST}(?::${PORT})?`;
// display-name: quoted-string, or words of token/UTF-8 characters (unambiguous repetition)
const DISPLAY = `(?:${QUOTED}${SP}|(?:[${TOKEN_C}\\u0080-\\uffff]+(?:[ \\t]+[${TOKEN_C}\\u0080-\\uffff]+)*${SP})?)`;
const HPARAMS = `(?:${SP};${SP}${TOKEN}(?:${SP}=${SP}(?:[${TOKEN_C}:]+|${QUOTED}))?)*`;

const NAME_ADDR_RE = new RegExp(`^${SP}(?:${DISPLAY}<${URI_B}>|${URI_A})${HPARAMS}${SP}$`);
const VIA_RE = new RegExp(
  `^${SP}SIP${SP}/${SP}2\\.0${SP}/${SP}${TOKEN}[ \\t]+${HOST}(?:${SP}:${SP}${PORT})?${HPARAMS}${SP}$`,
);
const TOKEN_LIST_RE = new RegExp(`^${SP}(?:${TOKEN}(?:${SP},${SP}${TOKEN})*)?${SP}$`);
const MEDIA_TYPE_RE = new RegExp(`^${SP}${TOKEN}${SP}/${SP}${TOKEN}${HPARAMS}${SP}$`);

/** A name-addr or addr-spec with header params whose parse cannot fail (From, To, one Contact ...). */
export function fastNameAddr(v: string): boolean {
  return NAME_ADDR_RE.test(v);
}
export function fastVia(v: string): boolean {
  return VIA_RE.test(v);
}
export function fastTokenList(v: string): boolean {
  return TOKEN_LIST_RE.test(v);
}
export function fastMediaType(v: string): boolean {
  return MEDIA_TYPE_RE.test(v);
}
