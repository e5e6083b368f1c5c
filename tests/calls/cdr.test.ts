import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CdrStore, type CdrRow } from '../../server/calls/cdr.js';
import { openDatabase, type Database } from '../../server/storage/database.js';
import { FakeClock } from '../../server/util/clock.js';

function row(id: string, over: Partial<CdrRow> = {}): CdrRow {
  return {
    id,
    sipCallId: `sip-${id}`,
    direction: 'inbound',
    caller: '13812345678',
    callerKind: 'trunk',
    dialled: '12315',
    target: '12315',
    startedAt: 1000,
    answeredAt: null,
    endedAt: null,
    hangupBy: null,
    disposition: 'live',
    ivrPath: null,
    queue: null,
    legs: ['l1'],
    recordingFile: null,
    ...over,
  };
}

/** Counts rows with a second connection, so nothing is read through the store (which would flush). */
function storedCount(file: string): number {
  const other = openDatabase(file, { synchronous: 'NORMAL' });
  try {
    return (other.sqlite.prepare('SELECT COUNT(*) AS n FROM cdr').get() as { n: number }).n;
  } finally {
    other.close();
  }
}

describe('CdrStore write-behind', () => {
  const dirs: string[] = [];
  const dbs: Database[] = [];
  afterEach(() => {
    for (const d of dbs.splice(0)) d.close();
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  function open(): { file: string; db: Database } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdr-'));
    dirs.push(dir);
    const file = path.join(dir, 'h.sqlite');
    const db = openDatabase(file, { synchronous: 'NORMAL' });
    dbs.push(db);
    return { file, db };
  }

  it('writes changes only when the flush timer fires, all in one batch', () => {
    const { file, db } = open();
    const clock = new FakeClock();
    const cdr = new CdrStore(db, { clock, flushMs: 5 });
    cdr.insert(row('a'));
    cdr.insert(row('b'));
    expect(cdr.pending).toBe(2);
    expect(storedCount(file)).toBe(0);
    clock.advance(4);
    expect(storedCount(file)).toBe(0);
    clock.advance(1);
    expect(storedCount(file)).toBe(2);
    expect(cdr.stats).toMatchObject({ flushes: 1, rowsWritten: 2 });
    cdr.close();
  });

  it('an insert and its end in the same window become one final row', () => {
    const { db } = open();
    const clock = new FakeClock();
    const cdr = new CdrStore(db, { clock, flushMs: 5 });
    cdr.insert(row('a'));
    cdr.update('a', { answeredAt: 1100, endedAt: 2000, hangupBy: 'caller', disposition: 'answered', queue: 'q1' });
    clock.advance(5);
    expect(cdr.stats.rowsWritten).toBe(1);
    expect(cdr.get('a')).toMatchObject({ disposition: 'answered', endedAt: 2000, queue: 'q1', legs: ['l1'] });
    cdr.close();
  });

  it('a live call reaches the database as live, so a crash marks it interrupted on restart', () => {
    const { file, db } = open();
    const clock = new FakeClock();
    const cdr = new CdrStore(db, { clock, flushMs: 5 });
    cdr.insert(row('live-1'));
    cdr.insert(row('done-1'));
    cdr.update('done-1', { endedAt: 3000, disposition: 'answered', answeredAt: 2000, hangupBy: 'callee' });
    clock.advance(5);
    // "Crash": the store is abandoned without close(); a new process opens the file.
    const db2 = openDatabase(file, { synchronous: 'NORMAL' });
    dbs.push(db2);
    const after = new CdrStore(db2, { clock: new FakeClock() });
    expect(after.markInterrupted(9000)).toBe(1);
    expect(after.get('live-1')).toMatchObject({ disposition: 'interrupted', endedAt: 9000, hangupBy: 'system' });
    expect(after.get('done-1')).toMatchObject({ disposition: 'answered', endedAt: 3000 });
    after.close();
    cdr.close();
  });

  it('reads see changes that are still pending; a full batch is written without waiting', () => {
    const { file, db } = open();
    const clock = new FakeClock();
    const cdr = new CdrStore(db, { clock, flushMs: 5, maxBatch: 3 });
    cdr.insert(row('a', { caller: '1001', callerKind: 'device' }));
    expect(cdr.byCaller('1001', 0)).toHaveLength(1);
    cdr.insert(row('b'));
    cdr.insert(row('c'));
    expect(storedCount(file)).toBe(1);
    cdr.insert(row('d'));
    expect(storedCount(file)).toBe(4);
    expect(clock.pending).toBe(0);
    expect(cdr.list()).toHaveLength(4);
    cdr.close();
  });

  it('a later change to a finished call merges into the stored row; close flushes and is idempotent', () => {
    const { file, db } = open();
    const clock = new FakeClock();
    const cdr = new CdrStore(db, { clock, flushMs: 5 });
    cdr.insert(row('a'));
    cdr.update('a', { endedAt: 2000, disposition: 'answered', answeredAt: 1500 });
    clock.advance(5);
    cdr.update('a', { recordingFile: 'rec/a.wav' });
    cdr.update('missing', { queue: 'x' });
    cdr.close();
    cdr.close();
    expect(storedCount(file)).toBe(1);
    const again = new CdrStore(db, { clock });
    expect(again.get('a')).toMatchObject({ recordingFile: 'rec/a.wav', disposition: 'answered', endedAt: 2000 });
    expect(() => cdr.insert(row('z'))).toThrow(/closed/);
    again.close();
  });
});
