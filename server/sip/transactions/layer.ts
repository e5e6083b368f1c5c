/**
 * The transaction layer (RFC 3261 §17): owns every live transaction, matches incoming messages to
 * them (§17.1.3, §17.2.3) and hands everything else to the TU. Transport-agnostic: it is given a
 * `send` function and a `reliable(dest)` predicate, and is fed parsed messages with `source` set.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../util/clock.js';
import { guardListener } from '../../util/log.js';
import type { SipMessage, SipRequest, SipResponse } from '../message/message.js';
import type { Endpoint } from '../message/types.js';
import type { ClientTransactionHandlers, ServerTransactionHandlers, TransactionContext } from './base.js';
import { InviteClientTransaction } from './client-invite.js';
import { NonInviteClientTransaction } from './client-non-invite.js';
import { IllegalTransitionError } from './fsm.js';
import {
  cancelTargetKey,
  clientKeyOfRequest,
  clientKeyOfResponse,
  responseDestination,
  serverKey,
  type ServerKey,
} from './matching.js';
import { InviteServerTransaction, ServerInviteState } from './server-invite.js';
import { NonInviteServerTransaction } from './server-non-invite.js';
import { timerConfig, type TimerConfig } from './timers.js';

export type ClientTransaction = InviteClientTransaction | NonInviteClientTransaction;
export type ServerTransaction = InviteServerTransaction | NonInviteServerTransaction;
export type Transaction = ClientTransaction | ServerTransaction;

export interface TransactionLayerOptions {
  clock: Clock;
  /** Hands a message to the transport. Throwing means a transport error (§17.1.4, §17.2.4). */
  send(msg: SipMessage, dest: Endpoint): void;
  reliable(dest: Endpoint): boolean;
  /** A new request (never ACK) with the server transaction created for it. */
  onRequest(req: SipRequest, tx: ServerTransaction): void;
  /** A response no client transaction claims, e.g. a 2xx retransmission after Timer M (§17.1.1.2). */
  onStrayResponse(res: SipResponse): void;
  /** An ACK no transaction absorbs: the ACK for a 2xx (§17.2.3, §13.3.1.4). */
  onStrayAck(ack: SipRequest): void;
  log: Logger;
  timers?: Partial<TimerConfig>;
}

export interface TransactionCounts {
  clientInvite: number;
  clientNonInvite: number;
  serverInvite: number;
  serverNonInvite: number;
  total: number;
}

export interface TransactionStats {
  illegalEvents: number;
  strayResponses: number;
  strayAcks: number;
  /** Messages whose Via/CSeq could not be read for matching. */
  unmatchable: number;
}

export class TransactionLayer {
  readonly timers: TimerConfig;
  readonly stats: TransactionStats = { illegalEvents: 0, strayResponses: 0, strayAcks: 0, unmatchable: 0 };

  private readonly clients = new Map<string, ClientTransaction>();
  private readonly servers = new Map<string, ServerTransaction>();
  private readonly ctx: TransactionContext;
  private readonly log: Logger;
  private readonly onRequest: TransactionLayerOptions['onRequest'];
  private readonly onStrayResponse: TransactionLayerOptions['onStrayResponse'];
  private readonly onStrayAck: TransactionLayerOptions['onStrayAck'];
  private closed = false;

  constructor(private readonly opts: TransactionLayerOptions) {
    this.timers = timerConfig(opts.timers);
    this.log = opts.log;
    this.onRequest = guardListener('sip.tx.onRequest', this.log, opts.onRequest);
    this.onStrayResponse = guardListener('sip.tx.onStrayResponse', this.log, opts.onStrayResponse);
    this.onStrayAck = guardListener('sip.tx.onStrayAck', this.log, opts.onStrayAck);
    this.ctx = {
      clock: opts.clock,
      timers: this.timers,
      log: this.log,
      send: (msg, dest) => opts.send(msg, dest),
      terminated: (tx) => this.forget(tx as Transaction),
      illegal: (err) => this.countIllegal(err),
      strayResponse: (res) => this.stray(res),
      strayAck: (ack) => this.strayAck(ack),
      sendCancel: (cancel, dest, handlers) => this.sendRequest(cancel, dest, handlers),
    };
  }

  /** Entry point for the transport: any parsed message with `source` set. */
  receive(msg: SipMessage): void {
    if (msg.isRequest) this.receiveRequest(msg as SipRequest);
    else this.receiveResponse(msg as SipResponse);
  }

  receiveRequest(req: SipRequest): void {
    if (this.closed) return;
    let k: ServerKey;
    try {
      k = serverKey(req);
    } catch {
      // The parser's message may quote From/To text, i.e. a consumer's number: not logged.
      this.stats.unmatchable++;
      this.log.warn({ method: req.method }, 'request cannot be matched to a transaction');
      return;
    }
    let tx = this.servers.get(k.key);
    if (!tx && k.untaggedKey) tx = this.servers.get(k.untaggedKey);
    if (tx && (!k.legacy || legacyAckMatches(tx, req))) {
      try {
        tx.receiveRequest(req);
      } catch (err) {
        this.countIllegal(err);
      }
      return;
    }
    if (req.method === 'ACK') {
      this.strayAck(req);
      return;
    }
    if (!req.source) {
      this.stats.unmatchable++;
      this.log.warn({ method: req.method }, 'request without source endpoint dropped');
      return;
    }
    const dest = responseDestination(req);
    const reliable = this.opts.reliable(dest);
    let created: ServerTransaction;
    if (req.method === 'INVITE') {
      const inv = new InviteServerTransaction(this.ctx, k.key, req, dest, reliable);
      this.servers.set(k.key, inv);
      inv.start();
      created = inv;
    } else {
      const nit = new NonInviteServerTransaction(this.ctx, k.key, req, dest, reliable);
      if (req.method === 'CANCEL') nit.cancelTarget = this.findCancelTarget(req);
      this.servers.set(k.key, nit);
      created = nit;
    }
    this.onRequest(req, created);
  }

  receiveResponse(res: SipResponse): void {
    if (this.closed) return;
    let key: string | null;
    try {
      key = clientKeyOfResponse(res);
    } catch {
      this.stats.unmatchable++;
      this.log.warn({ status: res.status }, 'response cannot be matched to a transaction');
      return;
    }
    const tx = key === null ? undefined : this.clients.get(key);
    if (!tx) {
      this.stray(res);
      return;
    }
    try {
      tx.receiveResponse(res);
    } catch (err) {
      this.countIllegal(err);
    }
  }

  /**
   * Starts a client transaction (§17.1). The request must already carry its own top Via with a
   * magic-cookie branch. ACK is never sent through a transaction (§17.1.1.3): use sendStateless.
   */
  sendRequest(req: SipRequest, dest: Endpoint, handlers: ClientTransactionHandlers = {}): ClientTransaction {
    if (this.closed) throw new Error('transaction layer closed');
    if (req.method === 'ACK') throw new Error('ACK has no client transaction (§17.1.1.3); use sendStateless');
    const key = clientKeyOfRequest(req);
    if (this.clients.has(key)) throw new Error('branch already in use by a live client transaction (§8.1.1.7)');
    const h = guardHandlers(handlers, this.log);
    const reliable = this.opts.reliable(dest);
    const tx =
      req.method === 'INVITE'
        ? new InviteClientTransaction(this.ctx, key, req, dest, reliable, h)
        : new NonInviteClientTransaction(this.ctx, key, req, dest, reliable, h);
    this.clients.set(key, tx);
    tx.start();
    return tx;
  }

  /** For ACK to 2xx, 2xx retransmissions by the TU, and stateless replies. False on a transport error. */
  sendStateless(msg: SipMessage, dest: Endpoint): boolean {
    try {
      this.opts.send(msg, dest);
      return true;
    } catch (err) {
      this.log.warn({ err }, 'stateless send failed');
      return false;
    }
  }

  /** §9.2: the INVITE server transaction a CANCEL refers to, if it is still alive. */
  findCancelTarget(cancel: SipRequest): InviteServerTransaction | undefined {
    let k: ServerKey;
    try {
      k = cancelTargetKey(cancel);
    } catch {
      return undefined;
    }
    const tx = this.servers.get(k.key);
    return tx instanceof InviteServerTransaction ? tx : undefined;
  }

  /** Attaches TU callbacks (Timer H, transport errors) to a server transaction, guarded. */
  watch(tx: ServerTransaction, handlers: ServerTransactionHandlers): void {
    tx.setHandlers(guardHandlers(handlers, this.log));
  }

  /**
   * A connection-oriented transport lost the connection `connectionId`: every transaction bound to
   * it fails with a transport error now instead of waiting for Timer B/F (§17.1.4, §17.2.4).
   * Returns how many transactions were affected.
   */
  connectionLost(connectionId: string): number {
    const err = new Error(`connection ${connectionId} lost`);
    const hit: Transaction[] = [];
    for (const tx of this.clients.values()) if (tx.dest.connectionId === connectionId) hit.push(tx);
    for (const tx of this.servers.values()) if (tx.dest.connectionId === connectionId) hit.push(tx);
    let n = 0;
    for (const tx of hit) if (tx.transportLost(err)) n++;
    return n;
  }

  get counts(): TransactionCounts {
    let clientInvite = 0;
    let serverInvite = 0;
    for (const tx of this.clients.values()) if (tx.isInvite) clientInvite++;
    for (const tx of this.servers.values()) if (tx.isInvite) serverInvite++;
    return {
      clientInvite,
      clientNonInvite: this.clients.size - clientInvite,
      serverInvite,
      serverNonInvite: this.servers.size - serverInvite,
      total: this.clients.size + this.servers.size,
    };
  }

  get size(): number {
    return this.clients.size + this.servers.size;
  }

  /** Clears every timer and forgets every transaction; nothing is reported to the TU. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const tx of this.clients.values()) tx.close();
    for (const tx of this.servers.values()) tx.close();
    this.clients.clear();
    this.servers.clear();
  }

  private forget(tx: Transaction): void {
    const map: Map<string, Transaction> = tx.isClient ? this.clients : this.servers;
    if (map.get(tx.key) === tx) map.delete(tx.key);
  }

  private stray(res: SipResponse): void {
    this.stats.strayResponses++;
    this.onStrayResponse(res);
  }

  private strayAck(ack: SipRequest): void {
    this.stats.strayAcks++;
    this.onStrayAck(ack);
  }

  private countIllegal(err: unknown): void {
    this.stats.illegalEvents++;
    if (err instanceof IllegalTransitionError) this.log.warn({ err: err.message }, 'illegal transaction event');
    else this.log.error({ err }, 'transaction event failed');
  }
}

/**
 * RFC 2543 fallback (§17.2.3): an ACK must carry the To tag of the response the transaction sent
 * (and there must be one: an ACK in Proceeding matches nothing).
 */
function legacyAckMatches(tx: ServerTransaction, req: SipRequest): boolean {
  if (req.method !== 'ACK') return true;
  if (!(tx instanceof InviteServerTransaction) || tx.state === ServerInviteState.Proceeding) return false;
  return (tx.lastResponse?.toTag ?? null) === req.toTag;
}

function guardHandlers<H extends object>(h: H, log: Logger): H {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(h)) {
    out[name] = typeof fn === 'function' ? guardListener(`sip.tx.${name}`, log, fn as () => void) : fn;
  }
  return out as H;
}
