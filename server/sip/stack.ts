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
import { addVia, createResponse } from './message/build.js';
import type { Dialog } from './dialogs/dialog.js';
import type { ClientTransactionHandlers } from './transactions/base.js';
import type { ClientTransaction } from './transactions/layer.js';
import type { TimerConfig } from './transactions/timers.js';
import { TransactionLayer } from './transactions/layer.js';
import { TransportLayer, type TransportLayerOptions } from './transport/index.js';
import { isScannerUserAgent } from './ua/scanner.js';
import { UserAgentCore } from './ua/user-agent-core.js';
import type { SipDefence } from './ua/defence.js';
import { setupTrace, SetupStage } from './message/setup-trace.js';

export interface SipStackOptions {
  transport: Omit<TransportLayerOptions, 'onMessage' | 'clock' | 'log'>;
  clock: Clock;
  log: Logger;
  serverName: string;
  scannerPolicy: 'drop' | 'reject';
  timers?: Partial<TimerConfig>;
  /** Option tags we implement (Supported; Require checks, §8.2.2.3). */
  supportedExtensions?: string[];
  /** Bans and per-source caps (issue 9); consulted before parsing and for every new INVITE. */
  defence?: SipDefence;
}

export class SipStack {
  readonly transport: TransportLayer;
  readonly transactions: TransactionLayer;
  readonly dialogs: DialogLayer;
  readonly ua: UserAgentCore;
  readonly stats = { scannersDropped: 0, sendErrors: 0 };
  /**
   * The flow (transport, address, port, connection) each dialog's peer is reached on: the source of
   * the request or response that created it. In-dialog requests follow the flow rather than resolving
   * the Contact, because phones sit behind NAT and browsers have `.invalid` Contacts (RFC 5626 §5,
   * RFC 7118 §5).
   */
  private readonly flows = new Map<string, Endpoint>();
  private readonly connectionListeners = new Set<(remote: Endpoint) => void>();
  private closed = false;

  constructor(private readonly opts: SipStackOptions) {
    const log = opts.log;
    this.transport = new TransportLayer({
      ...opts.transport,
      clock: opts.clock,
      log: log.child({ l: 'transport' }),
      admit: opts.defence ? (address) => opts.defence!.admit(address) : undefined,
      onMessage: (msg) => this.receive(msg),
      onConnectionClosed: (remote) => {
        if (remote.connectionId) this.transactions.connectionLost(remote.connectionId);
        for (const l of this.connectionListeners) l(remote);
      },
    });
    this.transactions = new TransactionLayer({
      clock: opts.clock,
      log: log.child({ l: 'tx' }),
      timers: opts.timers,
      send: (msg, dest) => this.send(msg, dest),
      reliable: (dest) => this.transport.reliable(dest),
      onRequest: (req, tx) => {
        setupTrace.mark(req, SetupStage.Transaction);
        const d = opts.defence;
        if (d && req.method === 'INVITE' && req.toTag === null && req.source) {
          // Per-source cap on INVITEs in progress: a flood from one address cannot take every channel.
          const slot = d.acquire('invite', req.source.address, () => !tx.isTerminated);
          if (!slot) {
            const res = createResponse(req, 503);
            res.headers.add('Retry-After', '30');
            tx.respond(res);
            return;
          }
        }
        this.ua.receiveRequest(req, tx);
      },
      onStrayResponse: () => {
        /* A 2xx retransmission after the client transaction ended is absorbed by the dialog's ACK logic later. */
      },
      onStrayAck: (ack) => {
        const dialog = this.dialogs.receiveAck(ack);
        if (dialog) this.ua.receiveAck(ack, dialog);
      },
    });
    this.dialogs = new DialogLayer({
      clock: opts.clock,
      log: log.child({ l: 'dialog' }),
      timers: opts.timers,
      // §13.3.1.4: a 2xx never acknowledged ends the session with BYE.
      sendRequest: (req, dialog) => {
        this.sendInDialog(dialog, req);
      },
      onAckTimeout: (dialog) => this.ua.ackTimedOut(dialog),
    });
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

  /** Records how a dialog's peer is reached (see `flows`). */
  setFlow(dialog: Dialog, flow: Endpoint): void {
    this.flows.set(dialog.key, flow);
    const prev = dialog.onTerminated;
    dialog.onTerminated = () => {
      this.flows.delete(dialog.key);
      prev?.();
    };
  }

  flowOf(dialog: Dialog): Endpoint | undefined {
    return this.flows.get(dialog.key);
  }

  /** Our Contact for a transport, e.g. `<sip:hotline@127.0.0.1:5060;transport=tcp>`. */
  contactFor(transport: Endpoint['transport'], user = 'hotline'): string {
    const via = this.transport.viaFor(transport);
    const t = transport === 'UDP' ? '' : `;transport=${transport.toLowerCase()}`;
    return `<sip:${user}@${via.host}${via.port ? `:${via.port}` : ''}${t}>`;
  }

  /**
   * Sends a request that starts a client transaction towards `dest`: adds our Via (§8.1.1.7) for the
   * destination's transport and Max-Forwards when missing.
   */
  sendRequest(req: SipRequest, dest: Endpoint, handlers: ClientTransactionHandlers = {}): ClientTransaction {
    addVia(req, this.transport.viaFor(dest.transport));
    if (!req.headers.has('Max-Forwards')) req.headers.add('Max-Forwards', '70');
    if (!req.headers.has('User-Agent')) req.headers.add('User-Agent', this.opts.serverName);
    return this.transactions.sendRequest(req, dest, handlers);
  }

  /** An in-dialog request (BYE, re-INVITE, INFO, UPDATE, REFER ...) over the dialog's flow. */
  sendInDialog(dialog: Dialog, req: SipRequest, handlers: ClientTransactionHandlers = {}): ClientTransaction | null {
    const flow = this.flows.get(dialog.key);
    if (!flow) {
      this.opts.log.warn({ method: req.method }, 'no flow for dialog: request not sent');
      return null;
    }
    return this.sendRequest(req, flow, {
      ...handlers,
      onFinal: (res) => {
        dialog.receiveResponse(req, res);
        handlers.onFinal?.(res);
      },
    });
  }

  /** §13.2.2.4: ACK for a 2xx is sent by the TU, statelessly, on the dialog's flow with a new branch. */
  sendAck(dialog: Dialog, inviteSeq: number, body?: { contentType: string; body: Buffer }): void {
    const flow = this.flows.get(dialog.key);
    if (!flow) return;
    const ack = dialog.createAck(inviteSeq, body);
    addVia(ack, this.transport.viaFor(flow.transport));
    this.transactions.sendStateless(ack, flow);
  }

  /** Told when a TCP/TLS/WS connection closes (registrations and calls on it are unreachable). */
  onConnectionClosed(listener: (remote: Endpoint) => void): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
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
    this.opts.defence?.close();
    await this.transport.close();
  }
}
