/**
 * DTMF typeahead buffer with timeouts on an injected Clock. Callers who know the menu press ahead while a
 * prompt plays; those digits wait here for the next menu or collect node instead of being lost.
 */
import type { Clock, TimerHandle } from '../util/clock.js';

export class CallerHangup extends Error {
  constructor() {
    super('caller hung up');
    this.name = 'CallerHangup';
  }
}

const MAX_BUFFERED = 64;

export class DigitBuffer {
  private buf: string[] = [];
  private waiter: { resolve: (d: string | null) => void; reject: (e: Error) => void; timer: TimerHandle } | null = null;
  private failure: Error | null = null;
  /** Called for every digit as it arrives (barge-in). */
  onArrival: ((digit: string) => void) | null = null;

  constructor(private readonly clock: Clock) {}

  private swallow: { digit: string; until: number } | null = null;

  /**
   * Drops `digit` if it is the next key and comes within `withinMs`: a caller who filled every digit of a
   * fixed-length entry still presses # as told, and that # must not answer the next menu.
   */
  swallowNext(digit: string, withinMs: number): void {
    if (this.buf[0] === digit) {
      this.buf.shift();
      return;
    }
    if (this.buf.length === 0) this.swallow = { digit, until: this.clock.now() + withinMs };
  }

  push(digit: string): void {
    if (this.failure) return;
    const sw = this.swallow;
    this.swallow = null;
    if (sw && sw.digit === digit && this.clock.now() <= sw.until) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      this.clock.clearTimeout(w.timer);
      w.resolve(digit);
    } else if (this.buf.length < MAX_BUFFERED) this.buf.push(digit);
    this.onArrival?.(digit);
  }

  get pending(): number {
    return this.buf.length;
  }

  flush(): void {
    this.buf = [];
  }

  /** The next digit, or null when none arrives within `timeoutMs`. Rejects once `fail()` was called. */
  next(timeoutMs: number): Promise<string | null> {
    if (this.failure) return Promise.reject(this.failure);
    const d = this.buf.shift();
    if (d !== undefined) return Promise.resolve(d);
    if (this.waiter) return Promise.reject(new Error('DigitBuffer: one reader at a time'));
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.waiter = null;
        resolve(null);
      }, timeoutMs);
      this.waiter = { resolve, reject, timer };
    });
  }

  /** Ends every wait with `err` (hangup, session closed); later reads reject at once. */
  fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.buf = [];
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      this.clock.clearTimeout(w.timer);
      w.reject(err);
    }
  }
}
