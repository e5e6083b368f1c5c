import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { systemClock, type Clock } from '../util/clock.js';
import { createLogger } from '../util/log.js';

/**
 * WAL checkpoints on a worker thread, so they never stall the event loop.
 *
 * SQLite's automatic checkpoint (after a commit leaves ≥ 1000 pages in the WAL) runs inside that
 * commit, on the committing thread: it fsyncs the WAL, copies the pages into the database file and
 * fsyncs that. With 200 agents autosaving (≈ 13 KB of WAL per save) that happened every ~1.5 s and
 * took 3–15 ms here, during which no socket was served; traced with strace, these were the only
 * fsyncs left on the main thread, and the saves that arrived meanwhile were the slowest 1 %.
 *
 * A second connection to the same file on a worker runs `wal_checkpoint(PASSIVE)` instead, while the
 * main connection keeps committing (in WAL mode a checkpoint and a writer run concurrently; PASSIVE
 * never waits for readers or writers). The checkpointing connection has synchronous=FULL, so SQLite
 * syncs the WAL before it copies frames and the database after (https://sqlite.org/wal.html §
 * Checkpointing): durability is SQLite's own, only the thread changes.
 *
 * What stays on the main thread: when the WAL has been checkpointed completely, the next commit
 * starts it again from the beginning and SQLite syncs the new WAL header (one fsync of one page,
 * sqlite3WalFrames). So checkpoints are spaced to find ~800 frames each, like SQLite's own cadence:
 * one restart per ~800 pages written, as before, but one fsync each instead of three plus the copy.
 */
export interface WalCheckpointerOptions {
  /**
   * Time between the starts of two checkpoints adapts so that each finds about `targetFrames` WAL
   * frames (default 800, under SQLite's own 1000 so other connections' automatic checkpoints stay
   * idle); it starts at 1 s and stays within [minIntervalMs, maxIntervalMs] (250 ms, 10 s).
   */
  targetFrames?: number;
  /**
   * A checkpoint on the side never finishes while commits keep coming (frames appended during it are
   * left), and SQLite restarts the WAL only after one that did, so under steady load the WAL would grow
   * without end. Once it holds this many frames (default 4000, 16 MB of 4 KB pages) `restartDue` asks
   * the committer to let SQLite checkpoint once in its own commit: it copies only the tail the worker
   * has not, and the next commit restarts the WAL.
   */
  restartFrames?: number;
  /** In any case SQLite gets such a turn at least this often (default 10 s), which bounds the WAL. */
  restartEveryMs?: number;
  minIntervalMs?: number;
  maxIntervalMs?: number;
  /** Monotonic time (FakeClock in tests). */
  clock?: Pick<Clock, 'now'>;
}

export interface CheckpointResult {
  ok: boolean;
  ms: number;
  /** SQLite's answer: 1 if a writer or reader kept it from finishing, frames in the WAL, frames copied. */
  busy: number;
  log: number;
  checkpointed: number;
  error?: string;
}

const log = createLogger('cases.checkpoint');

// Plain CommonJS run by `new Worker(src, {eval: true})`: no loader needed under tsx, vitest or dist.
const WORKER_SRC = `
const { parentPort, workerData } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('synchronous = FULL');
db.pragma('wal_autocheckpoint = 0');
parentPort.on('message', (m) => {
  if (m === 'close') {
    try { db.close(); } finally { parentPort.close(); }
    return;
  }
  const t0 = performance.now();
  try {
    const r = db.pragma('wal_checkpoint(PASSIVE)')[0];
    parentPort.postMessage({ ok: true, ms: performance.now() - t0, busy: r.busy, log: r.log, checkpointed: r.checkpointed });
  } catch (err) {
    parentPort.postMessage({ ok: false, ms: performance.now() - t0, busy: 1, log: -1, checkpointed: -1, error: String(err && err.message || err) });
  }
});
parentPort.postMessage('ready');
`;

export class WalCheckpointer {
  private worker: Worker | null = null;
  private closed = false;
  private running = false;
  private ready = false;
  private lastStart: number;
  private readonly minIntervalMs: number;
  private readonly maxIntervalMs: number;
  private readonly targetFrames: number;
  private readonly restartFrames: number;
  /** The WAL is long: the committer should let SQLite's own checkpoint run in its next commit. */
  restartDue = false;
  private readonly restartEveryMs: number;
  private lastRestart: number;
  /** Current spacing of checkpoints (ms), adapted to the write rate. */
  intervalMs: number;
  private readonly clock: Pick<Clock, 'now'>;
  private failed = false;
  /** Checkpoints done, their time on the worker, the last one's frame counts; failures. */
  readonly stats = {
    checkpoints: 0,
    msTotal: 0,
    msMax: 0,
    lastLog: 0,
    lastCheckpointed: 0,
    errors: 0,
    /** Batches that let SQLite checkpoint in their commit (takeRestartTurn). */
    restarts: 0,
  };

  constructor(
    private readonly file: string,
    opts: WalCheckpointerOptions = {},
  ) {
    this.minIntervalMs = opts.minIntervalMs ?? 250;
    this.maxIntervalMs = Math.max(this.minIntervalMs, opts.maxIntervalMs ?? 10_000);
    this.targetFrames = opts.targetFrames ?? 800;
    this.restartFrames = opts.restartFrames ?? 4000;
    this.restartEveryMs = opts.restartEveryMs ?? 10_000;
    this.intervalMs = Math.min(this.maxIntervalMs, Math.max(this.minIntervalMs, 1000));
    this.clock = opts.clock ?? systemClock;
    // The first checkpoint comes one interval after start, like every later one.
    this.lastStart = this.clock.now();
    this.lastRestart = this.lastStart;
  }

  /** Started by the first poke, so a repository that never commits through the group costs no thread. */
  private start(): Worker {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const w = new Worker(WORKER_SRC, { eval: true, workerData: { file: this.file, driver } });
    w.unref();
    w.on('message', (m: CheckpointResult | 'ready') => this.onMessage(m));
    w.on('error', (err) => this.fail(err));
    w.on('exit', () => {
      if (!this.closed) this.fail(new Error('checkpoint worker exited'));
    });
    return w;
  }

  /**
   * True while the worker is up: the caller may then turn SQLite's automatic checkpoint off for its
   * commits. After a failure it is false for good and SQLite checkpoints as it always did.
   */
  get alive(): boolean {
    return !this.closed && !this.failed;
  }

  private readyWaiters: (() => void)[] = [];
  /** Starts the worker now if need be; resolves when it has opened the database (tests). */
  started(): Promise<void> {
    if (!this.worker && this.alive) this.worker = this.start();
    if (this.ready || !this.alive) return Promise.resolve();
    return new Promise((r) => this.readyWaiters.push(r));
  }

  /** Resolves with the next checkpoint's result (tests and benches). */
  private waiters: ((r: CheckpointResult) => void)[] = [];
  next(): Promise<CheckpointResult> {
    return new Promise((r) => this.waiters.push(r));
  }

  /**
   * Asked by the committer before each batch: true when this batch should leave SQLite's automatic
   * checkpoint on (restartDue, or restartEveryMs since the last such turn). Consumes the turn.
   */
  takeRestartTurn(): boolean {
    const t = this.clock.now();
    if (!this.restartDue && t - this.lastRestart < this.restartEveryMs) return false;
    this.restartDue = false;
    this.lastRestart = t;
    this.stats.restarts++;
    return true;
  }

  /** Something was committed: checkpoint unless one is running or the last began < intervalMs ago. */
  poke(): void {
    if (!this.alive) return;
    if (!this.worker) this.worker = this.start();
    if (!this.ready || this.running) return;
    const t = this.clock.now();
    if (t - this.lastStart < this.intervalMs) return;
    this.lastStart = t;
    this.running = true;
    this.worker!.postMessage('checkpoint');
  }

  /** Stops the worker after the checkpoint in progress, if any. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.worker?.postMessage('close');
    this.worker = null;
  }

  private onMessage(m: CheckpointResult | 'ready'): void {
    if (m === 'ready') {
      this.ready = true;
      for (const w of this.readyWaiters.splice(0)) w();
      return;
    }
    this.running = false;
    if (m.ok) {
      this.stats.checkpoints++;
      this.stats.msTotal += m.ms;
      this.stats.msMax = Math.max(this.stats.msMax, m.ms);
      this.stats.lastLog = m.log;
      this.stats.lastCheckpointed = m.checkpointed;
      this.restartDue = m.log >= this.restartFrames && m.checkpointed < m.log;
      // Frames found ∝ interval at a steady write rate; damped (at most ×2 or ÷2 per step).
      if (m.log > 0) {
        const f = Math.min(2, Math.max(0.5, this.targetFrames / m.log));
        // Whole milliseconds: clocks tick in ms (a FakeClock advanced by a fractional interval never
        // reached it, so the next poke found the interval not yet over).
        this.intervalMs = Math.round(Math.min(this.maxIntervalMs, Math.max(this.minIntervalMs, this.intervalMs * f)));
      }
    } else {
      this.stats.errors++;
      log.warn({ error: m.error }, 'WAL checkpoint failed; retried after the next commit');
    }
    for (const w of this.waiters.splice(0)) w(m);
  }

  private fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.running = false;
    // Closed first: e.g. a test removed the file while the worker was still opening it.
    if (!this.closed) log.error({ err }, 'checkpoint worker failed; SQLite checkpoints on the main thread again');
    const r: CheckpointResult = { ok: false, ms: 0, busy: 1, log: -1, checkpointed: -1, error: String(err) };
    for (const w of this.waiters.splice(0)) w(r);
    for (const w of this.readyWaiters.splice(0)) w();
  }
}
