import { unescapeUriPart } from '../message/grammar.js';
import type { SipUri } from '../message/types.js';

/**
 * SIP URI equivalence (RFC 3261 §19.1.4), used to find an existing binding for a Contact (§10.3 step 7).
 * Not transitive (a parameter present in only one URI is ignored), so it cannot be turned into a key;
 * an AOR has few bindings, so comparing pairwise is cheap.
 */
export function sipUriEquivalent(a: SipUri, b: SipUri): boolean {
  // §19.1.4: a SIP and a SIPS URI are never equivalent.
  if (a.scheme !== b.scheme) return false;
  if (a.scheme !== 'sip' && a.scheme !== 'sips') return a.opaque.toLowerCase() === b.opaque.toLowerCase();
  // userinfo is case-sensitive, escapes resolved; host case-insensitive.
  if (unesc(a.user) !== unesc(b.user) || unesc(a.password) !== unesc(b.password)) return false;
  if (a.host.toLowerCase() !== b.host.toLowerCase()) return false;
  // An omitted port does not match an explicit default port.
  if (a.port !== b.port) return false;
  for (const [k, va] of a.params) {
    if (b.params.has(k)) {
      if (!paramEqual(va, b.params.get(k)!)) return false;
    } else if (ONLY_IN_ONE_NEVER_MATCHES.has(k)) return false;
  }
  for (const k of b.params.keys()) if (!a.params.has(k) && ONLY_IN_ONE_NEVER_MATCHES.has(k)) return false;
  // Header components are never ignored.
  if (a.headers.size !== b.headers.size) return false;
  for (const [k, va] of a.headers) {
    const vb = findHeader(b.headers, k);
    if (vb === undefined || unesc(va) !== unesc(vb)) return false;
  }
  return true;
}

/** user, ttl, method (and maddr) present in only one URI make them different (§19.1.4). */
const ONLY_IN_ONE_NEVER_MATCHES = new Set(['user', 'ttl', 'method', 'maddr']);

function unesc(v: string | null): string | null {
  return v === null ? null : unescapeUriPart(v);
}

function paramEqual(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return a === b;
  return unescapeUriPart(a).toLowerCase() === unescapeUriPart(b).toLowerCase();
}

function findHeader(h: Map<string, string>, name: string): string | undefined {
  const n = name.toLowerCase();
  for (const [k, v] of h) if (k.toLowerCase() === n) return v;
  return undefined;
}
