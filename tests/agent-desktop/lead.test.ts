import { describe, expect, it } from 'vitest';
import type { WallboardPayload, WallboardWindow } from '../../server/api/socket/events.js';
import { beijingTime, formatSkills, parseSkills } from '../../agent-desktop/src/lead/allocation-model.js';
import { actionLabel, leadText } from '../../agent-desktop/src/lead/i18n.js';
import {
  beijingDate,
  bucketLabel,
  callsReportPath,
  intervalSeries,
  type ReportRow,
} from '../../agent-desktop/src/lead/reports.js';
import {
  clock,
  longestWaitNow,
  pct,
  rateTone,
  sortAgents,
  timeInStateNow,
} from '../../agent-desktop/src/lead/slice.js';
import { createDesktopStore } from '../../agent-desktop/src/store/index.js';

function setup() {
  let now = 1_000;
  const warnings: string[] = [];
  const store = createDesktopStore({ now: () => now, storage: null, warn: (m) => warnings.push(m) });
  return {
    s: () => store.getState(),
    warnings,
    advance(ms: number) {
      now += ms;
    },
  };
}

const win = (over: Partial<WallboardWindow> = {}): WallboardWindow => ({
  offered: 0,
  answered: 0,
  abandoned: 0,
  shortAbandoned: 0,
  answerRate: null,
  abandonRate: null,
  serviceLevel: null,
  asaMs: null,
  ...over,
});

const board = (serverNow: number, waiting: number): WallboardPayload => ({
  serverNow,
  queues: [
    {
      queueId: 'complaint',
      name: '投诉',
      waiting,
      callbacks: 0,
      longestWaitMs: waiting ? 12_000 : 0,
      agents: { offline: 0, ready: 1, not_ready: 0, reserved: 0, on_call: 0, wrap_up: 0 },
      rolling30: win(),
      today: win(),
    },
  ],
  totals: { waiting, longestWaitMs: waiting ? 12_000 : 0, rolling30: win(), today: win() },
  agents: [
    {
      agentId: 'agent01',
      displayName: '座席一',
      state: 'ready',
      reason: null,
      seat: '8001',
      timeInStateMs: 65_000,
      callsHandled: 3,
      callQueueId: null,
    },
  ],
});

describe('lead slice', () => {
  it('shows the newest wallboard and ignores an older picture that arrives late', () => {
    const t = setup();
    expect(t.s().wallboard).toBeNull();
    t.s().wallboardUpdated(board(2_000, 1));
    t.advance(300);
    t.s().wallboardUpdated(board(3_000, 2));
    // A wallboard:get answer taken before the last push.
    t.s().wallboardUpdated(board(2_500, 0));
    expect(t.s().wallboard?.queues[0]?.waiting).toBe(2);
    expect(t.s().wallboardUpdates).toBe(2);
    expect(t.s().wallboardAtLocal).toBe(1_300);
    expect(t.warnings).toContain('stale wallboard ignored');
  });

  it('ticks time in state from the server figure and the local time since it arrived', () => {
    expect(timeInStateNow(65_000, 1_000, 1_750)).toBe(65_750);
    expect(timeInStateNow(65_000, null, 9_999)).toBe(65_000);
    // A local clock that went backwards never takes time off.
    expect(timeInStateNow(65_000, 2_000, 1_000)).toBe(65_000);
    expect(longestWaitNow(12_000, 1, 0, 500)).toBe(12_500);
    expect(longestWaitNow(0, 0, 0, 500)).toBe(0);
  });

  it('shows coaching on the agent desk until the lead stops it; a stop for another call changes nothing', () => {
    const t = setup();
    t.s().coachingChanged({ callId: 'c-1', mode: 'whisper' });
    expect(t.s().coaching).toEqual({ callId: 'c-1', mode: 'whisper' });
    t.s().coachingChanged({ callId: 'c-1', mode: 'barge' });
    expect(t.s().coaching?.mode).toBe('barge');
    t.s().coachingChanged({ callId: 'c-0', mode: 'stopped' });
    expect(t.s().coaching?.callId).toBe('c-1');
    t.s().coachingChanged({ callId: 'c-1', mode: 'stopped' });
    expect(t.s().coaching).toBeNull();
  });

  it('drops the monitor when its call leaves the live list, keeps it otherwise', () => {
    const t = setup();
    const call = (id: string, startedAt: number) => ({
      id,
      state: 'bridged',
      caller: '138****5678',
      dialled: '12315',
      ivrPath: 'menu:1',
      queue: 'complaint',
      startedAt,
      answeredAt: startedAt + 5,
      waitingSeconds: 5,
    });
    t.s().monitoringChanged({ callId: 'b', mode: 'listen', phase: 'active' });
    t.s().liveCallsLoaded([call('b', 20), call('a', 10)]);
    expect(t.s().liveCalls.map((c) => c.id)).toEqual(['a', 'b']);
    expect(t.s().monitoring?.callId).toBe('b');
    t.s().liveCallsLoaded([call('a', 10)]);
    expect(t.s().monitoring).toBeNull();
  });

  it('switches views', () => {
    const t = setup();
    expect(t.s().leadView).toBe('wallboard');
    t.s().showLeadView('reports');
    expect(t.s().leadView).toBe('reports');
  });
});

describe('lead formatting', () => {
  it('formats rates, clocks and tones', () => {
    expect(pct(null)).toBe('—');
    expect(pct(0.875)).toBe('87.5%');
    expect(pct(1)).toBe('100.0%');
    expect(clock(65_900)).toBe('1:05');
    expect(clock(3_725_000)).toBe('1:02:05');
    expect(rateTone(null, 0.8)).toBe('none');
    expect(rateTone(0.85, 0.8)).toBe('ok');
    expect(rateTone(0.75, 0.8)).toBe('warn');
    expect(rateTone(0.5, 0.8)).toBe('alarm');
  });

  it('sorts agents on call first, then by longest in state', () => {
    const a = (agentId: string, state: string, timeInStateMs: number) => ({ agentId, state, timeInStateMs });
    expect(
      sortAgents([a('1', 'ready', 5), a('2', 'on_call', 1), a('3', 'ready', 9), a('4', 'not_ready', 100)]).map(
        (x) => x.agentId,
      ),
    ).toEqual(['2', '3', '1', '4']);
  });

  it('has every lead text in both languages', () => {
    expect(leadText('zh', 'nav_allocation')).toBe('座席分配');
    expect(leadText('en', 'monitoringNow', { mode: 'Listen', callId: 'c1' })).toBe('Listen on call c1');
    expect(actionLabel('zh', 'force_logout')).toBe('强制签出');
    expect(actionLabel('en', 'set_queues')).toBe('set queues');
    expect(actionLabel('zh', 'something_new')).toBe('something_new');
    expect(beijingTime(Date.parse('2026-11-28T16:04:27Z'))).toBe('2026-11-29 00:04:27');
  });
});

describe('report helpers', () => {
  // 2026-11-28 00:00 Beijing = 2026-11-27T16:00Z.
  const day = Date.parse('2026-11-28T00:00:00+08:00');
  const row = (bucket: number, key: string, offered: number, sl: number | null): ReportRow => ({
    bucket,
    key,
    offered,
    answered: offered,
    abandoned: 0,
    shortAbandoned: 0,
    answerRate: offered ? 1 : null,
    abandonRate: null,
    serviceLevel: sl,
    asaMs: null,
    longestWaitMs: null,
    ahtMs: null,
  });

  it('builds the report URLs of docs/metrics.md', () => {
    expect(callsReportPath({ from: '2026-11-01', to: '2026-11-02', granularity: '15m', by: 'agent' }, 'csv')).toBe(
      '/api/reports/calls?from=2026-11-01&to=2026-11-02&granularity=15m&by=agent&format=csv',
    );
    expect(callsReportPath({ from: 'a', to: 'b', granularity: 'hour', by: 'queue', queue: 'complaint' })).toContain(
      '&queue=complaint',
    );
  });

  it('dates and labels buckets in Beijing time whatever the zone', () => {
    expect(beijingDate(day)).toBe('2026-11-28');
    expect(beijingDate(day - 1)).toBe('2026-11-27');
    expect(bucketLabel(day + 9 * 3_600_000 + 15 * 60_000, '15m')).toBe('09:15');
    expect(bucketLabel(day, 'day')).toBe('11-28');
  });

  it('fills the quiet intervals between buckets with zeros and keeps only the asked key', () => {
    const q = 900_000;
    const s = intervalSeries(
      [row(day + 3 * q, '*', 4, 0.5), row(day, '*', 2, 1), row(day, 'complaint', 2, 1)],
      '*',
      '15m',
    );
    expect(s.labels).toEqual(['00:00', '00:15', '00:30', '00:45']);
    expect(s.offered).toEqual([2, 0, 0, 4]);
    expect(s.serviceLevel).toEqual([100, null, null, 50]);
    expect(intervalSeries([], '*', 'hour').labels).toEqual([]);
  });
});

describe('skills text', () => {
  it('round-trips and rejects bad levels with a Chinese message', () => {
    expect(parseSkills('food:3, medical：2')).toEqual({ food: 3, medical: 2 });
    expect(formatSkills({ medical: 2, food: 3 })).toBe('food:3, medical:2');
    expect(parseSkills('')).toEqual({});
    expect(parseSkills('food:7')).toMatch(/技能格式错误/);
    expect(parseSkills('Food:1')).toMatch(/Food:1/);
  });
});
