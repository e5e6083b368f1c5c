import { describe, expect, it } from 'vitest';
import {
  agentKpis,
  bucketStart,
  buckets,
  callKpis,
  DEFAULT_THRESHOLDS,
  overlapMs,
  teamOccupancy,
} from '../../server/metrics/kpi.js';
import type { AgentInterval, QueueVisit, RingAttempt } from '../../server/metrics/types.js';

const S = 1000;
const T0 = Date.parse('2026-11-30T10:00:00+08:00');

let n = 0;
/** A visit that entered at T0 + at s and waited `wait` s (from the call's first entry). */
function visit(o: Partial<QueueVisit> & { wait?: number; at?: number }): QueueVisit {
  const enteredAt = T0 + (o.at ?? 0) * S;
  const callEnteredAt = o.callEnteredAt ?? enteredAt;
  const leftAt = o.leaveReason === null ? null : callEnteredAt + (o.wait ?? 0) * S;
  return {
    id: `v${n++}`,
    callId: `c${n}`,
    queue: 'complaint',
    kind: 'call',
    callEnteredAt,
    enteredAt,
    leftAt,
    leaveReason: 'answered',
    answeredAt: null,
    agentId: null,
    talkMs: null,
    holdMs: null,
    acwMs: null,
    ...o,
  };
}

/** The hand-worked log (docs/metrics.md, "worked example"). */
function workedLog(): QueueVisit[] {
  const transferredCallAt = T0 + 700 * S;
  return [
    visit({ wait: 10, talkMs: 120 * S, holdMs: 0, acwMs: 30 * S, agentId: 'a1' }),
    visit({ at: 100, wait: 25, talkMs: 60 * S, holdMs: 0, acwMs: 0, agentId: 'a2' }),
    visit({ at: 200, wait: 3, leaveReason: 'abandoned' }), // short abandon
    visit({ at: 300, wait: 30, leaveReason: 'abandoned' }),
    visit({ at: 400, wait: 15, leaveReason: 'abandoned' }), // hung up while an agent rang
    visit({ at: 500, wait: 60, leaveReason: 'timeout' }),
    visit({ at: 600, wait: 40, leaveReason: 'callback' }),
    // Overflowed after 50 s to consultation, answered there after 70 s in all.
    visit({ at: 700, wait: 50, leaveReason: 'transferred' }),
    visit({
      queue: 'consultation',
      callEnteredAt: transferredCallAt,
      at: 750,
      wait: 70,
      talkMs: 100 * S,
      holdMs: 0,
      acwMs: 10 * S,
      agentId: 'a1',
    }),
    visit({ at: 800, wait: 0, leaveReason: 'full' }),
    visit({ at: 900, leaveReason: null }), // still waiting
    visit({ at: 950, kind: 'callback', wait: 5 }), // outbound callback: not a call KPI
  ];
}

describe('call KPIs on a hand-worked log', () => {
  it('counts O, A, Ab, SAb and every other outcome once, transfers in the queue where the call ended', () => {
    const k = callKpis(workedLog());
    expect(k).toMatchObject({
      offered: 9,
      answered: 3,
      abandoned: 3,
      shortAbandoned: 1,
      timedOut: 1,
      callbacks: 1,
      refused: 1,
      transferredOut: 1,
      inProgress: 1,
      answeredWithinSl: 1,
      abandonedWithinSl: 2,
      longestWaitMs: 70 * S,
      handled: 3,
    });
  });

  it('接通率, abandon rate and SL use O − SAb as the base; Asterisk SL1/SL2 their own', () => {
    const k = callKpis(workedLog());
    expect(k.answerRate).toBeCloseTo(3 / 8, 10);
    expect(k.abandonRate).toBeCloseTo(2 / 8, 10);
    expect(k.serviceLevel).toBeCloseTo(1 / 8, 10);
    expect(k.asteriskSl1).toBeCloseTo(1 / 3, 10);
    expect(k.asteriskSl2).toBeCloseTo(3 / 6, 10);
  });

  it('ASA, average abandon time (short abandons left out) and AHT = talk + hold + ACW', () => {
    const k = callKpis(workedLog());
    expect(k.asaMs).toBeCloseTo(((10 + 25 + 70) / 3) * S, 6);
    expect(k.avgAbandonMs).toBeCloseTo(22.5 * S, 6);
    expect(k.ahtMs).toBeCloseTo(((150 + 60 + 110) / 3) * S, 6);
    expect(k.avgAcwMs).toBeCloseTo((40 / 3) * S, 6);
  });

  it('per queue: the transferred call is not offered in the queue it left', () => {
    const log = workedLog();
    const c = callKpis(log.filter((v) => v.queue === 'complaint'));
    expect(c).toMatchObject({ offered: 8, answered: 2, abandoned: 3, shortAbandoned: 1, transferredOut: 1 });
    expect(c.answerRate).toBeCloseTo(2 / 7, 10);
    const q = callKpis(log.filter((v) => v.queue === 'consultation'));
    expect(q).toMatchObject({ offered: 1, answered: 1, answeredWithinSl: 0, longestWaitMs: 70 * S });
  });

  it('thresholds per queue: exactly T counts as within SL, exactly the short-abandon limit is not short', () => {
    const log = [
      visit({ wait: 20 }),
      visit({ wait: 5, leaveReason: 'abandoned' }),
      visit({ queue: 'report', wait: 30 }),
      visit({ queue: 'report', wait: 7, leaveReason: 'abandoned' }),
    ];
    const k = callKpis(log, (q) =>
      q === 'report' ? { shortAbandonMs: 8 * S, serviceLevelMs: 30 * S } : DEFAULT_THRESHOLDS,
    );
    expect(k.shortAbandoned).toBe(1); // the report caller at 7 s < 8 s
    expect(k.answeredWithinSl).toBe(2);
    expect(k.serviceLevel).toBeCloseTo(2 / 3, 10);
  });

  it('an empty period has counts 0 and rates null, not NaN', () => {
    const k = callKpis([]);
    expect(k.offered).toBe(0);
    expect(k.answerRate).toBeNull();
    expect(k.asaMs).toBeNull();
  });

  it('only short abandons: base 0, rates null', () => {
    const k = callKpis([visit({ wait: 2, leaveReason: 'abandoned' })]);
    expect(k).toMatchObject({ offered: 1, shortAbandoned: 1, answerRate: null, abandonRate: null });
  });
});

describe('agent KPIs', () => {
  const iv = (state: AgentInterval['state'], a: number, b: number, reason: string | null = null): AgentInterval => ({
    agentId: 'a1',
    state,
    reason,
    start: T0 + a * S,
    end: T0 + b * S,
    callId: null,
  });
  const intervals = [
    iv('ready', 0, 100),
    iv('reserved', 100, 110),
    iv('on_call', 110, 230),
    iv('wrap_up', 230, 260),
    iv('not_ready', 260, 860, '午餐'),
    iv('not_ready', 860, 960, '培训'),
    iv('ready', 960, 1000),
  ];
  const ring = (result: RingAttempt['result'], at: number): RingAttempt => ({
    visitId: 'v',
    callId: 'c',
    queue: 'complaint',
    agentId: 'a1',
    startedAt: T0 + at * S,
    endedAt: T0 + (at + 5) * S,
    result,
  });
  const rings = [
    ring('answered', 100),
    ring('no_answer', 300),
    ring('rejected', 310),
    ring('caller_gone', 320),
    ring('withdrawn', 330),
  ];

  it('time per state, pause per reason, occupancy = busy / available', () => {
    const [k] = agentKpis(intervals, rings, [], T0, T0 + 1000 * S);
    expect(k!.stateMs).toEqual({
      ready: 140 * S,
      reserved: 10 * S,
      on_call: 120 * S,
      wrap_up: 30 * S,
      not_ready: 700 * S,
    });
    expect(k!.pauseByReason).toEqual({ 午餐: 600 * S, 培训: 100 * S });
    expect(k!.loggedInMs).toBe(1000 * S);
    expect(k!.occupancy).toBeCloseTo(160 / 300, 10);
  });

  it('agent answer rate counts answered, no answer and rejected rings only', () => {
    const [k] = agentKpis(intervals, rings, [], T0, T0 + 1000 * S);
    expect(k).toMatchObject({ ringAttempts: 5, ringsAnswered: 1, ringsNoAnswer: 1, ringsRejected: 1 });
    expect(k!.answerRate).toBeCloseTo(1 / 3, 10);
  });

  it('intervals are clipped to the period', () => {
    const [k] = agentKpis(intervals, rings, [], T0 + 50 * S, T0 + 1000 * S);
    expect(k!.stateMs.ready).toBe(90 * S);
    expect(k!.occupancy).toBeCloseTo(160 / 250, 10);
    expect(teamOccupancy([k!])).toBeCloseTo(160 / 250, 10);
    expect(overlapMs(0, 10, 5, 20)).toBe(5);
    expect(overlapMs(0, 10, 10, 20)).toBe(0);
  });
});

describe('periods (Beijing time, UTC+8)', () => {
  it('a call at 23:59:50 belongs to that day, its 23:45 quarter and 23:00 hour', () => {
    const t = Date.parse('2026-11-29T23:59:50+08:00');
    expect(bucketStart(t, 'day')).toBe(Date.parse('2026-11-29T00:00:00+08:00'));
    expect(bucketStart(t, 'hour')).toBe(Date.parse('2026-11-29T23:00:00+08:00'));
    expect(bucketStart(t, '15m')).toBe(Date.parse('2026-11-29T23:45:00+08:00'));
    expect(bucketStart(Date.parse('2026-11-30T00:00:00+08:00'), 'day')).toBe(Date.parse('2026-11-30T00:00:00+08:00'));
  });

  it('buckets cover the period', () => {
    const from = Date.parse('2026-11-29T22:30:00+08:00');
    const to = Date.parse('2026-11-30T01:00:00+08:00');
    expect(buckets(from, to, 'hour').map((b) => new Date(b).toISOString())).toEqual([
      '2026-11-29T14:00:00.000Z',
      '2026-11-29T15:00:00.000Z',
      '2026-11-29T16:00:00.000Z',
    ]);
    expect(buckets(from, to, 'day')).toHaveLength(2);
  });
});
