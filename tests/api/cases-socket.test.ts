/**
 * The case form's socket (`/cases` namespace): session and role on every event, agent scope, durable
 * autosave with versions, conflict details, and the push that tells a second editor their copy is stale.
 * Real socket.io server and client over loopback, file database in WAL mode (the off-loop fsync path).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Server } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildHttpApp } from '../../server/api/app.js';
import { AuthService } from '../../server/api/auth/plugin.js';
import { attachCaseSocket, caseRoutes, type CaseSocket } from '../../server/api/routes/cases.js';
import { CaseRepository, type CaseRecord } from '../../server/cases/index.js';
import { Directory } from '../../server/directory/directory.js';
import { openDatabase, type Database } from '../../server/storage/database.js';
import { bearer, FAST_SCRYPT, login, PASSWORD } from './helpers.js';

let dir: string;
let db: Database;
let repo: CaseRepository;
let app: FastifyInstance;
let ioServer: Server;
let caseSocket: CaseSocket;
let port: number;
const ids: Record<string, number> = {};
const clients: Socket[] = [];

type Ack<T> = { ok: true; data: T } | { ok: false; error: string; message: string; [k: string]: unknown };

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cases-socket-'));
  db = openDatabase(path.join(dir, 'db.sqlite'));
  const directory = new Directory(db, { scrypt: FAST_SCRYPT });
  for (const [username, role] of [
    ['agent01', 'agent'],
    ['agent02', 'agent'],
    ['lead01', 'lead'],
  ] as const) {
    ids[username] = (
      await directory.webUsers.create({ username, password: PASSWORD, role, displayName: `用户${username}` })
    ).id;
  }
  directory.devices.create({ extension: '3001', kind: 'station', password: 'station3001', realm: 'r' });
  await directory.webUsers.create({
    username: 'm3001',
    password: PASSWORD,
    role: 'merchant',
    stationExtension: '3001',
  });
  repo = new CaseRepository(db);
  const auth = AuthService.create(directory.webUsers, db);
  app = await buildHttpApp({ health: { startedAt: Date.now(), transports: () => [] }, auth });
  await app.register(caseRoutes, { cases: repo });
  await app.listen({ host: '127.0.0.1', port: 0 });
  ioServer = new Server(app.server, { path: '/socket.io', serveClient: false });
  caseSocket = attachCaseSocket(ioServer, { auth, cases: repo });
  port = (app.server.address() as { port: number }).port;
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  caseSocket.close();
  caseSocket.close();
  ioServer.close();
  await app.close().catch(() => undefined);
  repo.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function open(token: string | null): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(`http://127.0.0.1:${port}/cases`, {
      path: '/socket.io',
      auth: token ? { token } : {},
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
    });
    clients.push(s);
    s.once('connect', () => resolve(s));
    s.once('connect_error', (e) => reject(e));
  });
}

const req = <T>(s: Socket, event: string, payload: unknown) =>
  new Promise<Ack<T>>((resolve) => s.emit(event, payload, (r: Ack<T>) => resolve(r)));

const draftFor = (agent: string, callId = `call-${agent}`) =>
  repo.createDraftForCall({
    callId,
    callerNumber: '13812345678',
    ivrPath: ['menu:1', 'queue:complaint'],
    queue: 'complaint',
    agentId: ids[agent]!,
    type: 'complaint',
  });

describe('case socket /cases', () => {
  it('refuses a handshake without a valid session', async () => {
    await expect(open(null)).rejects.toThrow('unauthorized');
    await expect(open('x'.repeat(43))).rejects.toThrow('unauthorized');
  });

  it('opens the draft of the call and saves changes durably with a new version', async () => {
    const draft = draftFor('agent01');
    const s = await open(await login(app, 'agent01'));
    const got = await req<CaseRecord>(s, 'case:by_call', { callId: 'call-agent01' });
    expect(got.ok && got.data.id).toBe(draft.id);
    expect(got.ok && got.data.consumer.phone).toBe('13812345678');
    const r = await req<CaseRecord>(s, 'case:save', {
      id: draft.id,
      version: draft.version,
      changes: { consumer: { name: '张三' }, description: '冰箱不制冷', amount: 2999.5 },
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.data.version).toBe(draft.version + 1);
    // Acked means committed: a second connection (not the writer's) reads it from the file.
    const reader = openDatabase(path.join(dir, 'db.sqlite'), { readonly: true });
    try {
      const row = reader.sqlite.prepare('SELECT consumer_name, description FROM cases WHERE id = ?').get(draft.id);
      expect(row).toEqual({ consumer_name: '张三', description: '冰箱不制冷' });
    } finally {
      reader.close();
    }
    expect(repo.groupCommitStats.syncs).toBeGreaterThan(0);
  });

  it('answers a stale version with a conflict naming the changes, and pushes the save to watchers', async () => {
    const draft = draftFor('agent01');
    const a = await open(await login(app, 'agent01'));
    const lead = await open(await login(app, 'lead01'));
    expect((await req(a, 'case:watch', { id: draft.id })).ok).toBe(true);
    const pushed = new Promise<{ id: number; version: number; by: string }>((resolve) => a.once('case:saved', resolve));
    const byLead = await req<CaseRecord>(lead, 'case:save', {
      id: draft.id,
      version: draft.version,
      changes: { description: '班长补充' },
    });
    expect(byLead.ok).toBe(true);
    expect(await pushed).toEqual({ id: draft.id, version: draft.version + 1, by: '用户lead01' });
    const stale = await req<CaseRecord>(a, 'case:save', {
      id: draft.id,
      version: draft.version,
      changes: { description: '座席的内容' },
    });
    expect(stale.ok).toBe(false);
    if (stale.ok) return;
    expect(stale.error).toBe('version_conflict');
    expect(stale.currentVersion).toBe(draft.version + 1);
    expect(JSON.stringify(stale.changes)).toContain('班长补充');
    // Nothing was overwritten.
    expect(repo.get(draft.id).description).toBe('班长补充');
  });

  it('keeps agents to their own cases, merchants read-only, and reports field errors', async () => {
    const draft = draftFor('agent01');
    const other = await open(await login(app, 'agent02'));
    const r = await req(other, 'case:save', { id: draft.id, version: draft.version, changes: { description: 'x' } });
    expect(r).toMatchObject({ ok: false, error: 'not_found' });
    expect(await req(other, 'case:get', { id: draft.id })).toMatchObject({ ok: false, error: 'not_found' });
    const merchant = await open(await login(app, 'm3001'));
    expect(
      await req(merchant, 'case:save', { id: draft.id, version: draft.version, changes: { description: 'x' } }),
    ).toMatchObject({ ok: false, error: 'forbidden' });
    const own = await open(await login(app, 'agent01'));
    const bad = await req(own, 'case:save', {
      id: draft.id,
      version: draft.version,
      changes: { respondent: { creditCode: '91350100M000100Y44' }, amount: -1 },
    });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect((bad.fieldErrors as { field: string }[]).map((e) => e.field).sort()).toEqual([
      'amount',
      'respondent.creditCode',
    ]);
    expect(repo.get(draft.id).version).toBe(draft.version);
    expect(await req(own, 'case:save', { id: draft.id, version: 1, changes: [] })).toMatchObject({
      ok: false,
      error: 'validation',
    });
    expect(caseSocket.saveMs.length).toBe(0);
  });

  it('serves the area picker one level at a time', async () => {
    const token = await login(app, 'agent01');
    const provinces = (await app.inject({ method: 'GET', url: '/api/case-areas', headers: bearer(token) })).json() as {
      items: { code: string; name: string }[];
    };
    expect(provinces.items).toContainEqual({ code: '440000', name: '广东省' });
    const cities = (
      await app.inject({ method: 'GET', url: '/api/case-areas?parent=440000', headers: bearer(token) })
    ).json() as { items: { code: string; name: string }[] };
    expect(cities.items).toContainEqual({ code: '440300', name: '深圳市' });
    const counties = (
      await app.inject({ method: 'GET', url: '/api/case-areas?parent=440300', headers: bearer(token) })
    ).json() as { items: { code: string; name: string }[] };
    expect(counties.items).toContainEqual({ code: '440305', name: '南山区' });
    expect(counties.items.every((c) => c.code.startsWith('4403'))).toBe(true);
    const bad = await app.inject({ method: 'GET', url: '/api/case-areas?parent=44', headers: bearer(token) });
    expect(bad.statusCode).toBe(400);
  });

  it('finds the case of a call over REST too, within the agent scope', async () => {
    const draft = draftFor('agent01', 'call-rest');
    const mine = await app.inject({
      method: 'GET',
      url: '/api/cases/by-call/call-rest',
      headers: bearer(await login(app, 'agent01')),
    });
    expect(mine.statusCode).toBe(200);
    expect((mine.json() as { id: number }).id).toBe(draft.id);
    const theirs = await app.inject({
      method: 'GET',
      url: '/api/cases/by-call/call-rest',
      headers: bearer(await login(app, 'agent02')),
    });
    expect(theirs.statusCode).toBe(404);
  });
});
