import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Acd } from '../../server/acd/acd.js';
import { AcdService } from '../../server/acd/service.js';
import { attachSocketServer, type SocketHub } from '../../server/api/socket/server.js';
import type { AgentStateChange, AgentStatePayload, OfferPayload } from '../../server/api/socket/events.js';
import { FakeClock } from '../../server/util/clock.js';
import { FakeCallControl } from '../acd/fake-call-control.js';
import { authFixture, bearer, buildApp, login, type AuthFixture } from './helpers.js';
import { TestSocket } from './socket-client.js';

let f: AuthFixture;
let app: FastifyInstance;
let acd: Acd;
let hub: SocketHub;
let port: number;
let clock: FakeClock;
const sockets: TestSocket[] = [];

beforeEach(async () => {
  f = await authFixture();
  f.directory.devices.create({ extension: '8001', kind: 'seat', password: 'pw8001xx', realm: 'r' });
  clock = new FakeClock(0);
  acd = new Acd({ clock, callControl: new FakeCallControl(), reconcileEveryMs: 0 });
  const svc = new AcdService({ db: f.db, directory: f.directory, acd });
  app = await buildApp(f, { acd: svc });
  hub = attachSocketServer(app.server, { auth: f.auth, acd: svc, now: () => clock.now() });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as { port: number }).port;
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await hub.close();
  await hub.close();
  await app.close();
  acd.close();
  f.close();
});

async function connect(username: string): Promise<{ s: TestSocket; token: string }> {
  const token = await login(app, username);
  const s = await TestSocket.connect(port, { token });
  sockets.push(s);
  return { s, token };
}

type AckOf<T> =
  { ok: true; data: T; serverNow: number } | { ok: false; error: string; message: string; serverNow: number };

describe('socket.io', () => {
  it('refuses a handshake without a valid token', async () => {
    await expect(TestSocket.connect(port, {})).rejects.toThrow('unauthorized');
    await expect(TestSocket.connect(port, { token: 'x'.repeat(43) })).rejects.toThrow('unauthorized');
  });

  it('agent actions over the socket follow the REST rules and push state to the agent and the leads', async () => {
    const { s: agent } = await connect('agent01');
    const { s: lead } = await connect('lead01');
    const { s: other } = await connect('agent02');
    let r = await agent.request<AckOf<AgentStatePayload>>('agent:set_state', { state: 'ready' });
    expect(r).toMatchObject({ ok: false, error: 'illegal_state' });
    r = await agent.request<AckOf<AgentStatePayload>>('agent:login', { seat: '8001' });
    expect(r).toMatchObject({ ok: true, data: { state: 'not_ready', seat: '8001' } });
    r = await agent.request<AckOf<AgentStatePayload>>('agent:set_state', { state: 'ready' });
    expect(r.ok && r.data.state).toBe('ready');
    const seenByLead = await lead.waitFor<AgentStateChange>('agent:state', (c) => c.agent.state === 'ready');
    expect(seenByLead).toMatchObject({ agent: { agentId: 'agent01' }, from: 'not_ready', event: 'go_ready' });
    await agent.waitFor<AgentStateChange>('agent:state', (c) => c.agent.state === 'ready');

    acd.enqueue({
      callId: 'call-7',
      queueId: 'complaint',
      consumer: '13812345678',
      data: { ivrPath: ['menu:1', 'queue:complaint'] },
    });
    const offer = await agent.waitFor<OfferPayload>('agent:offer');
    expect(offer).toMatchObject({
      callId: 'call-7',
      queueName: '投诉',
      consumer: '13812345678',
      ivrPath: 'menu:1>queue:complaint',
    });
    await lead.waitFor('queue:stats');
    // Another agent's room does not get agent01's offer or state.
    await new Promise((res) => setTimeout(res, 50));
    expect(other.events.filter((e) => e.event === 'agent:offer' || e.event === 'agent:state')).toEqual([]);
  });

  it('checks the role on every event', async () => {
    const { s: agent } = await connect('agent01');
    const { s: merchant } = await connect('m3001');
    expect(await agent.request('lead:force_state', { workNo: 'agent01', state: 'offline' })).toMatchObject({
      ok: false,
      error: 'forbidden',
    });
    expect(await merchant.request('queues:get', {})).toMatchObject({ ok: false, error: 'forbidden' });
    expect(await agent.request('queues:get', {})).toMatchObject({ ok: true });
    expect(await agent.request('agent:login', { seat: 42 })).toMatchObject({ ok: false, error: 'bad_request' });
    expect(await agent.request('agent:login', 'nonsense')).toMatchObject({ ok: false, error: 'bad_request' });
  });

  it('a lead forces an agent out over the socket; the action is audited', async () => {
    const { s: agent } = await connect('agent01');
    const { s: lead } = await connect('lead01');
    await agent.request('agent:login', { seat: '8001' });
    const r = await lead.request<AckOf<AgentStatePayload>>('lead:force_state', { workNo: 'agent01', state: 'offline' });
    expect(r.ok && r.data.state).toBe('offline');
    const pushed = await agent.waitFor<AgentStateChange>('agent:state', (c) => c.agent.state === 'offline');
    expect(pushed.by).toBe('lead01');
    const audit = f.db.sqlite.prepare('SELECT actor, action, target FROM acd_audit').all();
    expect(audit).toEqual([{ actor: 'lead01', action: 'force_logout', target: 'agent01' }]);
  });

  it('every acknowledgement, success or error, carries the server clock that agent times are on', async () => {
    const { s: agent } = await connect('agent01');
    clock.advance(5_000);
    const login = await agent.request<AckOf<AgentStatePayload>>('agent:login', { seat: '8001' });
    expect(login).toMatchObject({ ok: true, serverNow: 5_000, data: { since: 5_000 } });
    clock.advance(2_500);
    const me = await agent.request<AckOf<AgentStatePayload>>('agent:me', {});
    // The desktop shows "in this state for serverNow − since" = 2.5 s, whatever its own clock says.
    expect(me.ok && me.serverNow - me.data.since).toBe(2_500);
    clock.advance(1);
    expect(await agent.request('lead:agents', {})).toMatchObject({ ok: false, error: 'forbidden', serverNow: 7_501 });
    expect(await agent.request('agent:login', 'x')).toMatchObject({
      ok: false,
      error: 'bad_request',
      serverNow: 7_501,
    });
  });

  it('a token revoked by logout stops working on the open socket', async () => {
    const { s, token } = await connect('agent01');
    expect(await s.request('agent:me', {})).toMatchObject({ ok: true });
    await app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(token) });
    expect(await s.request('agent:me', {})).toMatchObject({ ok: false, error: 'unauthorized' });
  });
});
