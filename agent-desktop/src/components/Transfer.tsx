import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../lib/api.js';
import type { WarmTransfer } from '../store/conference.js';
import { useController, useDesktop, useT } from './context.js';

type Kind = WarmTransfer['target']['kind'];
type Mode = 'cold' | 'warm';

/**
 * 转接: to an agent, a queue or a number; cold (the consumer goes at once and this agent wraps up) or
 * warm (the consumer hears hold music while the agent talks to the target, then 完成转接 or 取消转接).
 * Routes: POST /api/calls/{id}/transfer, /transfer/complete, /transfer/cancel.
 */
export function TransferPanel() {
  const c = useController();
  const t = useT();
  const token = useDesktop((s) => s.token);
  const callId = useDesktop((s) => s.offer?.callId ?? s.agent?.callId ?? null);
  const queues = useDesktop((s) => s.queues);
  const busy = useDesktop((s) => s.transferBusy);
  const error = useDesktop((s) => s.transferError);
  const warm = useDesktop((s) => (s.warmTransfer && s.warmTransfer.callId === callId ? s.warmTransfer : null));
  const [kind, setKind] = useState<Kind>('queue');
  const [value, setValue] = useState('');
  const [mode, setMode] = useState<Mode>('cold');
  if (!callId) return null;
  const st = c.store.getState;
  const url = (suffix = '') => `/api/calls/${encodeURIComponent(callId)}/transfer${suffix}`;
  const call = async (fn: () => Promise<unknown>): Promise<boolean> => {
    st().transferStarted();
    try {
      await fn();
      st().transferFinished(null);
      return true;
    } catch (err) {
      st().transferFinished(err instanceof ApiError || err instanceof Error ? err.message : String(err));
      return false;
    }
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const target = { kind, value: value.trim() };
    if (!(await call(() => api('POST', url(), token, { target, mode })))) return;
    if (mode === 'warm') st().warmTransferStarted({ callId, target });
    else {
      st().notify('info', t('transferDone'));
      st().openPanel(null);
    }
  };
  const finish = async (suffix: '/complete' | '/cancel') => {
    if (!(await call(() => api('POST', url(suffix), token)))) return;
    st().warmTransferFinished();
    if (suffix === '/complete') st().openPanel(null);
  };

  if (warm) {
    const label =
      warm.target.kind === 'queue'
        ? (queues.find((q) => q.queueId === warm.target.value)?.name ?? warm.target.value)
        : warm.target.value;
    return (
      <div className="transfer" data-testid="warm-transfer">
        <p>{t('transferConsulting', { target: label })}</p>
        <button type="button" className="primary" disabled={busy} onClick={() => void finish('/complete')}>
          {t('transferComplete')}
        </button>
        <button type="button" disabled={busy} onClick={() => void finish('/cancel')}>
          {t('transferCancel')}
        </button>
        {error && (
          <p className="error" role="alert" data-testid="transfer-error">
            {error}
          </p>
        )}
      </div>
    );
  }
  return (
    <form className="transfer" onSubmit={submit} aria-label={t('transfer')} data-testid="transfer-form">
      <label>
        {t('transferTo')}
        <select
          value={kind}
          onChange={(e) => {
            setKind(e.target.value as Kind);
            setValue('');
          }}
        >
          <option value="queue">{t('transferQueue')}</option>
          <option value="agent">{t('transferAgent')}</option>
          <option value="number">{t('transferNumber')}</option>
        </select>
      </label>
      {kind === 'queue' ? (
        <select value={value} onChange={(e) => setValue(e.target.value)} required aria-label={t('transferQueue')}>
          <option value="" />
          {queues.map((q) => (
            <option key={q.queueId} value={q.queueId}>
              {q.name}
            </option>
          ))}
        </select>
      ) : (
        <input
          value={value}
          onChange={(e) => setValue(e.target.value)}
          required
          pattern={kind === 'number' ? '[0-9+]{3,20}' : '.{1,32}'}
          aria-label={kind === 'agent' ? t('transferAgent') : t('transferNumber')}
        />
      )}
      <select value={mode} onChange={(e) => setMode(e.target.value as Mode)} aria-label={t('transfer')}>
        <option value="cold">{t('transferCold')}</option>
        <option value="warm">{t('transferWarm')}</option>
      </select>
      <button type="submit" className="primary" disabled={busy}>
        {t('transferGo')}
      </button>
      <button type="button" onClick={() => st().openPanel(null)}>
        {t('cancel')}
      </button>
      {error && (
        <p className="error" role="alert" data-testid="transfer-error">
          {error}
        </p>
      )}
    </form>
  );
}
