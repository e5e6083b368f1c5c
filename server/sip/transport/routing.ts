/**
 * Pure Via logic of the transport layer: stamping received requests (RFC 3261 §18.2.1, RFC 3581 §4)
 * and choosing where a response goes (§18.2.2, RFC 3581 §4). No sockets here; index.ts applies it.
 */
import type { Endpoint, ReadonlyVia, Via } from '../message/types.js';
import { isIpLiteral, normalizeAddress, sameAddress } from './address.js';
import { isReliable } from './connection.js';

/** Default ports when a Via has none (§18.2.2 "default port for that transport", §19.1.2). */
export function defaultPort(transport: string): number {
  const t = transport.toUpperCase();
  if (t === 'TLS' || t === 'WSS' || t === 'TLS-SCTP') return 5061;
  return 5060;
}

/**
 * Adds `received` and fills `rport` on the top Via of a received request. Mutates `via`; returns
 * true when it changed anything, so the caller rewrites the raw header only then.
 */
export function stampVia(via: Via, source: Endpoint): boolean {
  let changed = false;
  const rportAsked = via.params.has('rport') && via.params.get('rport') === null;
  // §18.2.1: MUST add received when sent-by is a domain name or differs from the packet source.
  // RFC 3581 §4: with an empty rport, received MUST be added even when it is the same address.
  const host = via.host;
  const differs = !isIpLiteral(host) || !sameAddress(host, source.address);
  if (differs || rportAsked) {
    // via-received is a bare IPv4address / IPv6address (§25.1, no brackets).
    via.params.set('received', normalizeAddress(source.address));
    changed = true;
  }
  if (rportAsked) {
    via.params.set('rport', String(source.port));
    changed = true;
  }
  return changed;
}

export type ResponseRoute =
  /** Reliable: the connection the request arrived on, if it is still open (§18.2.2). */
  | {
      kind: 'connection';
      transport: string;
      /** Known connection of the request, if the caller kept it. */
      connectionId: string | null;
      /** Where that connection's far end is expected to be (received + rport), for a table look-up. */
      lookup: { address: string; port: number | null };
      /** If no connection is open any more: §18.2.2 says open one to received (or sent-by host) and
       * the sent-by port. null for WebSocket, whose clients accept no connections (RFC 7118 §5). */
      reopen: Endpoint | null;
    }
  /** Unreliable: one datagram to this endpoint. */
  | { kind: 'datagram'; dest: Endpoint };

/** §18.2.2 with RFC 3581 §4. Throws when the Via names a host we would have to resolve by DNS. */
export function routeResponse(via: ReadonlyVia, requestSource?: Endpoint): ResponseRoute {
  const transport = via.transport.toUpperCase();
  const received = via.params.get('received') ?? null;
  const rportValue = via.params.get('rport');
  const rport = rportValue ? Number(rportValue) : null;
  const sentByPort = via.port ?? defaultPort(transport);
  if (isReliable(transport)) {
    const address = received ?? via.host;
    const ws = transport === 'WS' || transport === 'WSS';
    return {
      kind: 'connection',
      transport,
      connectionId: requestSource?.connectionId ?? null,
      lookup: { address: normalizeAddress(address), port: rport },
      reopen:
        ws || !isIpLiteral(address)
          ? null
          : { transport: transport as Endpoint['transport'], address: normalizeAddress(address), port: sentByPort },
    };
  }
  const maddr = via.params.get('maddr');
  let address: string;
  let port: number;
  if (maddr) {
    // §18.2.2: maddr wins; port from sent-by or 5060 (multicast TTL is not supported here).
    address = maddr;
    port = sentByPort;
  } else if (received && rport !== null && Number.isInteger(rport) && rport > 0 && rport < 65536) {
    address = received;
    port = rport;
  } else if (received) {
    address = received;
    port = sentByPort;
  } else {
    address = via.host;
    port = sentByPort;
  }
  if (!isIpLiteral(address)) {
    throw new Error(`response needs DNS resolution of Via host "${address}" (RFC 3263 §5), which is not supported`);
  }
  return { kind: 'datagram', dest: { transport: 'UDP', address: normalizeAddress(address), port } };
}
