import { formatDuration } from '../lib/format.js';
import { NOT_READY_REASONS, reasonLabel } from '../lib/i18n.js';
import { useController, useDesktop, useNow, useT } from './context.js';

/** The agent's state as the server reports it, time in state, and the ready / not-ready switch. */
export function StateBar() {
  const c = useController();
  const t = useT();
  const lang = useDesktop((s) => s.lang);
  const agent = useDesktop((s) => s.agent);
  const since = useDesktop((s) => s.stateSinceLocal);
  const reason = useDesktop((s) => s.notReadyReason);
  const now = useNow(500);
  if (!agent) return null;
  const canChoose = agent.state === 'ready' || agent.state === 'not_ready' || agent.state === 'wrap_up';
  return (
    <section className={`statebar state-${agent.state}`} aria-label={t('timeInState')}>
      <span className="state" data-testid="agent-state" data-state={agent.state}>
        {t(`state_${agent.state}`)}
        {agent.state === 'not_ready' && agent.reason ? ` · ${reasonLabel(lang, agent.reason)}` : ''}
      </span>
      <span className="timer" data-testid="state-timer" title={t('timeInState')}>
        {since !== null ? formatDuration(now - since) : '--:--'}
      </span>
      {agent.seat && <span className="seat">{agent.seat}</span>}
      {agent.pendingNotReady && (
        <span className="pending">{t('pendingNotReady', { reason: reasonLabel(lang, agent.pendingNotReady) })}</span>
      )}
      <span className="spacer" />
      <button
        type="button"
        className={agent.state === 'ready' ? 'active' : ''}
        disabled={!canChoose || agent.state === 'ready'}
        onClick={() => void c.setReady()}
        data-testid="go-ready"
      >
        {t('goReady')}
      </button>
      <select
        aria-label={t('reason')}
        value={reason}
        onChange={(e) => c.store.getState().chooseReason(e.target.value)}
        data-testid="reason"
      >
        {NOT_READY_REASONS.map((r) => (
          <option key={r} value={r}>
            {reasonLabel(lang, r)}
          </option>
        ))}
      </select>
      <button
        type="button"
        disabled={agent.state === 'offline'}
        onClick={() => void c.setNotReady()}
        data-testid="go-not-ready"
      >
        {t('goNotReady')}
      </button>
      <button type="button" onClick={() => void c.signOut()} disabled={agent.state === 'offline'}>
        {t('signOut')}
      </button>
    </section>
  );
}
