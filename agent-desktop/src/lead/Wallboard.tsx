/** The live wallboard: fed by 'wallboard:update' (≤ 1 s behind); time figures tick locally between pushes. */
import type { WallboardWindow } from '../../../server/api/socket/events.js';
import { useDesktop, useNow, useT } from '../components/context.js';
import { reasonLabel } from '../lib/i18n.js';
import { useLeadT } from './context.js';
import { IntervalChart } from './IntervalChart.js';
import { clock, longestWaitNow, pct, rateTone, sortAgents, timeInStateNow } from './slice.js';

const STATES = ['ready', 'not_ready', 'reserved', 'on_call', 'wrap_up'] as const;
/** Targets for colouring only (80/20 is the usual hotline SL; 接通率 target 90%). */
const SL_TARGET = 0.8;
const AR_TARGET = 0.9;

function WindowFigures({ w, label, testId }: { w: WallboardWindow; label: string; testId: string }) {
  const t = useLeadT();
  return (
    <div className="wb-window" data-testid={testId}>
      <h4>{label}</h4>
      <dl>
        <dt>{t('serviceLevel')}</dt>
        <dd className={`tone-${rateTone(w.serviceLevel, SL_TARGET)}`}>{pct(w.serviceLevel)}</dd>
        <dt>{t('answerRate')}</dt>
        <dd className={`tone-${rateTone(w.answerRate, AR_TARGET)}`}>{pct(w.answerRate)}</dd>
        <dt>{t('offered')}</dt>
        <dd>{w.offered}</dd>
        <dt>{t('answered')}</dt>
        <dd>{w.answered}</dd>
        <dt>{t('abandoned')}</dt>
        <dd>{w.abandoned}</dd>
        <dt>{t('asa')}</dt>
        <dd>{w.asaMs === null ? '—' : clock(w.asaMs)}</dd>
      </dl>
    </div>
  );
}

export function Wallboard() {
  const t = useLeadT();
  const tt = useT();
  const lang = useDesktop((s) => s.lang);
  const wb = useDesktop((s) => s.wallboard);
  const at = useDesktop((s) => s.wallboardAtLocal);
  const now = useNow(500);
  if (!wb) return <p data-testid="wallboard-empty">{t('noData')}</p>;
  const updated = new Date(wb.serverNow).toLocaleTimeString(lang === 'zh' ? 'zh-CN' : 'en-GB', {
    timeZone: 'Asia/Shanghai',
  });
  return (
    <section className="wallboard" data-testid="wallboard" data-server-now={wb.serverNow}>
      <div className="wb-totals card">
        <div className="wb-big">
          <span>{t('waiting')}</span>
          <strong data-testid="wb-total-waiting">{wb.totals.waiting}</strong>
        </div>
        <div className="wb-big">
          <span>{t('longestWait')}</span>
          <strong>{clock(longestWaitNow(wb.totals.longestWaitMs, wb.totals.waiting, at, now))}</strong>
        </div>
        <WindowFigures w={wb.totals.rolling30} label={`${t('totals')} · ${t('rolling30')}`} testId="wb-total-30" />
        <WindowFigures w={wb.totals.today} label={`${t('totals')} · ${t('today')}`} testId="wb-total-today" />
        <small className="wb-updated">{t('updated', { time: updated })}</small>
      </div>

      <table className="wb-queues">
        <thead>
          <tr>
            <th>{t('queue')}</th>
            <th>{t('waiting')}</th>
            <th>{t('longestWait')}</th>
            {STATES.map((s) => (
              <th key={s}>{tt(`state_${s}`)}</th>
            ))}
            <th>
              {t('serviceLevel')} / {t('answerRate')} · {t('rolling30')}
            </th>
            <th>
              {t('serviceLevel')} / {t('answerRate')} · {t('today')}
            </th>
          </tr>
        </thead>
        <tbody>
          {wb.queues.map((q) => (
            <tr key={q.queueId} data-testid={`wb-queue-${q.queueId}`}>
              <th scope="row">{q.name}</th>
              <td className="num" data-testid={`wb-waiting-${q.queueId}`}>
                {q.waiting}
              </td>
              <td className="num">{clock(longestWaitNow(q.longestWaitMs, q.waiting, at, now))}</td>
              {STATES.map((s) => (
                <td key={s} className="num">
                  {q.agents[s]}
                </td>
              ))}
              <td className="num">
                <span className={`tone-${rateTone(q.rolling30.serviceLevel, SL_TARGET)}`}>
                  {pct(q.rolling30.serviceLevel)}
                </span>{' '}
                / {pct(q.rolling30.answerRate)}
              </td>
              <td className="num">
                <span className={`tone-${rateTone(q.today.serviceLevel, SL_TARGET)}`}>{pct(q.today.serviceLevel)}</span>{' '}
                / {pct(q.today.answerRate)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <IntervalChart />

      <h3>{t('agentList')}</h3>
      <table className="wb-agents" data-testid="wb-agents">
        <thead>
          <tr>
            <th>{t('workNo')}</th>
            <th>{t('name')}</th>
            <th>{t('state')}</th>
            <th>{t('timeInState')}</th>
            <th>{t('seat')}</th>
            <th>{t('callsHandled')}</th>
            <th>{t('callQueue')}</th>
          </tr>
        </thead>
        <tbody>
          {sortAgents(wb.agents).map((a) => (
            <tr key={a.agentId} data-testid={`wb-agent-${a.agentId}`} className={`st-${a.state}`}>
              <td>{a.agentId}</td>
              <td>{a.displayName}</td>
              <td data-state={a.state}>
                {tt(`state_${a.state}`)}
                {a.reason ? `（${reasonLabel(lang, a.reason)}）` : ''}
              </td>
              <td className="num" data-testid={`wb-agent-time-${a.agentId}`}>
                {clock(timeInStateNow(a.timeInStateMs, at, now))}
              </td>
              <td>{a.seat ?? '—'}</td>
              <td className="num">{a.callsHandled}</td>
              <td>{a.callQueueId ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
