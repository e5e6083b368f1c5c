import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Acd } from '../../server/acd/acd.js';
import { AcdService } from '../../server/acd/service.js';
import { FakeClock } from '../../server/util/clock.js';
import { FakeCallControl } from '../acd/fake-call-control.js';
import { authFixture, bearer, buildApp, login, type AuthFixture } from './helpers.js';

let f: AuthFixture;
let app: FastifyInstance;
let acd: Acd;
let svc: AcdService;
let cc: FakeCallControl;
let tok: Record<string, string>;

beforeEach(async () => {
  f = await authFixture();
  for (const ext of ['8001', '8002']) {
    f.directory.devices.create({ extension: ext, kind: 'seat', password: `pw${ext}xx`, realm: 'r' });
  }
  cc = new FakeCallControl();
  acd = new Acd({ clock: new FakeClock(0), callControl: cc, reconcileEveryMs: 0 });
  svc = new AcdService({ db: f.db, directory: f.directory, acd });
  app = await buildApp(f, { acd: svc });
  tok = {};
  for (const u of ['agent01', 'agent02', 'lead01', 'admin', 'm3001']) tok[u] = await login(app, u);
});
afterEach(async () => {
  await app.close();
  acd.close();
  f.close();
});

const req = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, who: string, payload?: object) =>
  app.inject({ method, url, headers: bearer(tok[who]!), ...(payload ? { payload } : {}) });

describe('agent desktop routes', () => {
  it('login at a seat, go ready, get a call offered, see it in GET /api/agents/me', async () => {
    let r = await req('POST', '/api/agents/me/login', 'agent01', { seat: '8001' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ agentId: 'agent01', state: 'not_ready', seat: '8001' });
    r = await req('PUT', '/api/agents/me/state', 'agent01', { state: 'ready' });
    expect(r.json().state).toBe('ready');
    acd.enqueue({ callId: 'call-1', queueId: 'complaint' });
    r = await req('GET', '/api/agents/me', 'agent01');
    expect(r.json()).toMatchObject({ state: 'reserved', callId: 'call-1', seat: '8001' });
    expect(cc.rings[0]!.agent).toEqual({ agentId: 'agent01', seat: '8001' });
  });

  it('refuses a seat that is not a seat extension, and a seat taken by someone else', async () => {
    expect((await req('POST', '/api/agents/me/login', 'agent01', { seat: '3001' })).statusCode).toBe(400);
    expect((await req('POST', '/api/agents/me/login', 'agent01', { seat: 'abc' })).statusCode).toBe(400);
    await req('POST', '/api/agents/me/login', 'agent01', { seat: '8001' });
    const r = await req('POST', '/api/agents/me/login', 'agent02', { seat: '8001' });
    expect(r.statusCode).toBe(409);
    expect(r.json().message).toMatch(/占用/);
  });

  it('not_ready needs a reason; illegal moves answer 409 with the state in Chinese', async () => {
    let r = await req('PUT', '/api/agents/me/state', 'agent01', { state: 'ready' });
    expect(r.statusCode).toBe(409);
    expect(r.json().message).toMatch(/未签入/);
    await req('POST', '/api/agents/me/login', 'agent01', { seat: '8001' });
    r = await req('PUT', '/api/agents/me/state', 'agent01', { state: 'not_ready' });
    expect(r.statusCode).toBe(400);
    r = await req('PUT', '/api/agents/me/state', 'agent01', { state: 'not_ready', reason: '小休' });
    expect(r.json()).toMatchObject({ state: 'not_ready', reason: '小休' });
  });

  it('merchants and admins are not call takers', async () => {
    expect((await req('GET', '/api/agents/me', 'm3001')).statusCode).toBe(403);
    expect((await req('POST', '/api/agents/me/login', 'admin', { seat: '8001' })).statusCode).toBe(403);
  });

  it('GET /api/queues shows waiting callers and agents by state', async () => {
    await req('POST', '/api/agents/me/login', 'agent01', { seat: '8001' });
    acd.enqueue({ callId: 'c1', queueId: 'report' });
    const r = await req('GET', '/api/queues', 'agent01');
    expect(r.statusCode).toBe(200);
    const report = r.json().queues.find((q: { queueId: string }) => q.queueId === 'report');
    expect(report).toMatchObject({ name: '举报', waiting: 1, agents: { not_ready: 1, ready: 0 } });
    expect(r.json().queues.map((q: { queueId: string }) => q.queueId)).toEqual([
      'complaint',
      'report',
      'consultation',
      'english',
    ]);
    expect((await req('GET', '/api/queues', 'm3001')).statusCode).toBe(403);
  });
});

describe('lead routes', () => {
  it('agents cannot use lead routes', async () => {
    await req('GET', '/api/agents/me', 'agent01');
    expect((await req('GET', '/api/agents', 'agent02')).statusCode).toBe(403);
    expect((await req('PUT', '/api/agents/agent01/state', 'agent02', { state: 'offline' })).statusCode).toBe(403);
    expect((await req('PUT', '/api/queues/complaint', 'agent02', { wrapUpMs: 0 })).statusCode).toBe(403);
  });

  it('force state and logout, each audited', async () => {
    await req('POST', '/api/agents/me/login', 'agent01', { seat: '8001' });
    let r = await req('PUT', '/api/agents/agent01/state', 'lead01', { state: 'ready' });
    expect(r.json().state).toBe('ready');
    r = await req('POST', '/api/agents/agent01/logout', 'lead01');
    expect(r.json()).toMatchObject({ state: 'offline', seat: null });
    const audit = (await req('GET', '/api/agents/audit', 'lead01')).json().entries;
    expect(audit.map((e: { action: string; actor: string }) => [e.action, e.actor])).toEqual([
      ['force_logout', 'lead01'],
      ['force_state', 'lead01'],
    ]);
    expect(audit[1].detail).toMatchObject({ from: 'not_ready', to: 'ready' });
    expect((await req('PUT', '/api/agents/nobody/state', 'lead01', { state: 'ready' })).statusCode).toBe(404);
  });

  it('queue memberships and skills take effect without a restart', async () => {
    await req('POST', '/api/agents/me/login', 'agent01', { seat: '8001' });
    await req('PUT', '/api/agents/me/state', 'agent01', { state: 'ready' });
    acd.enqueue({ callId: 'en-1', queueId: 'english', skills: { en: 3 } });
    expect(cc.rings).toHaveLength(0);
    let r = await req('PUT', '/api/agents/agent01/queues', 'lead01', { queues: { english: 1, complaint: 2 } });
    expect(r.json().queues).toEqual({ english: 1, complaint: 2 });
    expect(cc.rings).toHaveLength(0); // member now, but lacks the skill
    r = await req('PUT', '/api/agents/agent01/skills', 'lead01', { skills: { en: 4 } });
    expect(r.statusCode).toBe(200);
    expect(cc.rings.map((x) => x.entry.callId)).toEqual(['en-1']);
    expect((await req('PUT', '/api/agents/agent01/queues', 'lead01', { queues: { nope: 1 } })).statusCode).toBe(400);
    expect((await req('PUT', '/api/agents/agent01/skills', 'lead01', { skills: { en: 9 } })).statusCode).toBe(400);
    // Persisted: a fresh service over the same database sees them.
    const acd2 = new Acd({ clock: new FakeClock(0), callControl: cc, reconcileEveryMs: 0 });
    new AcdService({ db: f.db, directory: f.directory, acd: acd2 });
    expect(acd2.agent('agent01')).toMatchObject({ skills: { en: 4 }, queues: { english: 1, complaint: 2 } });
    acd2.close();
  });

  it('shifts: add, list, delete', async () => {
    await req('GET', '/api/agents/me', 'agent02');
    let r = await req('POST', '/api/agents/agent02/shifts', 'lead01', {
      startsAt: '2026-03-15T00:00:00Z',
      endsAt: '2026-03-15T08:00:00Z',
      note: '早班',
    });
    expect(r.statusCode).toBe(200);
    const id = r.json().id;
    r = await req('POST', '/api/agents/agent02/shifts', 'lead01', {
      startsAt: '2026-03-15T08:00:00Z',
      endsAt: '2026-03-15T07:00:00Z',
    });
    expect(r.statusCode).toBe(400);
    const list = (await req('GET', '/api/agents', 'lead01')).json().agents;
    expect(list.find((a: { agentId: string }) => a.agentId === 'agent02').shifts).toHaveLength(1);
    expect((await req('DELETE', `/api/agents/shifts/${id}`, 'lead01')).statusCode).toBe(200);
    expect((await req('DELETE', `/api/agents/shifts/${id}`, 'lead01')).statusCode).toBe(404);
  });

  it('PUT /api/queues/:id changes the live queue', async () => {
    let r = await req('PUT', '/api/queues/complaint', 'lead01', {
      strategy: 'round_robin',
      overflow: { kind: 'queue', queueId: 'consultation' },
    });
    expect(r.statusCode).toBe(200);
    expect(acd.queueConfig('complaint')).toMatchObject({
      strategy: 'round_robin',
      overflow: { queueId: 'consultation' },
    });
    r = await req('PUT', '/api/queues/complaint', 'lead01', { overflow: { kind: 'queue', queueId: 'complaint' } });
    expect(r.statusCode).toBe(400);
    r = await req('PUT', '/api/queues/complaint', 'lead01', { strategy: 'random' });
    expect(r.statusCode).toBe(400);
    expect((await req('PUT', '/api/queues/nope', 'lead01', { wrapUpMs: 0 })).statusCode).toBe(404);
  });

  it('a lead registers an agent with its own 工号 linked to a web user; that user then acts as it', async () => {
    let r = await req('POST', '/api/agents', 'lead01', { workNo: 'G1024', username: 'agent03', queues: { report: 1 } });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ workNo: 'G1024', queues: { report: 1 } });
    expect((await req('POST', '/api/agents', 'lead01', { workNo: 'G1024' })).statusCode).toBe(409);
    expect((await req('POST', '/api/agents', 'lead01', { workNo: 'G2', username: 'm3001' })).statusCode).toBe(400);
    expect((await req('POST', '/api/agents', 'agent01', { workNo: 'G3' })).statusCode).toBe(403);
    const t = await login(app, 'agent03');
    r = await app.inject({ method: 'GET', url: '/api/agents/me', headers: bearer(t) });
    expect(r.json()).toMatchObject({ agentId: 'G1024', queues: { report: 1 } });
  });
});
