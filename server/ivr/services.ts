/**
 * Stores behind the IVR's service interfaces. Callback requests and survey scores are kept in SQLite
 * (domain `ivr`): both are promises to a consumer and must survive a restart. The case-status table and
 * the voicemail sink are stand-ins with the same interfaces the case store will implement.
 */
import { randomUUID } from 'node:crypto';
import type { Database, Migration } from '../storage/index.js';
import type {
  CallbackRequest,
  CallbackStore,
  CaseStatusLookup,
  IvrCaseStatus,
  SurveyResult,
  SurveyStore,
  VoicemailMessage,
  VoicemailSink,
} from './port.js';

export const ivrMigrations: Migration[] = [
  {
    id: 1,
    name: 'callback requests and survey results',
    up: `
      CREATE TABLE ivr_callback_request (
        id            TEXT PRIMARY KEY,
        call_id       TEXT NOT NULL,
        number        TEXT NOT NULL,
        window_start  TEXT NOT NULL,
        window_end    TEXT NOT NULL,
        ivr_path      TEXT NOT NULL,
        requested_at  TEXT NOT NULL,
        state         TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed', 'cancelled'))
      );
      CREATE INDEX ivr_callback_due ON ivr_callback_request (state, window_start);
      CREATE TABLE ivr_survey_result (
        call_id  TEXT PRIMARY KEY,
        case_id  TEXT,
        score    INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
        at       TEXT NOT NULL
      );
      CREATE INDEX ivr_survey_case ON ivr_survey_result (case_id);
    `,
  },
];

export interface StoredCallback extends CallbackRequest {
  id: string;
  state: 'pending' | 'done' | 'failed' | 'cancelled';
}

/** SQLite-backed callback and survey stores. */
export class IvrStore implements CallbackStore, SurveyStore {
  constructor(private readonly db: Database) {
    db.migrate('ivr', ivrMigrations);
  }

  async requestCallback(req: CallbackRequest): Promise<{ id: string }> {
    const id = randomUUID();
    this.db.sqlite
      .prepare(
        `INSERT INTO ivr_callback_request (id, call_id, number, window_start, window_end, ivr_path, requested_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        req.callId,
        req.number,
        req.windowStart.toISOString(),
        req.windowEnd.toISOString(),
        JSON.stringify(req.ivrPath),
        req.requestedAt.toISOString(),
      );
    return { id };
  }

  /** Pending callbacks whose window has opened by `at`, earliest first (the outbound dialer's work list). */
  dueCallbacks(at: Date): StoredCallback[] {
    const rows = this.db.sqlite
      .prepare(`SELECT * FROM ivr_callback_request WHERE state = 'pending' AND window_start <= ? ORDER BY window_start`)
      .all(at.toISOString()) as Array<Record<string, string>>;
    return rows.map((r) => ({
      id: r.id!,
      callId: r.call_id!,
      number: r.number!,
      windowStart: new Date(r.window_start!),
      windowEnd: new Date(r.window_end!),
      ivrPath: JSON.parse(r.ivr_path!) as string[],
      requestedAt: new Date(r.requested_at!),
      state: r.state as StoredCallback['state'],
    }));
  }

  setCallbackState(id: string, state: StoredCallback['state']): boolean {
    return this.db.sqlite.prepare('UPDATE ivr_callback_request SET state = ? WHERE id = ?').run(state, id).changes > 0;
  }

  /** One score per call: a repeated survey (caller re-presses after a glitch) keeps the last answer. */
  async recordSurvey(r: SurveyResult): Promise<void> {
    this.db.sqlite
      .prepare(
        `INSERT INTO ivr_survey_result (call_id, case_id, score, at) VALUES (?, ?, ?, ?)
         ON CONFLICT (call_id) DO UPDATE SET case_id = excluded.case_id, score = excluded.score, at = excluded.at`,
      )
      .run(r.callId, r.caseId, r.score, r.at.toISOString());
  }

  surveyFor(callId: string): SurveyResult | null {
    const r = this.db.sqlite.prepare('SELECT * FROM ivr_survey_result WHERE call_id = ?').get(callId) as
      { call_id: string; case_id: string | null; score: number; at: string } | undefined;
    return r ? { callId: r.call_id, caseId: r.case_id, score: r.score, at: new Date(r.at) } : null;
  }
}

/** Stand-in for the case store's `statusForIvr` until it lands: a fixed table. */
export class StaticCaseStatusTable implements CaseStatusLookup {
  private readonly table: Map<string, IvrCaseStatus>;
  constructor(entries: Record<string, IvrCaseStatus> = {}) {
    this.table = new Map(Object.entries(entries));
  }
  set(caseNumber: string, status: IvrCaseStatus): void {
    this.table.set(caseNumber, status);
  }
  async statusForIvr(caseNumber: string): Promise<IvrCaseStatus | null> {
    return this.table.get(caseNumber) ?? null;
  }
}

/** Stand-in voicemail sink: keeps the messages in memory and hands out draft ids. */
export class MemoryVoicemailSink implements VoicemailSink {
  readonly messages: Array<VoicemailMessage & { draftId: string }> = [];
  async attachVoicemail(msg: VoicemailMessage): Promise<{ draftId: string }> {
    const draftId = `VM-${this.messages.length + 1}`;
    this.messages.push({ ...msg, draftId });
    return { draftId };
  }
}

/** In-memory callback and survey stores (simulator, tests of callers that do not need SQLite). */
export class MemoryIvrStore implements CallbackStore, SurveyStore {
  readonly callbacks: Array<CallbackRequest & { id: string }> = [];
  readonly surveys: SurveyResult[] = [];
  async requestCallback(req: CallbackRequest): Promise<{ id: string }> {
    const id = `CB-${this.callbacks.length + 1}`;
    this.callbacks.push({ ...req, id });
    return { id };
  }
  async recordSurvey(r: SurveyResult): Promise<void> {
    this.surveys.push(r);
  }
}
