/** 12315 knowledge base search beside the case form (GET /api/kb/search?q=), debounced while typing. */
import { useEffect, useState } from 'react';
import { api } from '../lib/api.js';
import { useT } from './context.js';

interface KbHit {
  id: number;
  kind: string;
  title: string;
  source: string;
  snippet: string;
}

export function CaseFormKb(p: { token: string }) {
  const t = useT();
  const [q, setQ] = useState('');
  const [hits, setHits] = useState<KbHit[] | null>(null);
  useEffect(() => {
    const query = q.trim();
    if (!query) {
      setHits(null);
      return;
    }
    let cancelled = false;
    const timer = setTimeout(() => {
      api<{ items: KbHit[] }>('GET', `/api/kb/search?q=${encodeURIComponent(query)}`, p.token).then(
        (r) => !cancelled && setHits(r.items),
        () => !cancelled && setHits([]),
      );
    }, 250);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [q, p.token]);
  return (
    <section className="kb-panel" data-testid="kb-panel" aria-label={t('kb_title')}>
      <h3>{t('kb_title')}</h3>
      <input
        type="search"
        data-testid="kb-search"
        placeholder={t('kb_search')}
        value={q}
        maxLength={100}
        onChange={(e) => setQ(e.target.value)}
      />
      {hits && hits.length === 0 && <p className="muted">{t('kb_none')}</p>}
      {hits && hits.length > 0 && (
        <ul data-testid="kb-results">
          {hits.map((h) => (
            <li key={h.id}>
              <strong>{h.title}</strong> <span className="muted">{h.source}</span>
              <p>{h.snippet}</p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
