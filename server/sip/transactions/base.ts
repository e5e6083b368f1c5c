/**
 * What the four transaction machines share: the table-driven `fire`, timers from the injected
 * clock, deferred events (a zero-length timer on reliable transports, a transport error while
 * sending) and the hand-back to the layer when the machine reaches Terminated.
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { SipMessage, SipRequest, SipResponse } from '../message/message.js';
import type { Endpoint } from '../message/types.js';
import { nextState, type TransitionTable } from './fsm.js';
import type { TimerConfig } from './timers.js';

/** Callbacks of a client transaction towards its TU (all optional, each guarded). */
export interface ClientTransactionHandlers {
  onProvisional?(res: SipResponse): void;
  /** Final response. For INVITE it may be called again for further 2xx (forks and retransmissions,
   * RFC 6026 §7.2) so that the TU can ACK each one. */
  onFinal?(res: SipResponse): void;
  /** Timer B / Timer F fired, or a cancelled INVITE got no final response in 64·T1 (§9.1). */
  onTimeout?(): void;
  onTransportError?(err: unknown): void;
  onTerminated?(): void;
}

/** Callbacks of a server transaction towards its TU. */
export interface ServerTransactionHandlers {
  /** Timer H fired: a non-2xx final response to INVITE was never acknowledged (§17.2.1). */
  onTimeout?(): void;
  onTransportError?(err: unknown): void;
  onTerminated?(): void;
}

/** What the layer lends to each transaction. */
export interface TransactionContext {
  readonly clock: Clock;
  readonly timers: TimerConfig;
  readonly log: Logger;
  /** Throws on a transport error (§17.1.4, §17.2.4). */
  send(msg: SipMessage, dest: Endpoint): void;
  terminated(tx: unknown): void;
  /** An event the table does not allow: logged and counted, never fatal. */
  illegal(err: unknown): void;
  strayResponse(res: SipResponse): void;
  strayAck(ack: SipRequest): void;
  /** Starts a non-INVITE client transaction for a CANCEL (§9.1). */
  sendCancel(cancel: SipRequest, dest: Endpoint, handlers: ClientTransactionHandlers): unknown;
}

type Act<S> = (from: S) => void;

export abstract class TransactionBase<S extends string, E extends string> {
  protected abstract readonly machine: string;
  protected abstract readonly table: TransitionTable<S, E>;
  protected abstract readonly terminal: S;

  private readonly handles = new Map<E, TimerHandle>();
  private readonly deferred: Array<{ event: E; act: Act<S> | undefined }> = [];
  private depth = 0;
  private closed = false;

  protected constructor(
    protected readonly ctx: TransactionContext,
    private current: S,
    /** The layer's map key (§17.1.3 / §17.2.3). */
    readonly key: string,
    /** Reliable transport: no retransmission timers, zero-length wait timers (§17.1.1.2). */
    readonly reliable: boolean,
  ) {}

  get state(): S {
    return this.current;
  }

  get isTerminated(): boolean {
    return this.current === this.terminal;
  }

  /** Live timers, for tests. */
  get activeTimers(): E[] {
    return [...this.handles.keys()];
  }

  /**
   * Moves the machine by the table, then runs `act` (the entry actions, which may look at the
   * previous state). Throws IllegalTransitionError without changing anything when the table has
   * no entry for (state, event).
   */
  protected fire(event: E, act?: Act<S>): void {
    if (this.closed) return;
    const from = this.current;
    const to = nextState(this.machine, this.table, from, event);
    this.current = to;
    this.depth++;
    try {
      act?.(from);
    } finally {
      // Even if an entry action threw, a terminated transaction must leave the layer's maps.
      if (to === this.terminal && from !== this.terminal) this.finish();
      this.depth--;
    }
    if (this.depth === 0) this.drain();
  }

  /** Queues an event to run once the current transition has finished its actions. */
  protected defer(event: E, act?: Act<S>): void {
    this.deferred.push({ event, act });
    if (this.depth === 0) this.drain();
  }

  private drain(): void {
    while (this.deferred.length > 0 && !this.isTerminated && !this.closed) {
      const { event, act } = this.deferred.shift()!;
      this.safeFire(event, act);
    }
    this.deferred.length = 0;
  }

  /** A timer of 0 ms (reliable transports) fires as soon as the current transition is done. */
  protected startTimer(event: E, ms: number, act?: Act<S>): void {
    this.stopTimer(event);
    if (ms <= 0) {
      this.defer(event, act);
      return;
    }
    const handle = this.ctx.clock.setTimeout(() => {
      this.handles.delete(event);
      this.safeFire(event, act);
    }, ms);
    this.handles.set(event, handle);
  }

  protected stopTimer(event: E): void {
    const h = this.handles.get(event);
    if (h) {
      this.ctx.clock.clearTimeout(h);
      this.handles.delete(event);
    }
  }

  protected safeFire(event: E, act?: Act<S>): void {
    try {
      this.fire(event, act);
    } catch (err) {
      this.ctx.illegal(err);
    }
  }

  /** Sends; a throwing transport becomes the machine's transport-error event (§17.1.4, §17.2.4). */
  protected transmit(msg: SipMessage, dest: Endpoint): boolean {
    try {
      this.ctx.send(msg, dest);
      return true;
    } catch (err) {
      // Not the key: an RFC 2543 key holds the Request-URI, which may carry a consumer's number.
      this.ctx.log.warn({ err, machine: this.machine, state: this.current }, 'transport error');
      this.transportFailed(err);
      return false;
    }
  }

  /**
   * The transport reports that this transaction's connection is gone (a TCP/WS peer hung up).
   * Applied only where the table has a transport-error move; elsewhere (e.g. an Accepted client
   * INVITE) it is irrelevant and ignored. Returns whether it applied.
   */
  transportLost(err: unknown): boolean {
    if (this.closed || this.table[this.current][this.transportErrorEvent] === undefined) return false;
    this.transportFailed(err);
    return true;
  }

  protected abstract readonly transportErrorEvent: E;
  protected abstract transportFailed(err: unknown): void;
  protected abstract notifyTerminated(): void;

  private finish(): void {
    this.clearTimers();
    this.ctx.terminated(this);
    this.notifyTerminated();
  }

  private clearTimers(): void {
    for (const h of this.handles.values()) this.ctx.clock.clearTimeout(h);
    this.handles.clear();
  }

  /** Drops the transaction without telling the TU (layer shutdown). Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearTimers();
    this.deferred.length = 0;
  }
}
