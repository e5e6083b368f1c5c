/**
 * The UAS core's 2xx retransmission while waiting for the ACK (RFC 3261 §13.3.1.4).
 *
 * The INVITE server transaction hands a 2xx on and no longer retransmits it (§17.2.1; in our
 * RFC 6026 Accepted state it only absorbs INVITE retransmissions). So the TU resends the 2xx at
 * T1, 2·T1, 4·T1 ... capped at T2, on every transport, "independent of whatever transport
 * protocols are used" (§13.3.1.4), because a UDP hop may sit further along the path. Without an
 * ACK after 64·T1 the session SHOULD be ended with a BYE: `onTimeout` is where the owner does it.
 */
import type { Clock, TimerHandle } from '../../util/clock.js';
import { nextState, type TransitionTable } from '../transactions/fsm.js';
import type { TimerConfig } from '../transactions/timers.js';

export enum AckWaitState {
  Waiting = 'Waiting',
  Acked = 'Acked',
  TimedOut = 'TimedOut',
  Closed = 'Closed',
}

export enum AckWaitEvent {
  Retransmit = 'Retransmit',
  Ack = 'ACK',
  GiveUp = 'GiveUp',
  Close = 'Close',
}

const S = AckWaitState;
const E = AckWaitEvent;

export const ACK_WAIT_TABLE: TransitionTable<AckWaitState, AckWaitEvent> = {
  [S.Waiting]: { [E.Retransmit]: S.Waiting, [E.Ack]: S.Acked, [E.GiveUp]: S.TimedOut, [E.Close]: S.Closed },
  // An ACK retransmission after the first ACK is harmless.
  [S.Acked]: { [E.Ack]: S.Acked, [E.Close]: S.Acked },
  [S.TimedOut]: { [E.Close]: S.TimedOut },
  [S.Closed]: { [E.Close]: S.Closed },
};

export interface AckWaitOptions {
  clock: Clock;
  timers: Pick<TimerConfig, 'T1' | 'T2'>;
  /** Passes the 2xx to the transport again. */
  retransmit(): void;
  /** 64·T1 without ACK. */
  onTimeout(): void;
}

export class AckWait {
  private current: AckWaitState = S.Waiting;
  private interval: number;
  private retransmitTimer: TimerHandle | null = null;
  private giveUpTimer: TimerHandle | null;

  /** Call right after the 2xx was first sent. */
  constructor(private readonly opts: AckWaitOptions) {
    this.interval = opts.timers.T1;
    this.scheduleRetransmit();
    this.giveUpTimer = opts.clock.setTimeout(() => {
      this.giveUpTimer = null;
      this.fire(E.GiveUp);
      this.stopTimers();
      opts.onTimeout();
    }, 64 * opts.timers.T1);
  }

  get state(): AckWaitState {
    return this.current;
  }

  /** The ACK arrived: stop retransmitting (§13.3.1.4 "Response retransmissions cease"). */
  ack(): void {
    this.fire(E.Ack);
    this.stopTimers();
  }

  close(): void {
    this.fire(E.Close);
    this.stopTimers();
  }

  private scheduleRetransmit(): void {
    this.retransmitTimer = this.opts.clock.setTimeout(() => {
      this.retransmitTimer = null;
      this.fire(E.Retransmit);
      this.opts.retransmit();
      this.interval = Math.min(2 * this.interval, this.opts.timers.T2);
      this.scheduleRetransmit();
    }, this.interval);
  }

  private stopTimers(): void {
    this.opts.clock.clearTimeout(this.retransmitTimer);
    this.opts.clock.clearTimeout(this.giveUpTimer);
    this.retransmitTimer = null;
    this.giveUpTimer = null;
  }

  private fire(event: AckWaitEvent): void {
    this.current = nextState('ack-wait', ACK_WAIT_TABLE, this.current, event);
  }
}
