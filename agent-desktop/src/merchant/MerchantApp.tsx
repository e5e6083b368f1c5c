import { createContext, useContext, useEffect, useState, type FormEvent } from 'react';
import { useStore } from 'zustand';
import { mt, type MerchantKey } from './i18n.js';
import type { FieldError, MerchantPortal, OutcomeForm } from './portal.js';
import type { CurrentCall, MerchantState } from './store.js';

export const PortalContext = createContext<MerchantPortal | null>(null);

function usePortal(): MerchantPortal {
  const p = useContext(PortalContext);
  if (!p) throw new Error('MerchantPortal missing');
  return p;
}

function useM<T>(sel: (s: MerchantState) => T): T {
  return useStore(usePortal().store, sel);
}

function useT(): (k: MerchantKey, p?: Record<string, string | number>) => string {
  const lang = useM((s) => s.lang);
  return (k, p) => mt(lang, k, p);
}

export function MerchantApp() {
  const t = useT();
  const token = useM((s) => s.token);
  const lang = useM((s) => s.lang);
  useEffect(() => {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    document.title = t('title');
  }, [lang, t]);
  return (
    <>
      <Header />
      <Notice />
      <main className={token ? 'desk merchant' : 'center'}>{token ? <Desk /> : <Login />}</main>
    </>
  );
}

function Header() {
  const p = usePortal();
  const t = useT();
  const user = useM((s) => s.user);
  const station = useM((s) => s.station);
  const phone = useM((s) => s.phone);
  const lang = useM((s) => s.lang);
  return (
    <header className="topbar">
      <strong>{t('title')}</strong>
      {station && (
        <span className={`pill reg-${phone === 'off' ? 'unregistered' : phone}`} data-testid="phone-status">
          {t(`phone_${phone}`)} · {station.extension ?? ''}
        </span>
      )}
      <span className="spacer" />
      {station && <span className="user">{station.name}</span>}
      {!station && user && <span className="user">{user.displayName}</span>}
      <button type="button" onClick={() => p.store.setState({ lang: lang === 'zh' ? 'en' : 'zh' })}>
        {t('language')}
      </button>
      {user && (
        <button type="button" onClick={() => void p.logout()}>
          {t('logout')}
        </button>
      )}
    </header>
  );
}

function Notice() {
  const p = usePortal();
  const t = useT();
  const notice = useM((s) => s.notice);
  if (!notice) return null;
  return (
    <div className={`notice notice-${notice.kind}`} role="alert" data-testid="notice">
      <span>{notice.text}</span>
      <button type="button" onClick={() => p.store.setState({ notice: null })} aria-label={t('dismiss')}>
        ×
      </button>
    </div>
  );
}

function Login() {
  const p = usePortal();
  const t = useT();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    await p.login(username.trim(), password);
    setBusy(false);
  };
  return (
    <form className="card login" onSubmit={submit} aria-label={t('login')}>
      <h1>{t('title')}</h1>
      <label>
        {t('username')}
        <input
          autoComplete="username"
          autoFocus
          required
          value={username}
          onChange={(e) => setUsername(e.target.value)}
        />
      </label>
      <label>
        {t('password')}
        <input
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </label>
      <button type="submit" className="primary" disabled={busy}>
        {busy ? t('loggingIn') : t('login')}
      </button>
    </form>
  );
}

function Desk() {
  const t = useT();
  const current = useM((s) => s.current);
  const recorded = useM((s) => s.recorded);
  return (
    <div className="work">
      <CallBar />
      {recorded && <Recorded />}
      {!current && !recorded && (
        <p className="card muted" data-testid="merchant-waiting">
          {t('waiting')}
        </p>
      )}
      {current && <CaseCard call={current} />}
      {current?.summary && <OutcomeFormView key={current.callId} />}
    </div>
  );
}

function CallBar() {
  const p = usePortal();
  const t = useT();
  const callState = useM((s) => s.callState);
  const ended = useM((s) => s.current?.ended ?? false);
  if (callState === 'idle') {
    return ended ? <p className="card">{t('callEnded')}</p> : null;
  }
  return (
    <section className="call" data-testid="merchant-call" data-state={callState}>
      <div className="call-head">
        <span className="caller">{callState === 'ringing' ? t('ringing') : t('talking')}</span>
      </div>
      <div className="controls">
        {callState === 'ringing' && (
          <button type="button" className="primary" onClick={() => p.phone.answer()}>
            {t('answer')}
          </button>
        )}
        <button type="button" className="danger" onClick={() => p.phone.hangup()}>
          {t('hangup')}
        </button>
      </div>
    </section>
  );
}

function CaseCard({ call }: { call: CurrentCall }) {
  const t = useT();
  const s = call.summary;
  if (!s) return <p className="card">{t('noCase')}</p>;
  const row = (k: MerchantKey, v: string, id?: string) => (
    <>
      <dt>{t(k)}</dt>
      <dd data-testid={id}>{v || '—'}</dd>
    </>
  );
  return (
    <section className="card" aria-label={t('caseSummary')} data-testid="case-summary">
      <h2>{t('caseSummary')}</h2>
      <dl className="summary">
        {row('caseNumber', s.number, 'case-number')}
        {row('caseType', s.typeLabel)}
        {row('caseStatus', s.statusLabel, 'case-status')}
        {row('consumer', `${s.consumer.name} ${s.consumer.phone}`.trim(), 'consumer')}
        {row('respondent', s.respondentName)}
        {row('area', s.areaName)}
        {row('amountInDispute', s.amount === null ? '' : `${s.amount.toFixed(2)} ${t('yuan')}`)}
        {row('request', s.request)}
        {row('description', s.description)}
      </dl>
    </section>
  );
}

const REMEDIES = ['refund', 'repair', 'exchange', 'other'] as const;

function OutcomeFormView() {
  const p = usePortal();
  const t = useT();
  const [result, setResult] = useState<OutcomeForm['result']>('succeeded');
  const [remedy, setRemedy] = useState<OutcomeForm['remedy']>('refund');
  const [amount, setAmount] = useState('');
  const [deadline, setDeadline] = useState('');
  const [notes, setNotes] = useState('');
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [busy, setBusy] = useState(false);
  const errorOf = (f: string) => errors.find((e) => e.field === f)?.message;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    const res = await p.recordOutcome({
      result,
      remedy,
      amount: amount.trim() === '' ? null : Number(amount),
      deadline: deadline || null,
      notes,
    });
    setBusy(false);
    if (res) setErrors(res);
  };
  const fieldError = (f: string) =>
    errorOf(f) ? (
      <span className="error" role="alert" data-testid={`error-${f}`}>
        {errorOf(f)}
      </span>
    ) : null;
  return (
    <form className="card outcome" onSubmit={submit} aria-label={t('outcome')} data-testid="outcome-form">
      <h2>{t('outcome')}</h2>
      <fieldset>
        <legend>{t('result')}</legend>
        {(['succeeded', 'terminated'] as const).map((r) => (
          <label key={r}>
            <input type="radio" name="result" value={r} checked={result === r} onChange={() => setResult(r)} />
            {t(`result_${r}`)}
          </label>
        ))}
      </fieldset>
      <label>
        {t('remedy')}
        <select
          value={remedy ?? ''}
          onChange={(e) => setRemedy((e.target.value || null) as OutcomeForm['remedy'])}
          aria-label={t('remedy')}
        >
          {result === 'terminated' && <option value="" />}
          {REMEDIES.map((r) => (
            <option key={r} value={r}>
              {t(`remedy_${r}`)}
            </option>
          ))}
        </select>
        {fieldError('remedy')}
      </label>
      <label>
        {t('amount')}
        <input type="number" min="0" step="0.01" value={amount} onChange={(e) => setAmount(e.target.value)} />
        {fieldError('amount')}
      </label>
      <label>
        {t('deadline')}
        <input type="date" value={deadline} onChange={(e) => setDeadline(e.target.value)} />
        {fieldError('deadline')}
      </label>
      <label>
        {result === 'terminated' ? t('notesTerminated') : t('notes')}
        <textarea value={notes} maxLength={1000} onChange={(e) => setNotes(e.target.value)} />
        {fieldError('notes')}
      </label>
      <button type="submit" className="primary" disabled={busy}>
        {busy ? t('submitting') : t('submit')}
      </button>
    </form>
  );
}

function Recorded() {
  const p = usePortal();
  const t = useT();
  const r = useM((s) => s.recorded)!;
  const result = t(r.result === 'succeeded' ? 'result_succeeded' : 'result_terminated');
  return (
    <p className="card notice-info" role="status" data-testid="outcome-recorded">
      {r.applied ? t('recorded', { result, status: r.status }) : t('notApplied', { status: r.status })}{' '}
      <button type="button" onClick={() => void p.dismiss()}>
        {t('dismiss')}
      </button>
    </p>
  );
}
