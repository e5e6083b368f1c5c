import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Acd } from '../../server/acd/acd.js';
import { defaultQueueConfig } from '../../server/acd/queue.js';
import { AcdService } from '../../server/acd/service.js';
import type { WallboardPayload } from '../../server/api/socket/events.js';
import { attachSocketServer, type SocketHub } from '../../server/api/socket/server.js';
import { MetricsService } from '../../server/metrics/service.js';
import { FakeClock } from '../../server/util/clock.js';
import { FakeCallControl } from '../acd/fake-call-control.js';
import { authFixture, buildApp, login, type AuthFixture } from './helpers.js';
import { TestSocket } from './socket-client.js';

let f: AuthFixture;
let app: FastifyInstance;
let acd: Acd;
let metrics: MetricsService;
let hub: SocketHub;
let port: number;
let clock: FakeClock;
const sockets: TestSocket[] = [];

beforeEach(async () => {
  f = await authFixture();
  clock = new FakeClock(0);
  acd = new Acd({ clock, callControl: new FakeCallControl(), reconcileEveryMs: 0 });
  const svc = new AcdService({ db: f.db, directory: f.directory, acd });
  acd.upsertQueue(defaultQueueConfig('complaint', '投诉', { skillRelax: [] }));
  metrics = new MetricsService({ acd, logDb: f.db, caseDb: f.db, clock });
  app = await buildApp(f, { acd: svc });
  hub = attachSocketServer(app.server, {
    auth: f.auth,
    acd: svc,
    now: () => clock.now(),
    wallboard: { snapshot: () => metrics.wallboard(), onChange: (fn) => metrics.onWallboardChange(fn), clock },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as { port: number }).port;
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await hub.close();
  await app.close();
  metrics.close();
  acd.close();
  f.close();
});

async function connect(username: string): Promise<TestSocket> {
  const s = await TestSocket.connect(port, { token: await login(app, username) });
  sockets.push(s);
  return s;
}

const updates = (s: TestSocket) =>
  s.events.filter((e) => e.event === 'wallboard:update').map((e) => e.data as WallboardPayload);
const settle = () => new Promise((r) => setTimeout(r, 100));

describe('wallboard feed over socket.io', () => {
  it('leads get wallboard:update on change (coalesced) and a heartbeat every second; agents never', async () => {
    const lead = await connect('lead01');
    const agent = await connect('agent01');
    clock.advance(1000); // heartbeat
    const first = await lead.waitFor<WallboardPayload>('wallboard:update', () => true);
    expect(first.queues.find((q) => q.queueId === 'complaint')).toMatchObject({ waiting: 0, name: '投诉' });
    await settle();
    // (The agent's socket may have created its agent record on connect: that change was pushed at t=0.)
    const n0 = updates(lead).length;
    // A burst of 20 callers right after the heartbeat: one push 250 ms after it, showing all of them.
    for (let i = 0; i < 20; i++) acd.enqueue({ callId: `c${i}`, queueId: 'complaint' });
    clock.advance(249);
    await settle();
    expect(updates(lead)).toHaveLength(n0);
    clock.advance(1);
    const burst = await lead.waitFor<WallboardPayload>('wallboard:update', (p) => p.totals.waiting > 0);
    expect(burst.totals.waiting).toBe(20);
    await settle();
    expect(updates(lead)).toHaveLength(n0 + 1);
    // Two seconds of quiet: two heartbeats.
    clock.advance(2000);
    await settle();
    expect(updates(lead)).toHaveLength(n0 + 3);
    expect(updates(agent)).toHaveLength(0);
  });

  it('wallboard:get answers leads with the picture now and refuses agents', async () => {
    const lead = await connect('lead01');
    const agent = await connect('agent01');
    acd.enqueue({ callId: 'c1', queueId: 'complaint' });
    const r = await lead.request<{ ok: boolean; data: WallboardPayload }>('wallboard:get', {});
    expect(r.ok).toBe(true);
    expect(r.data.totals.waiting).toBe(1);
    expect(await agent.request('wallboard:get', {})).toMatchObject({ ok: false, error: 'forbidden' });
  });
});
