import { useState } from 'react';
import { api, ApiError } from '../lib/api.js';
import { threeWayActions, type ChosenStation } from '../store/conference.js';
import { useController, useDesktop, useT } from './context.js';
import { StationSearch } from './StationSearch.js';

type Action = 'join' | 'leave' | 'rejoin' | 'end';

/** Call-control routes (server/api/routes/calls.ts) for each button. */
const ACTION_PATH: Record<Action, string> = {
  join: 'three-way/join',
  leave: 'leave',
  rejoin: 'rejoin',
  end: 'end',
};

function messageOf(err: unknown): string {
  return err instanceof ApiError || err instanceof Error ? err.message : String(err);
}

/**
 * 三方通话 with a merchant station: pick the station, ring it (private consult first), then 合并通话,
 * 离开 (consumer and station keep talking), 重新加入, 全部挂断. The state shown is the server's
 * (`call:conference`); buttons only send requests.
 */
export function ThreeWayPanel() {
  const c = useController();
  const t = useT();
  const token = useDesktop((s) => s.token);
  // The live call, or a three-way still going on: after 离开 the agent's leg ended, and a seat rung back
  // by 重新加入 has no ACD offer, yet the panel belongs to that call.
  const callId = useDesktop(
    (s) =>
      s.offer?.callId ??
      s.agent?.callId ??
      (s.conference && threeWayActions(s.conference.state).end ? s.conference.callId : null),
  );
  const caseId = useDesktop((s) => s.caseRecord?.id ?? null);
  const conf = useDesktop((s) => (s.conference && s.conference.callId === callId ? s.conference : null));
  const station = useDesktop((s) => s.threeWayStation);
  const busy = useDesktop((s) => s.threeWayBusy);
  const error = useDesktop((s) => s.threeWayError);
  const [chosen, setChosen] = useState<ChosenStation | null>(null);
  if (!callId) return null;
  const can = threeWayActions(conf?.state ?? null);
  const st = c.store.getState;

  const start = async () => {
    if (!chosen) {
      st().threeWayAnswered(t('stationChoose'));
      return;
    }
    st().threeWayRequested();
    try {
      await api('POST', `/api/calls/${encodeURIComponent(callId)}/three-way`, token, { station: String(chosen.id) });
      // The station's portal shows this case (consumer masked) while its phone rings.
      await api('POST', `/api/merchants/${chosen.id}/calls`, token, { callId, caseId }).catch((err: Error) =>
        st().notify('error', err.message),
      );
      st().threeWayAnswered(null, chosen);
    } catch (err) {
      st().threeWayAnswered(messageOf(err));
    }
  };
  const run = async (a: Action) => {
    st().threeWayRequested();
    try {
      await api('POST', `/api/calls/${encodeURIComponent(callId)}/${ACTION_PATH[a]}`, token);
      st().threeWayAnswered(null);
    } catch (err) {
      st().threeWayAnswered(messageOf(err));
    }
  };

  return (
    <section className="three-way" aria-label={t('threeWay')} data-testid="three-way" data-state={conf?.state ?? ''}>
      <div className="call-head">
        <strong>{t('threeWay')}</strong>
        {station && <span>{station.name}</span>}
        {conf && (
          <span className={`pill conf-${conf.state}`} data-testid="conference-state">
            {t(`conf_${conf.state}`)}
          </span>
        )}
        {conf && conf.parties.length > 0 && (
          <span className="parties" data-testid="conference-parties">
            {conf.parties.map((p) => `${t(`party_${p.role}`)}${p.name ? `（${p.name}）` : ''}`).join(' · ')}
          </span>
        )}
      </div>
      {can.start && <StationSearch selected={chosen} onSelect={setChosen} />}
      <div className="controls">
        {can.start && (
          <button type="button" className="primary" disabled={busy || !chosen} onClick={() => void start()}>
            {t('threeWayStart')}
          </button>
        )}
        <button type="button" disabled={busy || !can.join} onClick={() => void run('join')}>
          {t('threeWayJoin')}
        </button>
        <button type="button" disabled={busy || !can.leave} onClick={() => void run('leave')}>
          {t('threeWayLeave')}
        </button>
        <button type="button" disabled={busy || !can.rejoin} onClick={() => void run('rejoin')}>
          {t('threeWayRejoin')}
        </button>
        <button type="button" className="danger" disabled={busy || !can.end} onClick={() => void run('end')}>
          {t('threeWayEnd')}
        </button>
      </div>
      {error && (
        <p className="error" role="alert" data-testid="three-way-error">
          {error}
        </p>
      )}
    </section>
  );
}
