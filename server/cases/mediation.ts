import type { Database, Migration } from '../storage/database.js';
import { createLogger } from '../util/log.js';
import { CaseValidationError } from './errors.js';
import type { FieldError } from './model.js';
import type { Actor, CaseRepository, CaseScope } from './repository.js';
import { CaseStatus, type CaseType } from './workflow.js';
import type { CaseRecord } from './model.js';

/**
 * 调解结果: what a merchant station (维权站) agreed with the consumer during a three-way call, stored
 * beside the case, and the case moved along the complaint workflow to 调解成功 or 调解终止 (which is
 * what the 调解成功率 metric counts). The case repository has no place for a remedy, amount or
 * deadline, so they live here, keyed by case id; the summary also goes into the case's status reason
 * so GET /api/cases/{id} shows it.
 */

const log = createLogger('cases.mediation');

export type Remedy = 'refund' | 'repair' | 'exchange' | 'other';
export const REMEDIES: readonly Remedy[] = ['refund', 'repair', 'exchange', 'other'];
export const REMEDY_LABELS: Record<Remedy, string> = {
  refund: '退款',
  repair: '维修',
  exchange: '换货',
  other: '其他',
};

export type MediationResult = 'succeeded' | 'terminated';
export const MEDIATION_RESULTS: readonly MediationResult[] = ['succeeded', 'terminated'];

export interface MediationInput {
  result: MediationResult;
  /** The agreed remedy; null only when mediation was terminated without one. */
  remedy: Remedy | null;
  /** Yuan, two decimals at most. */
  amount: number | null;
  /** Date (YYYY-MM-DD, Asia/Shanghai) by which the merchant carries the remedy out. */
  deadline: string | null;
  notes: string;
  callId?: string | null;
  stationId?: number | null;
}

export interface MediationOutcome extends Required<MediationInput> {
  id: number;
  caseId: number;
  recordedBy: number | null;
  recordedAt: string;
  /** The case's status after recording; `applied` false when the workflow did not allow the move. */
  caseStatus: CaseStatus;
  applied: boolean;
}

export const mediationMigrations: readonly Migration[] = [
  {
    id: 1,
    name: 'mediation outcomes',
    up: `
      CREATE TABLE mediation_outcomes (
        id INTEGER PRIMARY KEY,
        case_id INTEGER NOT NULL,
        result TEXT NOT NULL CHECK (result IN ('succeeded', 'terminated')),
        remedy TEXT,
        amount_fen INTEGER,
        deadline TEXT,
        notes TEXT NOT NULL DEFAULT '',
        call_id TEXT,
        station_id INTEGER,
        recorded_by INTEGER,
        recorded_at TEXT NOT NULL,
        case_status TEXT NOT NULL,
        applied INTEGER NOT NULL
      );
      CREATE INDEX mediation_outcomes_case ON mediation_outcomes (case_id, id);
    `,
  },
];

/** Field errors of an outcome; `today` is the Asia/Shanghai date the deadline may not precede. */
export function validateMediation(m: MediationInput, today: string): FieldError[] {
  const errors: FieldError[] = [];
  const err = (field: string, code: FieldError['code'], message: string) => errors.push({ field, code, message });
  if (!MEDIATION_RESULTS.includes(m.result)) err('result', 'invalid', '调解结果应为成功或终止');
  if (m.remedy !== null && !REMEDIES.includes(m.remedy)) err('remedy', 'invalid', '未知的处理方式');
  if (m.result === 'succeeded' && m.remedy === null) err('remedy', 'required', '调解成功须选择处理方式');
  if (m.amount !== null) {
    if (!Number.isFinite(m.amount) || m.amount < 0 || m.amount > 1e9) err('amount', 'invalid', '金额应为 0 到 10 亿元');
    else if (Math.abs(Math.round(m.amount * 100) - m.amount * 100) > 1e-6) err('amount', 'invalid', '金额最多两位小数');
  }
  if (m.result === 'succeeded' && m.remedy === 'refund' && m.amount === null)
    err('amount', 'required', '退款须填写金额');
  if (m.deadline !== null) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(m.deadline) || Number.isNaN(Date.parse(`${m.deadline}T00:00:00Z`))) {
      err('deadline', 'invalid', '日期格式应为 YYYY-MM-DD');
    } else if (m.deadline < today) err('deadline', 'invalid', '履行期限不能早于今天');
  }
  if (m.result === 'terminated' && !m.notes.trim()) err('notes', 'required', '调解终止须说明理由');
  if ([...m.notes].length > 1000) err('notes', 'too_long', '不能超过 1000 个字');
  return errors;
}

/** One line for the case's status reason and audit: 「退款 199.00 元，2026-12-05 前履行；备注」. */
export function mediationSummary(m: MediationInput): string {
  const parts: string[] = [];
  if (m.remedy) parts.push(REMEDY_LABELS[m.remedy] + (m.amount !== null ? ` ${m.amount.toFixed(2)} 元` : ''));
  else if (m.amount !== null) parts.push(`${m.amount.toFixed(2)} 元`);
  if (m.deadline) parts.push(`${m.deadline} 前履行`);
  const head = `维权站调解${m.result === 'succeeded' ? '成功' : '终止'}${parts.length ? `：${parts.join('，')}` : ''}`;
  const notes = m.notes.trim();
  return notes ? `${head}；${notes}` : head;
}

/** Moves that lead a complaint to the result, from where it stands; null when the workflow has no way. */
export function mediationPath(type: CaseType, from: CaseStatus, result: MediationResult): CaseStatus[] | null {
  if (type !== 'complaint') return null;
  const end = result === 'succeeded' ? CaseStatus.MediationSucceeded : CaseStatus.MediationTerminated;
  if (from === CaseStatus.Mediating) return [end];
  // Accepted or dispatched: the three-way call is the mediation itself (第二十一条: 调解可以采取现场或者互联网、电话等方式).
  if (from === CaseStatus.Accepted || from === CaseStatus.Dispatched) return [CaseStatus.Mediating, end];
  return null;
}

interface Row {
  id: number;
  case_id: number;
  result: MediationResult;
  remedy: Remedy | null;
  amount_fen: number | null;
  deadline: string | null;
  notes: string;
  call_id: string | null;
  station_id: number | null;
  recorded_by: number | null;
  recorded_at: string;
  case_status: CaseStatus;
  applied: number;
}

function toOutcome(r: Row): MediationOutcome {
  return {
    id: r.id,
    caseId: r.case_id,
    result: r.result,
    remedy: r.remedy,
    amount: r.amount_fen === null ? null : r.amount_fen / 100,
    deadline: r.deadline,
    notes: r.notes,
    callId: r.call_id,
    stationId: r.station_id,
    recordedBy: r.recorded_by,
    recordedAt: r.recorded_at,
    caseStatus: r.case_status,
    applied: r.applied === 1,
  };
}

export class MediationStore {
  constructor(
    private readonly db: Database,
    private readonly cases: CaseRepository,
    private readonly now: () => Date = () => new Date(),
  ) {
    db.migrate('mediation', mediationMigrations);
  }

  /**
   * Validates, records the outcome and moves the case as far as its workflow allows (see mediationPath),
   * in one transaction. A case the actor cannot see throws CaseNotFoundError (404) from the repository.
   */
  record(
    caseId: number,
    input: MediationInput,
    actor: Actor,
    scope: CaseScope,
  ): { outcome: MediationOutcome; case: CaseRecord } {
    const today = new Date(this.now().getTime() + 8 * 3600_000).toISOString().slice(0, 10);
    const errors = validateMediation(input, today);
    if (errors.length) throw new CaseValidationError(errors);
    return this.db.transaction(() => {
      let c = this.cases.get(caseId, scope);
      const path = mediationPath(c.type, c.status, input.result);
      const summary = mediationSummary(input);
      if (path) {
        for (const to of path) {
          const last = to === path[path.length - 1];
          c = this.cases.transition(c.id, c.version, { to, ...(last ? { reason: summary } : {}) }, actor, scope);
        }
      }
      const res = this.db.sqlite
        .prepare(
          `INSERT INTO mediation_outcomes (case_id, result, remedy, amount_fen, deadline, notes, call_id, station_id,
             recorded_by, recorded_at, case_status, applied) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          caseId,
          input.result,
          input.remedy,
          input.amount === null ? null : Math.round(input.amount * 100),
          input.deadline,
          input.notes.trim(),
          input.callId ?? null,
          input.stationId ?? null,
          actor.id,
          this.now().toISOString(),
          c.status,
          path ? 1 : 0,
        );
      const outcome = this.get(Number(res.lastInsertRowid))!;
      log.info(
        { caseId, result: input.result, applied: outcome.applied, status: c.status, stationId: input.stationId },
        'mediation outcome recorded',
      );
      return { outcome, case: c };
    });
  }

  get(id: number): MediationOutcome | null {
    const r = this.db.sqlite.prepare('SELECT * FROM mediation_outcomes WHERE id = ?').get(id) as Row | undefined;
    return r ? toOutcome(r) : null;
  }

  /** Every outcome recorded for a case, oldest first (a terminated mediation may be retried later). */
  list(caseId: number): MediationOutcome[] {
    return (
      this.db.sqlite.prepare('SELECT * FROM mediation_outcomes WHERE case_id = ? ORDER BY id').all(caseId) as Row[]
    ).map(toOutcome);
  }
}
