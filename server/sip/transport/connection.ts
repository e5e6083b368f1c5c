import type { Endpoint } from '../message/types.js';
import { endpointKey, normalizeAddress } from './address.js';

/** Transports whose messages travel over a connection (§18: "reliable"). */
export type ConnTransport = 'TCP' | 'TLS' | 'WS' | 'WSS';

export function isReliable(transport: string): boolean {
  const t = transport.toUpperCase();
  return t === 'TCP' || t === 'TLS' || t === 'WS' || t === 'WSS' || t === 'SCTP' || t === 'TLS-SCTP';
}

/** One open TCP, TLS or WebSocket connection, inbound or outbound. */
export interface Connection {
  readonly id: string;
  /** Peer address; `connectionId` equals `id`. */
  readonly remote: Endpoint & { transport: ConnTransport; connectionId: string };
  readonly outbound: boolean;
  readonly isOpen: boolean;
  /** Resolves when the bytes were handed to the kernel; rejects when the connection is gone. */
  write(data: Buffer): Promise<void>;
  /** Flushes what was written, then closes. Safe to call twice. */
  end(): void;
  /** Closes at once. Safe to call twice. */
  destroy(): void;
}

/** What the transports hand up to the TransportLayer. */
export interface TransportSink {
  /** Bytes of exactly one message (a datagram, a framed stream message, a WebSocket message). */
  deliver(data: Buffer, source: Endpoint): void;
  /** The stream cannot be framed; the connection closes after the optional reply is written. */
  streamError(conn: Connection, status: number, reason: string, head: Buffer | null): void;
  opened(conn: Connection): void;
  closed(conn: Connection): void;
  /** Whether a new connection from this address may be accepted (per-source and total caps). */
  admit(address: string): boolean;
}

/**
 * Every open connection, by id and by remote transport+address+port. The second key lets a
 * request to a peer reuse an existing connection (§18.1.1 "connection re-use") and lets a response
 * find the connection its request came on (§18.2.2).
 */
export class ConnectionTable {
  private readonly byId = new Map<string, Connection>();
  private readonly byKey = new Map<string, Connection>();
  private readonly perAddress = new Map<string, number>();
  private seq = 0;

  nextId(transport: ConnTransport): string {
    return `${transport.toLowerCase()}-${++this.seq}`;
  }

  add(c: Connection): void {
    this.byId.set(c.id, c);
    // An outbound connection to a peer's listening port and an inbound one from its ephemeral
    // port have different keys; if two share a key, the newer one wins for look-ups.
    this.byKey.set(this.key(c.remote.transport, c.remote.address, c.remote.port), c);
    const a = normalizeAddress(c.remote.address);
    this.perAddress.set(a, (this.perAddress.get(a) ?? 0) + 1);
  }

  remove(c: Connection): void {
    if (this.byId.get(c.id) !== c) return;
    this.byId.delete(c.id);
    const k = this.key(c.remote.transport, c.remote.address, c.remote.port);
    if (this.byKey.get(k) === c) this.byKey.delete(k);
    const a = normalizeAddress(c.remote.address);
    const n = (this.perAddress.get(a) ?? 1) - 1;
    if (n <= 0) this.perAddress.delete(a);
    else this.perAddress.set(a, n);
  }

  get(id: string): Connection | undefined {
    return this.byId.get(id);
  }

  find(transport: ConnTransport, address: string, port: number): Connection | undefined {
    return this.byKey.get(this.key(transport, address, port));
  }

  /** Open connections of one transport from one address (newest last). */
  fromAddress(transport: ConnTransport, address: string): Connection[] {
    const a = normalizeAddress(address);
    const out: Connection[] = [];
    for (const c of this.byId.values()) {
      if (c.remote.transport === transport && normalizeAddress(c.remote.address) === a) out.push(c);
    }
    return out;
  }

  countFrom(address: string): number {
    return this.perAddress.get(normalizeAddress(address)) ?? 0;
  }

  get size(): number {
    return this.byId.size;
  }

  all(): Connection[] {
    return [...this.byId.values()];
  }

  private key(transport: string, address: string, port: number): string {
    return `${transport}|${endpointKey(address, port)}`;
  }
}
