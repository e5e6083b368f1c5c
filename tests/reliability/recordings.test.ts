/**
 * Recordings behind roles, with an audit of every access; retention purge of recordings and CDRs.
 */
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CdrStore, type CdrRow } from '../../server/calls/cdr.js';
import { RecordingAudit } from '../../server/ops/recording-audit.js';
import { RetentionJob } from '../../server/ops/retention.js';
import { openDatabase } from '../../server/storage/database.js';
import { FakeClock } from '../../server/util/clock.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';

const DAY = 86_400_000;
let ts: TestServer;
const tokens: Record<string, string> = {};

function cdrRow(id: string, startedAt: number, recordingFile: string | null): CdrRow {
  return {
    id,
    sipCallId: `${id}@test`,
    direction: 'inbound',
    caller: '13800138000',
    callerKind: 'trunk',
    dialled: '12315',
    target: 'ivr',
    startedAt,
    answeredAt: startedAt + 1000,
    endedAt: startedAt + 60_000,
    hangupBy: 'caller',
    disposition: 'answered',
    ivrPath: null,
    queue: 'complaint',
    legs: [],
    recordingFile,
  };
}

beforeAll(async () => {
  ts = await startTestServer({}, { mediaThread: 'inline' });
  for (const [u, p] of [
    ['agent01', 'agent12315'],
    ['agent02', 'agent12315'],
    ['lead01', 'lead12315'],
    ['admin', 'admin12315'],
    ['m3001', 'merchant12315'],
  ]) {
    const r = await ts.server.http.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: u, password: p },
    });
    tokens[u!] = (r.json() as { token: string }).token;
  }
}, 30_000);
afterAll(async () => {
  await ts?.stop();
});

const get = (who: string | null, callId: string) =>
  ts.server.http.inject({
    method: 'GET',
    url: `/api/recordings/${callId}`,
    headers: who ? { authorization: `Bearer ${tokens[who]}` } : {},
  });

describe('GET /api/recordings/:callId', () => {
  it('serves leads, admins and the agent of the call; others get 404/403/401; every access is audited', async () => {
    const dir = path.join(ts.dataDir, 'recordings');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'call-rec-1.wav');
    const wav = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(200, 3)]);
    fs.writeFileSync(file, wav);
    ts.server.cdr.insert(cdrRow('call-rec-1', Date.now(), file));
    const agent01 = ts.server.directory.webUsers.get('agent01');
    const agentId = agent01?.id ?? null;
    expect(agentId).not.toBeNull();
    ts.server.cases.createDraftForCall({
      callId: 'call-rec-1',
      callerNumber: '13800138000',
      ivrPath: [],
      queue: 'complaint',
      agentId,
    });

    for (const who of ['lead01', 'admin', 'agent01']) {
      const r = await get(who, 'call-rec-1');
      expect(r.statusCode, who).toBe(200);
      expect(r.headers['content-type']).toBe('audio/wav');
      expect(Buffer.compare(r.rawPayload, wav)).toBe(0);
    }
    const other = await get('agent02', 'call-rec-1');
    expect(other.statusCode).toBe(404); // same answer as a missing recording
    expect((await get('m3001', 'call-rec-1')).statusCode).toBe(403);
    expect((await get(null, 'call-rec-1')).statusCode).toBe(401);
    expect((await get('lead01', 'no-such-call')).statusCode).toBe(404);
    expect((await get('lead01', 'bad%20id')).statusCode).toBe(400);

    const log = ts.server.recordingAudit.list({ limit: 50 });
    const mine = log.filter((e) => e.callId === 'call-rec-1').map((e) => `${e.username}:${e.outcome}`);
    expect(mine.sort()).toEqual(['admin:served', 'agent01:served', 'agent02:denied', 'lead01:served']);
    expect(log.find((e) => e.callId === 'no-such-call')?.outcome).toBe('not_found');
    expect(log.every((e) => e.ip === '127.0.0.1')).toBe(true);
  });
});

describe('retention', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeTempDir('retention-');
  });
  afterAll(() => removeTempDir(dir));

  it('deletes recordings after their period, CDRs and audit rows after theirs, daily on the clock', () => {
    const db = openDatabase(path.join(dir, 'r.sqlite'));
    const cdr = new CdrStore(db);
    const audit = new RecordingAudit(db, () => now - 800 * DAY);
    const clock = new FakeClock();
    let now = 1_800_000_000_000;
    const rec = (n: string) => {
      const f = path.join(dir, `${n}.wav`);
      fs.writeFileSync(f, 'RIFF');
      return f;
    };
    cdr.insert(cdrRow('old', now - 200 * DAY, rec('old')));
    cdr.insert(cdrRow('recent', now - 10 * DAY, rec('recent')));
    cdr.insert(cdrRow('ancient', now - 800 * DAY, rec('ancient')));
    cdr.insert({ ...cdrRow('live-ancient', now - 800 * DAY, null), disposition: 'live', endedAt: null });
    audit.record({ userId: 1, username: 'lead01', role: 'lead', callId: 'ancient', outcome: 'served', ip: null });
    const job = new RetentionJob({
      cdrDb: db,
      audit,
      flush: () => cdr.flush(),
      config: { recordingDays: 180, cdrDays: 730 },
      clock,
      wallNow: () => now + 40 * DAY,
      log: pino({ level: 'silent' }),
      firstRunMs: 60_000,
    }).start();
    clock.advance(59_000);
    expect(job.totals.recordingsDeleted).toBe(0);
    clock.advance(1_000); // first run: 1 min after start
    expect(job.totals).toEqual({ recordingsDeleted: 2, cdrsDeleted: 1, auditDeleted: 1 });
    expect(fs.existsSync(path.join(dir, 'old.wav'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'ancient.wav'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'recent.wav'))).toBe(true);
    expect(cdr.get('old')?.recordingFile).toBeNull();
    expect(cdr.get('ancient')).toBeNull();
    expect(cdr.get('live-ancient')).not.toBeNull(); // never a live call's row
    now += 200 * DAY;
    clock.advance(DAY); // next day's run
    expect(fs.existsSync(path.join(dir, 'recent.wav'))).toBe(false);
    expect(job.totals.recordingsDeleted).toBe(3);
    job.close();
    job.close();
    expect(clock.pending).toBe(0);
    cdr.close();
    db.close();
  });
});
