/**
 * Screen-pop: the caller's cases and calls of the last 12 months (GET /api/cases/screen-pop), with a
 * repeat-caller badge, shown above the case form while the call is offered and talked.
 */
import { useEffect, useState } from 'react';
import { api } from '../lib/api.js';
import { useT } from './context.js';

interface PopCase {
  id: number;
  number: string;
  type: string;
  status: string;
  statusLabel?: string;
  createdAt: string;
  respondentName?: string;
}
export interface ScreenPopData {
  callerNumber: string;
  cases: PopCase[];
  calls: { callId: string; at: string; queue: string; caseId: number | null }[];
  repeatCaller: boolean;
  openCases: number;
}

export function ScreenPop(p: { token: string; phone: string; callId: string | null; onOpen(id: number): void }) {
  const t = useT();
  const [data, setData] = useState<ScreenPopData | null>(null);
  useEffect(() => {
    let cancelled = false;
    const q = new URLSearchParams({ phone: p.phone });
    if (p.callId) q.set('callId', p.callId);
    api<ScreenPopData>('GET', `/api/cases/screen-pop?${q.toString()}`, p.token).then(
      (d) => !cancelled && setData(d),
      () => !cancelled && setData(null),
    );
    return () => {
      cancelled = true;
    };
  }, [p.phone, p.callId, p.token]);
  if (!data) return null;
  return (
    <section className="screen-pop" data-testid="screen-pop" aria-label={t('sp_title')}>
      <h3>
        {t('sp_title')} <span className="muted">{data.callerNumber}</span>
        {data.repeatCaller && (
          <span className="badge warn" data-testid="repeat-caller">
            {t('sp_repeat')}
          </span>
        )}
      </h3>
      {data.cases.length === 0 && data.calls.length === 0 ? (
        <p className="muted">{t('sp_none')}</p>
      ) : (
        <>
          <p className="muted">
            {t('sp_calls', { n: data.calls.length })} · {t('sp_openCases', { n: data.openCases })}
          </p>
          <ul data-testid="screen-pop-cases">
            {data.cases.map((c) => (
              <li key={c.id}>
                <button type="button" className="link" onClick={() => p.onOpen(c.id)}>
                  {c.number}
                </button>{' '}
                {c.statusLabel ?? c.status} · {c.createdAt.slice(0, 10)}
                {c.respondentName ? ` · ${c.respondentName}` : ''}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
