/** Non-INVITE server transaction: RFC 3261 §17.2.2 (Figure 8). */
import type { SipRequest, SipResponse } from '../message/message.js';
import type { Endpoint } from '../message/types.js';
import { TransactionBase, type ServerTransactionHandlers, type TransactionContext } from './base.js';
import type { TransitionTable } from './fsm.js';
import type { InviteServerTransaction } from './server-invite.js';
import { timerJ } from './timers.js';

export enum ServerNonInviteState {
  Trying = 'Trying',
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Terminated = 'Terminated',
}

export enum ServerNonInviteEvent {
  Retransmission = 'Request',
  Tu1xx = 'TU 1xx',
  TuFinal = 'TU 200-699',
  TimerJ = 'TimerJ',
  TransportError = 'TransportError',
}

const S = ServerNonInviteState;
const E = ServerNonInviteEvent;

export const SERVER_NON_INVITE_TABLE: TransitionTable<ServerNonInviteState, ServerNonInviteEvent> = {
  [S.Trying]: {
    [E.Retransmission]: S.Trying,
    [E.Tu1xx]: S.Proceeding,
    [E.TuFinal]: S.Completed,
    [E.TransportError]: S.Terminated,
  },
  [S.Proceeding]: {
    [E.Retransmission]: S.Proceeding,
    [E.Tu1xx]: S.Proceeding,
    [E.TuFinal]: S.Completed,
    [E.TransportError]: S.Terminated,
  },
  [S.Completed]: {
    [E.Retransmission]: S.Completed,
    [E.TimerJ]: S.Terminated,
    [E.TransportError]: S.Terminated,
  },
  [S.Terminated]: {},
};

export class NonInviteServerTransaction extends TransactionBase<ServerNonInviteState, ServerNonInviteEvent> {
  protected readonly machine = 'non-invite-server';
  protected readonly table = SERVER_NON_INVITE_TABLE;
  protected readonly terminal = S.Terminated;
  protected readonly transportErrorEvent = E.TransportError;
  readonly isInvite = false;
  readonly isClient = false;

  /** For a CANCEL: the INVITE server transaction it targets (§9.2), found by the layer. */
  cancelTarget: InviteServerTransaction | undefined;

  private lastResponse: SipResponse | null = null;
  private handlers: ServerTransactionHandlers = {};

  constructor(
    ctx: TransactionContext,
    key: string,
    readonly request: SipRequest,
    readonly dest: Endpoint,
    reliable: boolean,
  ) {
    super(ctx, S.Trying, key, reliable);
  }

  get method(): string {
    return this.request.method;
  }

  setHandlers(h: ServerTransactionHandlers): this {
    this.handlers = h;
    return this;
  }

  respond(res: SipResponse): void {
    if (res.status < 200) {
      this.fire(E.Tu1xx, () => {
        this.lastResponse = res;
        this.transmit(res, this.dest);
      });
    } else {
      this.fire(E.TuFinal, () => {
        this.lastResponse = res;
        // §17.2.2: Timer J = 64·T1 for unreliable transports, 0 for reliable.
        this.startTimer(E.TimerJ, timerJ(this.ctx.timers, this.reliable));
        this.transmit(res, this.dest);
      });
    }
  }

  /** §17.2.2: Trying discards retransmissions; Proceeding and Completed resend the last response. */
  receiveRequest(_req: SipRequest): void {
    this.fire(E.Retransmission, (from) => {
      if (from !== S.Trying && this.lastResponse) this.transmit(this.lastResponse, this.dest);
    });
  }

  protected transportFailed(err: unknown): void {
    this.defer(E.TransportError, () => this.handlers.onTransportError?.(err));
  }

  protected notifyTerminated(): void {
    this.handlers.onTerminated?.();
  }
}
