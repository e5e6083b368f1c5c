import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GroupCommit } from '../../server/cases/index.js';
import type { Database } from '../../server/storage/database.js';
import { FakeClock } from '../../server/util/clock.js';
import { tempCaseRepo } from './helpers.js';

let db: Database;
let file: string;
let cleanup: () => void;
let closeRepo: () => void;

beforeEach(() => {
  const t = tempCaseRepo();
  ({ db, file, cleanup } = t);
  closeRepo = () => t.repo.close();
});
afterEach(() => {
  closeRepo();
  cleanup();
});

const blob = 'x'.repeat(5000); // two pages per row
const walBytes = () => fs.statSync(`${file}-wal`).size;

/** 20 batches of 60 rows ≈ 1,600 WAL pages: SQLite alone would checkpoint and restart the WAL at 1,000. */
async function writeBatches(gc: GroupCommit, table: string): Promise<void> {
  db.sqlite.exec(`CREATE TABLE ${table} (x INTEGER, b TEXT)`);
  const ins = db.sqlite.prepare(`INSERT INTO ${table} VALUES (?, ?)`);
  for (let b = 0; b < 20; b++) {
    await Promise.all(Array.from({ length: 60 }, (_, i) => gc.run(() => ins.run(b * 60 + i, blob))));
  }
}

describe('WAL checkpoints on a worker', () => {
  it('no checkpoint runs inside a group commit; the worker checkpoints everything when poked', async () => {
    const clock = new FakeClock();
    const gc = new GroupCommit(db, { checkpoint: { clock, minIntervalMs: 1000, maxIntervalMs: 1000 } });
    await gc.checkpointer!.started();
    await writeBatches(gc, 'w');
    // The clock has not moved: the worker has not checkpointed, and neither did SQLite in the commits,
    // so the WAL grew past SQLite's 1,000-page threshold without being restarted.
    expect(gc.checkpointer!.stats.checkpoints).toBe(0);
    expect(walBytes()).toBeGreaterThan(1400 * 4096);
    // Outside a batch the connection keeps SQLite's setting for everyone else's commits.
    expect(db.sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);

    clock.advance(1000);
    const next = gc.checkpointer!.next();
    gc.checkpointer!.poke();
    const r = await next;
    expect(r.ok).toBe(true);
    expect(r.log).toBeGreaterThan(1400);
    expect(r.checkpointed).toBe(r.log);
    // A poke within the interval does nothing.
    gc.checkpointer!.poke();
    expect(gc.checkpointer!.stats.checkpoints).toBe(1);
    // The checkpointed rows are in the database file itself.
    expect(db.sqlite.prepare('SELECT count(*) AS n FROM w').get()).toEqual({ n: 1200 });
    gc.close();
    gc.close();
  });

  it('spaces checkpoints to find about targetFrames each: shorter after a big WAL, longer after a small one', async () => {
    const clock = new FakeClock();
    const gc = new GroupCommit(db, { checkpoint: { clock, minIntervalMs: 100, maxIntervalMs: 10_000 } });
    const ck = gc.checkpointer!;
    await ck.started();
    await writeBatches(gc, 'a'); // ≈ 1,600 frames, twice the target of 800
    clock.advance(ck.intervalMs);
    let next = ck.next();
    ck.poke();
    expect((await next).log).toBeGreaterThan(1400);
    expect(ck.intervalMs).toBeGreaterThan(450);
    expect(ck.intervalMs).toBeLessThan(600);
    const before = ck.intervalMs;
    await gc.run(() => db.sqlite.prepare('INSERT INTO a VALUES (?, ?)').run(-1, 'x')); // restarts the WAL: a few frames
    clock.advance(ck.intervalMs);
    next = ck.next();
    ck.poke();
    expect((await next).log).toBeLessThan(10);
    expect(ck.intervalMs).toBe(before * 2);
    gc.close();
  });

  it('when the WAL is long (restartDue) one batch lets SQLite checkpoint in its commit, so the WAL restarts', async () => {
    const clock = new FakeClock();
    const gc = new GroupCommit(db, { checkpoint: { clock, restartEveryMs: 60_000 } });
    const ck = gc.checkpointer!;
    await ck.started();
    await writeBatches(gc, 'r'); // ≈ 1,600 frames, no checkpoint yet (the clock stands still)
    const ins = db.sqlite.prepare('INSERT INTO r VALUES (?, ?)');
    ck.restartDue = true;
    await gc.run(() => ins.run(-1, 'x')); // SQLite checkpoints in this commit (WAL ≥ 1000 frames)
    expect(ck.restartDue).toBe(false);
    await gc.run(() => ins.run(-2, 'x')); // and this one starts the WAL again
    const [r] = db.sqlite.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number }>;
    expect(r!.log).toBeLessThan(10);
    // Without restartDue SQLite still gets a turn every restartEveryMs (bounds the WAL under steady load).
    expect(ck.takeRestartTurn()).toBe(false);
    clock.advance(60_000);
    expect(ck.takeRestartTurn()).toBe(true);
    expect(ck.takeRestartTurn()).toBe(false);
    gc.close();
  });

  it('pokes after the syncs keep the WAL small while saves go on', async () => {
    const gc = new GroupCommit(db, { checkpoint: { minIntervalMs: 0, maxIntervalMs: 0 } });
    await gc.checkpointer!.started();
    const first = gc.checkpointer!.next();
    await writeBatches(gc, 'k');
    expect((await first).ok).toBe(true);
    expect(gc.checkpointer!.stats.checkpoints).toBeGreaterThan(0);
    expect(gc.checkpointer!.stats.errors).toBe(0);
    gc.close();
  });

  it('with checkpoint: false SQLite keeps checkpointing in the commit (WAL restarted near 1,000 pages)', async () => {
    const gc = new GroupCommit(db, { checkpoint: false });
    expect(gc.checkpointer).toBeNull();
    await writeBatches(gc, 's');
    expect(walBytes()).toBeLessThan(1400 * 4096);
    gc.close();
  });

  it('a worker that cannot open the database gives the checkpoint back to SQLite', async () => {
    const gc = new GroupCommit(db, { checkpoint: { minIntervalMs: 0 } });
    // Simulates a broken worker: point it at a file that does not exist.
    (gc.checkpointer as unknown as { file: string }).file = `${file}.missing`;
    await gc.checkpointer!.started();
    expect(gc.checkpointer!.alive).toBe(false);
    await writeBatches(gc, 'f');
    expect(walBytes()).toBeLessThan(1400 * 4096);
    gc.close();
  });
});
