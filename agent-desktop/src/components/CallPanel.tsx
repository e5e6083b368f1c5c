import { callerForDisplay, formatDuration } from '../lib/format.js';
import { CallPhase } from '../store/call-machine.js';
import { useController, useDesktop, useNow, useT } from './context.js';
import { ThreeWayPanel } from './ThreeWay.js';
import { TransferPanel } from './Transfer.js';

const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];

export function CallPanel() {
  const c = useController();
  const t = useT();
  const phase = useDesktop((s) => s.phase);
  const offer = useDesktop((s) => s.offer);
  const sip = useDesktop((s) => s.sip);
  const role = useDesktop((s) => s.user?.role ?? 'agent');
  const answeredAt = useDesktop((s) => s.answeredAt);
  const muted = useDesktop((s) => s.muted);
  const panel = useDesktop((s) => s.panel);
  const now = useNow(500);
  // After 离开 the agent's leg is gone but consumer and station still talk: keep 重新加入/全部挂断 at hand.
  const away = useDesktop((s) => s.conference?.state === 'agent_left');
  if (phase !== CallPhase.Answering && phase !== CallPhase.Connected && phase !== CallPhase.Held) {
    return away ? <ThreeWayPanel /> : null;
  }
  const held = phase === CallPhase.Held;
  const live = phase !== CallPhase.Answering;
  const toggle = (p: 'dialpad' | 'transfer') => c.store.getState().openPanel(panel === p ? null : p);
  return (
    <section className="call" aria-label={t('talkTime')} data-testid="call-panel" data-phase={phase}>
      <div className="call-head">
        <span className="caller">{callerForDisplay(offer?.consumer ?? sip?.remote ?? null, role, true) ?? '—'}</span>
        {offer && <span className="queue">{offer.queueName}</span>}
        <span className="timer" data-testid="talk-timer">
          {answeredAt !== null ? formatDuration(now - answeredAt) : t('answering')}
        </span>
        {held && <span className="pill held">{t('onHold')}</span>}
      </div>
      <div className="controls">
        <button type="button" disabled={!live} onClick={() => c.toggleHold()} data-testid="hold">
          {held ? t('resume') : t('hold')} (F6)
        </button>
        <button type="button" disabled={!live} onClick={() => c.toggleMute()} className={muted ? 'active' : ''}>
          {muted ? t('unmute') : t('mute')} (F7)
        </button>
        <button type="button" disabled={!live} onClick={() => toggle('dialpad')}>
          {t('dialpad')} (F8)
        </button>
        <button type="button" disabled={!live} onClick={() => toggle('transfer')}>
          {t('transfer')} (F9)
        </button>
        <button type="button" className="danger" onClick={() => c.hangup()} data-testid="hangup">
          {t('hangup')} (F4)
        </button>
      </div>
      {panel === 'dialpad' && live && <DialPad />}
      {panel === 'transfer' && live && <TransferPanel />}
      {live && <ThreeWayPanel />}
    </section>
  );
}

function DialPad() {
  const c = useController();
  const t = useT();
  const sent = useDesktop((s) => s.dtmfSent);
  return (
    <div className="dialpad" aria-label={t('dialpad')}>
      {KEYS.map((k) => (
        <button type="button" key={k} onClick={() => c.dtmf(k)}>
          {k}
        </button>
      ))}
      <div className="sent">{sent ? t('dtmfSent', { d: sent }) : ''}</div>
    </div>
  );
}
