import type BetterSqlite3 from 'better-sqlite3';
import { defaultCalendar, shanghaiDate, type WorkingCalendar } from '../calendar/index.js';
import type { Database } from '../storage/database.js';
import { createLogger, maskPhone } from '../util/log.js';
import { codePoints } from '../util/text.js';
import { areaName, areaRange } from './areas.js';
import { Categories, defaultCategories } from './categories.js';
import demoUnits from './demo-units.json' with { type: 'json' };
import { Deadlines } from './deadlines.js';
import { GroupCommit, type CommitTrace, type GroupCommitOptions } from './group-commit.js';
import type { WalCheckpointer } from './wal-checkpointer.js';
import {
  CaseError,
  CaseNotFoundError,
  CaseStateError,
  CaseValidationError,
  VersionConflictError,
  type ChangeSince,
} from './errors.js';
import {
  checkWrapUp,
  emptyFields,
  flatten,
  flattenPatch,
  isValidPhone,
  LINK_KINDS,
  normalizePhone,
  validateValues,
  type CaseFields,
  type CaseLink,
  type CasePatch,
  type CaseRecord,
  type FieldError,
  type FieldName,
  type FlatValue,
  type LinkKind,
} from './model.js';
import { caseNumberDigits, caseNumberSpeech, formatCaseNumber, normalizeCaseNumber } from './number.js';
import { caseMigrations } from './schema.js';
import {
  CASE_TYPE_LABELS,
  CaseStatus,
  IllegalTransitionError,
  isEditable,
  isTerminal,
  STATUS_LABELS,
  transitionRule,
  type CaseType,
} from './workflow.js';

const log = createLogger('cases');

export interface Actor {
  /** Web user id; null for the system (call control creating drafts). */
  id: number | null;
  role: 'agent' | 'lead' | 'merchant' | 'admin' | 'system';
}

/** Which cases a user may see: leads and admins all; agents their own and their queues'; merchants shared ones. */
export type CaseScope =
  { kind: 'all' } | { kind: 'agent'; userId: number; queues: readonly string[] } | { kind: 'merchant'; userId: number };

export interface NewCase extends CasePatch {
  type: CaseType;
  callId?: string;
  channel?: string;
  queue?: string;
  agentId?: number | null;
  /** Store as 草稿 without the completeness check (default false: register, complete or 400). */
  draft?: boolean;
}

export interface DraftForCall {
  callId: string;
  callerNumber: string;
  /** IVR node ids / choices in order, e.g. ['welcome', 'complaint']. */
  ivrPath: readonly string[];
  queue: string;
  /** Web user id of the agent the call is offered to, if known. */
  agentId: number | null;
  /** Overrides the type derived from the IVR path. */
  type?: CaseType;
}

export interface TransitionInput {
  to: CaseStatus;
  reason?: string;
  unitId?: number;
  note?: string;
}

export interface CaseSummary {
  id: number;
  number: string;
  type: CaseType;
  status: CaseStatus;
  statusLabel: string;
  version: number;
  consumerName: string;
  /** Always masked in lists. */
  consumerPhone: string;
  respondentName: string;
  area: string;
  areaName: string | null;
  category: string;
  agentId: number | null;
  queue: string;
  unit: { id: number; name: string } | null;
  deadline: CaseRecord['deadline'];
  createdAt: string;
}

export interface CaseFilter {
  status?: CaseStatus[];
  type?: CaseType;
  /**
   * overdue: due date passed; dueSoon: due within the policy's due-soon window; running: any clock.
   * Deadline lists are ordered by due date (most urgent first); all others newest first.
   */
  deadline?: 'overdue' | 'dueSoon' | 'running';
  /** GB/T 2260 code; a province or city includes everything under it. */
  area?: string;
  /** Category code; includes its sub-categories. */
  category?: string;
  /** Respondent name: substring (3+ characters, trigram index) or prefix (1–2 characters). Newest first. */
  respondent?: string;
  agentId?: number;
  unitId?: number;
  phone?: string;
  number?: string;
  /** Free text over respondent and description. */
  q?: string;
  /** Drafts and discarded ones are hidden unless asked for by status or this flag. */
  includeDrafts?: boolean;
}

export interface Page<T> {
  items: T[];
  page: number;
  pageSize: number;
  /** Counted up to 1000; `totalCapped` says the real number is larger. */
  total: number;
  totalCapped: boolean;
  /** Only part of the store was searched (1–2 character free text scans the newest 100 000 cases). */
  partial: boolean;
}

export interface ScreenPop {
  callerNumber: string;
  cases: CaseSummary[];
  calls: { callId: string; at: string; queue: string; ivrPath: string; caseId: number | null }[];
  /** At least one earlier call from this number within the window. */
  repeatCaller: boolean;
  openCases: number;
}

export type IvrCaseStatus =
  | { found: false }
  | {
      found: true;
      number: string;
      digits: string[];
      type: CaseType;
      typeLabel: string;
      status: CaseStatus;
      statusLabel: string;
      /** Short sentence for TTS. */
      speech: string;
      /** Asia/Shanghai dates: registration (legal receipt), acceptance, last change. */
      receivedDate: string;
      acceptedDate: string | null;
      lastChangeDate: string;
    };

export interface OrgUnit {
  id: number;
  code: string;
  name: string;
  kind: 'center' | 'bureau' | 'station' | 'other';
  area: string;
  enabled: boolean;
}

export interface Holding {
  unitId: number;
  unitName: string;
  since: string;
  until: string | null;
  byUser: number | null;
  note: string;
}

export interface SupervisionItem extends CaseSummary {
  heldSince: string;
  urges: number;
  lastUrgedAt: string | null;
}

export interface AuditEntry extends ChangeSince {
  id: number;
}

export interface CaseRepositoryOptions {
  calendar?: WorkingCalendar;
  deadlines?: Deadlines;
  categories?: Categories;
  /** Wall clock (dates and deadlines are calendar dates, so not the monotonic Clock). */
  now?: () => Date;
  /** IVR node id or choice → case type; the first path element found wins. */
  ivrTypeMap?: Record<string, CaseType>;
  /** Screen-pop history window in days (default 365). */
  historyDays?: number;
  /**
   * Consecutive edits of a case by the same person within this window are merged into one audit
   * entry (first old value, last new value), so autosave does not write one entry per keystroke
   * burst. Default 5 minutes; 0 records every save.
   */
  auditMergeMs?: number;
  /** Group commit tuning (batch size, the checkpoint worker). */
  groupCommit?: GroupCommitOptions;
}

export const DEFAULT_IVR_TYPE_MAP: Record<string, CaseType> = {
  complaint: 'complaint',
  report: 'report',
  consultation: 'consultation',
  consult: 'consultation',
  suggestion: 'suggestion',
};

/** Totals are counted up to here ("1000+" beyond): counting costs as much as reading the hits. */
const COUNT_CAP = 1000;
/** Up to this many hits the filter indexes are used and the hits sorted; beyond, a newest-first walk. */
const NARROW_HITS = COUNT_CAP;
/** 1–2 character free text (no trigrams) scans only this many newest cases. */
const SHORT_TEXT_SCAN = 100_000;
const MAX_PAGE_SIZE = 100;

const COLUMN: Record<FieldName, string> = {
  type: 'type',
  'consumer.name': 'consumer_name',
  'consumer.phone': 'consumer_phone',
  'consumer.address': 'consumer_address',
  'respondent.name': 'respondent_name',
  'respondent.creditCode': 'respondent_credit_code',
  'respondent.address': 'respondent_address',
  'respondent.area': 'respondent_area',
  area: 'area',
  category: 'category',
  problemType: 'problem_type',
  amount: 'amount_fen',
  request: 'request',
  description: 'description',
  reply: 'reply',
  complaintToCase: 'complaint_to_case',
};

interface Row {
  id: number;
  number: string;
  type: CaseType;
  status: CaseStatus;
  version: number;
  consumer_name: string;
  consumer_phone: string;
  consumer_address: string;
  respondent_name: string;
  respondent_credit_code: string;
  respondent_address: string;
  respondent_area: string;
  area: string;
  category: string;
  problem_type: string;
  amount_fen: number | null;
  request: string;
  description: string;
  reply: string;
  complaint_to_case: number;
  channel: string;
  queue: string;
  agent_id: number | null;
  ivr_path: string;
  parent_id: number | null;
  unit_id: number | null;
  unit_name?: string | null;
  held_since: string | null;
  status_reason: string;
  received_date: string;
  accepted_date: string | null;
  closed_at: string | null;
  due_kind: 'accept' | 'mediation' | 'verify' | null;
  due_date: string | null;
  satisfaction: number | null;
  follow_up_note: string | null;
  follow_up_at: string | null;
  created_by: number | null;
  created_at: string;
  updated_at: string;
}

const SELECT = `SELECT c.*, u.name AS unit_name FROM cases c LEFT JOIN org_units u ON u.id = c.unit_id`;

function toDb(field: FieldName, v: FlatValue): string | number | null {
  if (field === 'amount') return v === null ? null : Math.round((v as number) * 100);
  if (field === 'complaintToCase') return v ? 1 : 0;
  return v as string;
}

function fieldsOf(r: Row): CaseFields & { type: CaseType } {
  return {
    type: r.type,
    consumer: { name: r.consumer_name, phone: r.consumer_phone, address: r.consumer_address },
    respondent: {
      name: r.respondent_name,
      creditCode: r.respondent_credit_code,
      address: r.respondent_address,
      area: r.respondent_area,
    },
    area: r.area,
    category: r.category,
    problemType: r.problem_type,
    amount: r.amount_fen === null ? null : r.amount_fen / 100,
    request: r.request,
    description: r.description,
    reply: r.reply,
    complaintToCase: r.complaint_to_case === 1,
  };
}

/** Builds the whole field set a patch would produce, for the completeness check. */
function applyFlat(
  base: CaseFields & { type: CaseType },
  values: Partial<Record<FieldName, FlatValue>>,
): CaseFields & { type: CaseType } {
  const f = structuredClone(base);
  for (const [k, v] of Object.entries(values) as [FieldName, FlatValue][]) {
    const [a, b] = k.split('.') as [string, string | undefined];
    if (b) (f as unknown as Record<string, Record<string, FlatValue>>)[a]![b] = v;
    else (f as unknown as Record<string, FlatValue>)[a] = v;
  }
  return f;
}

/** Quotes a string as one FTS5 phrase. */
function ftsPhrase(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/** The last update audit row of a case, parsed, as this process wrote it (CaseRepository.auditCache). */
interface OpenAuditEntry {
  rowId: number;
  version: number;
  at: string;
  actorId: number | null;
  changes: Record<string, [unknown, unknown]>;
}

export class CaseRepository {
  private readonly s: BetterSqlite3.Database;
  private readonly calendar: WorkingCalendar;
  readonly deadlines: Deadlines;
  readonly categories: Categories;
  private readonly now: () => Date;
  private readonly ivrTypeMap: Record<string, CaseType>;
  private readonly historyDays: number;
  private readonly auditMergeMs: number;
  /**
   * The open (mergeable) update audit row of recently edited cases, parsed. An autosave merges into
   * it; re-reading and re-parsing its JSON (the description before and after, up to 2 × 4,000
   * characters) on every save was most of a save's garbage. Valid only while it is still the case's
   * last audit row (rowId) in the state this process wrote (version): a rolled-back batch or any other
   * audit row makes it miss, and the row is read again.
   */
  private readonly auditCache = new Map<number, OpenAuditEntry>();
  private readonly commits: GroupCommit;
  private readonly stmt: {
    byId: BetterSqlite3.Statement<[number], Row>;
    byNumber: BetterSqlite3.Statement<[string], Row>;
    nextSeq: BetterSqlite3.Statement<[string], { last: number }>;
    links: BetterSqlite3.Statement<
      [number],
      { id: number; kind: LinkKind; ref: string; note: string; created_at: string }
    >;
    audit: BetterSqlite3.Statement<[number, number, string, number | null, string, string]>;
    auditSince: BetterSqlite3.Statement<
      [number, number],
      { id: number; version: number; at: string; actor_id: number | null; action: string; changes: string }
    >;
    unit: BetterSqlite3.Statement<
      [number],
      { id: number; code: string; name: string; kind: OrgUnit['kind']; area: string; enabled: number }
    >;
  };

  constructor(
    private readonly db: Database,
    o: CaseRepositoryOptions = {},
  ) {
    db.migrate('cases', caseMigrations);
    this.s = db.sqlite;
    this.calendar = o.calendar ?? defaultCalendar();
    this.deadlines = o.deadlines ?? new Deadlines(this.calendar);
    this.categories = o.categories ?? defaultCategories();
    this.now = o.now ?? (() => new Date());
    this.ivrTypeMap = o.ivrTypeMap ?? DEFAULT_IVR_TYPE_MAP;
    this.historyDays = o.historyDays ?? 365;
    this.auditMergeMs = o.auditMergeMs ?? 5 * 60_000;
    this.commits = new GroupCommit(db, o.groupCommit);
    this.stmt = {
      byId: this.s.prepare(`${SELECT} WHERE c.id = ?`),
      byNumber: this.s.prepare(`${SELECT} WHERE c.number = ?`),
      nextSeq: this.s.prepare(
        `INSERT INTO case_number_seq (day, last) VALUES (?, 1)
         ON CONFLICT(day) DO UPDATE SET last = last + 1 RETURNING last`,
      ),
      links: this.s.prepare('SELECT * FROM case_links WHERE case_id = ? ORDER BY id'),
      audit: this.s.prepare(
        'INSERT INTO case_audit (case_id, version, at, actor_id, action, changes) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      auditSince: this.s.prepare('SELECT * FROM case_audit WHERE case_id = ? AND version > ? ORDER BY id'),
      unit: this.s.prepare('SELECT * FROM org_units WHERE id = ?'),
    };
  }

  /**
   * Runs a write through the shared group commit (see GroupCommit): the HTTP routes use it for
   * autosave and create, so many agents' saves share one fsync.
   */
  grouped<T>(fn: () => T, trace?: CommitTrace): Promise<T> {
    return this.commits.run(fn, trace);
  }

  get groupCommitStats(): Readonly<GroupCommit['stats']> {
    return this.commits.stats;
  }

  /** The checkpoint worker's counters; null when SQLite checkpoints by itself (in-memory, or turned off). */
  get checkpointStats(): Readonly<WalCheckpointer['stats']> | null {
    return this.commits.checkpointer?.stats ?? null;
  }

  /** Flushes pending grouped writes. Safe to call twice; the database is the caller's to close. */
  close(): void {
    this.commits.close();
  }

  // ---------------------------------------------------------------- reads

  get(id: number, scope: CaseScope = { kind: 'all' }): CaseRecord {
    const r = this.stmt.byId.get(id);
    if (!r || !this.visible(r, scope)) throw new CaseNotFoundError(`案件 ${id}`);
    return this.toRecord(r, scope);
  }

  getByNumber(number: string, scope: CaseScope = { kind: 'all' }): CaseRecord {
    const n = normalizeCaseNumber(number);
    const r = n ? this.stmt.byNumber.get(n) : undefined;
    if (!r || !this.visible(r, scope)) throw new CaseNotFoundError(`案件 ${number}`);
    return this.toRecord(r, scope);
  }

  /** The case a call produced (the draft made at offer, or what it became), for the desktop's form. */
  getByCall(callId: string, scope: CaseScope = { kind: 'all' }): CaseRecord {
    const row = this.prep('SELECT case_id FROM case_contacts WHERE call_id = ?').get(callId) as
      { case_id: number | null } | undefined;
    if (!row?.case_id) throw new CaseNotFoundError(`呼叫 ${callId} 的案件`);
    return this.get(row.case_id, scope);
  }

  wrapUpErrors(id: number, scope: CaseScope = { kind: 'all' }): FieldError[] {
    const r = this.stmt.byId.get(id);
    if (!r || !this.visible(r, scope)) throw new CaseNotFoundError(`案件 ${id}`);
    return checkWrapUp(fieldsOf(r), this.categories);
  }

  audit(id: number, scope: CaseScope = { kind: 'all' }): AuditEntry[] {
    const r = this.stmt.byId.get(id);
    if (!r || !this.visible(r, scope)) throw new CaseNotFoundError(`案件 ${id}`);
    return this.stmt.auditSince.all(id, 0).map((a) => ({
      id: a.id,
      version: a.version,
      at: a.at,
      actorId: a.actor_id,
      action: a.action,
      changes: JSON.parse(a.changes) as Record<string, [unknown, unknown]>,
    }));
  }

  holdings(id: number): Holding[] {
    return (
      this.prep(
        `SELECT h.*, u.name AS unit_name FROM case_holdings h JOIN org_units u ON u.id = h.unit_id
           WHERE h.case_id = ? ORDER BY h.id`,
      ).all(id) as {
        unit_id: number;
        unit_name: string;
        since: string;
        until: string | null;
        by_user: number | null;
        note: string;
      }[]
    ).map((h) => ({
      unitId: h.unit_id,
      unitName: h.unit_name,
      since: h.since,
      until: h.until,
      byUser: h.by_user,
      note: h.note,
    }));
  }

  list(filter: CaseFilter, scope: CaseScope, page = 1, pageSize = 20): Page<CaseSummary> {
    const size = Math.min(Math.max(1, Math.floor(pageSize)), MAX_PAGE_SIZE);
    const pg = Math.max(1, Math.floor(page));
    const where: string[] = [];
    const args: (string | number)[] = [];
    const fts: string[] = [];
    let partial = false;
    const today = this.today();

    if (filter.status?.length) {
      where.push(`c.status IN (${filter.status.map(() => '?').join(',')})`);
      args.push(...filter.status);
    } else if (!filter.includeDrafts) {
      where.push(`c.status NOT IN ('draft', 'discarded')`);
    }
    if (filter.type) {
      where.push('c.type = ?');
      args.push(filter.type);
    }
    if (filter.deadline === 'overdue') {
      where.push('c.due_date < ?');
      args.push(today);
    } else if (filter.deadline === 'dueSoon') {
      where.push('c.due_date BETWEEN ? AND ?');
      args.push(today, this.deadlines.dueSoonHorizon(today));
    } else if (filter.deadline === 'running') {
      where.push('c.due_date IS NOT NULL');
    }
    if (filter.area) {
      const range = areaRange(filter.area);
      if (!range) throw new CaseValidationError([{ field: 'area', code: 'unknown', message: '行政区划代码不存在' }]);
      where.push('c.area >= ? AND c.area < ?');
      args.push(range[0], range[1]);
    }
    if (filter.category) {
      where.push('c.category >= ? AND c.category < ?');
      args.push(filter.category, filter.category + '\uffff');
    }
    if (filter.respondent) {
      const t = filter.respondent.trim();
      if (codePoints(t) >= 3) {
        fts.push(`respondent_name : ${ftsPhrase(t)}`);
      } else if (t) {
        where.push('c.respondent_name >= ? AND c.respondent_name < ?');
        args.push(t, t + '\uffff');
      }
    }
    if (filter.q) {
      const t = filter.q.trim();
      if (codePoints(t) >= 3) {
        fts.push(ftsPhrase(t));
      } else if (t) {
        // Too short for trigrams: a table scan, bounded to the newest SHORT_TEXT_SCAN cases so a rare
        // word cannot read the whole store; the page says so with `partial`.
        where.push(`(instr(c.respondent_name, ?) > 0 OR instr(c.description, ?) > 0)`);
        where.push(`c.id > (SELECT coalesce(max(id), 0) FROM cases) - ${SHORT_TEXT_SCAN}`);
        args.push(t, t);
        partial = true;
      }
    }
    if (filter.agentId !== undefined) {
      where.push('c.agent_id = ?');
      args.push(filter.agentId);
    }
    if (filter.unitId !== undefined) {
      where.push('c.unit_id = ?');
      args.push(filter.unitId);
    }
    if (filter.phone) {
      where.push('c.consumer_phone = ?');
      args.push(normalizePhone(filter.phone));
    }
    if (filter.number) {
      where.push('c.number = ?');
      args.push(normalizeCaseNumber(filter.number) ?? filter.number);
    }
    this.scopeWhere(scope, where, args);

    // Plans, chosen per query because SQLite's planner does not weigh LIMIT:
    // - text filters drive from the FTS index in rowid order (newest first, lazily);
    // - deadline lists are ordered by due date (most urgent first) on the due-date index;
    // - otherwise the capped count tells how selective the filters are: a few hundred hits are
    //   fetched by index and sorted; many hits are found faster by walking the table newest-first
    //   (NOT INDEXED) and stopping at the page end.
    // A deadline filter always walks the due-date index: the planner otherwise prefers an OR of the
    // agent/queue indexes and checks tens of thousands of rows for their due date.
    const from = fts.length
      ? 'cases_fts f JOIN cases c ON c.id = f.rowid'
      : filter.deadline
        ? 'cases c INDEXED BY cases_due_filter'
        : 'cases c';
    const ftsWhere = fts.length ? ['f.cases_fts MATCH ?'] : [];
    const ftsArgs = fts.length ? [fts.join(' AND ')] : [];
    const allWhere = [...ftsWhere, ...where];
    const w = allWhere.length ? `WHERE ${allWhere.join(' AND ')}` : '';
    const allArgs = [...ftsArgs, ...args];
    const offset = (pg - 1) * size;
    let n: number | undefined;
    if (partial && !fts.length && !filter.deadline) {
      // The short-text scan reads up to SHORT_TEXT_SCAN rows whatever it finds; one newest-first pass
      // yields both the capped count and the page (the ids), instead of a count scan and a page scan.
      const ids = (
        this.prep(`SELECT c.id FROM cases c ${w} ORDER BY c.id DESC LIMIT ${COUNT_CAP + 1}`).all(...allArgs) as {
          id: number;
        }[]
      ).map((r) => r.id);
      if (offset + size <= ids.length || ids.length <= COUNT_CAP) {
        const pageIds = ids.slice(offset, offset + size);
        const rows = pageIds.length
          ? (this.prep(`${SELECT} WHERE c.id IN (${pageIds.map(() => '?').join(',')}) ORDER BY c.id DESC`).all(
              ...pageIds,
            ) as Row[])
          : [];
        return this.page(rows, today, pg, size, ids.length, partial);
      }
      n = ids.length;
    }
    n ??= (
      this.prep(`SELECT count(*) AS n FROM (SELECT 1 FROM ${from} ${w} LIMIT ${COUNT_CAP + 1})`).get(...allArgs) as {
        n: number;
      }
    ).n;
    let sql: string;
    if (fts.length) {
      sql = `SELECT c.*, u.name AS unit_name FROM ${from} LEFT JOIN org_units u ON u.id = c.unit_id ${w} ORDER BY f.rowid DESC`;
    } else if (filter.deadline) {
      sql = `SELECT c.*, u.name AS unit_name FROM ${from} LEFT JOIN org_units u ON u.id = c.unit_id ${w} ORDER BY c.due_date, c.id`;
    } else if (n > NARROW_HITS) {
      sql = `SELECT c.*, u.name AS unit_name FROM cases c NOT INDEXED LEFT JOIN org_units u ON u.id = c.unit_id ${w} ORDER BY c.id DESC`;
    } else {
      sql = `${SELECT} ${w} ORDER BY c.id DESC`;
    }
    const rows = this.prep(`${sql} LIMIT ? OFFSET ?`).all(...allArgs, size, offset) as Row[];
    return this.page(rows, today, pg, size, n, partial);
  }

  private page(rows: Row[], today: string, page: number, size: number, n: number, partial: boolean): Page<CaseSummary> {
    return {
      items: rows.map((r) => this.toSummary(r, today)),
      page,
      pageSize: size,
      total: Math.min(n, COUNT_CAP),
      totalCapped: n > COUNT_CAP,
      partial,
    };
  }

  /** Earlier cases and calls of a number in the history window, for the agent's screen pop. */
  screenPop(callerNumber: string, opts: { exceptCallId?: string; scope?: CaseScope } = {}): ScreenPop {
    const phone = normalizePhone(callerNumber);
    const since = new Date(this.now().getTime() - this.historyDays * 86_400_000).toISOString();
    const today = this.today();
    const cases = (
      this.prep(
        `${SELECT} WHERE c.consumer_phone = ? AND c.created_at >= ? AND c.status <> 'discarded'
           ORDER BY c.created_at DESC LIMIT 20`,
      ).all(phone, since) as Row[]
    ).filter(
      (r) => r.status !== CaseStatus.Draft || !opts.exceptCallId || !this.isDraftOfCall(r.id, opts.exceptCallId),
    );
    const calls = (
      this.prep(
        `SELECT call_id, at, queue, ivr_path, case_id FROM case_contacts
           WHERE caller_number = ? AND at >= ? AND call_id <> ? ORDER BY at DESC LIMIT 50`,
      ).all(phone, since, opts.exceptCallId ?? '') as {
        call_id: string;
        at: string;
        queue: string;
        ivr_path: string;
        case_id: number | null;
      }[]
    ).map((c) => ({ callId: c.call_id, at: c.at, queue: c.queue, ivrPath: c.ivr_path, caseId: c.case_id }));
    return {
      callerNumber: maskPhone(phone),
      cases: cases.map((r) => this.toSummary(r, today)),
      calls,
      repeatCaller: calls.length > 0,
      openCases: cases.filter((r) => !isTerminal(r.status) && r.status !== CaseStatus.Draft).length,
    };
  }

  /** For the IVR `lookup` node: a caller keys in a case number and hears its status. */
  statusForIvr(caseNumber: string): IvrCaseStatus {
    const n = normalizeCaseNumber(caseNumber);
    const r = n ? this.stmt.byNumber.get(n) : undefined;
    if (!r || r.status === CaseStatus.Draft || r.status === CaseStatus.Discarded) return { found: false };
    const typeLabel = CASE_TYPE_LABELS[r.type];
    const statusLabel = STATUS_LABELS[r.status];
    return {
      found: true,
      number: r.number,
      digits: caseNumberDigits(r.number),
      type: r.type,
      typeLabel,
      status: r.status,
      statusLabel,
      speech: `您的${typeLabel}，编号${caseNumberSpeech(r.number)}，当前状态：${statusLabel}。`,
      receivedDate: r.received_date,
      acceptedDate: r.accepted_date,
      lastChangeDate: shanghaiDate(new Date(r.updated_at)),
    };
  }

  // ---------------------------------------------------------------- writes

  create(input: NewCase, actor: Actor): CaseRecord {
    const { type, callId, channel, queue, agentId, draft, ...patch } = input;
    const { values, errors } = flattenPatch({ ...patch, type });
    const v = validateValues(values, this.categories);
    errors.push(...v.errors);
    const fields = applyFlat({ ...emptyFields(), type }, v.clean);
    if (!draft && errors.length === 0) errors.push(...checkWrapUp(fields, this.categories));
    if (callId !== undefined && !/^[\x21-\x7e]{1,200}$/.test(callId)) {
      errors.push({ field: 'callId', code: 'invalid', message: '呼叫标识格式不正确' });
    }
    if (errors.length) throw new CaseValidationError(errors);
    return this.db.transaction(() => {
      const id = this.insertCase(fields, {
        status: draft ? CaseStatus.Draft : CaseStatus.Registered,
        channel: channel ?? 'phone',
        queue: queue ?? '',
        agentId: agentId ?? (actor.role === 'agent' ? actor.id : null),
        ivrPath: '',
        parentId: null,
        createdBy: actor.id,
      });
      if (callId) this.linkCall(id, callId);
      return this.get(id);
    });
  }

  /**
   * Called by call control when a call is offered to an agent, so the desktop opens on a case that
   * already has the caller number, type and call link. Idempotent per call id (a re-offer to another
   * agent after a no-answer reuses the draft and moves it to the new agent).
   */
  createDraftForCall(d: DraftForCall): CaseRecord {
    if (!/^[\x21-\x7e]{1,200}$/.test(d.callId))
      throw new CaseValidationError([{ field: 'callId', code: 'invalid', message: '呼叫标识格式不正确' }]);
    const phone = normalizePhone(d.callerNumber);
    const type = d.type ?? d.ivrPath.map((p) => this.ivrTypeMap[p]).find((t) => t !== undefined) ?? 'complaint';
    const ivrPath = d.ivrPath.join('>');
    return this.db.transaction(() => {
      const existing = this.prep('SELECT case_id FROM case_contacts WHERE call_id = ?').get(d.callId) as
        { case_id: number | null } | undefined;
      if (existing?.case_id) {
        const r = this.stmt.byId.get(existing.case_id)!;
        if (r.status === CaseStatus.Draft && r.agent_id !== d.agentId) {
          this.s
            .prepare('UPDATE cases SET agent_id = ?, version = version + 1, updated_at = ? WHERE id = ?')
            .run(d.agentId, this.nowIso(), r.id);
          this.stmt.audit.run(
            r.id,
            r.version + 1,
            this.nowIso(),
            null,
            'reoffer',
            JSON.stringify({ agentId: [r.agent_id, d.agentId] }),
          );
        }
        return this.get(r.id);
      }
      const fields = emptyFields();
      // Withheld or malformed caller ids are not copied into the consumer's phone.
      if (isValidPhone(phone)) fields.consumer.phone = phone;
      const id = this.insertCase(
        { ...fields, type },
        {
          status: CaseStatus.Draft,
          channel: 'phone',
          queue: d.queue,
          agentId: d.agentId,
          ivrPath,
          parentId: null,
          createdBy: null,
        },
      );
      this.prep(
        `INSERT INTO case_contacts (call_id, caller_number, at, queue, ivr_path, agent_id, case_id)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(d.callId, phone, this.nowIso(), d.queue, ivrPath, d.agentId, id);
      this.prep('INSERT OR IGNORE INTO case_links (case_id, kind, ref, created_at) VALUES (?, ?, ?, ?)').run(
        id,
        'call',
        d.callId,
        this.nowIso(),
      );
      log.info({ caseId: id, caller: maskPhone(phone), queue: d.queue }, 'draft case for offered call');
      return this.get(id);
    });
  }

  /** Autosave and edits. `version` is the one the client read; a stale one gets VersionConflictError. */
  update(id: number, version: number, patch: CasePatch, actor: Actor, scope: CaseScope = { kind: 'all' }): CaseRecord {
    const { values, errors } = flattenPatch(patch);
    const v = validateValues(values, this.categories);
    errors.push(...v.errors);
    if (errors.length) throw new CaseValidationError(errors);
    return this.db.transaction(() => {
      const r = this.current(id, version, scope);
      if (!isEditable(r.status))
        throw new CaseStateError('not_editable', `案件已${STATUS_LABELS[r.status]}，不能再修改`);
      if (
        v.clean.type !== undefined &&
        v.clean.type !== r.type &&
        r.status !== CaseStatus.Draft &&
        r.status !== CaseStatus.Registered
      ) {
        throw new CaseValidationError([{ field: 'type', code: 'not_allowed', message: '受理后不能更改类型' }]);
      }
      const before = flatten(fieldsOf(r));
      const after = applyFlat(fieldsOf(r), v.clean);
      if (after.complaintToCase && after.type !== 'complaint') {
        throw new CaseValidationError([
          { field: 'complaintToCase', code: 'not_allowed', message: '只有投诉可以诉转案' },
        ]);
      }
      const changes: Record<string, [unknown, unknown]> = {};
      for (const [k, nv] of Object.entries(v.clean) as [FieldName, FlatValue][]) {
        if (before[k] !== nv) changes[k] = [before[k], nv];
      }
      if (Object.keys(changes).length === 0) return this.toRecord(r, scope);
      // Once registered a case must stay complete: an edit may not blank a required field.
      if (r.status !== CaseStatus.Draft) {
        const missing = checkWrapUp(after, this.categories);
        if (missing.length) throw new CaseValidationError(missing);
      }
      const sets = Object.keys(changes).map((k) => `${COLUMN[k as FieldName]} = ?`);
      const args = Object.keys(changes).map((k) => toDb(k as FieldName, changes[k]![1] as FlatValue));
      const due = this.deadlines.current({
        type: after.type,
        status: r.status,
        receivedDate: r.received_date,
        acceptedDate: r.accepted_date,
      });
      const at = this.nowIso();
      const res = this.prep(
        `UPDATE cases SET ${sets.join(', ')}, due_kind = ?, due_date = ?, version = version + 1, updated_at = ?
           WHERE id = ? AND version = ?`,
      ).run(...args, due?.kind ?? null, due?.due ?? null, at, id, version);
      if (res.changes !== 1) throw new Error('version check raced inside a transaction');
      this.auditUpdate(id, version, at, actor.id, changes);
      return this.get(id, scope);
    });
  }

  transition(
    id: number,
    version: number,
    t: TransitionInput,
    actor: Actor,
    scope: CaseScope = { kind: 'all' },
  ): CaseRecord {
    return this.db.transaction(() => {
      const r = this.current(id, version, scope);
      let rule;
      try {
        rule = transitionRule(r.type, r.status, t.to);
      } catch (err) {
        if (err instanceof IllegalTransitionError) {
          log.warn({ caseId: id, from: r.status, to: t.to }, 'illegal case transition refused');
          throw new CaseStateError('illegal_transition', err.message);
        }
        throw err;
      }
      const reason = t.reason?.trim() ?? '';
      const errors: FieldError[] = [];
      if (rule.reason && !reason) errors.push({ field: 'reason', code: 'required', message: '请填写理由' });
      if (codePoints(reason) > 1000) errors.push({ field: 'reason', code: 'too_long', message: '不能超过 1000 个字' });
      let unit: OrgUnit | null = null;
      if (rule.unit) {
        unit = t.unitId === undefined ? null : this.unit(t.unitId);
        if (!unit || !unit.enabled) errors.push({ field: 'unitId', code: 'unknown', message: '请选择有效的承办单位' });
        else if (unit.id === r.unit_id) errors.push({ field: 'unitId', code: 'invalid', message: '案件已在该单位' });
      }
      if (rule.complete) errors.push(...checkWrapUp(fieldsOf(r), this.categories));
      if (errors.length) throw new CaseValidationError(errors);

      const at = this.nowIso();
      const today = this.today();
      const acceptedDate =
        r.accepted_date ?? (t.to === CaseStatus.Accepted || t.to === CaseStatus.Mediating ? today : null);
      // Registering a draft starts the legal clock on the day it is registered.
      const receivedDate = r.status === CaseStatus.Draft && t.to === CaseStatus.Registered ? today : r.received_date;
      const due = this.deadlines.current({ type: r.type, status: t.to, receivedDate, acceptedDate });
      const changes: Record<string, [unknown, unknown]> = { status: [r.status, t.to] };
      if (reason) changes.reason = [r.status_reason, reason];
      if (t.note) changes.note = [null, t.note];
      let unitId = r.unit_id;
      let heldSince = r.held_since;
      if (unit) {
        this.prep('UPDATE case_holdings SET until = ? WHERE case_id = ? AND until IS NULL').run(at, id);
        this.prep('INSERT INTO case_holdings (case_id, unit_id, since, by_user, note) VALUES (?, ?, ?, ?, ?)').run(
          id,
          unit.id,
          at,
          actor.id,
          t.note ?? '',
        );
        changes.unit = [r.unit_id, unit.id];
        unitId = unit.id;
        heldSince = at;
      } else if (isTerminal(t.to)) {
        this.prep('UPDATE case_holdings SET until = ? WHERE case_id = ? AND until IS NULL').run(at, id);
      }
      this.prep(
        `UPDATE cases SET status = ?, status_reason = ?, unit_id = ?, held_since = ?, received_date = ?,
             accepted_date = ?, closed_at = ?, due_kind = ?, due_date = ?, version = version + 1, updated_at = ?
           WHERE id = ? AND version = ?`,
      ).run(
        t.to,
        reason || r.status_reason,
        unitId,
        heldSince,
        receivedDate,
        acceptedDate,
        t.to === CaseStatus.Closed ? at : r.closed_at,
        due?.kind ?? null,
        due?.due ?? null,
        at,
        id,
        version,
      );
      this.stmt.audit.run(id, version + 1, at, actor.id, 'transition', JSON.stringify(changes));
      log.info({ caseId: id, from: r.status, to: t.to, unitId }, 'case transition');
      return this.get(id, scope);
    });
  }

  /** 分流: hand the case to a unit (a transition to 分流 with the unit recorded as its holder). */
  dispatch(id: number, version: number, unitId: number, note: string, actor: Actor, scope?: CaseScope): CaseRecord {
    return this.transition(id, version, { to: CaseStatus.Dispatched, unitId, note }, actor, scope);
  }

  /**
   * One call raised two matters (e.g. a complaint about a refund and a report about fake goods): the
   * new case copies the consumer and the call links and points to the original with parentId.
   */
  split(
    id: number,
    version: number,
    input: NewCase,
    actor: Actor,
    scope: CaseScope = { kind: 'all' },
  ): { original: CaseRecord; created: CaseRecord } {
    // Call, queue and agent come from the original; only the content is taken from the input.
    const { type, draft, callId: _c, channel: _ch, queue: _q, agentId: _a, ...patch } = input;
    const { values, errors } = flattenPatch({ ...patch, type });
    const v = validateValues(values, this.categories);
    errors.push(...v.errors);
    if (errors.length) throw new CaseValidationError(errors);
    return this.db.transaction(() => {
      const r = this.current(id, version, scope);
      const base = fieldsOf(r);
      const fields = applyFlat({ ...emptyFields(), type, consumer: base.consumer, area: base.area }, v.clean);
      const isDraft = draft ?? true;
      if (!isDraft) {
        const missing = checkWrapUp(fields, this.categories);
        if (missing.length) throw new CaseValidationError(missing);
      }
      const newId = this.insertCase(fields, {
        status: isDraft ? CaseStatus.Draft : CaseStatus.Registered,
        channel: r.channel,
        queue: r.queue,
        agentId: r.agent_id,
        ivrPath: r.ivr_path,
        parentId: r.id,
        createdBy: actor.id,
      });
      const at = this.nowIso();
      this.prep(
        `INSERT INTO case_links (case_id, kind, ref, note, created_at)
           SELECT ?, kind, ref, note, ? FROM case_links WHERE case_id = ? AND kind IN ('call', 'recording', 'voicemail')`,
      ).run(newId, at, id);
      this.prep('UPDATE cases SET version = version + 1, updated_at = ? WHERE id = ?').run(at, id);
      const created = this.get(newId);
      this.stmt.audit.run(
        id,
        version + 1,
        at,
        actor.id,
        'split',
        JSON.stringify({ splitInto: [null, created.number] }),
      );
      return { original: this.get(id, scope), created };
    });
  }

  addLink(
    id: number,
    link: { kind: LinkKind; ref: string; note?: string },
    actor: Actor,
    scope: CaseScope = { kind: 'all' },
  ): CaseRecord {
    if (!LINK_KINDS.includes(link.kind))
      throw new CaseValidationError([{ field: 'kind', code: 'invalid', message: '关联类型不正确' }]);
    if (!/^[\x21-\x7e]{1,500}$/.test(link.ref))
      throw new CaseValidationError([{ field: 'ref', code: 'invalid', message: '关联标识格式不正确' }]);
    return this.db.transaction(() => {
      const r = this.stmt.byId.get(id);
      if (!r || !this.visible(r, scope)) throw new CaseNotFoundError(`案件 ${id}`);
      const res = this.prep(
        'INSERT OR IGNORE INTO case_links (case_id, kind, ref, note, created_at) VALUES (?, ?, ?, ?, ?)',
      ).run(id, link.kind, link.ref, link.note ?? '', this.nowIso());
      if (res.changes === 1) {
        if (link.kind === 'call') {
          this.s
            .prepare('UPDATE case_contacts SET case_id = ? WHERE call_id = ? AND case_id IS NULL')
            .run(id, link.ref);
        }
        // Links do not bump the version: they never conflict with what an agent is typing.
        this.stmt.audit.run(
          id,
          r.version,
          this.nowIso(),
          actor.id,
          'link',
          JSON.stringify({ [link.kind]: [null, link.ref] }),
        );
      }
      return this.get(id, scope);
    });
  }

  /**
   * A note on the case: an audit entry of action 'note' (GET /api/cases/{id}/audit shows it). Call
   * control writes them for what happened on the call that the form does not hold, e.g. a 维权站 that
   * did not answer a three-way call (issue 7). Notes do not bump the version, like links: they never
   * conflict with what an agent is typing.
   */
  addNote(id: number, text: string, actor: Actor, scope: CaseScope = { kind: 'all' }): AuditEntry {
    const t = text.trim();
    if (t.length === 0 || t.length > 500)
      throw new CaseValidationError([{ field: 'note', code: 'invalid', message: '备注应为 1–500 个字' }]);
    return this.db.transaction(() => {
      const r = this.stmt.byId.get(id);
      if (!r || !this.visible(r, scope)) throw new CaseNotFoundError(`案件 ${id}`);
      const at = this.nowIso();
      const changes = { note: [null, t] as [unknown, unknown] };
      const res = this.stmt.audit.run(id, r.version, at, actor.id, 'note', JSON.stringify(changes));
      return { id: Number(res.lastInsertRowid), version: r.version, at, actorId: actor.id, action: 'note', changes };
    });
  }

  /** A note on the case of a call; null when the call has no case (nothing was drafted for it). */
  addNoteForCall(callId: string, text: string, actor: Actor): AuditEntry | null {
    const row = this.prep('SELECT case_id FROM case_contacts WHERE call_id = ?').get(callId) as
      { case_id: number | null } | undefined;
    if (!row?.case_id) return null;
    return this.addNote(row.case_id, text, actor);
  }

  /** Notes of a case, oldest first. */
  notes(id: number, scope: CaseScope = { kind: 'all' }): AuditEntry[] {
    return this.audit(id, scope).filter((a) => a.action === 'note');
  }

  /** 回访: after 办结, record the consumer's satisfaction (1–5). */
  followUp(id: number, version: number, f: { satisfaction: number; note?: string }, actor: Actor): CaseRecord {
    if (!Number.isInteger(f.satisfaction) || f.satisfaction < 1 || f.satisfaction > 5) {
      throw new CaseValidationError([{ field: 'satisfaction', code: 'invalid', message: '满意度应为 1–5' }]);
    }
    return this.db.transaction(() => {
      const r = this.current(id, version, { kind: 'all' });
      if (r.status !== CaseStatus.Closed) throw new CaseStateError('not_allowed', '办结后才能回访');
      const at = this.nowIso();
      this.prep(
        `UPDATE cases SET satisfaction = ?, follow_up_note = ?, follow_up_at = ?, version = version + 1, updated_at = ?
           WHERE id = ? AND version = ?`,
      ).run(f.satisfaction, f.note ?? '', at, at, id, version);
      this.stmt.audit.run(
        id,
        version + 1,
        at,
        actor.id,
        'follow_up',
        JSON.stringify({ satisfaction: [r.satisfaction, f.satisfaction] }),
      );
      return this.get(id);
    });
  }

  /** 督办: a lead presses the holding unit; recorded and counted per case. */
  urge(id: number, note: string, actor: Actor): CaseRecord {
    return this.db.transaction(() => {
      const r = this.stmt.byId.get(id);
      if (!r) throw new CaseNotFoundError(`案件 ${id}`);
      if (!r.unit_id || isTerminal(r.status)) throw new CaseStateError('not_allowed', '案件不在承办单位手中，无需督办');
      const at = this.nowIso();
      this.prep('INSERT INTO case_urges (case_id, unit_id, at, by_user, note) VALUES (?, ?, ?, ?, ?)').run(
        id,
        r.unit_id,
        at,
        actor.id,
        note,
      );
      this.stmt.audit.run(id, r.version, at, actor.id, 'urge', JSON.stringify({ urge: [null, note] }));
      return this.get(id);
    });
  }

  share(id: number, userId: number, actor: Actor): void {
    this.db.transaction(() => {
      const r = this.stmt.byId.get(id);
      if (!r) throw new CaseNotFoundError(`案件 ${id}`);
      const res = this.prep('INSERT OR IGNORE INTO case_shares (case_id, user_id, created_at) VALUES (?, ?, ?)').run(
        id,
        userId,
        this.nowIso(),
      );
      if (res.changes)
        this.stmt.audit.run(
          id,
          r.version,
          this.nowIso(),
          actor.id,
          'share',
          JSON.stringify({ sharedWith: [null, userId] }),
        );
    });
  }

  /** Cases currently held by units, oldest holding first, with 督办 counts. */
  supervision(opts: { unitId?: number; overdueOnly?: boolean; limit?: number } = {}): SupervisionItem[] {
    const where = [`c.unit_id IS NOT NULL`, `c.status NOT IN ('closed', 'discarded')`];
    const args: (string | number)[] = [];
    if (opts.unitId !== undefined) {
      where.push('c.unit_id = ?');
      args.push(opts.unitId);
    }
    if (opts.overdueOnly) {
      where.push('c.due_date < ?');
      args.push(this.today());
    }
    const rows = this.prep(
      `SELECT c.*, u.name AS unit_name,
           (SELECT count(*) FROM case_urges g WHERE g.case_id = c.id AND g.unit_id = c.unit_id) AS urges,
           (SELECT max(at) FROM case_urges g WHERE g.case_id = c.id AND g.unit_id = c.unit_id) AS last_urged
         FROM cases c LEFT JOIN org_units u ON u.id = c.unit_id
         WHERE ${where.join(' AND ')} ORDER BY c.held_since LIMIT ?`,
    ).all(...args, Math.min(opts.limit ?? 100, 1000)) as (Row & { urges: number; last_urged: string | null })[];
    const today = this.today();
    return rows.map((r) => ({
      ...this.toSummary(r, today),
      heldSince: r.held_since!,
      urges: r.urges,
      lastUrgedAt: r.last_urged,
    }));
  }

  // ---------------------------------------------------------------- units

  createUnit(u: { code: string; name: string; kind: OrgUnit['kind']; area?: string }): OrgUnit {
    const errors: FieldError[] = [];
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(u.code))
      errors.push({ field: 'code', code: 'invalid', message: '编码只能含字母、数字、-、_' });
    if (!u.name.trim()) errors.push({ field: 'name', code: 'required', message: '请填写单位名称' });
    if (u.area && !areaName(u.area)) errors.push({ field: 'area', code: 'unknown', message: '行政区划代码不存在' });
    if (errors.length) throw new CaseValidationError(errors);
    try {
      const res = this.prep('INSERT INTO org_units (code, name, kind, area, created_at) VALUES (?, ?, ?, ?, ?)').run(
        u.code,
        u.name.trim(),
        u.kind,
        u.area ?? '',
        this.nowIso(),
      );
      return this.unit(Number(res.lastInsertRowid))!;
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new CaseError(409, 'duplicate', `单位编码 ${u.code} 已存在`);
      }
      throw err;
    }
  }

  /** Inserts the demo units whose code is not present yet; returns how many were added. */
  seedDemoUnits(
    units: { code: string; name: string; kind: OrgUnit['kind']; area?: string }[] = demoUnits.units as never,
  ): number {
    let n = 0;
    for (const u of units) {
      if (this.prep('SELECT 1 FROM org_units WHERE code = ?').get(u.code)) continue;
      this.createUnit(u);
      n++;
    }
    return n;
  }

  unit(id: number): OrgUnit | null {
    const r = this.stmt.unit.get(id);
    return r ? { id: r.id, code: r.code, name: r.name, kind: r.kind, area: r.area, enabled: r.enabled === 1 } : null;
  }

  listUnits(): OrgUnit[] {
    return (this.prep('SELECT id FROM org_units ORDER BY code').all() as { id: number }[]).map((r) => this.unit(r.id)!);
  }

  // ---------------------------------------------------------------- internals

  private readonly statements = new Map<string, BetterSqlite3.Statement>();

  /** Prepared statements cached by SQL text (the dynamic list and update SQL repeats). */
  private prep(sql: string): BetterSqlite3.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      // Filter combinations are finite, but keep the cache bounded anyway.
      if (this.statements.size >= 1000) this.statements.clear();
      st = this.s.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  private today(): string {
    return shanghaiDate(this.now());
  }

  private nowIso(): string {
    return this.now().toISOString();
  }

  /** Appends an 'update' audit entry, or merges it into the same person's entry of the last few minutes. */
  private auditUpdate(
    id: number,
    version: number,
    at: string,
    actorId: number | null,
    changes: Record<string, [unknown, unknown]>,
  ): void {
    const lastId = (
      this.prep('SELECT max(id) AS id FROM case_audit WHERE case_id = ?').get(id) as { id: number | null }
    ).id;
    let last = this.auditCache.get(id);
    if (!last || last.rowId !== lastId || last.version !== version) {
      const row = this.prep('SELECT id, version, at, actor_id, action, changes FROM case_audit WHERE id = ?').get(
        lastId,
      ) as
        | { id: number; version: number; at: string; actor_id: number | null; action: string; changes: string }
        | undefined;
      last =
        row && row.action === 'update'
          ? {
              rowId: row.id,
              version: row.version,
              at: row.at,
              actorId: row.actor_id,
              changes: JSON.parse(row.changes) as Record<string, [unknown, unknown]>,
            }
          : undefined;
    }
    this.auditCache.delete(id); // re-inserted below: Map order is then least recently saved first
    if (
      last &&
      this.auditMergeMs > 0 &&
      last.actorId === actorId &&
      last.version === version &&
      Date.parse(at) - Date.parse(last.at) <= this.auditMergeMs
    ) {
      // A new object: the cached one stays as it was should this batch roll back (then version misses).
      const merged = { ...last.changes };
      for (const [k, [before, after]] of Object.entries(changes)) {
        merged[k] = [k in merged ? merged[k]![0] : before, after];
        if (merged[k]![0] === merged[k]![1]) delete merged[k];
      }
      // `at` stays the start of the burst, so the merge window cannot slide forever.
      this.prep('UPDATE case_audit SET version = ?, changes = ? WHERE id = ?').run(
        version + 1,
        JSON.stringify(merged),
        last.rowId,
      );
      this.cacheAudit(id, { ...last, version: version + 1, changes: merged });
      return;
    }
    const res = this.stmt.audit.run(id, version + 1, at, actorId, 'update', JSON.stringify(changes));
    this.cacheAudit(id, { rowId: Number(res.lastInsertRowid), version: version + 1, at, actorId, changes });
  }

  private cacheAudit(id: number, entry: OpenAuditEntry): void {
    this.auditCache.set(id, entry);
    // Enough for every case being typed into at once; the least recently saved go first.
    if (this.auditCache.size > 1000) this.auditCache.delete(this.auditCache.keys().next().value!);
  }

  private isDraftOfCall(caseId: number, callId: string): boolean {
    return !!this.prep(`SELECT 1 FROM case_contacts WHERE call_id = ? AND case_id = ?`).get(callId, caseId);
  }

  /** Loads a case for a write and enforces scope and the optimistic version check. */
  private current(id: number, version: number, scope: CaseScope): Row {
    const r = this.stmt.byId.get(id);
    if (!r || !this.visible(r, scope)) throw new CaseNotFoundError(`案件 ${id}`);
    if (r.version !== version) {
      const since = this.stmt.auditSince.all(id, version).map((a) => ({
        version: a.version,
        at: a.at,
        actorId: a.actor_id,
        action: a.action,
        changes: JSON.parse(a.changes) as Record<string, [unknown, unknown]>,
      }));
      throw new VersionConflictError(version, r.version, since);
    }
    return r;
  }

  private insertCase(
    f: CaseFields & { type: CaseType },
    m: {
      status: CaseStatus;
      channel: string;
      queue: string;
      agentId: number | null;
      ivrPath: string;
      parentId: number | null;
      createdBy: number | null;
    },
  ): number {
    const now = this.now();
    const at = now.toISOString();
    const day = shanghaiDate(now);
    const { last } = this.stmt.nextSeq.get(day)!;
    const number = formatCaseNumber(day, last);
    const flat = flatten(f);
    const due = this.deadlines.current({ type: f.type, status: m.status, receivedDate: day, acceptedDate: null });
    const cols = Object.keys(COLUMN) as FieldName[];
    const res = this.prep(
      `INSERT INTO cases (number, status, channel, queue, agent_id, ivr_path, parent_id, received_date,
           due_kind, due_date, created_by, created_at, updated_at, ${cols.map((c) => COLUMN[c]).join(', ')})
         VALUES (${Array(13 + cols.length)
           .fill('?')
           .join(', ')})`,
    ).run(
      number,
      m.status,
      m.channel,
      m.queue,
      m.agentId,
      m.ivrPath,
      m.parentId,
      day,
      due?.kind ?? null,
      due?.due ?? null,
      m.createdBy,
      at,
      at,
      ...cols.map((c) => toDb(c, flat[c])),
    );
    const id = Number(res.lastInsertRowid);
    const initial: Record<string, [unknown, unknown]> = { status: [null, m.status] };
    for (const c of cols) if (flat[c] !== '' && flat[c] !== null && flat[c] !== false) initial[c] = [null, flat[c]];
    if (m.parentId) initial.parentId = [null, m.parentId];
    this.stmt.audit.run(id, 1, at, m.createdBy, 'create', JSON.stringify(initial));
    return id;
  }

  private linkCall(id: number, callId: string): void {
    const at = this.nowIso();
    this.prep('INSERT OR IGNORE INTO case_links (case_id, kind, ref, created_at) VALUES (?, ?, ?, ?)').run(
      id,
      'call',
      callId,
      at,
    );
    this.prep('UPDATE case_contacts SET case_id = ? WHERE call_id = ? AND case_id IS NULL').run(id, callId);
  }

  private visible(r: Row, scope: CaseScope): boolean {
    if (scope.kind === 'all') return true;
    if (scope.kind === 'agent')
      return r.agent_id === scope.userId || (r.queue !== '' && scope.queues.includes(r.queue));
    return !!this.prep('SELECT 1 FROM case_shares WHERE case_id = ? AND user_id = ?').get(r.id, scope.userId);
  }

  private scopeWhere(scope: CaseScope, where: string[], args: (string | number)[]): void {
    if (scope.kind === 'agent') {
      const qs = scope.queues.filter((q) => q !== '');
      where.push(qs.length ? `(c.agent_id = ? OR c.queue IN (${qs.map(() => '?').join(',')}))` : 'c.agent_id = ?');
      args.push(scope.userId, ...qs);
    } else if (scope.kind === 'merchant') {
      where.push('c.id IN (SELECT case_id FROM case_shares WHERE user_id = ?)');
      args.push(scope.userId);
    }
  }

  private deadlineOf(r: Row, today: string): CaseRecord['deadline'] {
    if (!r.due_date || !r.due_kind) return null;
    const flags = this.deadlines.flags(r.due_date, today, r.received_date);
    const covered =
      this.calendar.covers(Number(r.received_date.slice(0, 4))) && this.calendar.covers(Number(r.due_date.slice(0, 4)));
    return { kind: r.due_kind, due: r.due_date, ...flags, calendarCovered: covered };
  }

  private toSummary(r: Row, today: string): CaseSummary {
    return {
      id: r.id,
      number: r.number,
      type: r.type,
      status: r.status,
      statusLabel: STATUS_LABELS[r.status],
      version: r.version,
      consumerName: r.consumer_name,
      consumerPhone: maskPhone(r.consumer_phone),
      respondentName: r.respondent_name,
      area: r.area,
      areaName: r.area ? areaName(r.area) : null,
      category: r.category,
      agentId: r.agent_id,
      queue: r.queue,
      unit: r.unit_id ? { id: r.unit_id, name: r.unit_name ?? '' } : null,
      deadline: this.deadlineOf(r, today),
      createdAt: r.created_at,
    };
  }

  private toRecord(r: Row, scope: CaseScope): CaseRecord {
    const f = fieldsOf(r);
    // Merchants mediate through the platform; they do not get the consumer's number in clear.
    if (scope.kind === 'merchant') f.consumer = { ...f.consumer, phone: maskPhone(f.consumer.phone) };
    const links: CaseLink[] = this.stmt.links.all(r.id).map((l) => ({
      id: l.id,
      kind: l.kind,
      ref: l.ref,
      note: l.note,
      createdAt: l.created_at,
    }));
    return {
      ...f,
      id: r.id,
      number: r.number,
      status: r.status,
      statusLabel: STATUS_LABELS[r.status],
      version: r.version,
      channel: r.channel,
      queue: r.queue,
      agentId: r.agent_id,
      ivrPath: r.ivr_path,
      parentId: r.parent_id,
      unit: r.unit_id ? { id: r.unit_id, name: r.unit_name ?? '' } : null,
      heldSince: r.held_since,
      statusReason: r.status_reason,
      receivedDate: r.received_date,
      acceptedDate: r.accepted_date,
      closedAt: r.closed_at,
      deadline: this.deadlineOf(r, this.today()),
      followUp:
        r.satisfaction !== null
          ? { satisfaction: r.satisfaction, note: r.follow_up_note ?? '', at: r.follow_up_at ?? '' }
          : null,
      createdBy: r.created_by,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      links,
    };
  }
}
