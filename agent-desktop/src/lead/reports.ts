/**
 * Pure helpers for the historical reports and the per-interval charts: query strings for
 * GET /api/reports/* (docs/metrics.md) and the series the charts draw.
 */

export type Granularity = '15m' | 'hour' | 'day';
export type ReportBy = 'queue' | 'agent';

/** One row of GET /api/reports/calls (the fields the screens use; the server sends more). */
export interface ReportRow {
  bucket: number;
  key: string;
  offered: number;
  answered: number;
  abandoned: number;
  shortAbandoned: number;
  answerRate: number | null;
  abandonRate: number | null;
  serviceLevel: number | null;
  asaMs: number | null;
  longestWaitMs: number | null;
  ahtMs: number | null;
  occupancy?: number | null;
  agentAnswerRate?: number | null;
  pauseMs?: number;
}

export interface ReportQuery {
  from: string;
  to: string;
  granularity: Granularity;
  by: ReportBy;
  queue?: string;
}

export interface Hotspots {
  threshold: number;
  categories: Array<{ key: string; count: number }>;
  businesses: Array<{ key: string; creditCode: string | null; count: number }>;
  interviewList: Array<{ key: string; creditCode: string | null; count: number }>;
}

export function callsReportPath(q: ReportQuery, format: 'json' | 'csv' = 'json'): string {
  const p = new URLSearchParams({ from: q.from, to: q.to, granularity: q.granularity, by: q.by, format });
  if (q.queue) p.set('queue', q.queue);
  return `/api/reports/calls?${p.toString()}`;
}

export function hotspotsPath(from: string, to: string, top = 10, threshold = 10): string {
  const p = new URLSearchParams({ from, to, top: String(top), threshold: String(threshold) });
  return `/api/reports/hotspots?${p.toString()}`;
}

export function dailyReportPath(date: string): string {
  return `/api/reports/daily?date=${encodeURIComponent(date)}`;
}

/** YYYY-MM-DD of a wall time in Beijing (the server's report day), whatever the browser's zone. */
export function beijingDate(epochMs: number): string {
  return new Date(epochMs + 8 * 3600_000).toISOString().slice(0, 10);
}

/** "HH:mm" (or "MM-DD" for days) of a bucket start, Beijing time. */
export function bucketLabel(bucket: number, g: Granularity): string {
  const iso = new Date(bucket + 8 * 3600_000).toISOString();
  return g === 'day' ? iso.slice(5, 10) : iso.slice(11, 16);
}

export interface IntervalSeries {
  labels: string[];
  offered: number[];
  answered: number[];
  abandoned: number[];
  /** Percent (0–100) or null where nothing counted. */
  serviceLevel: Array<number | null>;
  answerRate: Array<number | null>;
}

/**
 * Chart series for one key ('*' = all queues) with every bucket between the first and the last filled in:
 * the server leaves empty buckets out, and a chart that skips them would draw a quiet hour as a slope.
 */
export function intervalSeries(rows: readonly ReportRow[], key: string, g: Granularity): IntervalSeries {
  const mine = rows.filter((r) => r.key === key).sort((a, b) => a.bucket - b.bucket);
  const out: IntervalSeries = {
    labels: [],
    offered: [],
    answered: [],
    abandoned: [],
    serviceLevel: [],
    answerRate: [],
  };
  if (mine.length === 0) return out;
  const step = g === '15m' ? 900_000 : g === 'hour' ? 3_600_000 : 86_400_000;
  const byBucket = new Map(mine.map((r) => [r.bucket, r]));
  const last = mine[mine.length - 1]!.bucket;
  // Days are stepped by calendar date (Beijing has no DST, so 24 h is exact).
  for (let b = mine[0]!.bucket; b <= last; b += step) {
    const r = byBucket.get(b);
    out.labels.push(bucketLabel(b, g));
    out.offered.push(r?.offered ?? 0);
    out.answered.push(r?.answered ?? 0);
    out.abandoned.push(r?.abandoned ?? 0);
    out.serviceLevel.push(r?.serviceLevel == null ? null : Math.round(r.serviceLevel * 1000) / 10);
    out.answerRate.push(r?.answerRate == null ? null : Math.round(r.answerRate * 1000) / 10);
  }
  return out;
}

/** Seconds with one decimal for the table; null → "—". */
export function secs(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '—' : (ms / 1000).toFixed(1);
}
