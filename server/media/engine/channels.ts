/**
 * The two ways to reach an EngineCore: directly in this thread, or in a media worker thread over messages.
 * Either way the media clock is a ticker thread (ticker.ts) whose port is handed to the thread that runs the core.
 */
import { Worker } from 'node:worker_threads';
import { createLogger } from '../../util/log.js';
import type { Clock } from '../../util/clock.js';
import type { MediaEngineOptions } from './api.js';
import { fromWireError, type EngineChannel, type WireError } from './client.js';
import { EngineCore, FRAME_MS, type CoreEvent } from './core.js';
import { ClockTickSource, PortTickSource, ThreadTicker, type TickSource } from './ticker.js';
import { isCpuList } from './realtime.js';

const log = createLogger('media');

export class InlineChannel implements EngineChannel {
  readonly thread = 'inline' as const;
  readonly core: EngineCore;
  private handler: (e: CoreEvent) => void = () => undefined;
  private readonly ticker: ThreadTicker | null;

  /** With `clock` (a FakeClock in tests) the ticks come from that clock instead of a ticker thread. */
  constructor(opts: MediaEngineOptions, clock?: Clock) {
    const phases = Math.max(1, Math.min(20, Math.floor(opts.phases ?? 4)));
    let ticks: TickSource;
    if (clock) {
      this.ticker = null;
      ticks = new ClockTickSource(clock, FRAME_MS / phases);
    } else {
      this.ticker = new ThreadTicker(FRAME_MS / phases);
      ticks = new PortTickSource(this.ticker.port);
    }
    this.core = new EngineCore(opts, {
      clock: clock ?? { now: () => performance.now(), setTimeout: () => ({ id: 0 }), clearTimeout: () => undefined },
      ticks,
      emit: (e) => this.handler(e),
      log,
      thread: 'inline',
    });
  }

  call(cmd: string, args: unknown[]): Promise<unknown> {
    try {
      return Promise.resolve(this.core.handle(cmd, args));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  packet(ep: string, buf: Buffer): void {
    this.core.externalPacket(ep, buf);
  }

  onEvent(fn: (e: CoreEvent) => void): void {
    this.handler = fn;
  }

  async shutdown(): Promise<void> {
    this.ticker?.close();
  }
}

/** Messages between WorkerChannel and worker.ts. */
export type ToWorker =
  { t: 'call'; id: number; cmd: string; args: unknown[] } | { t: 'pkt'; ep: string; buf: Uint8Array };
export type FromWorker =
  | { t: 'res'; id: number; ok: true; value: unknown }
  | { t: 'res'; id: number; ok: false; error: WireError }
  | { t: 'evt'; e: CoreEvent }
  | { t: 'ready' };

export class WorkerChannel implements EngineChannel {
  readonly thread = 'worker' as const;
  private readonly worker: Worker;
  private readonly ticker: ThreadTicker | null;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private handler: (e: CoreEvent) => void = () => undefined;
  private exited = false;
  private readonly ready: Promise<void>;

  constructor(opts: MediaEngineOptions) {
    const phases = Math.max(1, Math.min(20, Math.floor(opts.phases ?? 4)));
    this.ticker =
      opts.pacing === 'ticker'
        ? new ThreadTicker(
            FRAME_MS / phases,
            opts.realtimePriority ?? 0,
            Math.max(0, opts.tickLeadMs ?? 0),
            // A malformed list is refused (and logged) by the worker; the ticker just stays unpinned.
            opts.cpus && isCpuList(opts.cpus) ? opts.cpus : null,
          )
        : null;
    // Under tsx/vitest this module is TypeScript: the worker then needs the tsx loader; from dist it is plain JS.
    const ts = import.meta.url.endsWith('.ts');
    const url = new URL(ts ? './worker.ts' : './worker.js', import.meta.url);
    const tickPort = this.ticker?.port ?? null;
    const workerOpts = { workerData: { opts, tickPort }, transferList: tickPort ? [tickPort] : [] };
    this.worker = ts
      ? new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`, {
          ...workerOpts,
          eval: true,
        })
      : new Worker(url, workerOpts);
    let readyResolve!: () => void;
    let readyReject!: (e: Error) => void;
    this.ready = new Promise((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    this.worker.on('message', (m: FromWorker) => {
      if (m.t === 'ready') readyResolve();
      else if (m.t === 'evt') {
        if (m.e.type === 'xpkt') m.e.buf = Buffer.from(m.e.buf.buffer, m.e.buf.byteOffset, m.e.buf.byteLength);
        this.handler(m.e);
      } else {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.value);
        else p.reject(fromWireError(m.error));
      }
    });
    const fail = (err: Error) => {
      const unexpected = !this.exited;
      this.exited = true;
      // Every endpoint died with the thread: tell call control so it can hang the calls up.
      if (unexpected) this.handler({ type: 'engine-failed', ep: '' });
      readyReject(err);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', (err) => {
      log.error({ err }, 'media worker failed');
      fail(err);
    });
    this.worker.on('exit', (code) => fail(new Error(`media worker exited (${code})`)));
  }

  async call(cmd: string, args: unknown[]): Promise<unknown> {
    await this.ready;
    if (this.exited) throw new Error('media worker is not running');
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ t: 'call', id, cmd, args } satisfies ToWorker);
    });
  }

  packet(ep: string, buf: Buffer): void {
    if (!this.exited) this.worker.postMessage({ t: 'pkt', ep, buf } satisfies ToWorker);
  }

  onEvent(fn: (e: CoreEvent) => void): void {
    this.handler = fn;
  }

  async shutdown(): Promise<void> {
    this.ticker?.close();
    if (!this.exited) {
      this.exited = true;
      await this.worker.terminate();
    }
  }
}
