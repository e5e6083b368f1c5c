/**
 * Real callers through the trunk (baresip), the IVR and the queues: one answered by an agent's seat
 * (baresip, auto-answer), one short abandon, one long abandon, one timed out. The KPIs from the API and
 * the Prometheus counters are exactly the hand-worked figures. Time is scaled down to keep the file
 * short: short-abandon threshold 3 s and SL target 5 s on the consultation queue (instead of 5 s / 20 s),
 * abandons after ~1 s and ~7 s (instead of 3 s and 30 s), and a 4 s max wait on the report queue.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaresip, type Baresip } from '../helpers/baresip.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { sleep, waitUntil } from '../helpers/tmp.js';

const SCRAPE = 'integration-scrape-token-8d2f';
const OPEN = new Date('2026-11-30T02:00:00Z'); // Monday 10:00 Beijing: the IVR is open
let ts: TestServer;

beforeAll(async () => {
  process.env.METRICS_TOKEN = SCRAPE;
  // Admission control samples this shared, busy machine's CPU; it is not under test here.
  ts = await startTestServer(
    {},
    { wallClock: () => OPEN, loadProbes: { lagMs: () => 0, cpuCores: () => 0, activeCalls: () => 0 } },
  );
});
afterAll(async () => {
  delete process.env.METRICS_TOKEN;
  await ts?.stop();
});

async function api<T>(
  method: string,
  url: string,
  token: string | null,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${ts.httpUrl}${url}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return {
    status: res.status,
    body: (res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T,
  };
}

async function login(username: string, password: string): Promise<string> {
  const r = await api<{ token: string }>('POST', '/api/auth/login', null, { username, password });
  expect(r.status).toBe(200);
  return r.body.token;
}

const consumer = (name: string) =>
  startBaresip({ name, account: { user: '13800138000', transport: 'udp', answermode: 'manual' } });

/** Dials 12315 and presses `key` once the welcome menu is playing. */
async function callAndPress(c: Baresip, key: string): Promise<void> {
  await c.dial(`sip:12315@${ts.sipTarget}`);
  await c.waitEvent('CALL_ESTABLISHED', undefined, 10_000).catch((err: unknown) => {
    console.log(JSON.stringify(c.events), c.log().slice(-2000));
    throw err;
  });
  await sleep(1200);
  await c.sendDtmf(key);
}

const waiting = (queue: string) => ts.server.acd.acd.entries(queue).length;

describe('metrics with real callers', () => {
  it('answered, short abandon, long abandon and timeout give exactly the expected KPIs and counters', async () => {
    const started = Date.now();
    const lead = await login('lead01', 'lead12315');
    const agent = await login('agent01', 'agent12315');
    expect((await api('PUT', '/api/queues/report', lead, { maxWaitMs: 4000, overflow: null })).status).toBe(200);
    expect((await api('PUT', '/api/queues/consultation', lead, { wrapUpMs: 0 })).status).toBe(200);
    expect(
      (await api('PUT', '/api/metrics/thresholds/consultation', lead, { shortAbandonMs: 3000, serviceLevelMs: 5000 }))
        .status,
    ).toBe(200);
    const seat = await startBaresip({
      name: 'metrics-seat',
      account: {
        user: '8007',
        password: 'demo8007',
        registrar: ts.sipTarget,
        transport: 'udp',
        answermode: 'auto',
        regint: 300,
      },
    });
    const [long, timeout, short, answered] = (await Promise.all(
      ['m-long', 'm-timeout', 'm-short', 'm-answered'].map(consumer),
    )) as [Baresip, Baresip, Baresip, Baresip];
    try {
      await seat.waitRegistered(10_000);
      expect((await api('POST', '/api/agents/me/login', agent, { seat: '8007' })).status).toBe(200);
      // Phase 1, nobody ready: the long abandon and the timeout queue at the same time.
      await Promise.all([callAndPress(long, '3'), callAndPress(timeout, '2')]);
      await waitUntil(() => waiting('consultation') === 1, 15_000, 'long caller queued');
      const longQueuedAt = Date.now();
      await waitUntil(() => waiting('report') === 1, 15_000, 'timeout caller queued');
      await callAndPress(short, '3');
      await waitUntil(() => waiting('consultation') === 2, 15_000, 'short caller queued');
      await sleep(1000);
      await short.hangup();
      await waitUntil(() => waiting('consultation') === 1, 5000, 'short caller gone');
      await waitUntil(() => waiting('report') === 0, 10_000, 'report caller timed out');
      await sleep(Math.max(0, longQueuedAt + 7000 - Date.now()));
      await long.hangup();
      await waitUntil(() => waiting('consultation') === 0, 5000, 'long caller gone');
      // Phase 2: the agent is ready and takes the next caller at once.
      expect((await api('PUT', '/api/agents/me/state', agent, { state: 'ready' })).status).toBe(200);
      await callAndPress(answered, '3');
      await seat.waitEvent('CALL_ESTABLISHED', undefined, 15_000);
      await sleep(1500);
      await answered.hangup();
      await waitUntil(
        async () => (await api<{ state: string }>('GET', '/api/agents/me', agent)).body.state === 'ready',
        10_000,
        'agent ready again',
      );
    } finally {
      for (const b of [long, timeout, short, answered, seat]) await b.stop().catch(() => undefined);
    }

    const period = `from=${started - 60_000}&to=${Date.now() + 60_000}`;
    const all = await api<Record<string, number | null>>('GET', `/api/metrics/summary?${period}`, lead);
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({
      offered: 4,
      answered: 1,
      abandoned: 2,
      shortAbandoned: 1,
      timedOut: 1,
      inProgress: 0,
      answeredWithinSl: 1,
    });
    expect(all.body.answerRate).toBeCloseTo(1 / 3, 10);
    expect(all.body.abandonRate).toBeCloseTo(1 / 3, 10);
    expect(all.body.serviceLevel).toBeCloseTo(1 / 3, 10);
    expect(all.body.asaMs).toBeLessThan(5000);
    expect(all.body.avgAbandonMs).toBeGreaterThanOrEqual(7000);
    expect(all.body.ahtMs).toBeGreaterThanOrEqual(1000);
    const cons = await api<Record<string, number | null>>(
      'GET',
      `/api/metrics/summary?${period}&queue=consultation`,
      lead,
    );
    expect(cons.body).toMatchObject({ offered: 3, answered: 1, abandoned: 2, shortAbandoned: 1, answerRate: 0.5 });
    const rep = await api<Record<string, number | null>>('GET', `/api/metrics/summary?${period}&queue=report`, lead);
    expect(rep.body).toMatchObject({ offered: 1, answered: 0, timedOut: 1, answerRate: 0 });
    expect(rep.body.longestWaitMs).toBeGreaterThanOrEqual(4000);

    expect((await api('GET', '/metrics', null)).status).toBe(401);
    const prom = await api<string>('GET', '/metrics', SCRAPE);
    expect(prom.status).toBe(200);
    for (const line of [
      'cc_calls_offered_total{queue="consultation"} 3',
      'cc_calls_answered_total{queue="consultation"} 1',
      'cc_calls_abandoned_total{queue="consultation"} 2',
      'cc_calls_offered_total{queue="report"} 1',
      'cc_calls_abandoned_total{queue="report"} 0',
      'cc_queue_waiting{queue="consultation"} 0',
      'cc_agents{state="ready"} 1',
    ])
      expect(prom.body.split('\n')).toContain(line);
    // The media clock's health comes from the engine itself (its worker): the calls above sent RTP through it.
    const sample = (name: string) => Number(prom.body.match(new RegExp(`^${name} (\\S+)$`, 'm'))?.[1]);
    expect(sample('cc_media_packets_total\\{dir="tx"\\}')).toBeGreaterThan(100);
    expect(sample('cc_media_ticks_total\\{kind="run"\\}')).toBeGreaterThan(100);
    expect(sample('cc_media_tick_late_seconds\\{quantile="0.99"\\}')).toBeGreaterThanOrEqual(0);
    expect(sample('cc_media_tick_work_seconds\\{quantile="0.5"\\}')).toBeGreaterThanOrEqual(0);
    const ql = await api<string>('GET', `/api/reports/queue_log?${period}`, lead);
    expect(
      ql.body
        .split('\n')
        .filter((l) => /\|(CONNECT|ABANDON|EXITWITHTIMEOUT)\|/.test(l))
        .map((l) => l.split('|')[4])
        .sort(),
    ).toEqual(['ABANDON', 'ABANDON', 'CONNECT', 'EXITWITHTIMEOUT']);
  });
});
