/**
 * The live case form (issue 6), plugged into CaseFormSlot. It opens the draft the server made when the
 * call was offered (caller, IVR choice → type, queue, call id), autosaves every change over socket.io
 * (`/cases` namespace, multiplexed on the desktop's connection) within 2 s, shows version conflicts,
 * splits a contact into two linked cases and refuses to register an incomplete case with field errors.
 */
import { useEffect, useRef, useState } from 'react';
import { io, type Socket } from 'socket.io-client';
import { checkCreditCode, CREDIT_CODE_MESSAGES, normalizeCreditCode } from '../../../server/cases/credit-code.js';
import { api, ApiError } from '../lib/api.js';
import type { MsgKey } from '../lib/i18n.js';
import {
  caseValue,
  type CaseEditValue,
  type CaseFieldError,
  type CaseSlice,
  type CaseTypeCode,
  type CaseView,
} from '../store/case.js';
import { CallPhase } from '../store/call-machine.js';
import type { CaseFormProps } from './CaseFormSlot.js';
import { CaseFormKb } from './CaseFormKb.js';
import { useController, useDesktop, useT } from './context.js';
import { ScreenPop } from './ScreenPop.js';

/** Autosave: wait this long after the last keystroke, but never longer than MAX_WAIT after the first. */
export const SAVE_DEBOUNCE_MS = 500;
export const SAVE_MAX_WAIT_MS = 1500;
const CURRENT_KEY = 'hotline12315.case.current';
const TYPES: CaseTypeCode[] = ['complaint', 'report', 'consultation', 'suggestion'];

interface Ack<T> {
  ok: boolean;
  data?: T;
  error?: string;
  message?: string;
  fieldErrors?: CaseFieldError[];
  currentVersion?: number;
  changes?: unknown;
}
interface TreeNode {
  code: string;
  name: string;
  children?: TreeNode[];
}
interface Meta {
  categories: TreeNode[];
  problemTypes: { code: string; name: string }[];
}

/** Whether the audit entries since our version (409 `changes`) touched any of these fields. */
function touchesAny(since: unknown, fields: string[]): boolean {
  if (!Array.isArray(since)) return true;
  const mine = new Set(fields);
  return since.some((e) =>
    Object.keys((e as { changes?: Record<string, unknown> }).changes ?? {}).some(
      (f) => mine.has(f) || f === 'type' || f === 'status',
    ),
  );
}

function request<T>(sock: Socket, event: string, payload: unknown, timeoutMs = 8000): Promise<Ack<T>> {
  return new Promise((resolve) => {
    sock.timeout(timeoutMs).emit(event, payload, (err: Error | null, r: Ack<T>) => {
      resolve(err ? { ok: false, error: 'timeout', message: '服务器无响应，稍后自动重试' } : r);
    });
  });
}

/** The form's own look, kept with it (styles.css belongs to the desktop shell). */
const CASE_FORM_CSS = `
.case-form fieldset { border: 1px solid #ddd; border-radius: 4px; margin: 0 0 8px; padding: 6px 10px; }
.case-form legend { font-weight: 600; font-size: 13px; }
.case-form .field { display: grid; grid-template-columns: 9em 1fr; gap: 4px 8px; align-items: start; margin: 4px 0; }
.case-form .field.area select, .case-form .field select + select { margin-left: 4px; }
.case-form .field input, .case-form .field textarea, .case-form .field select { font: inherit; }
.case-form .field.invalid input, .case-form .field.invalid textarea, .case-form .field.invalid select { border: 1px solid #c62828; background: #fff5f5; }
.case-form .field-error { grid-column: 2; color: #c62828; font-style: normal; font-size: 12px; }
.case-form .field-ok { grid-column: 2; color: #2e7d32; font-style: normal; font-size: 12px; }
.case-form .case-head { display: flex; flex-wrap: wrap; gap: 12px; margin-bottom: 8px; font-size: 13px; }
.case-form .save-state { margin-left: auto; color: #666; }
.case-form .save-conflict, .case-form .save-error { color: #c62828; font-weight: 600; }
.case-form .save-saved { color: #2e7d32; }
.case-form .case-actions { display: flex; gap: 8px; align-items: center; margin: 8px 0; }
.case-form .badge.warn { background: #ff8f00; color: #fff; border-radius: 8px; padding: 0 6px; margin-left: 6px; font-size: 12px; }
.case-form .screen-pop, .case-form .kb-panel { background: #fafafa; border: 1px solid #eee; border-radius: 4px; padding: 6px 10px; margin: 8px 0; }
.case-form .screen-pop h3, .case-form .kb-panel h3 { margin: 0 0 4px; font-size: 14px; }
.case-form button.link { background: none; border: none; color: #1565c0; padding: 0; cursor: pointer; text-decoration: underline; }
`;

export function CaseForm(props: CaseFormProps) {
  const c = useController();
  const t = useT();
  const store = c.store;
  const rec = useDesktop((s) => s.caseRecord);
  const saveState = useDesktop((s) => s.caseSave);
  const conflict = useDesktop((s) => s.caseConflict);
  const fieldErrors = useDesktop((s) => s.caseFieldErrors);
  const caseError = useDesktop((s) => s.caseError);
  // Re-render on every edit so fields show pending values.
  useDesktop((s) => s.caseEdits);
  useDesktop((s) => s.caseInFlight);
  const [sock, setSock] = useState<Socket | null>(null);
  const [meta, setMeta] = useState<Meta | null>(null);
  const [info, setInfo] = useState<string | null>(null);
  const [linked, setLinked] = useState<{ id: number; number: string } | null>(null);

  // One socket per login; socket.io multiplexes the namespace onto the desktop's connection.
  useEffect(() => {
    const s = io('/cases', { path: '/socket.io', auth: { token: props.token }, transports: ['websocket', 'polling'] });
    setSock(s);
    return () => {
      s.close();
    };
  }, [props.token]);

  useEffect(() => {
    api<Meta>('GET', '/api/case-meta', props.token).then(setMeta, () => setMeta(null));
  }, [props.token]);

  // Which case: the call's draft, else the one open before a reload.
  useEffect(() => {
    if (!sock) return;
    let cancelled = false;
    const load = async () => {
      for (let attempt = 0; attempt < 10 && !cancelled; attempt++) {
        let r: Ack<CaseView>;
        if (props.callId) r = await request<CaseView>(sock, 'case:by_call', { callId: props.callId });
        else {
          const id = Number(sessionStorage.getItem(CURRENT_KEY));
          if (!id) return;
          r = await request<CaseView>(sock, 'case:get', { id });
        }
        if (cancelled) return;
        if (r.ok && r.data) {
          open(r.data);
          return;
        }
        if (r.error === 'not_found' && !props.callId) {
          sessionStorage.removeItem(CURRENT_KEY);
          return;
        }
        // The draft is written when the call is offered; a moment's wait covers the race with the socket.
        await new Promise((res) => setTimeout(res, 300));
      }
    };
    const open = (cv: CaseView) => {
      sessionStorage.setItem(CURRENT_KEY, String(cv.id));
      store.getState().caseLoaded(cv);
      void request(sock, 'case:watch', { id: cv.id });
    };
    void load();
    return () => {
      cancelled = true;
    };
  }, [sock, props.callId, store]);

  // After a reconnect the room membership is gone: watch again.
  useEffect(() => {
    if (!sock) return;
    const onConnect = () => {
      const id = store.getState().caseRecord?.id;
      if (id) void request(sock, 'case:watch', { id });
    };
    const onSaved = (ev: { id: number; version: number; by: string }) => {
      const s = store.getState();
      if (!s.caseRecord || s.caseRecord.id !== ev.id || ev.version <= s.caseRecord.version) return;
      const dirty = Object.keys(s.caseEdits).length > 0 || s.caseInFlight !== null;
      if (!dirty) {
        // Nothing of ours at stake: take the other editor's version quietly.
        void request<CaseView>(sock, 'case:get', { id: ev.id }).then((r) => {
          if (r.ok && r.data) store.getState().caseRebase(r.data);
        });
      } else s.caseRemoteSaved(ev);
    };
    sock.on('connect', onConnect);
    sock.on('case:saved', onSaved);
    return () => {
      sock.off('connect', onConnect);
      sock.off('case:saved', onSaved);
    };
  }, [sock, store]);

  // Autosave loop: debounce, bounded wait, one save in flight, retry on transport errors.
  const firstPendingAt = useRef<number | null>(null);
  useEffect(() => {
    if (!sock) return;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const flush = async () => {
      timer = null;
      firstPendingAt.current = null;
      const req = store.getState().caseSaveBegin();
      if (!req) return;
      const mine = Object.keys(store.getState().caseInFlight ?? {});
      const r = await request<CaseView>(sock, 'case:save', req);
      if (r.ok && r.data) store.getState().caseSaveDone(r.data);
      else if (r.error === 'version_conflict' && !touchesAny(r.changes, mine)) {
        // Someone (or the call flow: a link, a re-offer) changed other fields: not a conflict for
        // this agent's edits. Take the fresh copy and send the same edits on top of it.
        const fresh = await request<CaseView>(sock, 'case:get', { id: req.id });
        store.getState().caseSaveFailed({ error: 'retry', message: '' });
        if (fresh.ok && fresh.data) store.getState().caseRebase(fresh.data);
        store.setState({ caseError: null, caseFieldErrors: [] });
      } else {
        store.getState().caseSaveFailed({
          error: r.error ?? 'internal',
          message: r.message ?? '保存失败',
          fieldErrors: r.fieldErrors,
          currentVersion: r.currentVersion,
        });
        // Lost connection or timeout: the edits are back as pending; try again shortly.
        if (r.error === 'timeout' || r.error === 'internal') setTimeout(() => schedule(store.getState()), 1000);
      }
      schedule(store.getState());
    };
    const schedule = (s: CaseSlice) => {
      if (s.caseSave !== 'pending' && s.caseSave !== 'error') return;
      if (Object.keys(s.caseEdits).length === 0 || s.caseInFlight || s.caseConflict) return;
      if (s.caseSave === 'error' && s.caseFieldErrors.length) return; // wait for the agent to fix the field
      const now = Date.now();
      firstPendingAt.current ??= now;
      const wait = Math.max(0, Math.min(SAVE_DEBOUNCE_MS, firstPendingAt.current + SAVE_MAX_WAIT_MS - now));
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void flush(), wait);
    };
    const unsub = store.subscribe((s, prev) => {
      if (s.caseEdits !== prev.caseEdits || s.caseSave !== prev.caseSave) schedule(s);
    });
    schedule(store.getState());
    return () => {
      unsub();
      if (timer) clearTimeout(timer);
    };
  }, [sock, store]);

  if (!rec) {
    return (
      <div className="case-form" data-testid="case-form-empty">
        <p className="muted">{props.callId ? t('cf_loading') : t('caseFormPlaceholder')}</p>
        {!props.callId && (
          <button
            type="button"
            data-testid="case-new"
            onClick={() => {
              void api<CaseView>('POST', '/api/cases', props.token, { type: 'complaint', draft: true }).then((cv) => {
                sessionStorage.setItem(CURRENT_KEY, String(cv.id));
                store.getState().caseLoaded(cv);
                if (sock) void request(sock, 'case:watch', { id: cv.id });
              });
            }}
          >
            {t('cf_newCase')}
          </button>
        )}
      </div>
    );
  }

  const s = store.getState();
  const val = (f: string) => caseValue(s, f);
  const str = (f: string) => {
    const v = val(f);
    return v === null ? '' : String(v);
  };
  const edit = (f: string, v: CaseEditValue) => store.getState().caseEdit(f, v);
  const errOf = (f: string) => fieldErrors.find((e) => e.field === f)?.message;
  const type = (val('type') as CaseTypeCode) || rec.type;
  const talking = props.phase === CallPhase.Connected || props.phase === CallPhase.Held;

  const text = (f: string, label: MsgKey, opts: { area?: boolean; max?: number } = {}) => {
    const e = errOf(f);
    return (
      <label className={e ? 'field invalid' : 'field'}>
        <span>{t(label)}</span>
        {opts.area ? (
          <textarea
            name={f}
            data-field={f}
            value={str(f)}
            maxLength={opts.max ?? 5000}
            rows={3}
            onChange={(ev) => edit(f, ev.target.value)}
          />
        ) : (
          <input
            name={f}
            data-field={f}
            value={str(f)}
            maxLength={opts.max ?? 200}
            onChange={(ev) => edit(f, ev.target.value)}
          />
        )}
        {e && <em className="field-error">{e}</em>}
      </label>
    );
  };

  const register = async () => {
    setInfo(null);
    // Everything typed goes to the server first; the check runs on what is stored.
    for (let i = 0; i < 40; i++) {
      const st = store.getState();
      if (Object.keys(st.caseEdits).length === 0 && !st.caseInFlight) break;
      if (st.caseConflict || (st.caseSave === 'error' && st.caseFieldErrors.length)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    try {
      const w = await api<{ complete: boolean; fieldErrors: CaseFieldError[] }>(
        'GET',
        `/api/cases/${rec.id}/wrap-up`,
        props.token,
      );
      if (!w.complete) {
        store.getState().caseWrapUpErrors(w.fieldErrors);
        setInfo(t('cf_incomplete'));
        return;
      }
      const cur = store.getState().caseRecord!;
      const done = await api<CaseView>('POST', `/api/cases/${cur.id}/transitions`, props.token, {
        version: cur.version,
        to: 'registered',
      });
      store.getState().caseRebase(done);
      setInfo(t('cf_registered'));
    } catch (err) {
      setInfo(err instanceof ApiError ? err.message : String(err));
    }
  };

  const split = async () => {
    setInfo(null);
    const cur = store.getState().caseRecord!;
    try {
      const r = await api<{ original: CaseView; created: CaseView }>(
        'POST',
        `/api/cases/${cur.id}/split`,
        props.token,
        {
          version: cur.version,
          type: type === 'report' ? 'complaint' : 'report',
          draft: true,
        },
      );
      store.getState().caseRebase(r.original);
      setLinked({ id: r.created.id, number: r.created.number });
      setInfo(t('cf_splitDone', { number: r.created.number }));
    } catch (err) {
      setInfo(err instanceof ApiError ? err.message : String(err));
    }
  };

  const switchTo = async (id: number) => {
    if (!sock) return;
    const r = await request<CaseView>(sock, 'case:get', { id });
    if (r.ok && r.data) {
      const prev = store.getState().caseRecord;
      sessionStorage.setItem(CURRENT_KEY, String(id));
      store.getState().caseLoaded(r.data);
      void request(sock, 'case:watch', { id });
      if (prev && prev.id !== id) setLinked({ id: prev.id, number: prev.number });
    }
  };

  return (
    <div className="case-form" data-testid="case-form" data-case-id={rec.id}>
      <style>{CASE_FORM_CSS}</style>
      <div className="case-head">
        <span>
          {t('cf_number')} <strong data-testid="case-number">{rec.number}</strong>
        </span>
        <span>
          {t('cf_status')} <span data-testid="case-status">{rec.statusLabel}</span>
        </span>
        {rec.queue && (
          <span>
            {t('cf_queue')} <span data-testid="case-queue">{rec.queue}</span>
          </span>
        )}
        {rec.ivrPath && (
          <span className="muted">
            {t('cf_ivrPath')} {rec.ivrPath}
          </span>
        )}
        <span className={`save-state save-${saveState}`} data-testid="case-save-state" data-state={saveState}>
          {t(`cf_save_${saveState}` as MsgKey)}
        </span>
      </div>
      {conflict && (
        <div className="notice error" role="alert" data-testid="case-conflict">
          <p>{conflict.message}</p>
          <button
            type="button"
            onClick={() => {
              if (!sock) return;
              void request<CaseView>(sock, 'case:get', { id: rec.id }).then((r) => {
                if (r.ok && r.data) store.getState().caseRebase(r.data);
              });
            }}
          >
            {t('cf_conflictReload')}
          </button>
        </div>
      )}
      {caseError && !conflict && (
        <p className="notice error" role="alert" data-testid="case-error">
          {caseError}
        </p>
      )}
      {props.consumer || rec.consumer.phone ? (
        <ScreenPop
          token={props.token}
          phone={props.consumer ?? rec.consumer.phone}
          callId={props.callId}
          onOpen={(id) => void switchTo(id)}
        />
      ) : null}

      <fieldset>
        <label className="field">
          <span>{t('cf_type')}</span>
          <select name="type" data-field="type" value={type} onChange={(e) => edit('type', e.target.value)}>
            {TYPES.map((ty) => (
              <option key={ty} value={ty}>
                {t(`cf_type_${ty}` as MsgKey)}
              </option>
            ))}
          </select>
        </label>
      </fieldset>

      <fieldset>
        <legend>{t('cf_consumer')}</legend>
        {text('consumer.name', 'cf_name', { max: 50 })}
        {text('consumer.phone', 'cf_phone', { max: 40 })}
        {text('consumer.address', 'cf_address')}
      </fieldset>

      {(type === 'complaint' || type === 'report') && (
        <fieldset>
          <legend>{t('cf_respondent')}</legend>
          {text('respondent.name', 'cf_respondentName', { max: 100 })}
          <CreditCodeField
            value={str('respondent.creditCode')}
            error={errOf('respondent.creditCode')}
            onChange={(v) => edit('respondent.creditCode', v)}
          />
          {text('respondent.address', 'cf_address')}
        </fieldset>
      )}

      <fieldset>
        <AreaPicker token={props.token} value={str('area')} error={errOf('area')} onChange={(v) => edit('area', v)} />
        {meta && (
          <CategoryPicker
            tree={meta.categories}
            value={str('category')}
            error={errOf('category')}
            onChange={(v) => edit('category', v)}
          />
        )}
        {meta && type !== 'suggestion' && (
          <label className={errOf('problemType') ? 'field invalid' : 'field'}>
            <span>{t('cf_problemType')}</span>
            <select
              name="problemType"
              data-field="problemType"
              value={str('problemType')}
              onChange={(e) => edit('problemType', e.target.value)}
            >
              <option value="" />
              {meta.problemTypes.map((p) => (
                <option key={p.code} value={p.code}>
                  {p.name}
                </option>
              ))}
            </select>
          </label>
        )}
        {(type === 'complaint' || type === 'report') && (
          <AmountField value={val('amount')} error={errOf('amount')} onChange={(v) => edit('amount', v)} />
        )}
      </fieldset>

      <fieldset>
        {type === 'complaint' && text('request', 'cf_request', { area: true, max: 2000 })}
        {text('description', 'cf_description', { area: true })}
        {type === 'consultation' && text('reply', 'cf_reply', { area: true })}
      </fieldset>

      <div className="case-actions">
        <button type="button" className="primary" data-testid="case-register" onClick={() => void register()}>
          {t('cf_register')}
        </button>
        {(type === 'complaint' || type === 'report') && !rec.parentId && !linked && (
          <button type="button" data-testid="case-split" onClick={() => void split()}>
            {t('cf_split')}
          </button>
        )}
        {linked && (
          <button type="button" data-testid="case-linked" onClick={() => void switchTo(linked.id)}>
            {t('cf_linked')} {linked.number}
          </button>
        )}
        {info && (
          <span className="muted" data-testid="case-info" role="status">
            {info}
          </span>
        )}
      </div>
      {talking || rec ? <CaseFormKb token={props.token} /> : null}
    </div>
  );
}

function CreditCodeField(p: { value: string; error?: string; onChange(v: string): void }) {
  const t = useT();
  const code = normalizeCreditCode(p.value);
  const problem = code.length === 18 ? checkCreditCode(code) : null;
  const msg = p.error ?? (problem ? CREDIT_CODE_MESSAGES[problem] : undefined);
  return (
    <label className={msg ? 'field invalid' : 'field'}>
      <span>{t('cf_creditCode')}</span>
      <input
        name="respondent.creditCode"
        data-field="respondent.creditCode"
        value={p.value}
        maxLength={40}
        onChange={(e) => p.onChange(e.target.value)}
      />
      {msg ? (
        <em className="field-error" data-testid="credit-code-error">
          {msg}
        </em>
      ) : code.length === 18 ? (
        <em className="field-ok">{t('cf_creditCodeOk')}</em>
      ) : null}
    </label>
  );
}

function AmountField(p: { value: CaseEditValue; error?: string; onChange(v: number | null): void }) {
  const t = useT();
  const [raw, setRaw] = useState(p.value === null || p.value === '' ? '' : String(p.value));
  const [bad, setBad] = useState(false);
  useEffect(() => {
    const shown = raw.trim() === '' ? null : Number(raw);
    if (!bad && shown !== p.value && !(shown === null && p.value === '')) {
      setRaw(p.value === null || p.value === '' ? '' : String(p.value));
    }
    // Only follow the server when the agent's own text is valid and differs (another editor's change).
  }, [p.value]);
  const msg = p.error ?? (bad ? t('cf_amountInvalid') : undefined);
  return (
    <label className={msg ? 'field invalid' : 'field'}>
      <span>{t('cf_amount')}</span>
      <input
        name="amount"
        data-field="amount"
        inputMode="decimal"
        value={raw}
        onChange={(e) => {
          const v = e.target.value;
          setRaw(v);
          if (v.trim() === '') {
            setBad(false);
            p.onChange(null);
          } else if (/^\d{1,10}(\.\d{1,2})?$/.test(v.trim())) {
            setBad(false);
            p.onChange(Number(v.trim()));
          } else setBad(true);
        }}
      />
      {msg && <em className="field-error">{msg}</em>}
    </label>
  );
}

function AreaPicker(p: { token: string; value: string; error?: string; onChange(v: string): void }) {
  const t = useT();
  const prov = p.value ? `${p.value.slice(0, 2)}0000` : '';
  const city = p.value && p.value.slice(2, 4) !== '00' ? `${p.value.slice(0, 4)}00` : '';
  const [lists, setLists] = useState<Record<string, { code: string; name: string }[]>>({});
  const need = ['', prov, city].filter((x, i) => i === 0 || x);
  useEffect(() => {
    for (const parent of need) {
      if (lists[parent]) continue;
      void api<{ items: { code: string; name: string }[] }>(
        'GET',
        `/api/case-areas${parent ? `?parent=${parent}` : ''}`,
        p.token,
      ).then((r) => setLists((l) => ({ ...l, [parent]: r.items })));
    }
  }, [need.join(','), p.token]);
  const sel = (level: MsgKey, parent: string, value: string, name: string) => (
    <select
      aria-label={t(level)}
      name={name}
      data-field={name}
      value={value}
      onChange={(e) => p.onChange(e.target.value || parent)}
    >
      <option value="">{t(level)}</option>
      {(lists[parent] ?? []).map((a) => (
        <option key={a.code} value={a.code}>
          {a.name}
        </option>
      ))}
    </select>
  );
  return (
    <label className={p.error ? 'field invalid area' : 'field area'}>
      <span>{t('cf_area')}</span>
      {sel('cf_province', '', prov, 'area.province')}
      {prov && sel('cf_city', prov, city, 'area.city')}
      {city && sel('cf_county', city, p.value !== city ? p.value : '', 'area.county')}
      {p.error && <em className="field-error">{p.error}</em>}
    </label>
  );
}

function CategoryPicker(p: { tree: TreeNode[]; value: string; error?: string; onChange(v: string): void }) {
  const t = useT();
  // A child's code extends its parent's, so the path is the chain of prefixes.
  const levels: { options: TreeNode[]; chosen: string }[] = [];
  let options: TreeNode[] | undefined = p.tree;
  while (options && options.length) {
    const chosen: TreeNode | undefined = options.find((n) => p.value.startsWith(n.code));
    levels.push({ options, chosen: chosen?.code ?? '' });
    options = chosen?.children;
  }
  return (
    <label className={p.error ? 'field invalid' : 'field'}>
      <span>{t('cf_category')}</span>
      {levels.map((l, i) => (
        <select
          key={i}
          name={`category.${i}`}
          data-field={`category.${i}`}
          value={l.chosen}
          onChange={(e) => p.onChange(e.target.value || (i > 0 ? levels[i - 1]!.chosen : ''))}
        >
          <option value="" />
          {l.options.map((n) => (
            <option key={n.code} value={n.code}>
              {n.name}
            </option>
          ))}
        </select>
      ))}
      {p.error && <em className="field-error">{p.error}</em>}
    </label>
  );
}
