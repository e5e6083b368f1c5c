/**
 * INVITE server transaction: RFC 3261 §17.2.1 (Figure 7) with the Accepted state of RFC 6026 §7.1.
 *
 * Why RFC 6026: with plain RFC 3261 the transaction dies on 2xx, so a retransmitted INVITE would no
 * longer match anything and would reach the TU as a new call. In Accepted the transaction absorbs
 * INVITE retransmissions for Timer L (64·T1); the 2xx retransmissions themselves stay with the TU
 * (§13.3.1.4, see dialogs/ack-wait.ts), which may send them through `respond()` or statelessly.
 */
import { createResponse, matchingSkeleton } from '../message/build.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import type { Endpoint } from '../message/types.js';
import { TransactionBase, type ServerTransactionHandlers, type TransactionContext } from './base.js';
import type { TransitionTable } from './fsm.js';
import { timerG, timerH, timerI, timerL } from './timers.js';

export enum ServerInviteState {
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Confirmed = 'Confirmed',
  Accepted = 'Accepted',
  Terminated = 'Terminated',
}

export enum ServerInviteEvent {
  /** The INVITE arrived again. */
  Retransmission = 'INVITE',
  /** §17.2.1: 200 ms without a TU response → 100 Trying. */
  TryingTimer = 'TryingTimer',
  Tu1xx = 'TU 1xx',
  Tu2xx = 'TU 2xx',
  TuFailure = 'TU 300-699',
  Ack = 'ACK',
  TimerG = 'TimerG',
  TimerH = 'TimerH',
  TimerI = 'TimerI',
  TimerL = 'TimerL',
  TransportError = 'TransportError',
}

const S = ServerInviteState;
const E = ServerInviteEvent;

export const SERVER_INVITE_TABLE: TransitionTable<ServerInviteState, ServerInviteEvent> = {
  [S.Proceeding]: {
    [E.Retransmission]: S.Proceeding,
    [E.TryingTimer]: S.Proceeding,
    [E.Tu1xx]: S.Proceeding,
    [E.Tu2xx]: S.Accepted,
    [E.TuFailure]: S.Completed,
    [E.TransportError]: S.Terminated,
  },
  [S.Completed]: {
    [E.Retransmission]: S.Completed,
    [E.TimerG]: S.Completed,
    [E.TimerH]: S.Terminated,
    [E.Ack]: S.Confirmed,
    [E.TransportError]: S.Terminated,
  },
  [S.Confirmed]: {
    // §17.2.1: Confirmed only absorbs ACK (and INVITE) retransmissions until Timer I.
    [E.Retransmission]: S.Confirmed,
    [E.Ack]: S.Confirmed,
    [E.TimerI]: S.Terminated,
  },
  [S.Accepted]: {
    [E.Retransmission]: S.Accepted,
    [E.Tu2xx]: S.Accepted,
    [E.Ack]: S.Accepted,
    [E.TimerL]: S.Terminated,
    [E.TransportError]: S.Terminated,
  },
  [S.Terminated]: {},
};

export class InviteServerTransaction extends TransactionBase<ServerInviteState, ServerInviteEvent> {
  protected readonly machine = 'invite-server';
  protected readonly table = SERVER_INVITE_TABLE;
  protected readonly terminal = S.Terminated;
  protected readonly transportErrorEvent = E.TransportError;
  readonly isInvite = true;
  readonly isClient = false;

  private lastProvisional: SipResponse | null = null;
  private lastFinal: SipResponse | null = null;
  private intervalG: number;
  private handlers: ServerTransactionHandlers = {};
  private invite: SipRequest;

  constructor(
    ctx: TransactionContext,
    key: string,
    request: SipRequest,
    /** Where responses go (§18.2.2, RFC 3581). */
    readonly dest: Endpoint,
    reliable: boolean,
  ) {
    super(ctx, S.Proceeding, key, reliable);
    this.invite = request;
    this.intervalG = timerG(ctx.timers);
  }

  /** The INVITE; once Accepted, only its matching headers (see `matchingSkeleton`). */
  get request(): SipRequest {
    return this.invite;
  }

  get method(): string {
    return 'INVITE';
  }

  /** The last response sent (its To tag is what an RFC 2543 ACK must carry, §17.2.3). */
  get lastResponse(): SipResponse | null {
    return this.lastFinal ?? this.lastProvisional;
  }

  setHandlers(h: ServerTransactionHandlers): this {
    this.handlers = h;
    return this;
  }

  /** §17.2.1: unless the TU answers within 200 ms, the transaction sends 100 Trying itself. */
  start(): void {
    this.startTimer(E.TryingTimer, this.ctx.timers.trying, () => {
      if (this.lastProvisional) return;
      this.lastProvisional = createResponse(this.invite, 100);
      this.transmit(this.lastProvisional, this.dest);
    });
  }

  /** The TU's response. Throws IllegalTransitionError when the state does not allow one. */
  respond(res: SipResponse): void {
    if (res.status < 200) {
      this.fire(E.Tu1xx, () => {
        this.stopTimer(E.TryingTimer);
        this.lastProvisional = res;
        this.transmit(res, this.dest);
      });
    } else if (res.status < 300) {
      this.fire(E.Tu2xx, (from) => {
        this.transmit(res, this.dest);
        // Accepted only absorbs retransmissions and matches RFC 2543 ACKs by To tag for Timer L
        // (32 s), long after the call has ended: it keeps what it matches on, not the SDP and headers.
        this.lastFinal = matchingSkeleton(res);
        if (from === S.Proceeding) {
          this.stopTimer(E.TryingTimer);
          this.startTimer(E.TimerL, timerL(this.ctx.timers));
          this.lastProvisional = null;
          this.invite = matchingSkeleton(this.invite);
        }
      });
    } else {
      this.fire(E.TuFailure, () => {
        this.stopTimer(E.TryingTimer);
        this.lastFinal = res;
        // §17.2.1: Timer G only for unreliable transports; Timer H always.
        if (!this.reliable) this.startTimer(E.TimerG, this.intervalG, () => this.onTimerG());
        this.startTimer(E.TimerH, timerH(this.ctx.timers), () => this.handlers.onTimeout?.());
        this.transmit(res, this.dest);
      });
    }
  }

  /** §17.2.1: G fires → resend the final response, G = min(2G, T2). */
  private onTimerG(): void {
    if (this.lastFinal) this.transmit(this.lastFinal, this.dest);
    this.intervalG = Math.min(2 * this.intervalG, this.ctx.timers.T2);
    this.startTimer(E.TimerG, this.intervalG, () => this.onTimerG());
  }

  /** A request the layer matched to this transaction: an INVITE retransmission or an ACK. */
  receiveRequest(req: SipRequest): void {
    if (req.method === 'ACK') {
      this.fire(E.Ack, (from) => {
        if (from === S.Completed) {
          this.stopTimer(E.TimerG);
          this.stopTimer(E.TimerH);
          this.startTimer(E.TimerI, timerI(this.ctx.timers, this.reliable));
        } else if (from === S.Accepted) {
          // RFC 6026 §7.1: an ACK matching in Accepted is the ACK for the 2xx: the TU's business.
          this.ctx.strayAck(req);
        }
      });
      return;
    }
    this.fire(E.Retransmission, (from) => {
      // §17.2.1: Proceeding resends the latest provisional, Completed the final; others absorb.
      if (from === S.Proceeding && this.lastProvisional) this.transmit(this.lastProvisional, this.dest);
      else if (from === S.Completed && this.lastFinal) this.transmit(this.lastFinal, this.dest);
    });
  }

  protected transportFailed(err: unknown): void {
    this.defer(E.TransportError, () => this.handlers.onTransportError?.(err));
  }

  protected notifyTerminated(): void {
    this.handlers.onTerminated?.();
  }
}
