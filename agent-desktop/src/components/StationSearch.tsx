import { useEffect, useState } from 'react';
import { api } from '../lib/api.js';
import type { ChosenStation } from '../store/conference.js';
import { useDesktop, useT } from './context.js';
import './StationSearch.css';

/** A station as GET /api/merchants/search returns it (the fields the agent needs to choose). */
export interface StationHit {
  id: number;
  name: string;
  areaName: string;
  extension: string | null;
  externalNumber: string | null;
  openNow: boolean;
  /** 0 same credit code, 1 same name, 2 similar name as the case's respondent. */
  respondentMatch: 0 | 1 | 2 | null;
}

/**
 * Station picker for the three-way call. With the call's case open, the server ranks the respondent's
 * own stations first, so before typing anything the agent already sees the likely one.
 */
export function StationSearch({
  selected,
  onSelect,
}: {
  selected: ChosenStation | null;
  onSelect: (s: ChosenStation) => void;
}) {
  const t = useT();
  const token = useDesktop((s) => s.token);
  const caseId = useDesktop((s) => s.caseRecord?.id ?? null);
  const [q, setQ] = useState('');
  const [hits, setHits] = useState<StationHit[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    // Debounced: a search per pause in typing, not per key.
    const timer = setTimeout(() => {
      const params = new URLSearchParams({ limit: '8' });
      if (q.trim()) params.set('q', q.trim());
      if (caseId !== null) params.set('caseId', String(caseId));
      api<{ items: StationHit[] }>('GET', `/api/merchants/search?${params}`, token)
        .then((r) => {
          if (!live) return;
          setHits(r.items);
          setError(null);
          // The respondent's own station is preselected when nothing was chosen yet.
          const first = r.items[0];
          if (!selected && first && first.respondentMatch !== null) onSelect({ id: first.id, name: first.name });
        })
        .catch((err: Error) => live && setError(err.message));
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
    // `selected`/`onSelect` only steer the preselection; a new search is for new text or a new case.
  }, [q, caseId, token]);

  return (
    <div className="station-search" data-testid="station-search">
      <input
        type="search"
        value={q}
        onChange={(e) => setQ(e.target.value)}
        placeholder={t('stationSearch')}
        aria-label={t('stationSearch')}
      />
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <ul role="listbox" aria-label={t('party_station')}>
        {hits.length === 0 && !error && <li className="muted">{t('stationNone')}</li>}
        {hits.map((h) => (
          <li
            key={h.id}
            role="option"
            aria-selected={selected?.id === h.id}
            className={selected?.id === h.id ? 'selected' : ''}
            onClick={() => onSelect({ id: h.id, name: h.name })}
            data-testid={`station-${h.id}`}
          >
            <strong>{h.name}</strong> <span className="muted">{h.areaName}</span>
            {h.respondentMatch !== null && <span className="pill">{t('stationRespondent')}</span>}
            {!h.openNow && <span className="pill held">{t('stationClosed')}</span>}
          </li>
        ))}
      </ul>
    </div>
  );
}
