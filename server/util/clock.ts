/**
 * Time source for every state machine with timers (SIP transactions, dialogs, ACD, IVR).
 * Production code uses `systemClock`; tests inject a `FakeClock` and advance it by hand, so
 * timer behaviour (RFC 3261 Timers A–K, ring timeouts ...) is tested without real waiting.
 */
export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined | null): void;
}

class SystemClock implements Clock {
  private next = 1;
  private readonly live = new Map<number, NodeJS.Timeout>();
  now(): number {
    return performance.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.next++;
    this.arm(id, performance.now() + Math.max(0, ms), fn, ms);
    return { id };
  }
  private arm(id: number, due: number, fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      // libuv measures timers on a millisecond-truncated loop clock, so a timer may fire up to 1 ms
      // before it is due on performance.now(). A queue's max wait or a ring timeout must never be
      // shorter than configured (a 4000 ms timeout showed up as a 3999 ms wait), so wait out the rest.
      const left = due - performance.now();
      if (left > 0) return this.arm(id, due, fn, left);
      this.live.delete(id);
      fn();
    }, ms);
    // Protocol timers must never keep a shutting-down process alive.
    t.unref();
    this.live.set(id, t);
  }
  clearTimeout(handle: TimerHandle | undefined | null): void {
    if (!handle) return;
    const t = this.live.get(handle.id);
    if (t) {
      clearTimeout(t);
      this.live.delete(handle.id);
    }
  }
}

export const systemClock: Clock = new SystemClock();

interface FakeTimer {
  id: number;
  at: number;
  seq: number;
  fn: () => void;
}

/** A clock that only moves when told to. Timers due at the same instant fire in the order they were set. */
export class FakeClock implements Clock {
  private t: number;
  private nextId = 1;
  private seq = 0;
  private timers: FakeTimer[] = [];

  constructor(start = 0) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { id: this.nextId++, at: this.t + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return { id: timer.id };
  }
  clearTimeout(handle: TimerHandle | undefined | null): void {
    if (!handle) return;
    this.timers = this.timers.filter((x) => x.id !== handle.id);
  }
  /** Moves time forward by `ms`, firing every timer that falls due, including ones set while firing. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let due: FakeTimer | undefined;
      for (const x of this.timers) {
        if (x.at <= end && (!due || x.at < due.at || (x.at === due.at && x.seq < due.seq))) due = x;
      }
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = due.at;
      due.fn();
    }
    this.t = end;
  }
  /** Number of timers still pending. */
  get pending(): number {
    return this.timers.length;
  }
}
