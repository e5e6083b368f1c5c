import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Acd } from '../acd/acd.js';
import { AGENT_STATES } from '../acd/agent-state.js';
import type { CdrRow } from '../calls/cdr.js';
import type { EngineStats } from '../media/engine/api.js';
import type { Database } from '../storage/database.js';
import type { Clock } from '../util/clock.js';
import { createLogger, listenerErrorCounts, maskPhone } from '../util/log.js';
import { caseKpiCounts, caseKpisFromCounts, hotSpots, type CaseKpis, type HotSpots } from './case-kpi.js';
import { promText, queueLog, toCsv, type PromFamily } from './exports.js';
import {
  agentKpis,
  bucketMs,
  bucketStart,
  buckets,
  callKpis,
  dayStart,
  DEFAULT_THRESHOLDS,
  teamOccupancy,
  type AgentKpis,
  type CallKpis,
  type Granularity,
  type QueueThresholds,
} from './kpi.js';
import { MetricsRecorder } from './recorder.js';
import { MetricsStore } from './store.js';
import type { WallboardPayload, WallboardWindow } from '../api/socket/events.js';

export interface MetricsServiceDeps {
  acd: Acd;
  /** Where the event log lives (the NORMAL-sync connection: metrics rows are not worth an fsync each). */
  logDb: Database;
  /** The main database (cases, IVR surveys) for the 12315 KPIs. */
  caseDb: Database;
  clock: Clock;
  wallNow?: () => number;
  /** CDRs in a period, for the CDR CSV export. */
  cdrs?: (from: number, to: number) => CdrRow[];
  /** Time zone of day boundaries, minutes east of UTC (Beijing 480). */
  tzOffsetMin?: number;
  log?: Logger;
  /** The media engine's counters, for the media clock's health on /metrics. */
  media?: () => Promise<EngineStats>;
}

export interface Summary extends CallKpis {
  from: number;
  to: number;
  queue: string | null;
  /** Team occupancy over the period. */
  occupancy: number | null;
  thresholds: QueueThresholds | null;
}

export interface ReportRow extends CallKpis {
  bucket: number;
  /** Queue id or agent id, by the report's grouping; '*' for all. */
  key: string;
  occupancy?: number | null;
  agentAnswerRate?: number | null;
  pauseMs?: number;
}

// The wallboard's shape is the socket contract shared with the desktop (events.ts has no imports, so the
// desktop bundle can type it too); the service builds exactly that shape.
export type WindowFigures = WallboardWindow;
export type { WallboardPayload };

/** Metrics as the API sees them: the event log, KPIs over it, exports, Prometheus and the wallboard picture. */
export class MetricsService {
  readonly store: MetricsStore;
  readonly recorder: MetricsRecorder;
  private readonly acd: Acd;
  private readonly caseDb: Database;
  private readonly clock: Clock;
  private readonly tz: number;
  private readonly cdrs: (from: number, to: number) => CdrRow[];
  private readonly thresholdCache = new Map<string, QueueThresholds>();
  private readonly loopDelay: IntervalHistogram;
  private readonly log: Logger;
  private readonly logDb: Database;
  private closed = false;
  private readonly media: (() => Promise<EngineStats>) | null;

  constructor(d: MetricsServiceDeps) {
    this.log = d.log ?? createLogger('metrics');
    this.media = d.media ?? null;
    this.acd = d.acd;
    this.caseDb = d.caseDb;
    this.clock = d.clock;
    this.tz = d.tzOffsetMin ?? 480;
    this.cdrs = d.cdrs ?? (() => []);
    this.store = new MetricsStore(d.logDb, (err) => this.log.error({ err }, 'metrics write failed'));
    const interrupted = this.store.closeInterrupted();
    if (interrupted > 0) this.log.warn({ interrupted }, 'queue visits open at the last stop are closed as other');
    this.recorder = new MetricsRecorder({
      acd: d.acd,
      store: this.store,
      clock: d.clock,
      wallNow: d.wallNow,
      log: this.log,
    });
    for (const r of d.logDb.sqlite.prepare('SELECT * FROM metrics_threshold').all() as Array<{
      queue: string;
      short_abandon_ms: number;
      service_level_ms: number;
    }>) {
      this.thresholdCache.set(r.queue, { shortAbandonMs: r.short_abandon_ms, serviceLevelMs: r.service_level_ms });
    }
    this.logDb = d.logDb;
    this.loopDelay = monitorEventLoopDelay({ resolution: 20 });
    this.loopDelay.enable();
  }
  now(): number {
    return this.recorder.now();
  }

  thresholds(queue: string): QueueThresholds {
    return this.thresholdCache.get(queue) ?? DEFAULT_THRESHOLDS;
  }

  setThresholds(queue: string, t: Partial<QueueThresholds>): QueueThresholds {
    const next = { ...this.thresholds(queue), ...t };
    this.logDb.sqlite
      .prepare(
        `INSERT INTO metrics_threshold (queue, short_abandon_ms, service_level_ms) VALUES (?, ?, ?)
         ON CONFLICT(queue) DO UPDATE SET short_abandon_ms = excluded.short_abandon_ms, service_level_ms = excluded.service_level_ms`,
      )
      .run(queue, next.shortAbandonMs, next.serviceLevelMs);
    this.thresholdCache.set(queue, next);
    return next;
  }

  summary(from: number, to: number, queue?: string): Summary {
    const visits = this.store.visits(from, to, queue);
    const k = callKpis(visits, (q) => this.thresholds(q));
    const agents = agentKpis(this.intervals(from, to), [], [], from, to);
    return {
      from,
      to,
      queue: queue ?? null,
      ...k,
      occupancy: teamOccupancy(agents),
      thresholds: queue ? this.thresholds(queue) : null,
    };
  }

  /** Historical report: one row per bucket × queue (or × agent), plus '*' rows for all queues. */
  report(from: number, to: number, g: Granularity, by: 'queue' | 'agent', queue?: string): ReportRow[] {
    const visits = this.store.visits(from, to, queue);
    const out: ReportRow[] = [];
    const step = bucketMs(g);
    if (by === 'queue') {
      const byBucket = new Map<number, Map<string, typeof visits>>();
      for (const v of visits) {
        const start = bucketStart(v.enteredAt, g, this.tz);
        let m = byBucket.get(start);
        if (!m) byBucket.set(start, (m = new Map()));
        for (const key of [v.queue, '*']) {
          const l = m.get(key) ?? [];
          l.push(v);
          m.set(key, l);
        }
      }
      for (const b of buckets(from, to, g, this.tz)) {
        const m = byBucket.get(b);
        if (!m) continue;
        for (const [key, vs] of [...m].sort(([a], [c]) => (a < c ? -1 : a > c ? 1 : 0)))
          out.push({ bucket: b, key, ...callKpis(vs, (q) => this.thresholds(q)) });
      }
      return out;
    }
    const intervals = this.intervals(from, to);
    const rings = this.store.rings(from, to, queue);
    for (const b of buckets(from, to, g, this.tz)) {
      const lo = Math.max(b, from);
      const hi = Math.min(b + step, to);
      const vs = visits.filter((v) => v.enteredAt >= lo && v.enteredAt < hi);
      for (const a of agentKpis(intervals, rings, vs, lo, hi)) {
        const mine = vs.filter((v) => v.agentId === a.agentId);
        out.push({
          bucket: b,
          key: a.agentId,
          ...callKpis(mine, (q) => this.thresholds(q)),
          occupancy: a.occupancy,
          agentAnswerRate: a.answerRate,
          pauseMs: a.stateMs.not_ready,
        });
      }
    }
    return out;
  }

  agents(from: number, to: number): AgentKpis[] {
    const visits = this.store.visits(from, to);
    return agentKpis(this.intervals(from, to), this.store.rings(from, to), visits, from, to);
  }

  caseKpis(from: number, to: number): CaseKpis {
    return caseKpisFromCounts(caseKpiCounts(this.caseDb, from, to));
  }

  hotSpots(from: number, to: number, o: { top?: number; threshold?: number } = {}): HotSpots {
    return hotSpots(this.caseDb, from, to, o);
  }

  queueLog(from: number, to: number): string {
    const open = this.recorder.openIntervals().filter((i) => i.start >= from && i.start < to);
    return queueLog(this.store.visits(from, to), this.store.rings(from, to), this.store.intervals(from, to), open);
  }

  reportCsv(rows: readonly ReportRow[], by: 'queue' | 'agent'): string {
    const iso = (t: number) => new Date(t + this.tz * 60_000).toISOString().slice(0, 16).replace('T', ' ');
    const pct = (x: number | null | undefined) => (x === null || x === undefined ? '' : (x * 100).toFixed(1));
    const s = (x: number | null | undefined) => (x === null || x === undefined ? '' : (x / 1000).toFixed(1));
    return toCsv(
      [
        '时段',
        by === 'queue' ? '队列' : '工号',
        '呼入量',
        '接通量',
        '放弃量',
        '短时放弃',
        '超时',
        '回拨',
        '接通率%',
        '放弃率%',
        '服务水平%',
        '平均应答(秒)',
        '平均放弃(秒)',
        '最长等待(秒)',
        '平均处理(秒)',
        ...(by === 'agent' ? ['占用率%', '振铃应答率%', '未就绪(秒)'] : []),
      ],
      rows.map((r) => [
        iso(r.bucket),
        r.key === '*' ? '全部' : r.key,
        r.offered,
        r.answered,
        r.abandoned,
        r.shortAbandoned,
        r.timedOut,
        r.callbacks,
        pct(r.answerRate),
        pct(r.abandonRate),
        pct(r.serviceLevel),
        s(r.asaMs),
        s(r.avgAbandonMs),
        s(r.longestWaitMs),
        s(r.ahtMs),
        ...(by === 'agent' ? [pct(r.occupancy), pct(r.agentAnswerRate), s(r.pauseMs ?? 0)] : []),
      ]),
    );
  }

  /** CDRs as CSV; the caller's number is masked unless `fullNumbers` (admins). */
  cdrCsv(from: number, to: number, fullNumbers: boolean): string {
    const rows = this.cdrs(from, to);
    const t = (x: number | null) => (x === null ? '' : new Date(x).toISOString());
    return toCsv(
      [
        'id',
        'direction',
        'caller',
        'dialled',
        'target',
        'started_at',
        'answered_at',
        'ended_at',
        'duration_s',
        'billsec_s',
        'disposition',
        'hangup_by',
        'queue',
        'ivr_path',
      ],
      rows
        .slice()
        .sort((a, b) => a.startedAt - b.startedAt)
        .map((r) => [
          r.id,
          r.direction,
          fullNumbers || r.callerKind !== 'trunk' ? r.caller : maskPhone(r.caller),
          r.dialled,
          r.target,
          t(r.startedAt),
          t(r.answeredAt),
          t(r.endedAt),
          r.endedAt === null ? '' : Math.round((r.endedAt - r.startedAt) / 1000),
          r.endedAt === null || r.answeredAt === null ? '' : Math.round((r.endedAt - r.answeredAt) / 1000),
          r.disposition,
          r.hangupBy ?? '',
          r.queue ?? '',
          r.ivrPath ?? '',
        ]),
    );
  }

  /** The Chinese daily report (日报), printable HTML. */
  dailyHtml(day: number): string {
    const from = dayStart(day, this.tz);
    const to = from + 86_400_000;
    const date = new Date(from + this.tz * 60_000).toISOString().slice(0, 10);
    const total = this.summary(from, to);
    const perQueue = this.acd
      .queueIds()
      .map((q) => ({ q, name: this.acd.queueConfig(q)?.name ?? q, k: this.summary(from, to, q) }));
    const hours = this.report(from, to, 'hour', 'queue').filter((r) => r.key === '*');
    const ck = this.caseKpis(from, to);
    const hs = this.hotSpots(from, to);
    const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
    const s = (x: number | null) => (x === null ? '—' : `${Math.round(x / 1000)} 秒`);
    const e = escapeHtml;
    const row = (cells: Array<string | number>) => `<tr>${cells.map((c) => `<td>${e(String(c))}</td>`).join('')}</tr>`;
    return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>12315 热线日报 ${date}</title>
<style>body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #999;padding:4px 8px;text-align:right}th{background:#eee}td:first-child{text-align:left}
@media print{body{margin:0}h2{page-break-before:auto}}</style></head><body>
<h1>12315 热线日报（${e(date)}）</h1>
<h2>话务总览</h2>
<table><tr><th>呼入量</th><th>接通量</th><th>放弃量</th><th>短时放弃</th><th>接通率</th><th>放弃率</th><th>服务水平</th><th>平均应答</th><th>平均处理</th><th>最长等待</th><th>座席占用率</th></tr>
${row([total.offered, total.answered, total.abandoned, total.shortAbandoned, pct(total.answerRate), pct(total.abandonRate), pct(total.serviceLevel), s(total.asaMs), s(total.ahtMs), s(total.longestWaitMs), pct(total.occupancy)])}</table>
<h2>分队列</h2>
<table><tr><th>队列</th><th>呼入量</th><th>接通量</th><th>放弃量</th><th>接通率</th><th>服务水平</th><th>平均应答</th></tr>
${perQueue.map(({ name, k }) => row([name, k.offered, k.answered, k.abandoned, pct(k.answerRate), pct(k.serviceLevel), s(k.asaMs)])).join('\n')}</table>
<h2>分时段</h2>
<table><tr><th>时段</th><th>呼入量</th><th>接通量</th><th>放弃量</th><th>接通率</th></tr>
${hours.map((h) => row([new Date(h.bucket + this.tz * 60_000).toISOString().slice(11, 16), h.offered, h.answered, h.abandoned, pct(h.answerRate)])).join('\n')}</table>
<h2>业务指标</h2>
<table><tr><th>诉求办结率</th><th>按期办结率</th><th>调解成功率</th><th>举报查实率</th><th>诉转案率</th><th>满意度</th><th>回访率</th></tr>
${row([pct(ck.resolutionRate), pct(ck.onTimeRate), pct(ck.mediationSuccessRate), pct(ck.reportVerifiedRate), pct(ck.complaintToCaseRate), pct(ck.satisfactionRate), pct(ck.followUpRate)])}</table>
<h2>投诉热点</h2>
<table><tr><th>类别</th><th>投诉量</th></tr>${hs.categories.map((c) => row([c.key, c.count])).join('\n')}</table>
<table><tr><th>经营者</th><th>投诉量</th></tr>${hs.businesses.map((b) => row([b.key, b.count])).join('\n')}</table>
${hs.interviewList.length ? `<p>投诉量达到 ${hs.threshold} 件、建议行政约谈的经营者：${hs.interviewList.map((b) => e(b.key)).join('、')}</p>` : ''}
</body></html>
`;
  }

  /** Calls fn whenever something on the wallboard may have changed (queue or agent events). */
  onWallboardChange(fn: () => void): () => void {
    const offs = [this.acd.on('queue_changed', fn), this.acd.on('agent_state', fn)];
    return () => offs.forEach((o) => o());
  }

  /** The wallboard picture now. */
  wallboard(): WallboardPayload {
    const now = this.now();
    const monoNow = this.clock.now();
    const since30 = now - 30 * 60_000;
    const today = dayStart(now, this.tz);
    const recent = this.recorder.recent(Math.min(since30, today));
    const th = (q: string) => this.thresholds(q);
    const fig = (vs: typeof recent): WindowFigures => {
      const k = callKpis(vs, th);
      return {
        offered: k.offered,
        answered: k.answered,
        abandoned: k.abandoned,
        shortAbandoned: k.shortAbandoned,
        answerRate: k.answerRate,
        abandonRate: k.abandonRate,
        serviceLevel: k.serviceLevel,
        asaMs: k.asaMs,
      };
    };
    const in30 = recent.filter((v) => v.enteredAt >= since30);
    const inToday = recent.filter((v) => v.enteredAt >= today);
    const stats = this.acd.stats();
    return {
      serverNow: now,
      queues: stats.map((s) => ({
        queueId: s.queueId,
        name: s.name,
        waiting: s.waiting,
        callbacks: s.callbacks,
        longestWaitMs: Math.round(s.longestWaitMs),
        agents: s.agents,
        rolling30: fig(in30.filter((v) => v.queue === s.queueId)),
        today: fig(inToday.filter((v) => v.queue === s.queueId)),
      })),
      totals: {
        waiting: stats.reduce((a, s) => a + s.waiting, 0),
        longestWaitMs: Math.round(stats.reduce((a, s) => Math.max(a, s.longestWaitMs), 0)),
        rolling30: fig(in30),
        today: fig(inToday),
      },
      agents: this.acd
        .agentList()
        .filter((a) => a.state !== 'offline')
        .map((a) => ({
          agentId: a.agentId,
          displayName: a.displayName,
          state: a.state,
          reason: a.reason,
          seat: a.seat,
          timeInStateMs: Math.max(0, Math.round(monoNow - a.since)),
          callsHandled: a.callsHandled,
          callQueueId: a.callQueueId,
        })),
    };
  }

  /** prometheus() with the media engine's counters, asked for now (the engine may answer from its worker). */
  async prometheusWithMedia(): Promise<string> {
    let media: EngineStats | null = null;
    try {
      media = (await this.media?.()) ?? null;
    } catch (err) {
      this.log.warn({ err }, 'media stats unavailable for /metrics');
    }
    return this.prometheus(media);
  }

  /** Prometheus text: call counters by queue, live gauges, process health and the error counters. */
  prometheus(media: EngineStats | null = null): string {
    const queues = new Set([...this.acd.queueIds(), ...this.recorder.counters.keys()]);
    const counter = (k: 'offered' | 'answered' | 'abandoned') =>
      [...queues].sort().map((q) => ({ labels: { queue: q }, value: this.recorder.counters.get(q)?.[k] ?? 0 }));
    const agentsByState = Object.fromEntries(AGENT_STATES.map((s) => [s, 0])) as Record<string, number>;
    for (const a of this.acd.agentList()) agentsByState[a.state] = (agentsByState[a.state] ?? 0) + 1;
    const stats = this.acd.stats();
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    const families: PromFamily[] = [
      {
        name: 'cc_calls_offered_total',
        help: 'Calls offered to a queue (ended visits, transfers excluded).',
        type: 'counter',
        samples: counter('offered'),
      },
      {
        name: 'cc_calls_answered_total',
        help: 'Calls answered by an agent.',
        type: 'counter',
        samples: counter('answered'),
      },
      {
        name: 'cc_calls_abandoned_total',
        help: 'Callers who hung up while waiting or ringing.',
        type: 'counter',
        samples: counter('abandoned'),
      },
      {
        name: 'cc_queue_leave_total',
        help: 'Queue visits ended, by reason.',
        type: 'counter',
        samples: [...this.recorder.counters].flatMap(([q, c]) =>
          Object.entries(c.byReason).map(([reason, n]) => ({ labels: { queue: q, reason }, value: n ?? 0 })),
        ),
      },
      {
        name: 'cc_queue_waiting',
        help: 'Callers waiting now.',
        type: 'gauge',
        samples: stats.map((s) => ({ labels: { queue: s.queueId }, value: s.waiting })),
      },
      {
        name: 'cc_queue_longest_wait_seconds',
        help: 'Longest current wait.',
        type: 'gauge',
        samples: stats.map((s) => ({ labels: { queue: s.queueId }, value: s.longestWaitMs / 1000 })),
      },
      {
        name: 'cc_agents',
        help: 'Agents by state.',
        type: 'gauge',
        samples: Object.entries(agentsByState).map(([state, n]) => ({ labels: { state }, value: n })),
      },
      {
        name: 'cc_acd_events_total',
        help: 'ACD counters: offers, RONAs, repairs (repair_*), illegal transitions, refusals.',
        type: 'counter',
        samples: Object.entries(this.acd.counters).map(([kind, n]) => ({ labels: { kind }, value: n })),
      },
      {
        name: 'cc_listener_errors_total',
        help: 'Event listener failures caught by guardListener.',
        type: 'counter',
        samples: [...listenerErrorCounts()].map(([listener, n]) => ({ labels: { listener }, value: n })),
      },
      {
        name: 'cc_metrics_write_errors_total',
        help: 'Failed metrics event-log commits.',
        type: 'counter',
        samples: [{ value: this.store.stats.errors }],
      },
      { name: 'process_resident_memory_bytes', help: 'Resident memory.', type: 'gauge', samples: [{ value: mem.rss }] },
      { name: 'nodejs_heap_used_bytes', help: 'V8 heap used.', type: 'gauge', samples: [{ value: mem.heapUsed }] },
      {
        name: 'process_cpu_seconds_total',
        help: 'User and system CPU time.',
        type: 'counter',
        samples: [{ value: (cpu.user + cpu.system) / 1e6 }],
      },
      {
        name: 'process_uptime_seconds',
        help: 'Seconds since the process started.',
        type: 'gauge',
        samples: [{ value: Math.round(process.uptime()) }],
      },
      {
        name: 'nodejs_eventloop_lag_seconds',
        help: 'Event-loop delay since the last scrape (p99 and max).',
        type: 'gauge',
        samples: [
          { labels: { quantile: '0.99' }, value: this.loopDelay.percentile(99) / 1e9 },
          { labels: { quantile: '1' }, value: this.loopDelay.max / 1e9 },
        ],
      },
      ...mediaFamilies(media),
    ];
    this.loopDelay.reset();
    return promText(families);
  }

  private intervals(from: number, to: number) {
    return [...this.store.intervals(from, to), ...this.recorder.openIntervals()];
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.loopDelay.disable();
    this.recorder.close();
    this.store.close();
  }
}

/**
 * The media clock's health: how late its ticks fire and how long their sends take are the server's own RTP pacing
 * error (a packet leaves up to late + work after its due time), so an operator can see pacing degrade before
 * callers hear it.
 */
function mediaFamilies(m: EngineStats | null): PromFamily[] {
  if (!m) return [];
  const labelled = (label: string, values: Record<string, number>) =>
    Object.entries(values).map(([k, value]) => ({ labels: { [label]: k }, value }));
  const q = (p50: number, p99: number, max: number) => [
    { labels: { quantile: '0.5' }, value: p50 / 1000 },
    { labels: { quantile: '0.99' }, value: p99 / 1000 },
    { labels: { quantile: '1' }, value: max / 1000 },
  ];
  return [
    {
      name: 'cc_media_tick_late_seconds',
      help: 'How late the media clock ticks fired (recent window).',
      type: 'gauge',
      samples: q(m.clock.lateP50Ms, m.clock.lateP99Ms, m.clock.lateMaxMs),
    },
    {
      name: 'cc_media_tick_work_seconds',
      help: 'How long one media tick took to send its packets (recent window).',
      type: 'gauge',
      samples: q(m.clock.workP50Ms, m.clock.workP99Ms, m.clock.workMaxMs),
    },
    {
      name: 'cc_media_ticks_total',
      help: 'Media clock ticks: run, overrun (work longer than a tick), skipped (a stalled thread catching up).',
      type: 'counter',
      samples: labelled('kind', { run: m.clock.ticks, overrun: m.clock.overruns, skipped: m.clock.skipped }),
    },
    {
      name: 'cc_media_packets_total',
      help: 'RTP packets received, sent, and dropped (unknown source or malformed).',
      type: 'counter',
      samples: labelled('dir', m.packets),
    },
    {
      name: 'cc_media_resources',
      help: 'Live media resources.',
      type: 'gauge',
      samples: labelled('kind', {
        endpoint: m.endpoints,
        bridge: m.bridges,
        conference: m.conferences,
        recording: m.recordings,
        rtp_port: m.ports.inUse,
      }),
    },
    {
      name: 'cc_media_recorder_errors_total',
      help: 'Recording writes that failed (the call went on).',
      type: 'counter',
      samples: [{ value: m.recorderErrors }],
    },
  ];
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
