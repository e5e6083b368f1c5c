/** Non-INVITE client transaction: RFC 3261 §17.1.2 (Figure 6). */
import type { SipRequest, SipResponse } from '../message/message.js';
import type { Endpoint } from '../message/types.js';
import { TransactionBase, type ClientTransactionHandlers, type TransactionContext } from './base.js';
import type { TransitionTable } from './fsm.js';
import { timerE, timerF, timerK } from './timers.js';

export enum ClientNonInviteState {
  Trying = 'Trying',
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Terminated = 'Terminated',
}

export enum ClientNonInviteEvent {
  TimerE = 'TimerE',
  TimerF = 'TimerF',
  TimerK = 'TimerK',
  Provisional = '1xx',
  Final = '200-699',
  TransportError = 'TransportError',
}

const S = ClientNonInviteState;
const E = ClientNonInviteEvent;

export const CLIENT_NON_INVITE_TABLE: TransitionTable<ClientNonInviteState, ClientNonInviteEvent> = {
  [S.Trying]: {
    [E.TimerE]: S.Trying,
    [E.TimerF]: S.Terminated,
    [E.Provisional]: S.Proceeding,
    [E.Final]: S.Completed,
    [E.TransportError]: S.Terminated,
  },
  [S.Proceeding]: {
    [E.TimerE]: S.Proceeding,
    [E.TimerF]: S.Terminated,
    [E.Provisional]: S.Proceeding,
    [E.Final]: S.Completed,
    [E.TransportError]: S.Terminated,
  },
  [S.Completed]: {
    // §17.1.2.2: Completed buffers response retransmissions; late 1xx are absorbed too.
    [E.Provisional]: S.Completed,
    [E.Final]: S.Completed,
    [E.TimerK]: S.Terminated,
  },
  [S.Terminated]: {},
};

export class NonInviteClientTransaction extends TransactionBase<ClientNonInviteState, ClientNonInviteEvent> {
  protected readonly machine = 'non-invite-client';
  protected readonly table = CLIENT_NON_INVITE_TABLE;
  protected readonly terminal = S.Terminated;
  protected readonly transportErrorEvent = E.TransportError;
  readonly isInvite = false;
  readonly isClient = true;

  private intervalE: number;

  constructor(
    ctx: TransactionContext,
    key: string,
    readonly request: SipRequest,
    readonly dest: Endpoint,
    reliable: boolean,
    private handlers: ClientTransactionHandlers,
  ) {
    super(ctx, S.Trying, key, reliable);
    this.intervalE = timerE(ctx.timers);
  }

  get method(): string {
    return this.request.method;
  }

  /** §17.1.2.2: send, start Timer E (unreliable only) and Timer F. */
  start(): void {
    if (!this.reliable) this.startTimer(E.TimerE, this.intervalE, () => this.onTimerE());
    this.startTimer(E.TimerF, timerF(this.ctx.timers), () => this.handlers.onTimeout?.());
    this.transmit(this.request, this.dest);
  }

  /**
   * §17.1.2.2: in Trying, Timer E doubles up to T2; in Proceeding it is reset to T2 (a provisional
   * response means the server is alive, so retransmit slowly).
   */
  private onTimerE(): void {
    this.transmit(this.request, this.dest);
    const { T2 } = this.ctx.timers;
    this.intervalE = this.state === S.Proceeding ? T2 : Math.min(2 * this.intervalE, T2);
    this.startTimer(E.TimerE, this.intervalE, () => this.onTimerE());
  }

  receiveResponse(res: SipResponse): void {
    if (res.status < 200) {
      this.fire(E.Provisional, (from) => {
        if (from !== S.Completed) this.handlers.onProvisional?.(res);
      });
    } else {
      this.fire(E.Final, (from) => {
        if (from === S.Completed) return;
        this.stopTimer(E.TimerE);
        this.stopTimer(E.TimerF);
        this.startTimer(E.TimerK, timerK(this.ctx.timers, this.reliable));
        const { onFinal, onTerminated } = this.handlers;
        // §17.1.2.2: Completed only absorbs retransmitted finals for Timer K (T4, 5 s): the TU's
        // callbacks, and the call they close over, are let go now rather than kept for 5 s.
        this.handlers = { onTerminated };
        onFinal?.(res);
      });
    }
  }

  protected transportFailed(err: unknown): void {
    this.defer(E.TransportError, () => this.handlers.onTransportError?.(err));
  }

  protected notifyTerminated(): void {
    this.handlers.onTerminated?.();
  }
}
