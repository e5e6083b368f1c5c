/**
 * The case being logged during a call (issue 6): the server's last copy, the agent's edits not yet
 * acknowledged, and the autosave state. Pure: the form component does the I/O (socket.io `/cases`)
 * and feeds results in here.
 *
 * Edits are flat field paths ('consumer.name', 'amount', …). They survive a page reload: every edit
 * is mirrored into session storage under the case id until the server acknowledges it, so typing that
 * had not reached the server yet is offered again after the reload.
 *
 * Save cycle: caseEdit → (debounce in the form) → caseSaveBegin takes the pending edits in flight →
 * caseSaveDone (server copy, new version) or caseSaveFailed. A version conflict keeps the agent's edits,
 * shows who changed the case, and waits for caseRebase with the fresh server copy: the edits are then
 * re-applied on top of it and saved again, never silently over someone else's change.
 */
import type { Slice } from './types.js';

export type CaseTypeCode = 'complaint' | 'report' | 'consultation' | 'suggestion';

/** What the form needs of a case (a subset of the server's CaseRecord). */
export interface CaseView {
  id: number;
  number: string;
  type: CaseTypeCode;
  status: string;
  statusLabel: string;
  version: number;
  consumer: { name: string; phone: string; address: string };
  respondent: { name: string; creditCode: string; address: string; area: string };
  area: string;
  category: string;
  problemType: string;
  amount: number | null;
  request: string;
  description: string;
  reply: string;
  queue: string;
  ivrPath: string;
  parentId: number | null;
}

export interface CaseFieldError {
  field: string;
  code: string;
  message: string;
}

export type CaseEditValue = string | number | null;
export type CaseSaveState = 'idle' | 'pending' | 'saving' | 'saved' | 'conflict' | 'error';

export interface CaseConflict {
  message: string;
  currentVersion: number;
  /** Who saved in between, when the server said so. */
  by: string | null;
}

export interface SaveRequest {
  id: number;
  version: number;
  changes: Record<string, unknown>;
}

export interface CaseSlice {
  caseRecord: CaseView | null;
  /** Edits not yet sent. */
  caseEdits: Record<string, CaseEditValue>;
  /** Edits sent, waiting for the ack. */
  caseInFlight: Record<string, CaseEditValue> | null;
  caseSave: CaseSaveState;
  caseSavedAt: number | null;
  caseConflict: CaseConflict | null;
  /** Server field errors (save or wrap-up check), by field path. */
  caseFieldErrors: CaseFieldError[];
  caseError: string | null;
  caseLoaded(c: CaseView): void;
  caseEdit(field: string, value: CaseEditValue): void;
  caseSaveBegin(): SaveRequest | null;
  caseSaveDone(c: CaseView): void;
  caseSaveFailed(e: {
    error: string;
    message: string;
    fieldErrors?: CaseFieldError[];
    currentVersion?: number;
    by?: string;
  }): void;
  caseRebase(c: CaseView): void;
  /** Another editor saved (pushed `case:saved`). */
  caseRemoteSaved(ev: { id: number; version: number; by: string }): void;
  caseWrapUpErrors(errors: CaseFieldError[]): void;
  caseClear(): void;
}

export const CASE_EDITS_KEY = (id: number) => `hotline12315.case.${id}.edits`;

/** The value a field shows: pending edit, else in-flight edit, else the server copy. */
export function caseValue(s: CaseSlice, field: string): CaseEditValue {
  if (field in s.caseEdits) return s.caseEdits[field]!;
  if (s.caseInFlight && field in s.caseInFlight) return s.caseInFlight[field]!;
  return serverValue(s.caseRecord, field);
}

export function serverValue(c: CaseView | null, field: string): CaseEditValue {
  if (!c) return '';
  const [a, b] = field.split('.') as [string, string | undefined];
  const top = (c as unknown as Record<string, unknown>)[a];
  const v = b !== undefined && top && typeof top === 'object' ? (top as Record<string, unknown>)[b] : top;
  return v === undefined ? '' : (v as CaseEditValue);
}

/** Flat edits → the nested patch the server takes ({consumer: {name}}, …). */
export function toPatch(edits: Record<string, CaseEditValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(edits)) {
    const [a, b] = k.split('.') as [string, string | undefined];
    if (b === undefined) out[a] = v;
    else out[a] = { ...((out[a] as Record<string, unknown> | undefined) ?? {}), [b]: v };
  }
  return out;
}

export const createCaseSlice: Slice<CaseSlice> = (deps) => (set, get) => {
  const persist = () => {
    const s = get();
    if (!s.caseRecord || !deps.storage) return;
    const unsaved = { ...(s.caseInFlight ?? {}), ...s.caseEdits };
    if (Object.keys(unsaved).length) deps.storage.setItem(CASE_EDITS_KEY(s.caseRecord.id), JSON.stringify(unsaved));
    else deps.storage.removeItem(CASE_EDITS_KEY(s.caseRecord.id));
  };
  return {
    caseRecord: null,
    caseEdits: {},
    caseInFlight: null,
    caseSave: 'idle',
    caseSavedAt: null,
    caseConflict: null,
    caseFieldErrors: [],
    caseError: null,
    caseLoaded(c) {
      const prev = get().caseRecord;
      let edits: Record<string, CaseEditValue> = prev?.id === c.id ? get().caseEdits : {};
      if (prev?.id !== c.id) {
        // Typing that never reached the server before a reload or crash comes back as pending edits.
        const raw = deps.storage?.getItem(CASE_EDITS_KEY(c.id));
        if (raw) {
          try {
            edits = JSON.parse(raw) as Record<string, CaseEditValue>;
          } catch {
            deps.warn?.('case edits in storage unreadable', raw);
          }
        }
      }
      // Edits equal to the server copy are already saved (the ack was lost with the page).
      for (const k of Object.keys(edits)) if (serverValue(c, k) === edits[k]) delete edits[k];
      set({
        caseRecord: c,
        caseEdits: { ...edits },
        caseInFlight: null,
        // Nothing pending: what the form shows is what is stored.
        caseSave: Object.keys(edits).length ? 'pending' : 'saved',
        caseConflict: null,
        caseFieldErrors: [],
        caseError: null,
      });
      persist();
    },
    caseEdit(field, value) {
      const s = get();
      if (!s.caseRecord) return;
      set({
        caseEdits: { ...s.caseEdits, [field]: value },
        caseSave: s.caseSave === 'conflict' ? 'conflict' : s.caseSave === 'saving' ? 'saving' : 'pending',
        caseFieldErrors: s.caseFieldErrors.filter((e) => e.field !== field),
      });
      persist();
    },
    caseSaveBegin() {
      const s = get();
      if (!s.caseRecord || s.caseInFlight || s.caseConflict || Object.keys(s.caseEdits).length === 0) return null;
      const edits = s.caseEdits;
      set({ caseInFlight: edits, caseEdits: {}, caseSave: 'saving' });
      return { id: s.caseRecord.id, version: s.caseRecord.version, changes: toPatch(edits) };
    },
    caseSaveDone(c) {
      const s = get();
      set({
        caseRecord: c,
        caseInFlight: null,
        caseSave: Object.keys(s.caseEdits).length ? 'pending' : 'saved',
        caseSavedAt: deps.now(),
        caseError: null,
      });
      persist();
    },
    caseSaveFailed(e) {
      const s = get();
      // The edits stay: back in front of anything typed since.
      const edits = { ...(s.caseInFlight ?? {}), ...s.caseEdits };
      if (e.error === 'version_conflict') {
        set({
          caseEdits: edits,
          caseInFlight: null,
          caseSave: 'conflict',
          caseConflict: {
            message: e.message,
            currentVersion: e.currentVersion ?? s.caseRecord?.version ?? 0,
            by: e.by ?? null,
          },
        });
      } else {
        set({
          caseEdits: edits,
          caseInFlight: null,
          caseSave: 'error',
          // A field typed again while the failed save was in flight is judged on its new value, not this answer.
          caseFieldErrors: (e.fieldErrors ?? []).filter((fe) => !(fe.field in s.caseEdits)),
          caseError: e.message,
        });
      }
      persist();
    },
    caseRebase(c) {
      const s = get();
      set({ caseRecord: c, caseConflict: null, caseSave: Object.keys(s.caseEdits).length ? 'pending' : 'saved' });
      persist();
    },
    caseRemoteSaved(ev) {
      const s = get();
      if (!s.caseRecord || ev.id !== s.caseRecord.id || ev.version <= s.caseRecord.version) return;
      // Our own save in flight will come back as a conflict with the details; say who it was now.
      set({
        caseConflict: {
          message: `${ev.by} 刚刚修改了此工单，请载入最新内容后继续`,
          currentVersion: ev.version,
          by: ev.by,
        },
        caseSave: 'conflict',
      });
    },
    caseWrapUpErrors(errors) {
      set({ caseFieldErrors: errors });
    },
    caseClear() {
      set({
        caseRecord: null,
        caseEdits: {},
        caseInFlight: null,
        caseSave: 'idle',
        caseSavedAt: null,
        caseConflict: null,
        caseFieldErrors: [],
        caseError: null,
      });
    },
  };
};
