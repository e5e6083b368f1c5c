/**
 * The SIP transport layer (RFC 3261 §18): UDP, TCP, TLS and SIP over WebSocket (RFC 7118) behind
 * one object. Upward it delivers parsed messages with `source` set; downward it takes messages and
 * an Endpoint (requests) or routes by the top Via (responses).
 *
 * Receive path, per message: rate limit by source address (before any parsing, so a flood costs a
 * map look-up) → size cap → parse → stamp the top Via of requests (§18.2.1, RFC 3581) or check
 * the top Via of responses (§18.1.2) → onMessage. Nothing thrown on that path leaves a socket
 * callback: it is logged and counted.
 */
import fs from 'node:fs';
import type http from 'node:http';
import type https from 'node:https';
import tls from 'node:tls';
import type { Logger } from 'pino';
import { createResponse, type SentBy } from '../message/build.js';
import { formatVia, parseVia } from '../message/grammar.js';
import { SipRequest, type SipResponse } from '../message/message.js';
import { SipParseError, type Endpoint } from '../message/types.js';
import { parseErrorResponse, parseMessage, serializeMessage, SipMessageParseError } from '../parser/index.js';
import { systemClock, type Clock } from '../../util/clock.js';
import { createLogger, maskPhone } from '../../util/log.js';
import { hostForUri, isWildcard, normalizeAddress, sameAddress } from './address.js';
import { ConnectionTable, isReliable, type Connection, type ConnTransport, type TransportSink } from './connection.js';
import { RateLimiter, type RateLimitOptions } from './rate-limit.js';
import { routeResponse, stampVia } from './routing.js';
import { DEFAULT_FRAMER_LIMITS, type FramerLimits } from './stream-framer.js';
import { StreamTransport } from './stream.js';
import { UdpTransport } from './udp.js';
import { WsTransport } from './ws.js';
import { setupTrace } from '../message/setup-trace.js';

export type TransportName = Endpoint['transport'];
export type SipMsg = SipRequest | SipResponse;

export interface TlsOptions {
  port: number;
  certFile: string;
  keyFile: string;
  /** Trust anchors for outbound TLS connections (PEM). Default: Node's bundled CAs. */
  caFile?: string;
  /** Verify the certificate of peers we connect to. Default true. */
  rejectUnauthorized?: boolean;
}

export interface TransportLayerOptions {
  /** Bind address. `0.0.0.0` for IPv4, `::` for dual stack, or one IP. */
  host: string;
  /** Host written in our Via (sent-by) and Contact. Default: `host`, or loopback when `host` is a wildcard. */
  advertisedHost?: string;
  /** UDP and TCP listen ports; absent = that transport is off; 0 = ephemeral. */
  udpPort?: number;
  tcpPort?: number;
  tls?: TlsOptions;
  /**
   * Largest UDP datagram accepted (default 8 KiB). §18.1.1 makes senders switch to TCP above
   * 1300 bytes, so legitimate UDP SIP is far below this; 8 KiB still admits the fragmented
   * INVITEs with large SDP some phones send anyway, while keeping the parse cost of each
   * (possibly spoofed) datagram small. Larger datagrams get 513 (§21.5.14) when readable.
   */
  maxUdpBytes?: number;
  /** Stream (and WebSocket message) caps; see stream-framer.ts. */
  limits?: Partial<FramerLimits>;
  /** TCP/TLS connections with no traffic this long are closed (default 5 min, above RFC 5626's
   * recommended 2-minute keep-alive interval for connection-oriented flows). */
  idleTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Per remote address, over TCP+TLS+WS together (default 200: a call-centre office behind one NAT). */
  maxConnectionsPerSource?: number;
  maxConnections?: number;
  /** WebSocket ping interval, dead peers are dropped after one missed pong (default 30 s). */
  wsPingIntervalMs?: number;
  /** Consulted before anything else for every packet and connection: false drops it (banned sources). */
  admit?(address: string): boolean;
  /** Per-source token bucket; null/absent = no limit. */
  rateLimit?: RateLimitOptions | null;
  /**
   * §18.1.1: a request over 1300 bytes headed for UDP is sent over TCP instead (top Via rewritten),
   * falling back to UDP if the connection fails. Default true when TCP is enabled.
   */
  largeRequestsOverTcp?: boolean;
  /**
   * §18.1.2: drop responses whose top Via sent-by is not one we insert. Extra host names that
   * count as ours can be listed here (e.g. a public name behind NAT).
   */
  extraSentByHosts?: string[];
  clock?: Clock;
  log?: Logger;
  onMessage(msg: SipMsg, source: Endpoint): void | Promise<void>;
  /** A connection closed (e.g. a WebSocket agent went away: its registrations are unreachable). */
  onConnectionClosed?(remote: Endpoint): void;
  onError?(err: unknown, where: string): void;
}

export interface TransportInfo {
  transport: TransportName;
  /** Bound address. */
  address: string;
  port: number;
  /** Host to put in Via/Contact for this transport. */
  host: string;
}

export interface TransportStats {
  received: number;
  sent: number;
  parseErrors: number;
  rateLimited: number;
  /** Dropped because `admit` refused the source (a ban). */
  banned: number;
  oversize: number;
  /** Responses dropped by the §18.1.2 sent-by check. */
  foreignResponses: number;
  sendErrors: number;
  connectionsRejected: number;
  connections: number;
}

enum LayerState {
  New = 'new',
  Listening = 'listening',
  Closed = 'closed',
}

const LAYER_TRANSITIONS: Record<LayerState, readonly LayerState[]> = {
  [LayerState.New]: [LayerState.Listening, LayerState.Closed],
  [LayerState.Listening]: [LayerState.Closed],
  [LayerState.Closed]: [],
};

/** Largest request that may go over UDP when the path MTU is unknown (§18.1.1). */
const UDP_REQUEST_LIMIT = 1300;

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
}

/** Reads and checks a TLS certificate and key, with errors an operator can act on. */
export function loadTlsContext(certFile: string, keyFile: string): TlsMaterial {
  const read = (file: string, what: string): Buffer => {
    try {
      return fs.readFileSync(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new Error(`TLS ${what} file ${file} cannot be read (${code ?? String(err)})`);
    }
  };
  const cert = read(certFile, 'certificate');
  const key = read(keyFile, 'private key');
  try {
    // Built only to check the pair now, at start-up, rather than at the first handshake.
    tls.createSecureContext({ cert, key });
    return { cert, key };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH' || /key values mismatch/i.test(e.message)) {
      throw new Error(`TLS private key ${keyFile} does not match certificate ${certFile}`);
    }
    throw new Error(`TLS certificate ${certFile} / key ${keyFile} could not be loaded: ${e.message}`);
  }
}

export class TransportLayer {
  private readonly o: TransportLayerOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly table = new ConnectionTable();
  private readonly limiter: RateLimiter | null;
  private readonly limits: FramerLimits;
  private readonly maxUdpBytes: number;
  private readonly sink: TransportSink;
  private udp: UdpTransport | null = null;
  private tcp: StreamTransport | null = null;
  private tlsT: StreamTransport | null = null;
  private readonly wss: WsTransport[] = [];
  private readonly bound = new Map<TransportName, { address: string; port: number }>();
  private state = LayerState.New;
  /** Outbound connects in flight, so that concurrent sends to one peer share one connection. */
  private readonly connecting = new Map<string, Promise<Connection>>();
  private closing: Promise<void> | null = null;
  private readonly counters = {
    received: 0,
    sent: 0,
    parseErrors: 0,
    rateLimited: 0,
    oversize: 0,
    foreignResponses: 0,
    sendErrors: 0,
    connectionsRejected: 0,
    banned: 0,
  };

  constructor(opts: TransportLayerOptions) {
    this.o = opts;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? createLogger('sip.transport');
    this.limiter = opts.rateLimit ? new RateLimiter(opts.rateLimit, this.clock) : null;
    this.limits = { ...DEFAULT_FRAMER_LIMITS, ...opts.limits };
    this.maxUdpBytes = opts.maxUdpBytes ?? 8 * 1024;
    const maxPerSource = opts.maxConnectionsPerSource ?? 200;
    const maxTotal = opts.maxConnections ?? 10_000;
    this.sink = {
      deliver: (data, source) => this.receive(data, source),
      streamError: (conn, status, reason, head) => this.onStreamError(conn, status, reason, head),
      opened: () => undefined,
      closed: (conn) => {
        try {
          this.o.onConnectionClosed?.(conn.remote);
        } catch (err) {
          this.report(err, 'onConnectionClosed');
        }
      },
      admit: (address) => {
        if (this.o.admit && !this.o.admit(normalizeAddress(address))) {
          this.counters.banned++;
          return false;
        }
        const ok = this.table.size < maxTotal && this.table.countFrom(address) < maxPerSource;
        if (!ok) {
          this.counters.connectionsRejected++;
          this.log.warn({ source: address }, 'connection refused: too many connections');
        }
        return ok;
      },
    };
  }

  /** Opens the configured sockets. TLS files are checked first so a bad certificate fails fast. */
  async listen(): Promise<void> {
    this.move(LayerState.Listening);
    const o = this.o;
    const common = {
      host: o.host,
      idleTimeoutMs: o.idleTimeoutMs ?? 300_000,
      connectTimeoutMs: o.connectTimeoutMs ?? 10_000,
      limits: this.limits,
      clock: this.clock,
      log: this.log,
      table: this.table,
      sink: this.sink,
    };
    try {
      if (o.tls) {
        const serverTls = loadTlsContext(o.tls.certFile, o.tls.keyFile);
        let ca: Buffer | undefined;
        if (o.tls.caFile) {
          try {
            ca = fs.readFileSync(o.tls.caFile);
          } catch (err) {
            throw new Error(`TLS CA file ${o.tls.caFile} cannot be read (${(err as NodeJS.ErrnoException).code})`);
          }
        }
        this.tlsT = new StreamTransport({
          ...common,
          kind: 'TLS',
          port: o.tls.port,
          serverTls,
          clientTls: { ca, rejectUnauthorized: o.tls.rejectUnauthorized ?? true },
        });
        this.bound.set('TLS', await this.tlsT.listen());
        this.infoCache = null;
      }
      if (o.udpPort !== undefined) {
        this.udp = new UdpTransport({
          host: o.host,
          port: o.udpPort,
          log: this.log,
          onDatagram: (data, source) => this.receive(data, source),
        });
        this.bound.set('UDP', await this.udp.listen());
        this.infoCache = null;
      }
      if (o.tcpPort !== undefined) {
        this.tcp = new StreamTransport({ ...common, kind: 'TCP', port: o.tcpPort });
        this.bound.set('TCP', await this.tcp.listen());
        this.infoCache = null;
      }
    } catch (err) {
      await this.close();
      throw err;
    }
    this.log.info({ transports: this.info() }, 'SIP transports listening');
  }

  /**
   * SIP over WebSocket on an HTTP(S) server (RFC 7118). `secure` says whether that server is
   * HTTPS, i.e. whether peers see WSS. Upgrades to other paths are left to other handlers.
   */
  attachWebSocket(server: http.Server | https.Server, path = '/sip', secure = false): void {
    if (this.state === LayerState.Closed) throw new Error('transport layer is closed');
    if (this.wss.some((w) => w.transport === (secure ? 'WSS' : 'WS'))) {
      throw new Error(`a ${secure ? 'WSS' : 'WS'} endpoint is already attached`);
    }
    this.infoCache = null;
    this.wss.push(
      new WsTransport(server, {
        path,
        secure,
        maxPayload: this.limits.maxHeaderBytes + this.limits.maxBodyBytes,
        pingIntervalMs: this.o.wsPingIntervalMs ?? 30_000,
        clock: this.clock,
        log: this.log,
        table: this.table,
        sink: this.sink,
      }),
    );
  }

  /** Listening transports, for /api/health and for building Via and Contact. */
  info(): TransportInfo[] {
    // Read for every Via, Contact and response check: cached once every listener knows its address.
    if (this.infoCache) return this.infoCache;
    const out: TransportInfo[] = [];
    for (const [transport, b] of this.bound)
      out.push({ transport, address: b.address, port: b.port, host: this.advertised() });
    for (const w of this.wss) {
      const a = w.boundAddress();
      if (a) out.push({ transport: w.transport, address: a.address, port: a.port, host: this.advertised() });
    }
    if (this.wss.every((w) => w.boundAddress() !== null)) this.infoCache = out;
    return out;
  }

  private infoCache: TransportInfo[] | null = null;

  /** sent-by for our Via on `transport` (§18.1.1), in the shape build.ts's addVia takes. */
  viaFor(transport: TransportName): SentBy {
    const i = this.info().find((x) => x.transport === transport);
    if (!i) throw new Error(`transport ${transport} is not listening`);
    return { transport, host: hostForUri(i.host), port: i.port };
  }

  /** Whether `dest` is reached over a reliable (connection-oriented) transport: no retransmissions (§17.1.1.2). */
  reliable(dest: Endpoint | TransportName): boolean {
    return isReliable(typeof dest === 'string' ? dest : dest.transport);
  }

  stats(): TransportStats {
    return { ...this.counters, connections: this.table.size };
  }

  /** Open connection ids with their peers (for diagnostics). */
  connections(): Endpoint[] {
    return this.table.all().map((c) => ({ ...c.remote }));
  }

  /**
   * Sends a message to `dest` (§18.1.1). TCP/TLS reuse `dest.connectionId` or an open connection
   * to the same address and port, else open one; WS/WSS only ever use an existing connection.
   * Resolves with the endpoint actually used (its connectionId, or TCP after a §18.1.1 switch).
   */
  async send(msg: SipMsg, dest: Endpoint): Promise<Endpoint> {
    try {
      if (msg instanceof SipRequest && dest.transport === 'UDP' && this.tcp && this.o.largeRequestsOverTcp !== false) {
        const data = serializeMessage(msg);
        if (data.length > UDP_REQUEST_LIMIT) return await this.sendLargeOverTcp(msg, dest);
        return await this.sendBytes(data, dest);
      }
      return await this.sendBytes(serializeMessage(msg), dest);
    } catch (err) {
      this.counters.sendErrors++;
      throw err;
    }
  }

  /**
   * Sends a response where §18.2.2 says, from its top Via. `requestSource` (the request's
   * `source`) lets a reliable response go back on the very connection the request came on.
   */
  async sendResponse(res: SipResponse, requestSource?: Endpoint): Promise<Endpoint> {
    try {
      // Parsed once per response object: its retransmissions reuse it.
      const route = routeResponse(res.topVia, requestSource);
      const data = serializeMessage(res);
      if (route.kind === 'datagram') return await this.sendBytes(data, route.dest);
      const t = route.transport as ConnTransport;
      const conn = this.connectionFor(t, route.connectionId, route.lookup);
      if (conn) {
        await conn.write(data);
        this.counters.sent++;
        return conn.remote;
      }
      if (!route.reopen) {
        throw new Error(`no open ${t} connection to ${route.lookup.address} for a response (RFC 7118 §5)`);
      }
      return await this.sendBytes(data, route.reopen);
    } catch (err) {
      this.counters.sendErrors++;
      throw err;
    }
  }

  /** Closes every socket and connection. Idempotent; later sends fail. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.move(LayerState.Closed);
    const parts: Promise<void>[] = [];
    for (const w of this.wss) w.close();
    if (this.udp) parts.push(this.udp.close());
    if (this.tcp) parts.push(this.tcp.close());
    if (this.tlsT) parts.push(this.tlsT.close());
    this.closing = Promise.all(parts).then(() => undefined);
    return this.closing;
  }

  // ------------------------------------------------------------------------------------------
  // receive path

  private receive(data: Buffer, source: Endpoint): void {
    setupTrace.receiving();
    try {
      if (this.state === LayerState.Closed) return;
      if (this.o.admit && !this.o.admit(normalizeAddress(source.address))) {
        this.counters.banned++;
        return;
      }
      if (this.limiter && !this.limiter.allow(normalizeAddress(source.address))) {
        this.counters.rateLimited++;
        return;
      }
      if (source.transport === 'UDP' && data.length > this.maxUdpBytes) {
        this.counters.oversize++;
        this.log.info({ source: source.address, bytes: data.length }, 'oversize UDP datagram');
        this.replyFromHead(headerSection(data), 513, source);
        return;
      }
      let msg: SipMsg;
      try {
        // Stream messages were framed by Content-Length already; UDP and WebSocket messages are
        // whole by construction (§18.3 applies to streams only, RFC 7118 §5).
        const stream = source.transport === 'TCP' || source.transport === 'TLS';
        msg = parseMessage(data, { stream, maxBytes: this.limits.maxHeaderBytes + this.limits.maxBodyBytes });
      } catch (err) {
        this.counters.parseErrors++;
        this.onParseError(err, source);
        return;
      }
      if (msg instanceof SipRequest) {
        if (setupTrace.enabled && msg.method === 'INVITE' && msg.toTag === null) setupTrace.parsed(msg);
        this.stampRequest(msg, source);
      } else if (!this.isOurSentBy(msg)) {
        // §18.1.2: a response whose top Via is not ours MUST be silently discarded.
        this.counters.foreignResponses++;
        return;
      }
      msg.source = source;
      this.counters.received++;
      const r: unknown = this.o.onMessage(msg, source);
      if (r instanceof Promise) r.catch((err: unknown) => this.report(err, 'onMessage'));
    } catch (err) {
      this.report(err, 'receive');
    }
  }

  private stampRequest(req: SipRequest, source: Endpoint): void {
    const i = req.headers.fields.findIndex((f) => f.name === 'Via');
    const field = req.headers.fields[i];
    if (!field) return; // the parser rejects Via-less requests; nothing to stamp otherwise
    const via = parseVia(field.value);
    if (stampVia(via, source)) field.value = formatVia(via);
    // Transaction matching and the response route read it next.
    req.rememberTopVia(via);
  }

  private isOurSentBy(res: SipResponse): boolean {
    if (res.headers.get('Via') === undefined) return false;
    const via = res.topVia; // parsed once: the client transaction's key reads it next
    const hosts = [this.advertised(), this.o.host, ...(this.o.extraSentByHosts ?? [])];
    const hostOk = hosts.some((h) => via.host === h.toLowerCase() || sameAddressSafe(via.host, h));
    if (!hostOk) return false;
    if (via.port === null) return true;
    return this.info().some((i) => i.port === via.port);
  }

  private onParseError(err: unknown, source: Endpoint): void {
    if (!(err instanceof SipParseError)) {
      this.report(err, 'parse');
      return;
    }
    this.log.debug(
      { source: source.address, transport: source.transport, reason: maskDigits(err.message) },
      'unparseable message',
    );
    if (err.status === null) return;
    let res: SipResponse | null = null;
    try {
      res = parseErrorResponse(err);
    } catch (e) {
      this.report(e, 'parseErrorResponse');
    }
    if (res) this.replyDirect(res, source);
  }

  private onStreamError(conn: Connection, status: number, reason: string, head: Buffer | null): void {
    this.counters.parseErrors++;
    this.log.info({ source: conn.remote.address, conn: conn.id, reason: maskDigits(reason) }, 'stream framing failed');
    this.replyFromHead(head, status, conn.remote);
  }

  /**
   * Answers a message we cannot take as a whole (oversize datagram, unframeable stream) when its
   * header section alone is a readable request; anything else is dropped (§18.1.2, RFC 4475).
   */
  private replyFromHead(head: Buffer | null, status: number, source: Endpoint): void {
    if (!head) return;
    let res: SipResponse | null = null;
    try {
      const req = parseMessage(withoutBody(head), { stream: false });
      if (req instanceof SipRequest && req.method !== 'ACK') res = createResponse(req, status);
    } catch (err) {
      // The head has other defects too; the parser salvaged what a stateless reply needs.
      if (err instanceof SipMessageParseError && err.status !== null) {
        res = parseErrorResponse(new SipMessageParseError(err.message, status, err.partial));
      }
    }
    if (res) this.replyDirect(res, source);
  }

  /** Error replies go straight back where the bytes came from (same connection, or source ip:port). */
  private replyDirect(res: SipResponse, source: Endpoint): void {
    this.sendBytes(serializeMessage(res), source).catch((err: unknown) => {
      this.counters.sendErrors++;
      this.log.debug({ err, dest: source.address }, 'error response not sent');
    });
  }

  // ------------------------------------------------------------------------------------------
  // send path

  private async sendBytes(data: Buffer, dest: Endpoint): Promise<Endpoint> {
    if (this.state === LayerState.Closed) throw new Error('transport layer is closed');
    switch (dest.transport) {
      case 'UDP': {
        if (!this.udp) throw new Error('UDP transport is not enabled');
        await this.udp.send(data, dest.address, dest.port);
        this.counters.sent++;
        return { transport: 'UDP', address: normalizeAddress(dest.address), port: dest.port };
      }
      case 'TCP':
      case 'TLS': {
        const st = dest.transport === 'TCP' ? this.tcp : this.tlsT;
        if (!st) throw new Error(`${dest.transport} transport is not enabled`);
        let conn = this.connectionFor(dest.transport, dest.connectionId ?? null, {
          address: dest.address,
          port: dest.port,
        });
        conn ??= await this.connectOnce(st, dest.transport, dest.address, dest.port);
        await conn.write(data);
        this.counters.sent++;
        return conn.remote;
      }
      case 'WS':
      case 'WSS': {
        const conn = this.connectionFor(dest.transport, dest.connectionId ?? null, {
          address: dest.address,
          port: dest.port,
        });
        // RFC 7118 §5: a WebSocket client cannot be connected to; only its own connection reaches it.
        if (!conn) throw new Error(`no open ${dest.transport} connection to ${dest.address}:${dest.port}`);
        await conn.write(data);
        this.counters.sent++;
        return conn.remote;
      }
    }
  }

  private connectOnce(st: StreamTransport, t: ConnTransport, address: string, port: number): Promise<Connection> {
    const key = `${t}|${normalizeAddress(address)}|${port}`;
    let p = this.connecting.get(key);
    if (!p) {
      p = st.connect(address, port).finally(() => this.connecting.delete(key));
      this.connecting.set(key, p);
    }
    return p;
  }

  /**
   * The given connection if still open (whatever its transport: a WSS client behind a
   * TLS-terminating proxy reaches us over plain WS), else one of `transport` to exactly
   * address:port, else null.
   */
  private connectionFor(
    transport: ConnTransport,
    id: string | null,
    where: { address: string; port: number | null },
  ): Connection | null {
    if (id) {
      const c = this.table.get(id);
      if (c?.isOpen) return c;
    }
    // WS and WSS are one family for look-ups, for the same proxy reason.
    const family: ConnTransport[] = transport === 'WS' || transport === 'WSS' ? ['WS', 'WSS'] : [transport];
    if (where.port !== null) {
      for (const t of family) {
        const c = this.table.find(t, where.address, where.port);
        if (c?.isOpen) return c;
      }
    } else {
      // No rport: the connection's source port is unknown; use it only if it is unambiguous.
      const all = family.flatMap((t) => this.table.fromAddress(t, where.address)).filter((c) => c.isOpen);
      if (all.length === 1) return all[0]!;
    }
    return null;
  }

  /**
   * §18.1.1: over 1300 bytes a request goes by TCP, with the top Via saying so (the caller's
   * message is changed, so its retransmissions and CANCEL see the Via that was sent); UDP if the
   * TCP connection fails.
   */
  private async sendLargeOverTcp(req: SipRequest, dest: Endpoint): Promise<Endpoint> {
    const i = req.headers.fields.findIndex((f) => f.name === 'Via');
    const field = req.headers.fields[i];
    const tcpPort = this.bound.get('TCP')?.port;
    if (!field || tcpPort === undefined) return this.sendBytes(serializeMessage(req), dest);
    const original = field.value;
    const via = parseVia(original);
    via.transport = 'TCP';
    via.port = tcpPort;
    field.value = formatVia(via);
    try {
      return await this.sendBytes(serializeMessage(req), { transport: 'TCP', address: dest.address, port: dest.port });
    } catch (err) {
      this.log.debug({ err, dest: dest.address }, 'TCP for a large request failed, falling back to UDP');
      // `original` may already say TCP when this is a retransmission of a switched request.
      const back = parseVia(original);
      if (back.transport !== 'UDP') {
        back.transport = 'UDP';
        back.port = this.bound.get('UDP')?.port ?? back.port;
      }
      field.value = formatVia(back);
      return this.sendBytes(serializeMessage(req), dest);
    }
  }

  private move(to: LayerState): void {
    if (!LAYER_TRANSITIONS[this.state].includes(to)) {
      throw new Error(`transport layer cannot go from ${this.state} to ${to}`);
    }
    this.state = to;
  }

  private advertised(): string {
    if (this.o.advertisedHost) return this.o.advertisedHost;
    if (!isWildcard(this.o.host)) return normalizeAddress(this.o.host);
    return normalizeAddress(this.o.host) === '::' ? '::1' : '127.0.0.1';
  }

  private report(err: unknown, where: string): void {
    this.log.error({ err, where }, 'SIP transport error');
    try {
      this.o.onError?.(err, where);
    } catch {
      // an error handler that throws must not take the socket callback down with it
    }
  }
}

/** Parse-error texts may quote a URI or header with a caller's number; never log it in clear. */
function maskDigits(text: string): string {
  return text.replace(/\+?\d[\d-]{5,}\d/g, (m) => maskPhone(m));
}

function sameAddressSafe(a: string, b: string): boolean {
  try {
    return sameAddress(a, b);
  } catch {
    return false;
  }
}

/** The header section (up to and including the empty line), or null if there is none. */
export function headerSection(data: Buffer): Buffer | null {
  for (let i = 0; i < data.length; i++) {
    if (data[i] !== 0x0a) continue;
    if (data[i + 1] === 0x0a) return data.subarray(0, i + 2);
    if (data[i + 1] === 0x0d && data[i + 2] === 0x0a) return data.subarray(0, i + 3);
  }
  return null;
}

/** A header section with its Content-Length replaced by 0, so it parses as a body-less message. */
function withoutBody(head: Buffer): Buffer {
  const lines = head.toString('latin1').split(/\r?\n/);
  const kept: string[] = [];
  let skipping = false;
  for (const line of lines) {
    if (line === '') continue;
    const folded = line[0] === ' ' || line[0] === '\t';
    if (folded && skipping) continue;
    skipping = /^\s*(content-length|l)\s*:/i.test(line);
    if (!skipping) kept.push(line);
  }
  kept.push('Content-Length: 0', '', '');
  return Buffer.from(kept.join('\r\n'), 'latin1');
}

export { ConnectionTable } from './connection.js';
export { RateLimiter } from './rate-limit.js';
export { StreamFramer } from './stream-framer.js';
