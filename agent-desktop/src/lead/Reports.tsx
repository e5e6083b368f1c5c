/** 历史报表: calls per 15 min / hour / day by queue or agent, CSV, the printable 日报, hot spots. */
import { useState } from 'react';
import { useLead, useLeadT } from './context.js';
import { downloadFile, openDailyReport } from './downloads.js';
import {
  beijingDate,
  bucketLabel,
  callsReportPath,
  secs,
  type Granularity,
  type Hotspots,
  type ReportBy,
  type ReportRow,
} from './reports.js';
import { pct } from './slice.js';
import { ThresholdsForm } from './Thresholds.js';
import { useDesktop } from '../components/context.js';

export function Reports() {
  const lead = useLead();
  const t = useLeadT();
  const today = beijingDate(Date.now());
  const [from, setFrom] = useState(today);
  const [to, setTo] = useState(today);
  const [g, setG] = useState<Granularity>('hour');
  const [by, setBy] = useState<ReportBy>('queue');
  const [threshold, setThreshold] = useState(10);
  const [queue, setQueue] = useState('');
  const queues = useDesktop((s) => s.wallboard?.queues ?? []);
  const [rows, setRows] = useState<ReportRow[] | null>(null);
  const [hot, setHot] = useState<Hotspots | null>(null);

  // The day picker names whole Beijing days: `to` is exclusive on the server, so the next day's midnight.
  const toExclusive = () => beijingDate(Date.parse(`${to}T00:00:00+08:00`) + 86_400_000);
  const query = () => ({ from, to: toExclusive(), granularity: g, by, ...(queue ? { queue } : {}) });
  const run = () =>
    void lead.run(async () => {
      const [r, h] = await Promise.all([lead.report(query()), lead.hotspots(from, toExclusive(), threshold)]);
      setRows(r);
      setHot(h);
    });

  return (
    <section className="reports" data-testid="reports">
      <form
        className="report-form"
        onSubmit={(e) => {
          e.preventDefault();
          run();
        }}
      >
        <label>
          {t('from')}
          <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label>
          {t('to')}
          <input type="date" value={to} onChange={(e) => setTo(e.target.value)} />
        </label>
        <label>
          {t('granularity')}
          <select value={g} onChange={(e) => setG(e.target.value as Granularity)} data-testid="report-granularity">
            {(['15m', 'hour', 'day'] as const).map((x) => (
              <option key={x} value={x}>
                {t(`g_${x}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('by')}
          <select value={by} onChange={(e) => setBy(e.target.value as ReportBy)} data-testid="report-by">
            <option value="queue">{t('by_queue')}</option>
            <option value="agent">{t('by_agent')}</option>
          </select>
        </label>
        <label>
          {t('queue')}
          <select value={queue} onChange={(e) => setQueue(e.target.value)} data-testid="report-queue">
            <option value="">{t('allQueues')}</option>
            {queues.map((q) => (
              <option key={q.queueId} value={q.queueId}>
                {q.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('threshold')}
          <input
            type="number"
            min={1}
            max={1000}
            value={threshold}
            onChange={(e) => setThreshold(Number(e.target.value) || 1)}
          />
        </label>
        <button type="submit" className="primary" data-testid="report-run">
          {t('query')}
        </button>
        <button
          type="button"
          onClick={() =>
            void lead.run(() => downloadFile(lead, callsReportPath(query(), 'csv'), `话务报表_${from}_${to}.csv`))
          }
        >
          {t('csv')}
        </button>
        <button type="button" data-testid="report-daily" onClick={() => void lead.run(() => openDailyReport(lead, to))}>
          {t('daily')}
        </button>
      </form>

      <ThresholdsForm />

      {rows && (
        <table className="report-table" data-testid="report-table">
          <thead>
            <tr>
              <th>{t('bucket')}</th>
              <th>{t('key')}</th>
              <th>{t('offered')}</th>
              <th>{t('answered')}</th>
              <th>{t('abandoned')}</th>
              <th>{t('answerRate')}</th>
              <th>{t('serviceLevel')}</th>
              <th>{t('asaSec')}</th>
              <th>{t('aht')}</th>
              {by === 'agent' && <th>{t('occupancy')}</th>}
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr>
                <td colSpan={10}>{t('noData')}</td>
              </tr>
            )}
            {rows.map((r) => (
              <tr key={`${r.bucket}-${r.key}`}>
                <td>{g === 'day' ? beijingDate(r.bucket) : `${beijingDate(r.bucket)} ${bucketLabel(r.bucket, g)}`}</td>
                <td>{r.key === '*' ? t('allQueues') : r.key}</td>
                <td className="num">{r.offered}</td>
                <td className="num">{r.answered}</td>
                <td className="num">{r.abandoned}</td>
                <td className="num">{pct(r.answerRate)}</td>
                <td className="num">{pct(r.serviceLevel)}</td>
                <td className="num">{secs(r.asaMs)}</td>
                <td className="num">{secs(r.ahtMs)}</td>
                {by === 'agent' && <td className="num">{pct(r.occupancy ?? null)}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      )}

      {hot && (
        <div className="hotspots" data-testid="hotspots">
          <h3>{t('hotspots')}</h3>
          <div className="hot-cols">
            <table>
              <caption>{t('topCategories')}</caption>
              <tbody>
                {hot.categories.map((c) => (
                  <tr key={c.key}>
                    <td>{c.key}</td>
                    <td className="num">{c.count}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <table>
              <caption>{t('topBusinesses')}</caption>
              <tbody>
                {hot.businesses.map((b) => (
                  <tr key={`${b.key}-${b.creditCode ?? ''}`}>
                    <td>{b.key}</td>
                    <td>{b.creditCode ?? ''}</td>
                    <td className="num">{b.count}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <table className="interview" data-testid="interview-list">
              <caption>
                {t('interviewList')}（≥ {hot.threshold}）
              </caption>
              <tbody>
                {hot.interviewList.map((b) => (
                  <tr key={`${b.key}-${b.creditCode ?? ''}`}>
                    <td>{b.key}</td>
                    <td>{b.creditCode ?? ''}</td>
                    <td className="num">{b.count}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      )}
    </section>
  );
}
