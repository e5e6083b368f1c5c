import type { Database } from '../storage/database.js';

/**
 * Group commit for small, frequent writes (autosave). With synchronous=FULL every commit costs an
 * fsync, which caps a single connection at a few hundred commits per second on a good disk and far
 * fewer on a busy one; 200 agents autosaving every second would queue behind each other. Writes
 * submitted in the same event-loop turn (and while a previous commit blocks the loop) run in one
 * transaction, each inside its own savepoint so a failing write (409, 400) rolls back alone, and
 * every caller is answered only after the shared commit is durable.
 */
interface Job {
  fn: () => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class GroupCommit {
  private queue: Job[] = [];
  private scheduled = false;
  private closed = false;
  /** Batches committed and writes in them, for the metrics page and tests. */
  readonly stats = { batches: 0, jobs: 0, largestBatch: 0 };

  constructor(
    private readonly db: Database,
    private readonly maxBatch = 500,
  ) {}

  run<T>(fn: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('group commit is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Runs what is queued now; later submissions are refused. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    while (this.queue.length && !this.db.closed) this.flushOnce();
    for (const j of this.queue.splice(0)) j.reject(new Error('group commit is closed'));
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
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      this.db.transaction(() => {
        for (const j of jobs) {
          try {
            // Nested transaction = savepoint: a throwing write undoes only its own changes.
            outcomes.push({ ok: true, value: this.db.transaction(j.fn) });
          } catch (err) {
            outcomes.push({ ok: false, value: err });
          }
        }
      });
    } catch (err) {
      for (const j of jobs) j.reject(err);
      return;
    }
    this.stats.batches++;
    this.stats.jobs += jobs.length;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, jobs.length);
    jobs.forEach((j, i) => (outcomes[i]!.ok ? j.resolve(outcomes[i]!.value) : j.reject(outcomes[i]!.value)));
  }
}
