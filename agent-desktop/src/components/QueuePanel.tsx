import { formatDuration } from '../lib/format.js';
import { queueSummary } from '../store/queue.js';
import { useDesktop, useT } from './context.js';

export function QueuePanel() {
  const t = useT();
  const queues = useDesktop((s) => s.queues);
  const memberOf = useDesktop((s) => s.agent?.queues ?? null);
  const sum = queueSummary(queues, memberOf);
  return (
    <aside className="queues" aria-label={t('queues')} data-testid="queues">
      <h2>
        {t('queues')} · {t('waiting')} {sum.waiting}
      </h2>
      {queues.length === 0 ? (
        <p className="muted">{t('noQueues')}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>{t('queue')}</th>
              <th>{t('waiting')}</th>
              <th>{t('longestWait')}</th>
              <th>{t('agentsReady')}</th>
            </tr>
          </thead>
          <tbody>
            {[...sum.mine, ...sum.others].map((q) => (
              <tr key={q.queueId} className={memberOf && q.queueId in memberOf ? 'mine' : ''} data-queue={q.queueId}>
                <td>{q.name}</td>
                <td className={q.waiting > 0 ? 'hot' : ''}>{q.waiting}</td>
                <td>{formatDuration(q.longestWaitMs)}</td>
                <td>{q.agents.ready ?? 0}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </aside>
  );
}
