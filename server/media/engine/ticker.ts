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

export interface TickSource {
  /** Starts calling `fn` every `periodMs`. */
  start(fn: () => void): void;
  close(): void;
}

const TICKER_SRC = `
const { workerData } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const { port, ctl, periodMs } = workerData;
let next = performance.now() + periodMs;
for (;;) {
  if (Atomics.load(ctl, 0) !== 0) break;
  const wait = next - performance.now();
  if (wait > 0.02) { Atomics.wait(ctl, 0, 0, wait); continue; }
  port.postMessage(0);
  next += periodMs;
  const late = performance.now() - next;
  if (late > 5 * periodMs) next += Math.ceil(late / periodMs) * periodMs; // stalled: skip, do not replay
}
port.close();
`;

/** Ticker thread → MessagePort. The port can be handed to another thread (the media worker) first. */
export class ThreadTicker {
  private readonly ctl = new Int32Array(new SharedArrayBuffer(4));
  private worker: Worker | null;
  readonly port: MessagePort;

  constructor(readonly periodMs: number) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(TICKER_SRC, {
      eval: true,
      workerData: { port: port2, ctl: this.ctl, periodMs },
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
  constructor(private readonly port: MessagePort) {}
  start(fn: () => void): void {
    this.port.on('message', fn);
    this.port.unref();
  }
  close(): void {
    this.port.removeAllListeners('message');
    this.port.close();
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
  start(fn: () => void): void {
    this.next = this.clock.now() + this.periodMs;
    const arm = () => {
      if (this.closed) return;
      this.handle = this.clock.setTimeout(
        () => {
          this.next += this.periodMs;
          const now = this.clock.now();
          if (now - this.next > 5 * this.periodMs) this.next = now + this.periodMs;
          fn();
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
