import { isUtf8 } from 'node:buffer';
import type http from 'node:http';
import type https from 'node:https';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Clock, TimerHandle } from '../../util/clock.js';
import { guardListener } from '../../util/log.js';
import { normalizeAddress } from './address.js';
import type { Connection, ConnectionTable, TransportSink } from './connection.js';

export interface WsOptions {
  path: string;
  secure: boolean;
  /** Largest accepted WebSocket message (one SIP message, RFC 7118 §5). */
  maxPayload: number;
  /** WebSocket ping interval; a peer that misses one pong is dropped. 0 disables. */
  pingIntervalMs: number;
  clock: Clock;
  log: Logger;
  table: ConnectionTable;
  sink: TransportSink;
}

/** RFC 7118 §4: the SIP WebSocket subprotocol. */
const SUBPROTOCOL = 'sip';

function requestedProtocols(req: http.IncomingMessage): string[] {
  const h = req.headers['sec-websocket-protocol'];
  if (!h) return [];
  return h
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function refuse(socket: Duplex, status: number, reason: string, text: string): void {
  // Destroy only once the answer is flushed, or the client sees a reset instead of the status.
  socket.once('finish', () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}

class WsConnection implements Connection {
  readonly remote: Connection['remote'];
  readonly outbound = false;
  private done = false;
  private alive = true;
  private pingTimer: TimerHandle | null = null;

  constructor(
    readonly id: string,
    private readonly ws: WebSocket,
    address: string,
    port: number,
    private readonly owner: WsTransport,
    private readonly o: WsOptions,
  ) {
    this.remote = { transport: o.secure ? 'WSS' : 'WS', address, port, connectionId: id };
    ws.on(
      'message',
      guardListener('sip.ws.message', o.log, (data: RawData) => this.onMessage(toBuffer(data))),
    );
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('error', (err) => o.log.debug({ err, conn: id }, 'WebSocket error'));
    ws.on(
      'close',
      guardListener('sip.ws.close', o.log, () => this.onClose()),
    );
    if (o.pingIntervalMs > 0) this.armPing();
  }

  get isOpen(): boolean {
    return !this.done && this.ws.readyState === this.ws.OPEN;
  }

  write(data: Buffer): Promise<void> {
    if (!this.isOpen) return Promise.reject(new Error(`connection ${this.id} is closed`));
    // SIP is text; a body that is not UTF-8 (RFC 7118 §5.1) must go in a binary frame to survive.
    const binary = !isUtf8(data);
    return new Promise((resolve, reject) => {
      this.ws.send(data, { binary }, (err) => (err ? reject(err) : resolve()));
    });
  }

  end(): void {
    if (this.done) return;
    // 1008 policy violation would also fit; 1000 keeps browser consoles quiet.
    this.ws.close(1000);
    this.o.clock.setTimeout(() => this.destroy(), 5000);
  }

  destroy(): void {
    this.ws.terminate();
    this.onClose();
  }

  private onMessage(data: Buffer): void {
    this.alive = true;
    // Keep-alive CRLFs (what SIP.js sends): answer a double CRLF with one, as on TCP (RFC 5626 §4.4.1).
    if (data.length > 0 && data.every((b) => b === 0x0d || b === 0x0a)) {
      if (data.filter((b) => b === 0x0a).length >= 2) this.ws.send('\r\n');
      return;
    }
    this.o.sink.deliver(data, this.remote);
  }

  private armPing(): void {
    this.pingTimer = this.o.clock.setTimeout(() => {
      this.pingTimer = null;
      if (this.done) return;
      if (!this.alive) {
        this.o.log.debug({ conn: this.id }, 'WebSocket peer missed a pong, dropped');
        this.destroy();
        return;
      }
      this.alive = false;
      this.ws.ping();
      this.armPing();
    }, this.o.pingIntervalMs);
  }

  private onClose(): void {
    if (this.done) return;
    this.done = true;
    this.o.clock.clearTimeout(this.pingTimer);
    this.pingTimer = null;
    this.owner.forget(this);
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/**
 * SIP over WebSocket (RFC 7118) on an existing HTTP(S) server, in `noServer` mode so that the same
 * server can carry the REST API and other upgrade paths (which this handler leaves alone).
 * Every WebSocket message is exactly one SIP message, so no stream framing is needed (§5).
 */
export class WsTransport {
  private readonly wss: WebSocketServer;
  private readonly conns = new Set<WsConnection>();
  private readonly onUpgrade: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;
  private closed = false;

  constructor(
    private readonly server: http.Server | https.Server,
    private readonly o: WsOptions,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: o.maxPayload,
      // Only reached after the check in onUpgrade, so 'sip' is always on offer here.
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
    this.wss.on('error', (err) => o.log.warn({ err }, 'WebSocket server error'));
    this.onUpgrade = guardListener('sip.ws.upgrade', o.log, (req, socket, head) => this.upgrade(req, socket, head));
    server.on('upgrade', this.onUpgrade);
  }

  get transport(): 'WS' | 'WSS' {
    return this.o.secure ? 'WSS' : 'WS';
  }

  /** The HTTP server's bound address and port (null until it listens), for Via and Contact. */
  boundAddress(): { address: string; port: number } | null {
    const a = this.server.address();
    return a && typeof a === 'object' ? { address: normalizeAddress(a.address), port: a.port } : null;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.off('upgrade', this.onUpgrade);
    for (const c of [...this.conns]) c.destroy();
    this.wss.close();
  }

  forget(c: WsConnection): void {
    if (!this.conns.delete(c)) return;
    this.o.table.remove(c);
    this.o.sink.closed(c);
  }

  private upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    if (pathname !== this.o.path) return; // someone else's upgrade path
    if (this.closed) {
      refuse(socket, 503, 'Service Unavailable', 'shutting down');
      return;
    }
    // RFC 7118 §4: a SIP WebSocket client offers the "sip" subprotocol; without it we would not
    // know the peer speaks SIP, so the handshake is refused.
    if (!requestedProtocols(req).includes(SUBPROTOCOL)) {
      refuse(socket, 400, 'Bad Request', 'SIP over WebSocket requires the "sip" subprotocol (RFC 7118)');
      return;
    }
    const address = normalizeAddress(req.socket.remoteAddress ?? '');
    const port = req.socket.remotePort ?? 0;
    if (!address || !this.o.sink.admit(address)) {
      refuse(socket, 503, 'Service Unavailable', 'too many connections');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (this.closed) {
        ws.terminate();
        return;
      }
      const c = new WsConnection(this.o.table.nextId(this.transport), ws, address, port, this, this.o);
      this.conns.add(c);
      this.o.table.add(c);
      this.o.sink.opened(c);
    });
  }
}
