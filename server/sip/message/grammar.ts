/**
 * The RFC 3261 §25 grammar for the structured header values: SIP/SIPS URIs (§19.1), name-addr and
 * addr-spec (§20.10), Via (§20.42), CSeq (§20.16), generic parameters, token lists and media types.
 *
 * Hand-written scanners over a string with character-class tables: they are several times faster
 * than regular expressions on the hot path (every received message parses Via, From, To, CSeq) and
 * they can name the exact problem in the SipParseError reason, which ends up in the 400 reason
 * phrase. Values are expected already unfolded (the parser replaces LWS folds by one SP), but CR/LF
 * are still accepted as whitespace so that callers may pass raw folded text.
 */
import { SipParseError, type CSeq, type NameAddr, type Params, type SipUri, type Via } from './types.js';

// ---------------------------------------------------------------------------------------------
// Character classes (§25.1)

const ALNUM = 1;
const MARK = 2; // - _ . ! ~ * ' ( )
const USER_UNRES = 4; // & = + $ , ; ? /
const PASS_EXTRA = 8; // & = + $ ,
const PARAM_UNRES = 16; // [ ] / : & + $
const HNV_UNRES = 32; // [ ] / ? : + $
const TOKEN = 64; // alphanum - . ! % * _ + ` ' ~
const HOST = 128; // alphanum - . (and _ which real SRV-derived names carry)

const CLS = new Uint8Array(128);
function mark(chars: string, bit: number): void {
  for (const c of chars) CLS[c.charCodeAt(0)]! |= bit;
}
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9]/.test(ch)) CLS[c]! |= ALNUM | TOKEN | HOST;
}
mark("-_.!~*'()", MARK);
mark('&=+$,;?/', USER_UNRES);
mark('&=+$,', PASS_EXTRA);
mark('[]/:&+$', PARAM_UNRES);
mark('[]/?:+$', HNV_UNRES);
mark("-.!%*_+`'~", TOKEN);
mark('-._', HOST);

const UNRESERVED = ALNUM | MARK;
const USER_CHARS = UNRESERVED | USER_UNRES;
const PASS_CHARS = UNRESERVED | PASS_EXTRA;
const PARAM_CHARS = UNRESERVED | PARAM_UNRES;
const HNV_CHARS = UNRESERVED | HNV_UNRES;

function is(c: number, cls: number): boolean {
  return c < 128 && (CLS[c]! & cls) !== 0;
}
function isWs(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10;
}
function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function fail(reason: string): never {
  throw new SipParseError(reason, 400);
}

function show(s: string, p: number): string {
  return p >= s.length ? 'end of value' : `'${s[p]}' at offset ${p}`;
}

function skipWs(s: string, p: number, end = s.length): number {
  while (p < end && isWs(s.charCodeAt(p))) p++;
  return p;
}

/** Checks that s[start,end) consists of `cls` characters and well-formed %HEX HEX escapes. */
function checkEscaped(s: string, start: number, end: number, cls: number, what: string): void {
  if (start >= end) fail(`empty ${what}`);
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 /* % */) {
      if (i + 2 >= end || !isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2)))
        fail(`invalid %-escape in ${what}`);
      i += 2;
    } else if (!is(c, cls)) {
      fail(`invalid character ${JSON.stringify(s[i])} in ${what}`);
    }
  }
}

/** Is `s` a non-empty RFC 3261 token? */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!is(s.charCodeAt(i), TOKEN)) return false;
  return true;
}

function scanToken(s: string, p: number, end: number): number {
  while (p < end && is(s.charCodeAt(p), TOKEN)) p++;
  return p;
}

// ---------------------------------------------------------------------------------------------
// Quoted strings (§25.1: quoted-string, quoted-pair)

/** Scans a quoted-string starting at the DQUOTE at `p`; returns the index after the closing DQUOTE. */
function scanQuoted(s: string, p: number, end: number): number {
  let i = p + 1;
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c === 34 /* " */) return i + 1;
    if (c === 92 /* \ */) {
      // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
      if (i + 1 >= end) break;
      const n = s.charCodeAt(i + 1);
      if (n === 10 || n === 13 || n > 0x7f) fail('invalid quoted-pair in quoted string');
      i += 2;
      continue;
    }
    // qdtext excludes CTLs other than LWS
    if ((c < 32 && c !== 9 && c !== 13 && c !== 10) || c === 127) fail('control character in quoted string');
    i++;
  }
  return fail('unterminated quoted string');
}

/** Content of a quoted-string (with its DQUOTEs), quoted-pairs resolved. */
export function unquote(q: string): string {
  if (q.length < 2 || q[0] !== '"' || q[q.length - 1] !== '"') return q;
  const inner = q.slice(1, -1);
  return inner.indexOf('\\') < 0 ? inner : inner.replace(/\\(.)/gs, '$1');
}

/** Wraps text in DQUOTEs, escaping `"` and `\` (§25.1 quoted-pair). */
export function quote(text: string): string {
  return '"' + text.replace(/[\\"]/g, '\\$&') + '"';
}

// ---------------------------------------------------------------------------------------------
// No parameters

/**
 * A Map that stays empty: writing to it throws, because it is shared. A plain Map with its writers
 * shadowed (not a subclass), so it still equals any other empty Map.
 */
function emptyMap<K, V>(): Map<K, V> {
  const refuse = (): never => {
    throw new TypeError('shared empty map: copy it before writing (cloneUri, new Map(params))');
  };
  const m = new Map<K, V>();
  Object.defineProperties(m, { set: { value: refuse }, delete: { value: refuse }, clear: { value: refuse } });
  return Object.freeze(m);
}

/**
 * Shared by every parsed URI and address that has no parameters (most Request-URIs, From and To URIs,
 * many Contacts) and by every URI without headers: a Map each was the largest single allocation of a
 * call's SIP parsing. Parsed messages are read, not edited; code that edits copies first.
 */
export const NO_PARAMS: Params = emptyMap();
export const NO_URI_HEADERS: Map<string, string> = emptyMap();

// ---------------------------------------------------------------------------------------------
// Generic parameters (§25.1: generic-param, gen-value)

/**
 * Parses `*( SEMI generic-param )` starting at `p`. Stops at `end`, or at a top-level comma when
 * `stopAtComma`. Values are kept as received (a quoted value keeps its quotes) so that they
 * serialise back unchanged; names are lower-cased (§7.3.1: parameter names are case-insensitive).
 */
function parseGenericParams(s: string, p: number, end: number, params: Params, stopAtComma: boolean): number {
  for (;;) {
    p = skipWs(s, p, end);
    if (p >= end) return p;
    const c = s.charCodeAt(p);
    if (c === 44 /* , */ && stopAtComma) return p;
    if (c !== 59 /* ; */) fail(`expected ';' before parameter, found ${show(s, p)}`);
    p = skipWs(s, p + 1, end);
    const ns = p;
    p = scanToken(s, p, end);
    if (p === ns) fail(`empty or invalid parameter name at ${show(s, p)}`);
    const name = s.slice(ns, p).toLowerCase();
    p = skipWs(s, p, end);
    let value: string | null = null;
    if (p < end && s.charCodeAt(p) === 61 /* = */) {
      p = skipWs(s, p + 1, end);
      const vs = p;
      const v0 = s.charCodeAt(p);
      if (v0 === 34) {
        p = scanQuoted(s, p, end);
      } else if (v0 === 91 /* [ */) {
        const close = s.indexOf(']', p);
        if (close < 0 || close >= end) fail(`unterminated IPv6 reference in parameter ${name}`);
        checkIpv6(s, p + 1, close);
        p = close + 1;
      } else {
        // token / host; ':' admitted for bare IPv6 in received= (RFC 3261 via-received)
        while (p < end && (is(s.charCodeAt(p), TOKEN) || s.charCodeAt(p) === 58)) p++;
      }
      // rport (RFC 3581) and a few others are legitimately empty only without "="
      if (p === vs) fail(`empty value for parameter ${name}`);
      value = s.slice(vs, p);
    }
    params.set(name, value);
  }
}

/** Parses a standalone `;a=b;c` parameter string (leading `;` required unless empty). */
export function parseParams(text: string): Params {
  const params: Params = new Map();
  parseGenericParams(text, 0, text.length, params, false);
  return params;
}

/** `;name=value;flag` in insertion order. */
export function formatParams(params: Params): string {
  let out = '';
  for (const [k, v] of params) out += v === null ? ';' + k : ';' + k + '=' + v;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Hosts (§25.1: host, IPv4address, IPv6reference)

function checkIpv6(s: string, start: number, end: number): void {
  let colons = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 58) colons++;
    else if (!isHex(c) && c !== 46 /* . */) fail(`invalid character ${JSON.stringify(s[i])} in IPv6 address`);
  }
  if (colons < 2 || colons > 7) fail('malformed IPv6 address');
}

/** Scans a host at p; returns its end. IPv6 references keep their brackets. */
function scanHost(s: string, p: number, end: number): number {
  if (p < end && s.charCodeAt(p) === 91 /* [ */) {
    const close = s.indexOf(']', p);
    if (close < 0 || close >= end) fail('unterminated IPv6 reference');
    checkIpv6(s, p + 1, close);
    return close + 1;
  }
  const hs = p;
  while (p < end && is(s.charCodeAt(p), HOST)) p++;
  if (p === hs) fail(`missing host at ${show(s, p)}`);
  return p;
}

function scanPort(s: string, p: number, end: number): [number, number] {
  const ps = p;
  while (p < end && isDigit(s.charCodeAt(p))) p++;
  if (p === ps) fail(`invalid port at ${show(s, p)}`);
  if (p - ps > 5) fail('port out of range');
  const port = Number(s.slice(ps, p));
  if (port > 65535) fail('port out of range');
  return [port, p];
}

// ---------------------------------------------------------------------------------------------
// URIs (§19.1, §25.1)

/** Where a URI appears changes what it may contain (§19.1.1 Table 1, §20.10). */
const enum UriCtx {
  Plain,
  RequestUri,
  Bracketed,
  AddrSpec,
}

function emptyUri(scheme: string): SipUri {
  return {
    scheme,
    user: null,
    password: null,
    host: '',
    port: null,
    params: NO_PARAMS,
    headers: NO_URI_HEADERS,
    opaque: '',
  };
}

function parseUriRange(s: string, start: number, end: number, ctx: UriCtx): SipUri {
  let p = start;
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
  const c0 = s.charCodeAt(p);
  if (!((c0 >= 65 && c0 <= 90) || (c0 >= 97 && c0 <= 122))) fail(`URI must start with a scheme, found ${show(s, p)}`);
  p++;
  while (p < end) {
    const c = s.charCodeAt(p);
    if (is(c, ALNUM) || c === 43 || c === 45 || c === 46) p++;
    else break;
  }
  if (p >= end || s.charCodeAt(p) !== 58 /* : */) fail(`URI scheme not followed by ':' at ${show(s, p)}`);
  const scheme = s.slice(start, p).toLowerCase();
  p++;
  if (scheme !== 'sip' && scheme !== 'sips') return parseOpaqueUri(s, scheme, p, end);

  const uri = emptyUri(scheme);
  // user/password may hold ';' '?' '/' but never a raw '@', so the first '@' ends the userinfo.
  const at = s.indexOf('@', p);
  if (at >= 0 && at < end) {
    let colon = s.indexOf(':', p);
    if (colon >= at) colon = -1;
    const userEnd = colon < 0 ? at : colon;
    checkEscaped(s, p, userEnd, USER_CHARS, 'URI user part');
    uri.user = s.slice(p, userEnd);
    if (colon >= 0) {
      if (colon + 1 < at) checkEscaped(s, colon + 1, at, PASS_CHARS, 'URI password');
      uri.password = s.slice(colon + 1, at);
    }
    p = at + 1;
  }
  const hs = p;
  p = scanHost(s, p, end);
  uri.host = s.slice(hs, p).toLowerCase();
  if (p < end && s.charCodeAt(p) === 58) [uri.port, p] = scanPort(s, p + 1, end);

  // uri-parameters = *( ";" pname [ "=" pvalue ] )
  if (p < end && s.charCodeAt(p) === 59) uri.params = new Map();
  while (p < end && s.charCodeAt(p) === 59 /* ; */) {
    const ns = ++p;
    while (p < end && s.charCodeAt(p) !== 61 && s.charCodeAt(p) !== 59 && s.charCodeAt(p) !== 63) p++;
    checkEscaped(s, ns, p, PARAM_CHARS, 'URI parameter name');
    const name = s.slice(ns, p).toLowerCase();
    let value: string | null = null;
    if (p < end && s.charCodeAt(p) === 61) {
      const vs = ++p;
      while (p < end && s.charCodeAt(p) !== 59 && s.charCodeAt(p) !== 63) p++;
      checkEscaped(s, vs, p, PARAM_CHARS, `URI parameter ${name} value`);
      value = s.slice(vs, p);
    }
    uri.params.set(name, value);
  }

  // headers = "?" header *( "&" header )
  if (p < end && s.charCodeAt(p) === 63 /* ? */) {
    // §19.1.1 Table 1: headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11 escruri);
    // §20.10: an addr-spec with '?' must be enclosed in <> (RFC 4475 §3.1.2.13 regbadct).
    if (ctx === UriCtx.RequestUri) fail('Request-URI must not contain headers');
    if (ctx === UriCtx.AddrSpec) fail('URI with headers must be enclosed in <>');
    uri.headers = new Map();
    p++;
    for (;;) {
      const ns = p;
      while (p < end && s.charCodeAt(p) !== 61 && s.charCodeAt(p) !== 38) p++;
      checkEscaped(s, ns, p, HNV_CHARS, 'URI header name');
      if (p >= end || s.charCodeAt(p) !== 61) fail('URI header without "="');
      const vs = ++p;
      while (p < end && s.charCodeAt(p) !== 38) p++;
      if (p > vs) checkEscaped(s, vs, p, HNV_CHARS, 'URI header value');
      uri.headers.set(s.slice(ns, vs - 1), s.slice(vs, p));
      if (p >= end) break;
      p++; // '&'
    }
  }
  if (p < end) {
    if (isWs(s.charCodeAt(p))) fail('whitespace inside URI');
    fail(`unexpected ${show(s, p)} in URI`);
  }
  return uri;
}

/** absoluteURI of another scheme (tel, http, isbn, urn ...): kept opaque; tel: also exposes number and params. */
function parseOpaqueUri(s: string, scheme: string, p: number, end: number): SipUri {
  const uri = emptyUri(scheme);
  if (p >= end) fail(`empty ${scheme}: URI`);
  for (let i = p; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c === 127 || c === 60 || c === 62 || c === 34) fail(`invalid character in ${scheme}: URI`);
  }
  uri.opaque = s.slice(p, end);
  if (scheme === 'tel') {
    // RFC 3966: telephone-subscriber *par; convenience view only, formatUri writes `opaque`.
    const semi = uri.opaque.indexOf(';');
    uri.user = semi < 0 ? uri.opaque : uri.opaque.slice(0, semi);
    if (semi >= 0) {
      uri.params = new Map();
      for (const part of uri.opaque.slice(semi + 1).split(';')) {
        const eq = part.indexOf('=');
        if (eq < 0) uri.params.set(part.toLowerCase(), null);
        else uri.params.set(part.slice(0, eq).toLowerCase(), part.slice(eq + 1));
      }
    }
  }
  return uri;
}

/** Parses a complete URI (no surrounding whitespace or brackets). */
export function parseUri(text: string): SipUri {
  if (text.length === 0) fail('empty URI');
  return parseUriRange(text, 0, text.length, UriCtx.Plain);
}

/** Parses a Request-URI: like parseUri, but headers are refused (§19.1.1). */
export function parseRequestUri(text: string): SipUri {
  if (text.length === 0) fail('empty Request-URI');
  if (text.charCodeAt(0) === 60 /* < */) fail('Request-URI must not be enclosed in <>');
  return parseUriRange(text, 0, text.length, UriCtx.RequestUri);
}

export function formatUri(uri: SipUri): string {
  if (uri.scheme !== 'sip' && uri.scheme !== 'sips') return uri.scheme + ':' + uri.opaque;
  let out = uri.scheme + ':';
  if (uri.user !== null) {
    out += uri.user;
    if (uri.password !== null) out += ':' + uri.password;
    out += '@';
  }
  out += uri.host;
  if (uri.port !== null) out += ':' + uri.port;
  for (const [k, v] of uri.params) out += v === null ? ';' + k : ';' + k + '=' + v;
  let first = true;
  for (const [k, v] of uri.headers) {
    out += (first ? '?' : '&') + k + '=' + v;
    first = false;
  }
  return out;
}

/** Resolves %HH escapes (for comparing user parts, §19.1.4). Invalid sequences are left as they are. */
export function unescapeUriPart(text: string): string {
  if (text.indexOf('%') < 0) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    // %00 or a byte sequence that is not UTF-8: resolve byte by byte as latin1
    return text.replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
}

// ---------------------------------------------------------------------------------------------
// name-addr / addr-spec (§20.10, §25.1)

function isDisplayChar(c: number): boolean {
  // token characters; non-ASCII admitted too, since Chinese phones send unquoted UTF-8 names
  return is(c, TOKEN) || c > 127;
}

/** Parses one name-addr / addr-spec with its header params starting at p; returns [value, end]. */
function parseNameAddrAt(s: string, p: number, end: number, inList: boolean): [NameAddr, number] {
  p = skipWs(s, p, end);
  if (p >= end) fail('empty address');
  let displayName: string | null = null;
  let bracketed = false;
  const c0 = s.charCodeAt(p);
  if (c0 === 34 /* " */) {
    const q = scanQuoted(s, p, end);
    displayName = unquote(s.slice(p, q));
    p = skipWs(s, q, end);
    if (p >= end || s.charCodeAt(p) !== 60) fail(`expected '<' after quoted display name, found ${show(s, p)}`);
    bracketed = true;
  } else if (c0 === 60 /* < */) {
    bracketed = true;
  } else {
    // display-name = *(token LWS): look ahead for '<' after a run of tokens
    let q = p;
    let words = '';
    while (q < end && isDisplayChar(s.charCodeAt(q))) {
      const ws = q;
      while (q < end && isDisplayChar(s.charCodeAt(q))) q++;
      words += (words ? ' ' : '') + s.slice(ws, q);
      q = skipWs(s, q, end);
    }
    if (q < end && s.charCodeAt(q) === 60) {
      displayName = words;
      p = q;
      bracketed = true;
    }
  }

  let uri: SipUri;
  if (bracketed) {
    const close = s.indexOf('>', p + 1);
    if (close < 0 || close >= end) fail("missing '>' after URI");
    // LAQUOT addr-spec RAQUOT: no LWS inside the brackets (RFC 4475 §3.1.2.14 badaspec)
    if (close === p + 1) fail('empty <> in address');
    if (isWs(s.charCodeAt(p + 1)) || isWs(s.charCodeAt(close - 1))) fail('whitespace inside <> around URI');
    uri = parseUriRange(s, p + 1, close, UriCtx.Bracketed);
    p = close + 1;
  } else {
    // addr-spec: its params end at ';' (they belong to the header, §20.10)
    let q = p;
    while (q < end) {
      const c = s.charCodeAt(q);
      if (c === 59 || isWs(c) || (inList && c === 44)) break;
      q++;
    }
    try {
      uri = parseUriRange(s, p, q, UriCtx.AddrSpec);
    } catch (e) {
      // Most likely an unquoted display name with non-token characters (RFC 4475 §3.1.2.15 baddn)
      const lt = s.indexOf('<', p);
      if (lt >= 0 && lt < end) fail('display name with non-token characters must be quoted');
      throw e;
    }
    p = q;
  }
  // Nothing, or the list's next entry (a comma), follows: no parameters. Anything else is parsed (and fails) as before.
  const q = skipWs(s, p, end);
  if (q >= end || (inList && s.charCodeAt(q) === 44)) return [{ displayName, uri, params: NO_PARAMS }, q];
  const params: Params = new Map();
  p = parseGenericParams(s, p, end, params, inList);
  return [{ displayName, uri, params }, p];
}

/** Parses a single name-addr or addr-spec with header parameters (From, To, Refer-To ...). */
export function parseNameAddr(text: string): NameAddr {
  const [na, p] = parseNameAddrAt(text, 0, text.length, false);
  if (p < text.length) fail(`unexpected ${show(text, p)} after address`);
  return na;
}

/**
 * The `tag` of a From or To value (§19.3) without parsing its URI again: every message reads its tags
 * many times. Header parameters follow the `>` of a name-addr, or the first `;` of a bare addr-spec
 * (§20.10). A quoted display name may hold any of those characters, so such a value takes the full parse.
 */
export function addressTag(text: string): string | null {
  const lt = text.indexOf('<');
  const start = lt >= 0 ? text.indexOf('>', lt) + 1 : text.indexOf(';');
  if (start <= 0 || text.includes('"')) return parseNameAddr(text).params.get('tag') ?? null;
  const params: Params = new Map();
  parseGenericParams(text, start, text.length, params, false);
  return params.get('tag') ?? null;
}

/** Parses a comma-separated list of addresses (Contact, Route, Record-Route ...), including `*`. */
export function parseNameAddrList(text: string): NameAddr[] {
  const t = text.trim();
  if (t === '*') return [{ displayName: null, uri: emptyUri('*'), params: NO_PARAMS, wildcard: true }];
  const out: NameAddr[] = [];
  let p = 0;
  const end = text.length;
  for (;;) {
    const [na, q] = parseNameAddrAt(text, p, end, true);
    out.push(na);
    p = skipWs(text, q, end);
    if (p >= end) return out;
    if (text.charCodeAt(p) !== 44) fail(`unexpected ${show(text, p)} in address list`);
    p++;
  }
}

export function formatNameAddr(na: NameAddr): string {
  if (na.wildcard) return '*';
  let out = '';
  if (na.displayName !== null && na.displayName !== '') out += quote(na.displayName) + ' ';
  out += '<' + formatUri(na.uri) + '>';
  return out + formatParams(na.params);
}

// ---------------------------------------------------------------------------------------------
// Via (§20.42): sent-protocol LWS sent-by *( SEMI via-params )

export function parseVia(text: string): Via {
  const s = text;
  const end = s.length;
  let p = skipWs(s, 0, end);
  const parts: string[] = [];
  for (let i = 0; i < 3; i++) {
    if (i > 0) {
      // SLASH = SWS "/" SWS
      p = skipWs(s, p, end);
      if (p >= end || s.charCodeAt(p) !== 47) fail(`expected '/' in Via sent-protocol at ${show(s, p)}`);
      p = skipWs(s, p + 1, end);
    }
    const ts = p;
    p = scanToken(s, p, end);
    if (p === ts) fail(`invalid Via sent-protocol at ${show(s, p)}`);
    parts.push(s.slice(ts, p));
  }
  const ws = p;
  p = skipWs(s, p, end);
  if (p === ws) fail('missing space between Via sent-protocol and sent-by');
  const hs = p;
  p = scanHost(s, p, end);
  const host = s.slice(hs, p).toLowerCase();
  let port: number | null = null;
  // COLON = SWS ":" SWS
  const afterHost = skipWs(s, p, end);
  if (afterHost < end && s.charCodeAt(afterHost) === 58) [port, p] = scanPort(s, skipWs(s, afterHost + 1, end), end);
  const params: Params = new Map();
  p = parseGenericParams(s, p, end, params, false);
  return {
    protocol: parts[0]!.toUpperCase() + '/' + parts[1]!,
    transport: parts[2]!.toUpperCase(),
    host,
    port,
    params,
  };
}

export function formatVia(v: Via): string {
  return v.protocol + '/' + v.transport + ' ' + v.host + (v.port !== null ? ':' + v.port : '') + formatParams(v.params);
}

// ---------------------------------------------------------------------------------------------
// CSeq (§20.16) and other scalars

export const MAX_CSEQ = 2 ** 31 - 1;

export function parseCSeq(text: string): CSeq {
  const s = text;
  const end = s.length;
  let p = skipWs(s, 0, end);
  const ds = p;
  while (p < end && isDigit(s.charCodeAt(p))) p++;
  if (p === ds) fail('CSeq must start with a sequence number');
  // §8.1.1.5: the sequence number MUST be expressible as a 32-bit unsigned integer and less than 2^31
  const seq = Number(s.slice(ds, p));
  if (!(seq <= MAX_CSEQ)) fail('CSeq number larger than 2^31-1');
  const ws = p;
  p = skipWs(s, p, end);
  if (p === ws) fail('missing space between CSeq number and method');
  const ms = p;
  p = scanToken(s, p, end);
  if (p === ms) fail('missing CSeq method');
  const method = s.slice(ms, p);
  if (skipWs(s, p, end) !== end) fail(`unexpected ${show(s, p)} after CSeq method`);
  return { seq, method };
}

export function formatCSeq(c: CSeq): string {
  return c.seq + ' ' + c.method;
}

/** Parses `1*DIGIT` (with surrounding whitespace) bounded by `max`. */
export function parseUnsigned(text: string, max: number, what: string): number {
  const t = text.trim();
  if (t.length === 0) fail(`empty ${what}`);
  if (t[0] === '-') fail(`${what} is negative`);
  for (let i = 0; i < t.length; i++) if (!isDigit(t.charCodeAt(i))) fail(`${what} is not a number`);
  const n = Number(t);
  if (!(n <= max)) fail(`${what} out of range`);
  return n;
}

/** Comma-separated tokens (Require, Supported, Proxy-Require, Allow, Unsupported). */
export function parseTokenList(text: string): string[] {
  const out: string[] = [];
  if (text.trim() === '') return out;
  for (const part of text.split(',')) {
    const t = part.trim();
    if (!isToken(t)) fail(`invalid token ${JSON.stringify(t)} in list`);
    out.push(t);
  }
  return out;
}

export interface MediaType {
  type: string; // lower-cased
  subtype: string; // lower-cased
  params: Params;
}

/** media-type = m-type SLASH m-subtype *(SEMI m-parameter) (§20.15). */
export function parseMediaType(text: string): MediaType {
  const s = text;
  const end = s.length;
  let p = skipWs(s, 0, end);
  const ts = p;
  p = scanToken(s, p, end);
  if (p === ts) fail('invalid media type');
  const type = s.slice(ts, p).toLowerCase();
  p = skipWs(s, p, end);
  if (p >= end || s.charCodeAt(p) !== 47) fail("media type without '/'");
  p = skipWs(s, p + 1, end);
  const ss = p;
  p = scanToken(s, p, end);
  if (p === ss) fail('invalid media subtype');
  const subtype = s.slice(ss, p).toLowerCase();
  const params: Params = new Map();
  parseGenericParams(s, p, end, params, false);
  return { type, subtype, params };
}

/**
 * Splits a header value at top-level commas (§7.3.1), ignoring commas inside quoted strings and
 * <...>. Elements are trimmed; empty elements are returned as '' so the caller can reject them.
 */
export function splitHeaderValues(value: string): string[] {
  if (value.indexOf(',') < 0) return [value.trim()];
  const out: string[] = [];
  let start = 0;
  let angle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 34 && !angle) {
      i = scanQuoted(value, i, value.length) - 1;
    } else if (c === 60) angle = true;
    else if (c === 62) angle = false;
    else if (c === 44 && !angle) {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(value.slice(start).trim());
  return out;
}
