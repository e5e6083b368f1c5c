/**
 * Puts the SIP layers together: transport → transactions → dialogs → UA core. Only this file and
 * the layers above it (registrar service, call control) know all of them.
 */
import type http from 'node:http';
import type { Logger } from 'pino';
import type { Clock } from '../util/clock.js';
import { DialogLayer } from './dialogs/layer.js';
import { SipRequest, type SipMessage } from './message/message.js';
import type { Endpoint } from './message/types.js';
import { createResponse } from './message/build.js';
import type { TimerConfig } from './transactions/timers.js';
import { TransactionLayer } from './transactions/layer.js';
import { TransportLayer, type TransportLayerOptions } from './transport/index.js';
import { isScannerUserAgent } from './ua/scanner.js';
import { UserAgentCore } from './ua/user-agent-core.js';

export interface SipStackOptions {
  transport: Omit<TransportLayerOptions, 'onMessage' | 'clock' | 'log'>;
  clock: Clock;
  log: Logger;
  serverName: string;
  scannerPolicy: 'drop' | 'reject';
  timers?: Partial<TimerConfig>;
  /** Option tags we implement (Supported; Require checks, §8.2.2.3). */
  supportedExtensions?: string[];
}

export class SipStack {
  readonly transport: TransportLayer;
  readonly transactions: TransactionLayer;
  readonly dialogs: DialogLayer;
  readonly ua: UserAgentCore;
  readonly stats = { scannersDropped: 0, sendErrors: 0 };
  private closed = false;

  constructor(private readonly opts: SipStackOptions) {
    const log = opts.log;
    this.transport = new TransportLayer({
      ...opts.transport,
      clock: opts.clock,
      log: log.child({ l: 'transport' }),
      onMessage: (msg) => this.receive(msg),
    });
    this.transactions = new TransactionLayer({
      clock: opts.clock,
      log: log.child({ l: 'tx' }),
      timers: opts.timers,
      send: (msg, dest) => this.send(msg, dest),
      reliable: (dest) => this.transport.reliable(dest),
      onRequest: (req, tx) => this.ua.receiveRequest(req, tx),
      onStrayResponse: () => {
        /* A 2xx retransmission after the client transaction ended is absorbed by the dialog's ACK logic later. */
      },
      onStrayAck: (ack) => {
        this.dialogs.receiveAck(ack);
      },
    });
    this.dialogs = new DialogLayer({ clock: opts.clock, log: log.child({ l: 'dialog' }), timers: opts.timers });
    this.ua = new UserAgentCore({
      transactions: this.transactions,
      dialogs: this.dialogs,
      log: log.child({ l: 'ua' }),
      serverName: opts.serverName,
      checks: {
        supportedExtensions: opts.supportedExtensions ?? ['replaces', 'timer', 'path', 'outbound'],
        acceptedContentTypes: ['application/sdp', 'application/dtmf-relay', 'application/dtmf', 'message/sipfrag'],
      },
    });
  }

  async listen(): Promise<void> {
    await this.transport.listen();
  }

  attachWebSocket(server: http.Server, path = '/sip', secure = false): void {
    this.transport.attachWebSocket(server, path, secure);
  }

  /** Sends through the transport; a failure is a transport error for the transaction (§17.1.4). */
  send(msg: SipMessage, dest: Endpoint): void {
    const p = msg.isRequest
      ? this.transport.send(msg as SipRequest, dest)
      : this.transport.sendResponse(msg as never, dest);
    p.catch((err: unknown) => {
      this.stats.sendErrors++;
      this.opts.log.warn(
        { err: (err as Error).message, to: `${dest.transport}:${dest.address}:${dest.port}` },
        'SIP send failed',
      );
    });
  }

  private receive(msg: SipMessage): void {
    if (msg instanceof SipRequest && isScannerUserAgent(msg.headers.get('User-Agent'))) {
      this.stats.scannersDropped++;
      if (this.opts.scannerPolicy === 'reject' && msg.method !== 'ACK' && msg.source) {
        // Stateless on purpose: a scanner should cost us no transaction state.
        this.send(createResponse(msg, 403), msg.source);
      }
      return;
    }
    this.transactions.receive(msg);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.dialogs.close();
    this.transactions.close();
    await this.transport.close();
  }
}
