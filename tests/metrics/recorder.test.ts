/**
 * The real ACD on a FakeClock (call control faked at the ACD's own boundary) drives the recorder; the
 * event log and the KPIs over it are checked against the scenario worked out by hand.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Acd } from '../../server/acd/acd.js';
import { defaultQueueConfig } from '../../server/acd/queue.js';
import { MetricsService } from '../../server/metrics/service.js';
import { openDatabase, type Database } from '../../server/storage/database.js';
import { FakeClock } from '../../server/util/clock.js';
import { FakeCallControl, flush } from '../acd/fake-call-control.js';

const S = 1000;
/** 23:59:40 Beijing time: the first call waits across midnight. */
const WALL0 = Date.parse('2026-11-29T23:59:40+08:00');
const DAY29 = Date.parse('2026-11-29T00:00:00+08:00');
const DAY30 = Date.parse('2026-11-30T00:00:00+08:00');

let db: Database;
let acd: Acd;
let metrics: MetricsService;
afterEach(() => {
  metrics?.close();
  acd?.close();
  db?.close();
});

function setup() {
  const clock = new FakeClock(5_000_000);
  const cc = new FakeCallControl();
  db = openDatabase(':memory:');
  acd = new Acd({ clock, callControl: cc, reconcileEveryMs: 0 });
  const q = (id: string, o: Parameters<typeof defaultQueueConfig>[2]) =>
    acd.upsertQueue(defaultQueueConfig(id, id, { skillRelax: [], wrapUpMs: 10 * S, ringTimeoutMs: 15 * S, ...o }));
  q('complaint', { maxWaitMs: 60 * S, overflow: { kind: 'queue', queueId: 'consultation' } });
  q('consultation', { maxWaitMs: 45 * S, overflow: null });
  q('report', { maxSize: 1, maxWaitMs: 0 });
  acd.upsertAgent({ id: 'a01', skills: {}, queues: { complaint: 1 } });
  acd.upsertAgent({ id: 'a02', skills: {}, queues: { complaint: 1 } });
  metrics = new MetricsService({ acd, logDb: db, caseDb: db, clock, wallNow: () => WALL0 });
  /** Runs the clock to `t` seconds after WALL0. */
  const at = (t: number) => clock.advance(WALL0 + t * S - metrics.now());
  return { clock, cc, at };
}

async function scenario() {
  const { cc, at } = setup();
  acd.login('a01', '8001');
  acd.login('a02', '8002');
  // c1 waits from 23:59:40 to 00:00:12 (32 s), talks 60 s, wrap-up 10 s.
  acd.enqueue({ callId: 'c1', queueId: 'complaint', consumer: '13800138000' });
  at(30);
  acd.setReady('a01');
  at(32);
  cc.ringFor('a01').resolve('answered');
  await flush();
  at(92);
  acd.callEnded('c1');
  at(110); // wrap-up ended at 102: ready
  acd.setNotReady('a01', '午餐');
  // c2 hangs up after 3 s (short abandon), c3 after 30 s.
  acd.enqueue({ callId: 'c2', queueId: 'complaint' });
  at(113);
  acd.abandon('c2');
  at(120);
  acd.enqueue({ callId: 'c3', queueId: 'complaint' });
  at(150);
  acd.abandon('c3');
  // c4: a01 does not answer (RONA after 15 s), a02 rings and the caller hangs up while it rings.
  at(200);
  acd.setReady('a01');
  acd.enqueue({ callId: 'c4', queueId: 'complaint' });
  at(215);
  expect(acd.agent('a01')!.state).toBe('not_ready');
  at(220);
  acd.setReady('a02');
  at(225);
  acd.abandon('c4');
  await flush();
  acd.setNotReady('a02', '培训');
  // c5: 60 s in complaint, overflows to consultation, times out there 45 s later.
  at(300);
  acd.enqueue({ callId: 'c5', queueId: 'complaint' });
  at(406); // timed out at 405: 60 s + 45 s
  // c6 asks for a callback after 10 s; c7 waits in report (max 1), c8 is turned away, c7 hangs up at 2 s.
  at(500);
  acd.enqueue({ callId: 'c6', queueId: 'complaint' });
  at(510);
  acd.convertToCallback('c6', '13900139000');
  acd.enqueue({ callId: 'c7', queueId: 'report' });
  const refused = acd.enqueue({ callId: 'c8', queueId: 'report' });
  expect(refused.accepted).toBe(false);
  at(512);
  acd.abandon('c7');
  at(600);
}

describe('metrics recorder on the real ACD', () => {
  it('a call that waits across midnight counts on the day it entered the queue', async () => {
    await scenario();
    const d29 = metrics.summary(DAY29, DAY30);
    expect(d29).toMatchObject({ offered: 1, answered: 1, abandoned: 0, answeredWithinSl: 0, asaMs: 32 * S });
    const v = metrics.store.visits(DAY29, DAY30)[0]!;
    expect(v.answeredAt! - v.enteredAt).toBe(32 * S);
    expect(v).toMatchObject({ agentId: 'a01', talkMs: 60 * S, holdMs: 0, acwMs: 10 * S });
  });

  it('the next day: abandons, short abandon, RONA, abandon while ringing, transfer, timeout, callback, full', async () => {
    await scenario();
    const k = metrics.summary(DAY30, DAY30 + 86_400_000);
    // c2..c8 without the transferred complaint visit: c2 c3 c4 c5(consultation) c6 c7 c8.
    expect(k).toMatchObject({
      offered: 7,
      answered: 0,
      abandoned: 4,
      shortAbandoned: 2,
      timedOut: 1,
      callbacks: 1,
      refused: 1,
      transferredOut: 1,
      inProgress: 0,
      longestWaitMs: 105 * S,
    });
    expect(k.abandonRate).toBeCloseTo(2 / 5, 10);
    expect(k.avgAbandonMs).toBeCloseTo(((30 + 25) / 2) * S, 6);
    const c = metrics.summary(DAY30, DAY30 + 86_400_000, 'consultation');
    expect(c).toMatchObject({ offered: 1, timedOut: 1, longestWaitMs: 105 * S });
  });

  it('ring attempts carry their result; state intervals keep each not-ready reason apart', async () => {
    await scenario();
    const rings = metrics.store.rings(DAY29, DAY30 + 86_400_000);
    expect(rings.map((r) => [r.callId, r.agentId, r.result, (r.endedAt - r.startedAt) / S])).toEqual([
      ['c1', 'a01', 'answered', 2],
      ['c4', 'a01', 'no_answer', 15],
      ['c4', 'a02', 'caller_gone', 5],
    ]);
    const a = metrics.agents(DAY29, DAY30 + 86_400_000);
    const a01 = a.find((x) => x.agentId === 'a01')!;
    expect(a01.stateMs.on_call).toBe(60 * S);
    expect(a01.stateMs.wrap_up).toBe(10 * S);
    expect(a01.pauseByReason['午餐']).toBe(90 * S); // 110 → 200
    expect(a01.pauseByReason['未接听']).toBe(385 * S); // RONA at 215, still open at 600
    expect(a01.answerRate).toBeCloseTo(1 / 2, 10);
    const a02 = a.find((x) => x.agentId === 'a02')!;
    expect(a02.pauseByReason['培训']).toBe(375 * S);
    expect(a02.ringAttempts).toBe(1);
    expect(a02.answerRate).toBeNull();
  });

  it('queue_log lines and Prometheus counters tell the same story', async () => {
    await scenario();
    const log = metrics
      .queueLog(DAY29, DAY30 + 86_400_000)
      .trim()
      .split('\n');
    const events = log.map((l) => l.split('|').slice(1, 5).join('|'));
    expect(events).toContain('c1|complaint|NONE|ENTERQUEUE');
    expect(events).toContain('c1|complaint|a01|CONNECT');
    expect(events).toContain('c1|complaint|a01|COMPLETEAGENT');
    expect(events).toContain('c4|complaint|a01|RINGNOANSWER');
    expect(events).toContain('c8|report|NONE|FULL');
    expect(log.find((l) => l.includes('|c3|complaint|NONE|ABANDON|'))).toMatch(/\|ABANDON\|1\|1\|30$/);
    expect(log.find((l) => l.includes('|CONNECT|'))!.split('|')[5]).toBe('32');
    const prom = metrics.prometheus();
    expect(prom).toContain('cc_calls_offered_total{queue="complaint"} 5');
    expect(prom).toContain('cc_calls_answered_total{queue="complaint"} 1');
    expect(prom).toContain('cc_calls_abandoned_total{queue="complaint"} 3');
    expect(prom).toContain('cc_calls_offered_total{queue="consultation"} 1');
    expect(prom).toContain('cc_calls_abandoned_total{queue="report"} 1');
    expect(prom).toMatch(/cc_agents\{state="not_ready"\} 2/);
    expect(prom).toMatch(/^nodejs_eventloop_lag_seconds\{quantile="0.99"\} [0-9.e-]+$/m);
  });

  it('the wallboard: waiting callers, longest wait, agents by state and time in state, today and 30 min', async () => {
    const { at } = setup();
    acd.login('a01', '8001');
    at(30); // 00:00:10 on the 30th
    acd.enqueue({ callId: 'w1', queueId: 'complaint' });
    at(33);
    acd.abandon('w1'); // short abandon
    acd.enqueue({ callId: 'w2', queueId: 'complaint' });
    at(40);
    const wb = metrics.wallboard();
    const q = wb.queues.find((x) => x.queueId === 'complaint')!;
    expect(q).toMatchObject({ waiting: 1, longestWaitMs: 7 * S });
    expect(q.agents.not_ready).toBe(1);
    expect(q.today).toMatchObject({ offered: 1, abandoned: 1, shortAbandoned: 1, answerRate: null });
    expect(wb.agents).toEqual([expect.objectContaining({ agentId: 'a01', state: 'not_ready', timeInStateMs: 40 * S })]);
    expect(wb.serverNow).toBe(WALL0 + 40 * S);
  });

  it('visits left open by a previous process end as other after a restart, not waiting forever', () => {
    setup();
    acd.enqueue({ callId: 'lost', queueId: 'complaint' });
    metrics.close();
    expect(metrics.store.visits(DAY29, DAY30)).toEqual([expect.objectContaining({ callId: 'lost', leftAt: null })]);
    metrics = new MetricsService({ acd, logDb: db, caseDb: db, clock: new FakeClock(0), wallNow: () => WALL0 });
    const k = metrics.summary(DAY29, DAY30);
    expect(k).toMatchObject({ offered: 1, other: 1, inProgress: 0, abandoned: 0 });
  });
});

describe('hold time per answered visit', () => {
  /** a01 answers h1 after 5 s in the queue; the caller is then held and released by call control. */
  async function answered() {
    const env = setup();
    acd.login('a01', '8001');
    acd.setReady('a01');
    acd.enqueue({ callId: 'h1', queueId: 'complaint' });
    env.at(5);
    env.cc.ringFor('a01').resolve('answered');
    await flush();
    expect(acd.agent('a01')!.state).toBe('on_call');
    return env;
  }

  it('hold, unhold, hold again, hang up while held: hold sums both stretches, talk excludes them', async () => {
    const { at } = await answered();
    const r = metrics.recorder;
    r.holdChanged('other-call', true); // a call nobody answered from a queue: ignored
    at(15);
    r.holdChanged('h1', true);
    at(20);
    r.holdChanged('h1', true); // repeated: the first start stands
    at(30);
    r.holdChanged('h1', false); // 15 s
    r.holdChanged('h1', false);
    at(45);
    r.holdChanged('h1', true);
    at(55);
    acd.callEnded('h1'); // held 10 s at hang-up
    r.holdChanged('h1', false); // the room closes after the hang-up: changes nothing
    at(70); // wrap-up (10 s) over
    const v = metrics.store.visits(DAY29, DAY30 + 86_400_000).find((x) => x.callId === 'h1')!;
    // On the call from 5 to 55 s: 50 s, of which 25 s on hold.
    expect(v).toMatchObject({ holdMs: 25 * S, talkMs: 25 * S, acwMs: 10 * S });
    const k = metrics.summary(DAY29, DAY30 + 86_400_000);
    expect(k).toMatchObject({ avgHoldMs: 25 * S, avgTalkMs: 25 * S, ahtMs: 60 * S });
    // queue_log keeps Asterisk's meaning: COMPLETEAGENT's talk time is the whole connected time.
    const done = metrics
      .queueLog(DAY29, DAY30 + 86_400_000)
      .split('\n')
      .find((l) => l.includes('|COMPLETEAGENT|'))!;
    expect(done.split('|')).toEqual([
      String(Math.floor((WALL0 + 55 * S) / 1000)),
      'h1',
      'complaint',
      'a01',
      'COMPLETEAGENT',
      '5',
      '50',
      '1',
    ]);
  });

  it('a call without hold records 0; a call held before the agent answered starts on hold', async () => {
    const { at, cc } = await answered();
    at(20);
    acd.callEnded('h1');
    at(40);
    acd.setReady('a01');
    acd.enqueue({ callId: 'h2', queueId: 'complaint' });
    metrics.recorder.holdChanged('h2', true); // e.g. back from a consultation into the queue, still held
    at(42);
    cc.ringFor('a01').resolve('answered');
    await flush();
    at(50);
    metrics.recorder.holdChanged('h2', false);
    at(60);
    acd.callEnded('h2');
    const visits = metrics.store.visits(DAY29, DAY30 + 86_400_000);
    expect(visits.find((x) => x.callId === 'h1')).toMatchObject({ holdMs: 0, talkMs: 15 * S });
    expect(visits.find((x) => x.callId === 'h2')).toMatchObject({ holdMs: 8 * S, talkMs: 10 * S });
  });
});
