/**
 * Main-thread cost of the CDR per call (insert at start + update at end), on the NORMAL-sync WAL
 * connection: one statement per change (the previous CdrStore) against the write-behind CdrStore
 * (one upsert transaction per 5 ms batch). Pure CPU on this thread, so it is less disturbed by a busy
 * machine than the end-to-end call-setup run; min of 5 rounds is reported.
 *   LOG_LEVEL=warn npx tsx scripts/bench/cps-cdr.ts [calls=20000] [calls per flush=2]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CdrStore, type CdrRow } from '../../server/calls/cdr.js';
import { openDatabase } from '../../server/storage/database.js';
import { FakeClock } from '../../server/util/clock.js';

const N = Number(process.argv[2] ?? 20_000);
/** Calls started per flush: 2 ≈ 5 ms at 300 calls/s. */
const BATCH = Number(process.argv[3] ?? 2);
const row = (i: number): CdrRow => ({
  id: `c${i}`,
  sipCallId: `x${i}@h`,
  direction: 'inbound',
  caller: '13800138000',
  callerKind: 'trunk',
  dialled: '7000',
  target: '7000',
  startedAt: 1e12 + i,
  answeredAt: null,
  endedAt: null,
  hangupBy: null,
  disposition: 'live',
  ivrPath: null,
  queue: null,
  legs: [`l${i}`],
  recordingFile: null,
});
const end = { answeredAt: 1, endedAt: 2, hangupBy: 'system', disposition: 'answered', ivrPath: 'play' } as const;

function fresh() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cps-cdr-'));
  const db = openDatabase(path.join(dir, 'h.sqlite'), { synchronous: 'NORMAL' });
  return { db, done: () => (db.close(), fs.rmSync(dir, { recursive: true, force: true })) };
}

function oldWay(): number {
  const { db, done } = fresh();
  new CdrStore(db).close(); // schema
  const ins = db.sqlite.prepare(
    `INSERT INTO cdr (id, sip_call_id, direction, caller, caller_kind, dialled, target, started_at, answered_at,
      ended_at, hangup_by, disposition, ivr_path, queue, legs, recording_file) VALUES (@id, @sipCallId, @direction,
      @caller, @callerKind, @dialled, @target, @startedAt, @answeredAt, @endedAt, @hangupBy, @disposition, @ivrPath,
      @queue, @legs, @recordingFile)`,
  );
  const upd = db.sqlite.prepare(
    'UPDATE cdr SET answered_at = @answeredAt, ended_at = @endedAt, hangup_by = @hangupBy, disposition = @disposition, ivr_path = @ivrPath, queue = @queue WHERE id = @id',
  );
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const r = row(i);
    ins.run({ ...r, legs: JSON.stringify(r.legs) });
    upd.run({ id: r.id, ...end, queue: null });
  }
  const us = Number(process.hrtime.bigint() - t0) / 1e3 / N;
  done();
  return us;
}

function newWay(): number {
  const { db, done } = fresh();
  const clock = new FakeClock();
  const cdr = new CdrStore(db, { clock, flushMs: 5 });
  // 300 calls/s: 1.5 starts and 1.5 ends per 5 ms batch; a call lasts ~1 s, so its end is in a later batch.
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    cdr.insert(row(i));
    if (i >= 300) cdr.update(`c${i - 300}`, { ...end, hangupBy: 'system' });
    if (i % BATCH === BATCH - 1) clock.advance(5);
  }
  cdr.close();
  const us = Number(process.hrtime.bigint() - t0) / 1e3 / N;
  done();
  return us;
}

const a: number[] = [];
const b: number[] = [];
for (let k = 0; k < 5; k++) {
  a.push(oldWay());
  b.push(newWay());
}
console.log(
  `CDR main-thread cost per call (${N} calls, min of 5): per-statement ${Math.min(...a).toFixed(1)} µs, write-behind ${Math.min(...b).toFixed(1)} µs`,
);
