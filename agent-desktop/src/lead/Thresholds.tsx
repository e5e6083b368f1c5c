/** The SL target and short-abandon threshold of a queue (PUT /api/metrics/thresholds/:queue; they apply to past data too). */
import { useEffect, useState } from 'react';
import { useDesktop } from '../components/context.js';
import { useLead, useLeadT } from './context.js';

export function ThresholdsForm() {
  const lead = useLead();
  const t = useLeadT();
  const queues = useDesktop((s) => s.wallboard?.queues ?? []);
  const [queue, setQueue] = useState('');
  const [sl, setSl] = useState(20);
  const [sab, setSab] = useState(5);
  const qid = queue || queues[0]?.queueId || '';

  useEffect(() => {
    if (!qid) return;
    void lead.run(async () => {
      const r = await lead.thresholds(qid);
      setSl(r.serviceLevelMs / 1000);
      setSab(r.shortAbandonMs / 1000);
    });
  }, [lead, qid]);

  const save = () =>
    void lead.run(async () => {
      await lead.setThresholds(qid, { serviceLevelMs: Math.round(sl * 1000), shortAbandonMs: Math.round(sab * 1000) });
      lead.notify(t('saved'));
    });

  return (
    <form
      className="report-form thresholds"
      data-testid="thresholds"
      onSubmit={(e) => {
        e.preventDefault();
        save();
      }}
    >
      <strong>{t('thresholds')}</strong>
      <label>
        {t('queue')}
        <select value={qid} onChange={(e) => setQueue(e.target.value)}>
          {queues.map((q) => (
            <option key={q.queueId} value={q.queueId}>
              {q.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('slSeconds')}
        <input type="number" min={1} max={3600} value={sl} onChange={(e) => setSl(Number(e.target.value))} />
      </label>
      <label>
        {t('shortAbandonSeconds')}
        <input type="number" min={0} max={120} value={sab} onChange={(e) => setSab(Number(e.target.value))} />
      </label>
      <button type="submit" disabled={!qid}>
        {t('save')}
      </button>
    </form>
  );
}
