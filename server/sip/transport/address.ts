import net from 'node:net';

/**
 * Address helpers shared by the transports. A dual-stack IPv6 socket reports IPv4 peers as
 * `::ffff:a.b.c.d`; everything above the socket sees the plain IPv4 form, so that `received=`
 * (§18.2.1) and connection look-ups compare like with like.
 */

/** Plain textual IP: brackets removed, IPv4-mapped IPv6 unwrapped, lower-cased. */
export function normalizeAddress(addr: string): string {
  let a = addr.trim().toLowerCase();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  if (a.startsWith('::ffff:') && net.isIPv4(a.slice(7))) a = a.slice(7);
  return a;
}

/** True when `host` (brackets allowed) is an IP literal rather than a domain name. */
export function isIpLiteral(host: string): boolean {
  return net.isIP(normalizeAddress(host)) !== 0;
}

/** Compares two IP literals, tolerating different spellings of the same IPv6 address. */
export function sameAddress(a: string, b: string): boolean {
  const x = normalizeAddress(a);
  const y = normalizeAddress(b);
  if (x === y) return true;
  if (net.isIPv6(x) && net.isIPv6(y)) return canonicalIPv6(x) === canonicalIPv6(y);
  return false;
}

/** net.SocketAddress prints the RFC 5952 form (zeros compressed, lower case). */
function canonicalIPv6(a: string): string {
  return new net.SocketAddress({ address: a, family: 'ipv6' }).address;
}

/** Host as written in Via sent-by or a SIP URI: IPv6 in brackets (§19.1.1, RFC 5118). */
export function hostForUri(addr: string): string {
  const a = normalizeAddress(addr);
  return net.isIPv6(a) ? `[${a}]` : a;
}

/** Key of a connection table entry. */
export function endpointKey(address: string, port: number): string {
  return `${normalizeAddress(address)}|${port}`;
}

/** An unspecified bind address (0.0.0.0, ::) cannot be put in a Via. */
export function isWildcard(host: string): boolean {
  const a = normalizeAddress(host);
  return a === '0.0.0.0' || a === '::' || a === '';
}
