/**
 * The media clock's heartbeat. Node timers have 1 ms granularity and fire 0–1.5 ms late (more under load),
 * which would go straight into every packet's pacing. A tiny thread sleeps with Atomics.wait (sub-ms
 * resolution) until each tick's due time on a fixed grid (t0 + k·period: no drift accumulates) and posts a
 * message; the message wakes the media event loop at once. Same method as /work/shared/bench/sipload's clock.
 *
 * The thread runs plain JS from a string (`eval`), so it needs no TypeScript loader in dev, tests or dist.
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { Clock, TimerHandle } from '../../util/clock.js';
import { RAISE_SRC } from './realtime.js';

export interface TickSource {
  /**
   * Starts calling `fn` every `periodMs` with the tick's index on the grid and how late it is being delivered
   * (ms). A consumer skips ticks that are far too late: a backlog (a busy or just-started thread) must not turn
   * into a burst of packets.
   */
  start(fn: (k: number, lateMs: number) => void): void;
  close(): void;
}

const TICKER_SRC = `
const { workerData } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const { port, ctl, periodMs, rtPriority, leadMs, cpus } = workerData;
${RAISE_SRC}
if (rtPriority > 0) { const why = raise(rtPriority); if (why) port.postMessage(['rt', why]); }
if (cpus) { const why = pin(cpus); if (why) port.postMessage(['rt', 'CPU affinity: ' + why]); }
const origin = performance.timeOrigin;
let next = performance.now() + periodMs;
let k = 0;
for (;;) {
  if (Atomics.load(ctl, 0) !== 0) break;
  const wait = next - leadMs - performance.now();
  if (wait > 0.02) { Atomics.wait(ctl, 0, 0, wait); continue; }
  // Absolute due time (timeOrigin differs per thread), so the receiver can tell how late the tick reaches it.
  port.postMessage([k, origin + next]);
  next += periodMs;
  k++;
  const late = performance.now() - leadMs - next;
  if (late > 5 * periodMs) {
    const skip = Math.ceil(late / periodMs); // stalled: skip, do not replay
    next += skip * periodMs;
    k += skip;
  }
}
port.close();
`;

/** Ticker thread → MessagePort. The port can be handed to another thread (the media worker) first. */
export class ThreadTicker {
  private readonly ctl = new Int32Array(new SharedArrayBuffer(4));
  private worker: Worker | null;
  readonly port: MessagePort;

  /**
   * `leadMs` > 0: each tick is posted that much before its due time and the receiving PortTickSource waits
   * (Atomics.wait) for the due time itself, so the hand-off's wake-up latency (ticker thread, then the engine's
   * event loop: 1–4 ms at p99 measured on a quiet box) is absorbed instead of landing in every packet's timing.
   * The engine thread is then blocked for up to leadMs before each tick (packets wait in the socket buffers).
   */
  constructor(
    readonly periodMs: number,
    rtPriority = 0,
    readonly leadMs = 0,
    /** CPU list the thread is kept on (taskset syntax); null = anywhere. */
    cpus: string | null = null,
  ) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(TICKER_SRC, {
      eval: true,
      workerData: { port: port2, ctl: this.ctl, periodMs, rtPriority, leadMs, cpus },
      transferList: [port2],
    });
    this.worker.unref();
  }

  close(): void {
    if (!this.worker) return;
    Atomics.store(this.ctl, 0, 1);
    Atomics.notify(this.ctl, 0);
    this.worker = null;
    this.port.close();
  }
}

/** Receives ticks from a ticker thread's port (in this or another thread). */
export class PortTickSource implements TickSource {
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  constructor(
    private readonly port: MessagePort,
    /** Told why the ticker thread runs without the priority or CPUs it was asked for; it ticks on regardless. */
    private readonly onSchedulingRefused: (why: string) => void = () => undefined,
  ) {}
  start(fn: (k: number, lateMs: number) => void): void {
    this.port.on('message', (m: [number, number] | ['rt', string]) => {
      if (m[0] === 'rt') {
        this.onSchedulingRefused(m[1]);
        return;
      }
      // A tick posted ahead of time (ThreadTicker leadMs) waits here for its due time; bounded by one period
      // so that a clock mismatch can never park the thread.
      const early = m[1] - (performance.timeOrigin + performance.now());
      if (early > 0.02) Atomics.wait(this.flag, 0, 0, Math.min(early, 5));
      fn(m[0], performance.timeOrigin + performance.now() - m[1]);
    });
    this.port.unref();
  }
  close(): void {
    this.port.removeAllListeners('message');
    this.port.close();
  }
}

/**
 * The thread that runs the engine paces itself: a Node timer to `guardMs` before the due time (timers fire up to
 * ~1 ms early or late: libuv keeps loop time in whole ms), then Atomics.wait for the rest. One wake-up of one
 * thread per tick, where ThreadTicker + PortTickSource need two in series (the ticker thread, then the port's
 * uv_async into the engine's loop), and on a busy 2-core box each wake-up can wait for a CPU. The price: the
 * thread is blocked (not receiving) for about guardMs before each tick, so use it only on a thread whose
 * receive path can wait that long (the media worker: packets queue in the socket buffers meanwhile).
 */
export class SelfPacedTickSource implements TickSource {
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Ticks whose consumer threw: counted and reported, and the clock goes on. */
  errors = 0;

  constructor(
    private readonly periodMs: number,
    private readonly guardMs = 1.5,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  start(fn: (k: number, lateMs: number) => void): void {
    let next = performance.now() + this.periodMs;
    let k = 0;
    const fire = () => {
      this.timer = null;
      if (this.closed) return;
      const wait = next - performance.now();
      if (wait > 0.02) Atomics.wait(this.flag, 0, 0, wait);
      const late = performance.now() - next;
      const tick = k;
      next += this.periodMs;
      k++;
      if (late > 5 * this.periodMs) {
        const skip = Math.ceil(late / this.periodMs); // stalled: skip, do not replay
        next += skip * this.periodMs;
        k += skip;
      }
      arm();
      try {
        fn(tick, late);
      } catch (err) {
        this.errors++;
        this.onError(err);
      }
    };
    const arm = () => {
      if (this.closed) return;
      this.timer = setTimeout(fire, Math.max(0, next - performance.now() - this.guardMs));
      this.timer.unref();
    };
    arm();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** Ticks from a Clock (FakeClock in tests, or plain timers): scheduled on the t0 + k·period grid. */
export class ClockTickSource implements TickSource {
  private handle: TimerHandle | null = null;
  private next = 0;
  private closed = false;
  constructor(
    private readonly clock: Clock,
    private readonly periodMs: number,
  ) {}
  start(fn: (k: number, lateMs: number) => void): void {
    this.next = this.clock.now() + this.periodMs;
    let k = 0;
    const arm = () => {
      if (this.closed) return;
      this.handle = this.clock.setTimeout(
        () => {
          const late = this.clock.now() - this.next;
          const tick = k;
          this.next += this.periodMs;
          k++;
          if (late > 5 * this.periodMs) {
            const skip = Math.ceil(late / this.periodMs);
            this.next += skip * this.periodMs;
            k += skip;
          }
          fn(tick, late);
          arm();
        },
        Math.max(0, this.next - this.clock.now()),
      );
    };
    arm();
  }
  close(): void {
    this.closed = true;
    this.clock.clearTimeout(this.handle);
  }
}
