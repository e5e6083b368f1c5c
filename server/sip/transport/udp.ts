import dgram from 'node:dgram';
import net from 'node:net';
import type { Logger } from 'pino';
import type { Endpoint } from '../message/types.js';
import { guardListener } from '../../util/log.js';
import { normalizeAddress } from './address.js';

export interface UdpOptions {
  host: string;
  port: number;
  log: Logger;
  onDatagram(data: Buffer, source: Endpoint): void;
}

/**
 * One UDP socket. Bound to an IPv6 address it is dual-stack (unless the host is an IPv6 literal
 * other than `::`), so an IPv4 peer arrives as ::ffff:a.b.c.d and is reported in plain IPv4 form.
 * Responses leave from this same socket, as RFC 3581 §4 requires (same address and port the
 * request arrived on), so NATs in front of the client let them through.
 */
export class UdpTransport {
  private socket: dgram.Socket | null = null;
  private closed = false;
  private readonly v6: boolean;

  constructor(private readonly opts: UdpOptions) {
    this.v6 = net.isIPv6(normalizeAddress(opts.host)) || opts.host === '::';
  }

  async listen(): Promise<{ address: string; port: number }> {
    if (this.closed) throw new Error('UDP transport is closed');
    const socket = dgram.createSocket({ type: this.v6 ? 'udp6' : 'udp4', ipv6Only: false });
    this.socket = socket;
    socket.on(
      'message',
      guardListener('sip.udp.message', this.opts.log, (data: Buffer, rinfo: dgram.RemoteInfo) => {
        this.opts.onDatagram(data, { transport: 'UDP', address: normalizeAddress(rinfo.address), port: rinfo.port });
      }),
    );
    // ICMP port unreachable etc. surface here on some platforms; a datagram socket stays usable.
    socket.on('error', (err) => this.opts.log.warn({ err }, 'UDP socket error'));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: normalizeAddress(this.opts.host), port: this.opts.port, exclusive: true }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    const a = socket.address();
    return { address: normalizeAddress(a.address), port: a.port };
  }

  send(data: Buffer, address: string, port: number): Promise<void> {
    const socket = this.socket;
    if (!socket || this.closed) return Promise.reject(new Error('UDP transport is not listening'));
    let to = normalizeAddress(address);
    if (net.isIPv6(to) && !this.v6) return Promise.reject(new Error(`cannot send to IPv6 ${to} from an IPv4 socket`));
    if (this.v6 && net.isIPv4(to)) to = `::ffff:${to}`;
    return new Promise((resolve, reject) => {
      socket.send(data, port, to, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    const s = this.socket;
    this.socket = null;
    if (!s) return Promise.resolve();
    return new Promise((resolve) => {
      try {
        s.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
