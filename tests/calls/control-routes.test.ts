/**
 * The call-control routes through app.inject: bodies validated by their schemas, 202 with the state,
 * CallControlError statuses passed through (404/409/403), roles checked before anything runs.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHttpApp } from '../../server/api/app.js';
import { callControlRoutes, type CallControlApi } from '../../server/api/routes/calls.js';
import { CallControlError } from '../../server/calls/transfer.js';
import { authFixture, bearer, login, type AuthFixture } from '../api/helpers.js';

const seen: Array<{ op: string; id: string; actor: unknown; args: unknown[] }> = [];

/** A fake at the routes' own boundary: call 'gone' is unknown, 'busy' is in the wrong state. */
function fakeControl(): CallControlApi {
  const op =
    (name: string) =>
    async (id: string, actor: unknown, ...args: unknown[]) => {
      if (id === 'gone') throw new CallControlError(404, 'no_call', '通话不存在');
      if (id === 'busy') throw new CallControlError(409, 'wrong_state', '状态不对');
      if (id === 'theirs') throw new CallControlError(403, 'not_your_call', '不是您的通话');
      if (id === 'boom') throw new Error('unexpected');
      seen.push({ op: name, id, actor, args });
      return { callId: id, state: name };
    };
  return {
    actor: (u) => ({ username: u.username, role: u.role as 'agent', agentId: u.role === 'agent' ? u.username : null }),
    transfer: op('transfer'),
    transferComplete: op('complete'),
    transferCancel: op('cancel'),
    threeWay: op('three-way'),
    threeWayJoin: op('join'),
    leave: op('leave'),
    rejoin: op('rejoin'),
    end: op('end'),
    monitor: op('monitor'),
    monitorStop: op('monitor-stop'),
    errorOf: (err) =>
      err instanceof CallControlError ? { status: err.status, code: err.code, message: err.message } : null,
  };
}

let f: AuthFixture;
let app: FastifyInstance;
let agent: string;
let lead: string;

beforeAll(async () => {
  f = await authFixture();
  app = await buildHttpApp({ health: { startedAt: Date.now(), transports: () => [] }, auth: f.auth });
  await app.register(callControlRoutes, { control: fakeControl() });
  await app.ready();
  agent = await login(app, 'agent01');
  lead = await login(app, 'lead01');
});
afterAll(async () => {
  await app?.close();
  f?.close();
});

const post = (url: string, token: string, payload?: unknown) =>
  app.inject({ method: 'POST', url, headers: bearer(token), ...(payload ? { payload } : {}) });

describe('call-control routes', () => {
  it('transfer: 202 with the state; the actor and target reach the controller; mode defaults to cold', async () => {
    const r = await post('/api/calls/c1/transfer', agent, { target: { kind: 'agent', value: 'agent02' } });
    expect(r.statusCode).toBe(202);
    expect(r.json()).toEqual({ callId: 'c1', state: 'transfer' });
    const last = seen.at(-1)!;
    expect(last.actor).toEqual({ username: 'agent01', role: 'agent', agentId: 'agent01' });
    expect(last.args).toEqual([{ kind: 'agent', value: 'agent02' }, 'cold']);
  });

  it('rejects bad bodies with 400 before the controller runs', async () => {
    const n = seen.length;
    for (const body of [
      {},
      { target: { kind: 'pager', value: '1' } },
      { target: { kind: 'queue', value: '' } },
      { target: { kind: 'queue', value: 'q' }, mode: 'lukewarm' },
    ]) {
      expect((await post('/api/calls/c1/transfer', agent, body)).statusCode).toBe(400);
    }
    expect((await post('/api/calls/c1/three-way', agent, {})).statusCode).toBe(400);
    expect((await post('/api/calls/c1/monitor', lead, { mode: 'spy' })).statusCode).toBe(400);
    expect((await post('/api/calls/c1/monitor', lead, { mode: 'listen', seat: 'abc' })).statusCode).toBe(400);
    expect(seen.length).toBe(n);
  });

  it('passes 404 / 409 / 403 through with the Chinese message; other errors stay 500', async () => {
    const body = { target: { kind: 'queue', value: 'complaint' } };
    const gone = await post('/api/calls/gone/transfer', agent, body);
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toEqual({ error: 'no_call', message: '通话不存在' });
    expect((await post('/api/calls/busy/transfer/complete', agent)).statusCode).toBe(409);
    expect((await post('/api/calls/theirs/three-way/join', agent)).statusCode).toBe(403);
    expect((await post('/api/calls/boom/end', agent)).statusCode).toBe(500);
  });

  it('monitor is for leads and admins only; the other routes for call takers', async () => {
    expect((await post('/api/calls/c1/monitor', agent, { mode: 'listen' })).statusCode).toBe(403);
    const r = await post('/api/calls/c1/monitor', lead, { mode: 'whisper', seat: '8009' });
    expect(r.statusCode).toBe(202);
    expect(seen.at(-1)!.args).toEqual(['whisper', '8009']);
    expect((await post('/api/calls/c1/monitor/stop', lead)).statusCode).toBe(202);
    const m3001 = await login(app, 'm3001');
    expect((await post('/api/calls/c1/leave', m3001)).statusCode).toBe(403);
    expect((await app.inject({ method: 'POST', url: '/api/calls/c1/end' })).statusCode).toBe(401);
    for (const [url, op] of [
      ['three-way/join', 'join'],
      ['leave', 'leave'],
      ['rejoin', 'rejoin'],
      ['end', 'end'],
      ['transfer/cancel', 'cancel'],
    ] as const) {
      expect((await post(`/api/calls/c2/${url}`, agent)).statusCode).toBe(202);
      expect(seen.at(-1)!.op).toBe(op);
    }
    expect((await post('/api/calls/c2/three-way', agent, { station: '3001' })).statusCode).toBe(202);
    expect(seen.at(-1)!.args).toEqual(['3001']);
  });
});
