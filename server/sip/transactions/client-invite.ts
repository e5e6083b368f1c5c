/**
 * INVITE client transaction: RFC 3261 §17.1.1 (Figure 5) with the Accepted state of RFC 6026 §7.2,
 * so that 2xx retransmissions and 2xx from other forks reach the TU (which ACKs each one) instead
 * of being lost after the transaction has gone.
 */
import { createAckForNon2xx, createCancel } from '../message/build.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import type { Endpoint } from '../message/types.js';
import { TransactionBase, type ClientTransactionHandlers, type TransactionContext } from './base.js';
import type { TransitionTable } from './fsm.js';
import { timerA, timerB, timerD, timerM } from './timers.js';

export enum ClientInviteState {
  Calling = 'Calling',
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Accepted = 'Accepted',
  Terminated = 'Terminated',
}

export enum ClientInviteEvent {
  TimerA = 'TimerA',
  TimerB = 'TimerB',
  TimerD = 'TimerD',
  TimerM = 'TimerM',
  Provisional = '1xx',
  Success = '2xx',
  Failure = '300-699',
  TransportError = 'TransportError',
  /** §9.1: no final response 64·T1 after sending CANCEL. */
  CancelExpired = 'CancelExpired',
}

const S = ClientInviteState;
const E = ClientInviteEvent;

export const CLIENT_INVITE_TABLE: TransitionTable<ClientInviteState, ClientInviteEvent> = {
  [S.Calling]: {
    [E.TimerA]: S.Calling,
    [E.TimerB]: S.Terminated,
    [E.Provisional]: S.Proceeding,
    [E.Success]: S.Accepted,
    [E.Failure]: S.Completed,
    [E.TransportError]: S.Terminated,
  },
  [S.Proceeding]: {
    [E.Provisional]: S.Proceeding,
    [E.Success]: S.Accepted,
    [E.Failure]: S.Completed,
    [E.CancelExpired]: S.Terminated,
    [E.TransportError]: S.Terminated,
  },
  [S.Completed]: {
    // Late or reordered responses: a 1xx is absorbed, a 300-699 retransmission is re-ACKed,
    // a 2xx from another fork goes to the TU as a stray response.
    [E.Provisional]: S.Completed,
    [E.Success]: S.Completed,
    [E.Failure]: S.Completed,
    [E.TimerD]: S.Terminated,
    [E.TransportError]: S.Terminated,
  },
  [S.Accepted]: {
    [E.Provisional]: S.Accepted,
    [E.Success]: S.Accepted,
    [E.Failure]: S.Accepted,
    [E.TimerM]: S.Terminated,
  },
  [S.Terminated]: {},
};

export class InviteClientTransaction extends TransactionBase<ClientInviteState, ClientInviteEvent> {
  protected readonly machine = 'invite-client';
  protected readonly table = CLIENT_INVITE_TABLE;
  protected readonly terminal = S.Terminated;
  protected readonly transportErrorEvent = E.TransportError;
  readonly isInvite = true;
  readonly isClient = true;

  private intervalA: number;
  private ack: SipRequest | null = null;
  private cancelWanted = false;
  private cancelSent = false;
  private cancelHandlers: ClientTransactionHandlers = {};

  constructor(
    ctx: TransactionContext,
    key: string,
    readonly request: SipRequest,
    readonly dest: Endpoint,
    reliable: boolean,
    private readonly handlers: ClientTransactionHandlers,
  ) {
    super(ctx, S.Calling, key, reliable);
    this.intervalA = timerA(ctx.timers);
  }

  get method(): string {
    return 'INVITE';
  }

  /** Sends the INVITE and starts Timers A (unreliable only) and B (§17.1.1.2). */
  start(): void {
    if (!this.reliable) this.startTimer(E.TimerA, this.intervalA, () => this.onTimerA());
    this.startTimer(E.TimerB, timerB(this.ctx.timers), () => this.handlers.onTimeout?.());
    this.transmit(this.request, this.dest);
  }

  /** §17.1.1.2: Timer A fires → retransmit and double the interval (no T2 cap for INVITE). */
  private onTimerA(): void {
    this.transmit(this.request, this.dest);
    this.intervalA *= 2;
    this.startTimer(E.TimerA, this.intervalA, () => this.onTimerA());
  }

  receiveResponse(res: SipResponse): void {
    if (res.status < 200) {
      this.fire(E.Provisional, (from) => {
        if (from === S.Calling) {
          this.stopCallingTimers();
          // §9.1: a CANCEL asked for before any provisional response is sent now.
          if (this.cancelWanted) this.sendCancel();
        }
        if (from !== S.Completed && from !== S.Accepted) this.handlers.onProvisional?.(res);
      });
    } else if (res.status < 300) {
      this.fire(E.Success, (from) => {
        if (from === S.Completed) {
          this.ctx.strayResponse(res);
          return;
        }
        if (from !== S.Accepted) {
          this.stopCallingTimers();
          this.stopTimer(E.CancelExpired);
          // RFC 6026 §7.2: Timer M keeps the transaction to catch 2xx retransmissions/forks.
          this.startTimer(E.TimerM, timerM(this.ctx.timers));
        }
        this.handlers.onFinal?.(res);
      });
    } else {
      this.fire(E.Failure, (from) => {
        if (from === S.Accepted) return;
        if (from === S.Completed) {
          // §17.1.1.2: a retransmitted final response is ACKed again but not passed up.
          if (this.ack) this.transmit(this.ack, this.dest);
          return;
        }
        this.stopCallingTimers();
        this.stopTimer(E.CancelExpired);
        // §17.1.1.3: the transaction itself ACKs a non-2xx final response.
        this.ack = createAckForNon2xx(this.request, res);
        this.startTimer(E.TimerD, timerD(this.ctx.timers, this.reliable));
        this.handlers.onFinal?.(res);
        this.transmit(this.ack, this.dest);
      });
    }
  }

  /**
   * §9.1: CANCEL may only be sent once a provisional response has arrived; before that it is
   * remembered and sent on the first 1xx. Returns false when there is nothing left to cancel.
   */
  cancel(handlers: ClientTransactionHandlers = {}): boolean {
    if (this.cancelWanted || this.cancelSent) return true;
    if (this.state === S.Calling) {
      this.cancelWanted = true;
      this.cancelHandlers = handlers;
      return true;
    }
    if (this.state === S.Proceeding) {
      this.cancelHandlers = handlers;
      this.sendCancel();
      return true;
    }
    return false;
  }

  get cancelPending(): boolean {
    return this.cancelWanted && !this.cancelSent;
  }

  private sendCancel(): void {
    this.cancelWanted = false;
    this.cancelSent = true;
    this.ctx.sendCancel(createCancel(this.request), this.dest, this.cancelHandlers);
    // §9.1: without a final response 64·T1 after the CANCEL, the INVITE is given up.
    this.startTimer(E.CancelExpired, 64 * this.ctx.timers.T1, () => this.handlers.onTimeout?.());
  }

  private stopCallingTimers(): void {
    this.stopTimer(E.TimerA);
    this.stopTimer(E.TimerB);
  }

  protected transportFailed(err: unknown): void {
    this.defer(E.TransportError, () => this.handlers.onTransportError?.(err));
  }

  protected notifyTerminated(): void {
    this.handlers.onTerminated?.();
  }
}
