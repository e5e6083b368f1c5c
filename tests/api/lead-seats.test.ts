import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Acd } from '../../server/acd/acd.js';
import { AcdService } from '../../server/acd/service.js';
import { buildHttpApp } from '../../server/api/app.js';
import { leadSeatRoutes } from '../../server/api/routes/lead-seats.js';
import { FakeClock } from '../../server/util/clock.js';
import { FakeCallControl } from '../acd/fake-call-control.js';
import { authFixture, bearer, login, type AuthFixture } from './helpers.js';

let f: AuthFixture;
let app: FastifyInstance;
let acd: Acd;
let svc: AcdService;
let tok: Record<string, string>;

beforeEach(async () => {
  f = await authFixture();
  for (const ext of ['8001', '8002']) {
    f.directory.devices.create({ extension: ext, kind: 'seat', password: `pw${ext}xx`, realm: 'r' });
  }
  acd = new Acd({ clock: new FakeClock(0), callControl: new FakeCallControl(), reconcileEveryMs: 0 });
  svc = new AcdService({ db: f.db, directory: f.directory, acd });
  app = await buildHttpApp({ health: { startedAt: 0, transports: () => [] }, auth: f.auth, acd: svc });
  await app.register(leadSeatRoutes, { acd: svc, directory: f.directory });
  await app.ready();
  tok = {};
  for (const u of ['agent01', 'agent02', 'lead01', 'admin']) tok[u] = await login(app, u);
  // The agents exist once they have used the desk.
  for (const u of ['agent01', 'agent02']) await req('GET', '/api/agents/me', u);
});
afterEach(async () => {
  await app.close();
  acd.close();
  f.close();
});

const req = (method: 'GET' | 'POST' | 'PUT', url: string, who: string, payload?: object) =>
  app.inject({ method, url, headers: bearer(tok[who]!), ...(payload ? { payload } : {}) });

describe('PUT /api/lead/agents/:workNo/seat', () => {
  it('signs a signed-out agent in at the seat, as GET /api/agents/me then says, and audits it', async () => {
    const r = await req('PUT', '/api/lead/agents/agent01/seat', 'lead01', { seat: '8002' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ agentId: 'agent01', seat: '8002', state: 'not_ready' });
    expect((await req('GET', '/api/agents/me', 'agent01')).json()).toMatchObject({ seat: '8002' });
    const audit = (await req('GET', '/api/agents/audit', 'lead01')).json().entries as Array<{
      actor: string;
      action: string;
      target: string;
      detail: { seat?: string };
    }>;
    expect(audit[0]).toMatchObject({
      actor: 'lead01',
      action: 'assign_seat',
      target: 'agent01',
      detail: { seat: '8002' },
    });
  });

  it('refuses a signed-in agent, a taken seat, a station, an unknown agent; only leads and admins', async () => {
    await req('POST', '/api/agents/me/login', 'agent02', { seat: '8001' });
    let r = await req('PUT', '/api/lead/agents/agent02/seat', 'lead01', { seat: '8002' });
    expect(r.statusCode).toBe(409);
    expect(r.json()).toMatchObject({ error: 'signed_in' });
    r = await req('PUT', '/api/lead/agents/agent01/seat', 'lead01', { seat: '8001' });
    expect(r.statusCode).toBe(409);
    expect(r.json().message).toMatch(/占用/);
    r = await req('PUT', '/api/lead/agents/agent01/seat', 'admin', { seat: '3001' });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ error: 'bad_seat' });
    r = await req('PUT', '/api/lead/agents/nobody/seat', 'lead01', { seat: '8002' });
    expect(r.statusCode).toBe(404);
    r = await req('PUT', '/api/lead/agents/agent01/seat', 'lead01', { seat: 'x1' });
    expect(r.statusCode).toBe(400);
    r = await req('PUT', '/api/lead/agents/agent01/seat', 'agent02', { seat: '8002' });
    expect(r.statusCode).toBe(403);
    // After a forced logout the lead may place the agent elsewhere.
    await req('POST', '/api/agents/agent02/logout', 'lead01');
    r = await req('PUT', '/api/lead/agents/agent02/seat', 'lead01', { seat: '8002' });
    expect(r.json()).toMatchObject({ seat: '8002' });
  });
});
