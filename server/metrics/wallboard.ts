import type { Clock, TimerHandle } from '../util/clock.js';

/**
 * Push scheduling for the wallboard: a change is pushed soon (coalesced so that at most one push goes out
 * per `minGapMs`, i.e. ≤ 4/s by default), and a heartbeat push goes out when nothing changed for
 * `heartbeatMs`, so a board is never more than a second behind and can tell a dead feed from a quiet one.
 */
export class CoalescingPusher {
  private last = -Infinity;
  private pending: TimerHandle | null = null;
  private heartbeat: TimerHandle | null = null;
  private closed = false;
  readonly stats = { pushes: 0, changes: 0, heartbeats: 0 };

  constructor(
    private readonly clock: Clock,
    private readonly push: () => void,
    private readonly minGapMs = 250,
    private readonly heartbeatMs = 1000,
  ) {
    this.armHeartbeat();
  }

  /** Something on the board changed. */
  changed(): void {
    if (this.closed) return;
    this.stats.changes++;
    if (this.pending) return;
    const wait = Math.max(0, this.last + this.minGapMs - this.clock.now());
    this.pending = this.clock.setTimeout(() => {
      this.pending = null;
      this.fire();
    }, wait);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clock.clearTimeout(this.pending);
    this.clock.clearTimeout(this.heartbeat);
    this.pending = this.heartbeat = null;
  }

  private fire(): void {
    if (this.closed) return;
    this.last = this.clock.now();
    this.stats.pushes++;
    this.armHeartbeat();
    this.push();
  }

  private armHeartbeat(): void {
    this.clock.clearTimeout(this.heartbeat);
    this.heartbeat = this.clock.setTimeout(() => {
      this.heartbeat = null;
      if (this.closed) return;
      this.stats.heartbeats++;
      this.fire();
    }, this.heartbeatMs);
  }
}
