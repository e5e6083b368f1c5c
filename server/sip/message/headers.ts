/**
 * Header names (RFC 3261 §7.3.1, §7.3.3, §20).
 *
 * Field names are case-insensitive and several have a compact form (§7.3.3), so every layer stores
 * and compares the canonical spelling returned here. Unknown names are title-cased per
 * dash-separated word, which keeps look-ups case-insensitive without a registry of every extension.
 * `%` escapes are NOT resolved: `C%6Fntact` is a different header from `Contact` (RFC 4475 §3.1.1.5).
 */

/** Compact forms: RFC 3261 §7.3.3 plus the extensions that registered one (IANA "SIP Parameters"). */
const COMPACT: Record<string, string> = {
  a: 'Accept-Contact', // RFC 3841
  b: 'Referred-By', // RFC 3892
  c: 'Content-Type',
  d: 'Request-Disposition', // RFC 3841
  e: 'Content-Encoding',
  f: 'From',
  i: 'Call-ID',
  j: 'Reject-Contact', // RFC 3841
  k: 'Supported',
  l: 'Content-Length',
  m: 'Contact',
  n: 'Identity-Info', // RFC 4474
  o: 'Event', // RFC 6665
  r: 'Refer-To', // RFC 3515
  s: 'Subject',
  t: 'To',
  u: 'Allow-Events', // RFC 6665
  v: 'Via',
  x: 'Session-Expires', // RFC 4028
  y: 'Identity', // RFC 8224
};

/** Well-known names whose canonical spelling is not plain title case. */
const WELL_KNOWN = [
  'Accept',
  'Accept-Contact',
  'Accept-Encoding',
  'Accept-Language',
  'Alert-Info',
  'Allow',
  'Allow-Events',
  'Authentication-Info',
  'Authorization',
  'Call-ID',
  'Call-Info',
  'Contact',
  'Content-Disposition',
  'Content-Encoding',
  'Content-Language',
  'Content-Length',
  'Content-Type',
  'CSeq',
  'Date',
  'Error-Info',
  'Event',
  'Expires',
  'From',
  'Identity',
  'Identity-Info',
  'In-Reply-To',
  'Max-Forwards',
  'MIME-Version',
  'Min-Expires',
  'Min-SE',
  'Organization',
  'P-Asserted-Identity',
  'P-Preferred-Identity',
  'Path',
  'Priority',
  'Privacy',
  'Proxy-Authenticate',
  'Proxy-Authorization',
  'Proxy-Require',
  'RAck',
  'Reason',
  'Record-Route',
  'Refer-To',
  'Referred-By',
  'Reject-Contact',
  'Replaces',
  'Reply-To',
  'Request-Disposition',
  'Require',
  'Retry-After',
  'Route',
  'RSeq',
  'Server',
  'Service-Route',
  'Session-Expires',
  'SIP-ETag',
  'SIP-If-Match',
  'Subject',
  'Subscription-State',
  'Supported',
  'Timestamp',
  'To',
  'Unsupported',
  'User-Agent',
  'Via',
  'Warning',
  'WWW-Authenticate',
];

const cache = new Map<string, string>();
for (const n of WELL_KNOWN) cache.set(n.toLowerCase(), n);
for (const [k, v] of Object.entries(COMPACT)) cache.set(k, v);
/** Bounds the memo so that a peer sending random header names cannot grow it without limit. */
const CACHE_LIMIT = 2048;

function titleCase(lower: string): string {
  let out = '';
  let up = true;
  for (let i = 0; i < lower.length; i++) {
    const ch = lower[i]!;
    out += up ? ch.toUpperCase() : ch;
    up = ch === '-';
  }
  return out;
}

/** Canonical spelling of a header field name: compact forms expanded, case normalised. */
export function canonicalHeaderName(name: string): string {
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  const lower = name.trim().toLowerCase();
  let canon = cache.get(lower);
  if (canon === undefined) canon = titleCase(lower);
  if (cache.size < CACHE_LIMIT) cache.set(name, canon);
  return canon;
}

/**
 * Spellings seen on the wire (canonical, lower-case, compact) bucketed by length and first
 * character, so the parser can recognise a header name in place without slicing it out.
 */
const SPELLINGS = new Map<number, [string, string][]>();
function addSpelling(spelling: string, canon: string): void {
  const key = (spelling.length << 8) | spelling.charCodeAt(0);
  let bucket = SPELLINGS.get(key);
  if (!bucket) SPELLINGS.set(key, (bucket = []));
  if (!bucket.some(([s]) => s === spelling)) bucket.push([spelling, canon]);
}
for (const n of WELL_KNOWN) {
  addSpelling(n, n);
  addSpelling(n.toLowerCase(), n);
  addSpelling(titleCase(n.toLowerCase()), n);
}
for (const [k, v] of Object.entries(COMPACT)) {
  addSpelling(k, v);
  addSpelling(k.toUpperCase(), v);
}

/** Canonical name if text[pos, pos+len) is a common spelling of a well-known header; else undefined. */
export function knownHeaderAt(text: string, pos: number, len: number): string | undefined {
  const bucket = SPELLINGS.get((len << 8) | text.charCodeAt(pos));
  if (bucket === undefined) return undefined;
  for (let i = 0; i < bucket.length; i++) if (text.startsWith(bucket[i]![0], pos)) return bucket[i]![1];
  return undefined;
}

/** Compact form of a canonical name, if it has one (for size-constrained UDP messages, §18.1.1). */
export function compactHeaderName(canonical: string): string | undefined {
  for (const [k, v] of Object.entries(COMPACT)) if (v === canonical) return k;
  return undefined;
}

/**
 * Headers whose values are comma-separated lists (§7.3.1) and which the parser splits into one
 * entry per element. Headers whose single values may contain bare commas (WWW-Authenticate,
 * Authorization, Date, ...) must never be split.
 */
export const LIST_HEADERS: ReadonlySet<string> = new Set([
  'Via',
  'Contact',
  'Route',
  'Record-Route',
  'Path',
  'Service-Route',
  'P-Asserted-Identity',
  'P-Preferred-Identity',
]);

/** Headers that §20 defines with exactly one value; a second one makes the request a 400 (RFC 4475 §3.3.8). */
export const SINGLE_VALUE_HEADERS: ReadonlySet<string> = new Set([
  'Call-ID',
  'CSeq',
  'From',
  'To',
  'Max-Forwards',
  'Content-Length',
  'Content-Type',
  'Expires',
  'Min-Expires',
  'Date',
  'MIME-Version',
  'Timestamp',
  'Retry-After',
  'Priority',
  'Organization',
  'Subject',
  'Reply-To',
  'Server',
  'User-Agent',
]);
