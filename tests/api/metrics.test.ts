import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { Acd } from '../../server/acd/acd.js';
import { defaultQueueConfig } from '../../server/acd/queue.js';
import { buildHttpApp } from '../../server/api/app.js';
import { metricsRoutes } from '../../server/api/routes/metrics.js';
import { reportRoutes } from '../../server/api/routes/reports.js';
import { CaseRepository } from '../../server/cases/repository.js';
import { MetricsService } from '../../server/metrics/service.js';
import { FakeClock } from '../../server/util/clock.js';
import { FakeCallControl, flush } from '../acd/fake-call-control.js';
import { authFixture, bearer, login, type AuthFixture } from './helpers.js';

const S = 1000;
const WALL0 = Date.parse('2026-11-30T09:00:00+08:00');
const SCRAPE = 'prometheus-scrape-token-0123456789';

let f: AuthFixture;
let app: FastifyInstance;
let acd: Acd;
let metrics: MetricsService;
afterEach(async () => {
  await app?.close();
  metrics?.close();
  acd?.close();
  f?.close();
});

async function setup() {
  f = await authFixture();
  const clock = new FakeClock(0);
  const cc = new FakeCallControl();
  acd = new Acd({ clock, callControl: cc, reconcileEveryMs: 0 });
  acd.upsertQueue(defaultQueueConfig('complaint', '投诉', { skillRelax: [], wrapUpMs: 0 }));
  acd.upsertAgent({ id: 'a01', skills: {}, queues: { complaint: 1 } });
  new CaseRepository(f.db, { now: () => new Date(WALL0) });
  metrics = new MetricsService({ acd, logDb: f.db, caseDb: f.db, clock, wallNow: () => WALL0 });
  app = await buildHttpApp({ health: { startedAt: 0, transports: () => [] }, auth: f.auth });
  await app.register(metricsRoutes, { metrics, scrapeToken: SCRAPE });
  await app.register(reportRoutes, { metrics });
  await app.ready();
  // Traffic: answered after 8 s (talk 30 s), abandoned after 2 s (short) and after 40 s.
  acd.login('a01', '8001');
  acd.enqueue({ callId: 'c1', queueId: 'complaint' });
  clock.advance(8 * S);
  acd.setReady('a01');
  cc.ringFor('a01').resolve('answered');
  await flush();
  clock.advance(30 * S);
  acd.callEnded('c1');
  acd.setNotReady('a01', '会议');
  acd.enqueue({ callId: 'c2', queueId: 'complaint' });
  clock.advance(2 * S);
  acd.abandon('c2');
  acd.enqueue({ callId: 'c3', queueId: 'complaint' });
  clock.advance(40 * S);
  acd.abandon('c3');
  return { clock };
}

const day = 'from=2026-11-30&to=2026-12-01';

describe('metrics API', () => {
  it('summary: leads and admins only; figures and rates 0–1', async () => {
    await setup();
    expect((await app.inject({ url: `/api/metrics/summary?${day}` })).statusCode).toBe(401);
    const agent = await login(app, 'agent01');
    expect((await app.inject({ url: `/api/metrics/summary?${day}`, headers: bearer(agent) })).statusCode).toBe(403);
    const lead = await login(app, 'lead01');
    const r = await app.inject({ url: `/api/metrics/summary?${day}&queue=complaint`, headers: bearer(lead) });
    expect(r.statusCode).toBe(200);
    const k = r.json();
    expect(k).toMatchObject({ offered: 3, answered: 1, abandoned: 2, shortAbandoned: 1, queue: 'complaint' });
    expect(k.answerRate).toBe(0.5);
    expect(k.abandonRate).toBe(0.5);
    expect(k.serviceLevel).toBe(0.5);
    expect(k.asaMs).toBe(8 * S);
    expect(k.ahtMs).toBe(30 * S);
    expect(k.thresholds).toEqual({ shortAbandonMs: 5000, serviceLevelMs: 20000 });
    // Default period (today until now) sees the same calls.
    expect((await app.inject({ url: '/api/metrics/summary', headers: bearer(lead) })).json().offered).toBe(3);
    const bad = await app.inject({ url: '/api/metrics/summary?from=2026-12-01&to=2026-11-30', headers: bearer(lead) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toBe('bad_period');
  });

  it('thresholds per queue change the figures', async () => {
    await setup();
    const lead = await login(app, 'lead01');
    const put = await app.inject({
      method: 'PUT',
      url: '/api/metrics/thresholds/complaint',
      headers: bearer(lead),
      payload: { shortAbandonMs: 1000, serviceLevelMs: 5000 },
    });
    expect(put.statusCode).toBe(200);
    const k = (await app.inject({ url: `/api/metrics/summary?${day}`, headers: bearer(lead) })).json();
    expect(k).toMatchObject({ shortAbandoned: 0, answeredWithinSl: 0, serviceLevel: 0 });
    expect(k.answerRate).toBeCloseTo(1 / 3, 10);
  });

  it('reports: hourly by queue as JSON and CSV, by agent, daily HTML, queue_log, CDR CSV, 12315 KPIs, hot spots', async () => {
    await setup();
    const lead = await login(app, 'lead01');
    const get = (url: string) => app.inject({ url, headers: bearer(lead) });
    const j = (await get(`/api/reports/calls?${day}&granularity=hour&by=queue`)).json();
    expect(j.rows.map((r: { bucket: number; key: string; offered: number }) => [r.bucket, r.key, r.offered])).toEqual([
      [WALL0, '*', 3],
      [WALL0, 'complaint', 3],
    ]);
    const csv = await get(`/api/reports/calls?${day}&granularity=day&format=csv`);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    const lines = csv.body
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toMatch(/^时段,队列,呼入量,接通量,放弃量/);
    expect(lines[1]).toMatch(/^2026-11-30 00:00,全部,3,1,2,1,/);
    const agents = (await get(`/api/reports/calls?${day}&granularity=day&by=agent`)).json();
    expect(agents.rows).toEqual([expect.objectContaining({ key: 'a01', answered: 1, offered: 1 })]);
    const html = await get('/api/reports/daily?date=2026-11-30');
    expect(html.headers['content-type']).toMatch(/text\/html/);
    expect(html.body).toContain('12315 热线日报（2026-11-30）');
    const ql = (await get(`/api/reports/queue_log?${day}`)).body.trim().split('\n');
    expect(ql.filter((l) => l.includes('|ENTERQUEUE|'))).toHaveLength(3);
    expect(ql.some((l) => l.endsWith('|a01|PAUSE|会议||'))).toBe(true);
    expect((await get(`/api/reports/cdr.csv?${day}`)).statusCode).toBe(200);
    const kpi = await get(`/api/reports/kpi12315?${day}`);
    expect(kpi.statusCode).toBe(200);
    expect(kpi.json()).toMatchObject({ resolutionRate: null, counts: { registered: 0 } });
    const hs = await get(`/api/reports/hotspots?${day}&threshold=5`);
    expect(hs.json()).toMatchObject({ threshold: 5, categories: [], interviewList: [] });
    const agentTok = await login(app, 'agent01');
    expect((await app.inject({ url: `/api/reports/queue_log?${day}`, headers: bearer(agentTok) })).statusCode).toBe(
      403,
    );
  });

  it('/metrics: the scrape token or an admin session; Prometheus text', async () => {
    await setup();
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(401);
    const lead = await login(app, 'lead01');
    expect((await app.inject({ url: '/metrics', headers: bearer(lead) })).statusCode).toBe(401);
    expect((await app.inject({ url: '/metrics', headers: bearer(SCRAPE + 'x') })).statusCode).toBe(401);
    const r = await app.inject({ url: '/metrics', headers: bearer(SCRAPE) });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0.0.4/);
    expect(r.body).toContain('# TYPE cc_calls_offered_total counter');
    expect(r.body).toContain('cc_calls_offered_total{queue="complaint"} 3');
    expect(r.body).toContain('cc_calls_abandoned_total{queue="complaint"} 2');
    expect(r.body).toContain('cc_queue_waiting{queue="complaint"} 0');
    expect(r.body).toContain('cc_agents{state="not_ready"} 1');
    const admin = await login(app, 'admin');
    expect((await app.inject({ url: '/metrics', headers: bearer(admin) })).statusCode).toBe(200);
  });

  it('wallboard snapshot over REST', async () => {
    await setup();
    const lead = await login(app, 'lead01');
    const wb = (await app.inject({ url: '/api/metrics/wallboard', headers: bearer(lead) })).json();
    expect(wb.totals.today).toMatchObject({
      offered: 3,
      answered: 1,
      abandoned: 2,
      shortAbandoned: 1,
      answerRate: 0.5,
    });
    expect(wb.agents).toEqual([expect.objectContaining({ agentId: 'a01', state: 'not_ready', reason: '会议' })]);
  });
});
