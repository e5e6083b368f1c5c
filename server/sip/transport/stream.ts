import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../util/clock.js';
import { guardListener } from '../../util/log.js';
import { normalizeAddress } from './address.js';
import type { Connection, ConnectionTable, TransportSink } from './connection.js';
import { StreamFramer, type FramerLimits } from './stream-framer.js';

export interface StreamOptions {
  kind: 'TCP' | 'TLS';
  host: string;
  port: number;
  /** Server side of TLS (certificate and key already loaded and checked). */
  serverTls?: { cert: Buffer; key: Buffer };
  /** Client side of TLS: trust anchors and whether to verify the peer. */
  clientTls?: { ca?: Buffer; rejectUnauthorized: boolean };
  idleTimeoutMs: number;
  connectTimeoutMs: number;
  limits: FramerLimits;
  clock: Clock;
  log: Logger;
  table: ConnectionTable;
  sink: TransportSink;
}

/** Upper bound on a single write queue: a peer that stops reading must not grow our memory. */
const MAX_WRITE_BUFFER = 1024 * 1024;

class StreamConnection implements Connection {
  readonly remote: Connection['remote'];
  private readonly framer: StreamFramer;
  private last: number;
  private idleTimer: TimerHandle | null = null;
  private done = false;

  constructor(
    readonly id: string,
    private readonly socket: net.Socket,
    readonly outbound: boolean,
    private readonly owner: StreamTransport,
    private readonly o: StreamOptions,
  ) {
    this.remote = {
      transport: o.kind,
      address: normalizeAddress(socket.remoteAddress ?? ''),
      port: socket.remotePort ?? 0,
      connectionId: id,
    };
    this.framer = new StreamFramer(o.limits);
    this.last = o.clock.now();
    socket.setNoDelay(true);
    socket.on(
      'data',
      guardListener(`sip.${o.kind}.data`, o.log, (chunk: Buffer) => this.onData(chunk)),
    );
    socket.on('error', (err) => o.log.debug({ err, conn: id }, 'connection error'));
    socket.on(
      'close',
      guardListener(`sip.${o.kind}.close`, o.log, () => this.onClose()),
    );
    this.armIdle(o.idleTimeoutMs);
  }

  get isOpen(): boolean {
    return !this.done && !this.socket.destroyed && this.socket.writable;
  }

  write(data: Buffer): Promise<void> {
    if (!this.isOpen) return Promise.reject(new Error(`connection ${this.id} is closed`));
    if (this.socket.writableLength > MAX_WRITE_BUFFER) {
      this.destroy();
      return Promise.reject(new Error(`connection ${this.id}: peer is not reading, closed`));
    }
    this.last = this.o.clock.now();
    return new Promise((resolve, reject) => {
      this.socket.write(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  end(): void {
    if (this.done) return;
    this.socket.end();
    // If the peer never acknowledges the FIN, do not keep the socket forever.
    this.o.clock.setTimeout(() => this.destroy(), 5000);
  }

  destroy(): void {
    this.socket.destroy();
    this.onClose();
  }

  private onData(chunk: Buffer): void {
    this.last = this.o.clock.now();
    for (const ev of this.framer.push(chunk)) {
      if (ev.kind === 'message') this.o.sink.deliver(ev.data, this.remote);
      // RFC 5626 §4.4.1: answer a CRLFCRLF ping with a single CRLF pong.
      else if (ev.kind === 'ping') this.socket.write('\r\n');
      else {
        this.o.log.info({ conn: this.id, reason: ev.reason }, 'unframeable stream, closing connection');
        this.o.sink.streamError(this, ev.status, ev.reason, ev.head);
        this.end();
      }
    }
  }

  private armIdle(ms: number): void {
    this.idleTimer = this.o.clock.setTimeout(() => {
      this.idleTimer = null;
      if (this.done) return;
      const idle = this.o.clock.now() - this.last;
      if (idle >= this.o.idleTimeoutMs) {
        this.o.log.debug({ conn: this.id }, 'idle connection closed');
        this.destroy();
      } else {
        this.armIdle(this.o.idleTimeoutMs - idle);
      }
    }, ms);
  }

  private onClose(): void {
    if (this.done) return;
    this.done = true;
    this.o.clock.clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.owner.forget(this);
  }
}

/**
 * TCP or TLS: a listening server plus outbound connections, all in the shared connection table.
 * Each connection has its own framer, an idle timeout (activity in either direction resets it)
 * and counts toward the per-source cap checked through the sink before a connection is kept.
 */
export class StreamTransport {
  private server: net.Server | null = null;
  private closed = false;
  private readonly mine = new Set<StreamConnection>();

  constructor(private readonly o: StreamOptions) {}

  async listen(): Promise<{ address: string; port: number }> {
    if (this.closed) throw new Error(`${this.o.kind} transport is closed`);
    const onSocket = guardListener(`sip.${this.o.kind}.accept`, this.o.log, (socket: net.Socket) =>
      this.accept(socket),
    );
    const server =
      this.o.kind === 'TLS' ? tls.createServer({ ...this.o.serverTls }, onSocket) : net.createServer(onSocket);
    this.server = server;
    server.on('error', (err) => this.o.log.error({ err }, `${this.o.kind} server error`));
    // A failed TLS handshake must not reach the 'error' handler as a server failure.
    server.on('tlsClientError', (err) => this.o.log.debug({ err }, 'TLS handshake failed'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: normalizeAddress(this.o.host), port: this.o.port, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const a = server.address() as net.AddressInfo;
    return { address: normalizeAddress(a.address), port: a.port };
  }

  /** Opens an outbound connection (§18.1.1: to the peer's listening port). */
  connect(address: string, port: number): Promise<Connection> {
    if (this.closed) return Promise.reject(new Error(`${this.o.kind} transport is closed`));
    const host = normalizeAddress(address);
    return new Promise((resolve, reject) => {
      let settled = false;
      const socket =
        this.o.kind === 'TLS'
          ? tls.connect({
              host,
              port,
              ca: this.o.clientTls?.ca,
              rejectUnauthorized: this.o.clientTls?.rejectUnauthorized ?? true,
              // SNI must not carry an IP literal (RFC 6066 §3).
              servername: net.isIP(host) ? undefined : host,
            })
          : net.connect({ host, port });
      const timer = this.o.clock.setTimeout(
        () => fail(new Error(`${this.o.kind} connect to ${host}:${port} timed out`)),
        this.o.connectTimeoutMs,
      );
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        this.o.clock.clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      socket.once('error', fail);
      socket.once(this.o.kind === 'TLS' ? 'secureConnect' : 'connect', () => {
        if (settled) return;
        settled = true;
        this.o.clock.clearTimeout(timer);
        socket.off('error', fail);
        if (this.closed) {
          socket.destroy();
          reject(new Error(`${this.o.kind} transport is closed`));
          return;
        }
        resolve(this.adopt(socket, true));
      });
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    for (const c of [...this.mine]) c.destroy();
    const s = this.server;
    this.server = null;
    if (!s) return Promise.resolve();
    return new Promise((resolve) => s.close(() => resolve()));
  }

  /** Called by a connection when it is gone. */
  forget(c: StreamConnection): void {
    if (!this.mine.delete(c)) return;
    this.o.table.remove(c);
    this.o.sink.closed(c);
  }

  private accept(socket: net.Socket): void {
    const addr = normalizeAddress(socket.remoteAddress ?? '');
    if (this.closed || !addr || !this.o.sink.admit(addr)) {
      socket.destroy();
      return;
    }
    this.adopt(socket, false);
  }

  private adopt(socket: net.Socket, outbound: boolean): StreamConnection {
    const c = new StreamConnection(this.o.table.nextId(this.o.kind), socket, outbound, this, this.o);
    this.mine.add(c);
    this.o.table.add(c);
    this.o.sink.opened(c);
    return c;
  }
}
