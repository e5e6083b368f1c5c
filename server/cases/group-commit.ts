import fs from 'node:fs';
import type { Database } from '../storage/database.js';
import { createLogger } from '../util/log.js';
import { WalCheckpointer, type WalCheckpointerOptions } from './wal-checkpointer.js';

/**
 * Group commit for small, frequent writes (autosave), with the fsync taken off the event loop.
 *
 * With synchronous=FULL every commit fsyncs the WAL on the JavaScript thread: 3–15 ms here during
 * which no other socket, SIP packet or timer is served, so 200 typing agents saw p99 ≈ 250 ms.
 * Instead each batch commits with synchronous=NORMAL (in WAL mode that writes the frames into the OS
 * cache and returns; SQLite's own rule: a NORMAL commit is atomic and survives a process crash but
 * not a power cut) and then the WAL file is fdatasync'ed on libuv's thread pool. A caller is
 * answered only when a sync that *started after* its commit has finished, so an acked save is exactly
 * as durable as under FULL (SQLite's FULL does the same fsync of the WAL after the commit frame).
 * While one sync is in flight new batches keep committing and share the next sync.
 *
 * Writes submitted in the same event-loop turn run in one transaction, each in its own savepoint, so
 * a failing write (409, 400) rolls back alone.
 *
 * SQLite's automatic checkpoint would run inside a batch's commit, on this thread, with two fsyncs;
 * it is off during the batches and a WalCheckpointer does it on a worker after the syncs instead.
 *
 * An in-memory database (tests) has nothing to sync: callers are answered after the commit.
 */
export interface GroupCommitOptions {
  maxBatch?: number;
  /** Checkpointing on a worker (default on for a WAL file); false leaves it to SQLite. */
  checkpoint?: WalCheckpointerOptions | false;
}

interface Job {
  fn: () => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  trace: CommitTrace | undefined;
}

/**
 * Where one write's time went (performance.now() stamps), filled in when the caller passes one: the
 * autosave bench uses it to tell a slow save's queueing on the event loop from its commit, the wait
 * for a sync already in flight, and the fdatasync itself.
 */
export interface CommitTrace {
  queued?: number;
  /** Its batch's transaction began / committed (the commit includes any automatic WAL checkpoint). */
  commitStart?: number;
  commitEnd?: number;
  /** Jobs in its batch. */
  batch?: number;
  /** The fdatasync that covers it started / finished. */
  syncStart?: number;
  syncEnd?: number;
}

interface Committed {
  job: Job;
  ok: boolean;
  value: unknown;
}

const log = createLogger('cases.commit');

export class GroupCommit {
  private queue: Job[] = [];
  private scheduled = false;
  private closed = false;
  /** Committed, waiting for a sync that starts after their commit. */
  private unsynced: Committed[] = [];
  private syncing = false;
  private walFd: number | null = null;
  private readonly offLoopSync: boolean;
  private readonly restoreSync: number;
  private readonly restoreAutoCheckpoint: number;
  private readonly maxBatch: number;
  /** Null for an in-memory database or with `checkpoint: false`. */
  readonly checkpointer: WalCheckpointer | null;
  /** Batches committed and writes in them, for the metrics page and tests. */
  readonly stats = {
    batches: 0,
    jobs: 0,
    largestBatch: 0,
    commitMsTotal: 0,
    commitMsMax: 0,
    syncs: 0,
    syncMsTotal: 0,
    syncMsMax: 0,
  };

  constructor(
    private readonly db: Database,
    opts: GroupCommitOptions = {},
  ) {
    this.maxBatch = opts.maxBatch ?? 500;
    const mode = String(db.sqlite.pragma('journal_mode', { simple: true })).toLowerCase();
    this.offLoopSync = db.file !== ':memory:' && mode === 'wal';
    this.restoreSync = Number(db.sqlite.pragma('synchronous', { simple: true }));
    this.restoreAutoCheckpoint = Number(db.sqlite.pragma('wal_autocheckpoint', { simple: true }));
    this.checkpointer =
      this.offLoopSync && opts.checkpoint !== false ? new WalCheckpointer(db.file, opts.checkpoint || {}) : null;
  }

  run<T>(fn: () => T, trace?: CommitTrace): Promise<T> {
    if (this.closed) return Promise.reject(new Error('group commit is closed'));
    if (trace) trace.queued = performance.now();
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject, trace });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Runs what is queued now and syncs it on this thread (shutdown path); later submissions are
   * refused. Safe to call twice.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    while (this.queue.length && !this.db.closed) this.flushOnce();
    for (const j of this.queue.splice(0)) j.reject(new Error('group commit is closed'));
    const left = this.unsynced.splice(0);
    if (left.length) {
      try {
        if (this.walFd !== null) fs.fdatasyncSync(this.walFd);
        settle(left);
      } catch (err) {
        for (const c of left) c.job.reject(err);
      }
    }
    if (this.walFd !== null && !this.syncing) {
      fs.closeSync(this.walFd);
      this.walFd = null;
    }
    this.checkpointer?.close();
  }

  private flush(): void {
    this.scheduled = false;
    if (this.db.closed) {
      for (const j of this.queue.splice(0)) j.reject(new Error('database is closed'));
      return;
    }
    this.flushOnce();
    if (this.queue.length && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flushOnce(): void {
    const jobs = this.queue.splice(0, this.maxBatch);
    if (jobs.length === 0) return;
    const outcomes: Committed[] = [];
    const s = this.db.sqlite;
    const t0 = performance.now();
    // Read per batch: after a worker failure SQLite checkpoints here again, as it always did.
    // Some batches let SQLite checkpoint in their commit, so the WAL restarts (see restartFrames).
    const ck = this.checkpointer;
    const ownCheckpoint = ck?.alive === true && !ck.takeRestartTurn();
    if (this.offLoopSync) s.pragma('synchronous = NORMAL');
    if (ownCheckpoint) s.pragma('wal_autocheckpoint = 0');
    try {
      this.db.transaction(() => {
        for (const job of jobs) {
          try {
            // Nested transaction = savepoint: a throwing write undoes only its own changes.
            outcomes.push({ job, ok: true, value: this.db.transaction(job.fn) });
          } catch (err) {
            outcomes.push({ job, ok: false, value: err });
          }
        }
      });
    } catch (err) {
      for (const j of jobs) j.reject(err);
      return;
    } finally {
      if (this.offLoopSync) s.pragma(`synchronous = ${this.restoreSync}`);
      if (ownCheckpoint) s.pragma(`wal_autocheckpoint = ${this.restoreAutoCheckpoint}`);
    }
    const t1 = performance.now();
    const ms = t1 - t0;
    for (const j of jobs) {
      if (!j.trace) continue;
      j.trace.commitStart = t0;
      j.trace.commitEnd = t1;
      j.trace.batch = jobs.length;
    }
    this.stats.commitMsTotal += ms;
    this.stats.commitMsMax = Math.max(this.stats.commitMsMax, ms);
    this.stats.batches++;
    this.stats.jobs += jobs.length;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, jobs.length);
    if (!this.offLoopSync || this.closed) {
      if (this.offLoopSync) this.unsynced.push(...outcomes);
      else settle(outcomes);
      return;
    }
    this.unsynced.push(...outcomes);
    this.startSync();
  }

  private startSync(): void {
    if (this.syncing || this.unsynced.length === 0) return;
    if (this.walFd === null) {
      try {
        this.walFd = fs.openSync(`${this.db.file}-wal`, 'r');
      } catch (err) {
        for (const c of this.unsynced.splice(0)) c.job.reject(err);
        return;
      }
    }
    const covered = this.unsynced.splice(0);
    this.syncing = true;
    const t0 = performance.now();
    fs.fdatasync(this.walFd, (err) => {
      this.syncing = false;
      const t1 = performance.now();
      const ms = t1 - t0;
      for (const c of covered) {
        if (!c.job.trace) continue;
        c.job.trace.syncStart = t0;
        c.job.trace.syncEnd = t1;
      }
      this.stats.syncs++;
      this.stats.syncMsTotal += ms;
      this.stats.syncMsMax = Math.max(this.stats.syncMsMax, ms);
      if (err) {
        log.error({ err }, 'WAL fdatasync failed; saves not acknowledged');
        for (const c of covered) c.job.reject(err);
      } else settle(covered);
      // After the acks: the checkpoint reads the WAL that was just made durable.
      this.checkpointer?.poke();
      if (this.closed) {
        if (this.walFd !== null) fs.closeSync(this.walFd);
        this.walFd = null;
        for (const c of this.unsynced.splice(0)) c.job.reject(new Error('group commit is closed'));
        return;
      }
      this.startSync();
    });
  }
}

function settle(list: Committed[]): void {
  for (const c of list) (c.ok ? c.job.resolve : c.job.reject)(c.value);
}
