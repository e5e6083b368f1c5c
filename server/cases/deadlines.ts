import { createRequire } from 'node:module';
import { dayNumber, type IsoDate, type WorkingCalendar } from '../calendar/index.js';
import { CaseStatus, type CaseType } from './workflow.js';

/**
 * Legal deadlines, in working days, effective-dated so a change in the rules applies to cases received
 * from its effective date on while older cases keep the periods they started under.
 * Defaults: 《市场监督管理投诉举报处理暂行办法》(effective 2020-01-01): decide on accepting a complaint
 * within 7 working days of receipt, finish mediation within 45 working days of acceptance;
 * 《市场监督管理行政处罚程序规定》: verify a report and decide on 立案 within 15 working days of receipt.
 */

export interface DeadlinePolicy {
  effectiveFrom: IsoDate;
  acceptComplaintDays: number;
  mediationDays: number;
  verifyReportDays: number;
  /** A deadline this many working days away or less is flagged due soon. */
  dueSoonDays: number;
  basis: string;
}

/**
 * Checks a policy list read from configuration: dates, positive whole days, no duplicate dates.
 * Throws with the offending entry, so a bad edit stops the server at start instead of miscounting.
 */
export function parseDeadlinePolicies(data: unknown): DeadlinePolicy[] {
  const list = (data as { policies?: unknown } | null)?.policies;
  if (!Array.isArray(list) || list.length === 0)
    throw new Error('deadline policies: "policies" must be a non-empty array');
  const seen = new Set<string>();
  return list.map((raw, i) => {
    const p = raw as Record<string, unknown>;
    const where = `deadline policies[${i}]`;
    if (typeof p.effectiveFrom !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(p.effectiveFrom)) {
      throw new Error(`${where}: effectiveFrom must be YYYY-MM-DD`);
    }
    if (seen.has(p.effectiveFrom)) throw new Error(`${where}: duplicate effectiveFrom ${p.effectiveFrom}`);
    seen.add(p.effectiveFrom);
    for (const k of ['acceptComplaintDays', 'mediationDays', 'verifyReportDays', 'dueSoonDays'] as const) {
      const v = p[k];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 365) {
        throw new Error(`${where}: ${k} must be a whole number of working days`);
      }
    }
    return {
      effectiveFrom: p.effectiveFrom,
      acceptComplaintDays: p.acceptComplaintDays as number,
      mediationDays: p.mediationDays as number,
      verifyReportDays: p.verifyReportDays as number,
      dueSoonDays: p.dueSoonDays as number,
      basis: typeof p.basis === 'string' ? p.basis : '',
    };
  });
}

/** The shipped configuration, `deadline-policies.json` beside this file (data, not code). */
export const DEFAULT_DEADLINE_POLICIES: readonly DeadlinePolicy[] = parseDeadlinePolicies(
  createRequire(import.meta.url)('./deadline-policies.json'),
);

export type DeadlineKind = 'accept' | 'mediation' | 'verify';

export const DEADLINE_LABELS: Record<DeadlineKind, string> = {
  accept: '受理决定期限',
  mediation: '调解期限',
  verify: '核查期限',
};

export interface DeadlineInput {
  type: CaseType;
  status: CaseStatus;
  /** Date the contact was received (登记日). */
  receivedDate: IsoDate;
  /** Date of 受理, when accepted. */
  acceptedDate: IsoDate | null;
}

export interface Deadline {
  kind: DeadlineKind;
  due: IsoDate;
  /** False when the calendar has no holiday data for a year the period crosses: the date is a guess. */
  calendarCovered: boolean;
}

export interface DeadlineFlags {
  overdue: boolean;
  dueSoon: boolean;
}

export class Deadlines {
  private readonly policies: DeadlinePolicy[];

  constructor(
    private readonly calendar: WorkingCalendar,
    policies: readonly DeadlinePolicy[] = DEFAULT_DEADLINE_POLICIES,
  ) {
    if (policies.length === 0) throw new Error('at least one deadline policy is required');
    this.policies = [...policies].sort((a, b) => dayNumber(a.effectiveFrom) - dayNumber(b.effectiveFrom));
  }

  /** The policy in force on a date (the earliest one for dates before all of them). */
  policyFor(date: IsoDate): DeadlinePolicy {
    const n = dayNumber(date);
    let p = this.policies[0]!;
    for (const q of this.policies) if (dayNumber(q.effectiveFrom) <= n) p = q;
    return p;
  }

  /** The running deadline of a case in its current status, or null when no clock runs. */
  current(c: DeadlineInput): Deadline | null {
    const p = this.policyFor(c.receivedDate);
    const S = CaseStatus;
    if (c.type === 'complaint') {
      if (!c.acceptedDate && (c.status === S.Registered || c.status === S.Dispatched)) {
        return this.make('accept', c.receivedDate, p.acceptComplaintDays);
      }
      if (c.acceptedDate && (c.status === S.Accepted || c.status === S.Dispatched || c.status === S.Mediating)) {
        return this.make('mediation', c.acceptedDate, p.mediationDays);
      }
      return null;
    }
    if (c.type === 'report' && (c.status === S.Registered || c.status === S.Dispatched || c.status === S.Verifying)) {
      return this.make('verify', c.receivedDate, p.verifyReportDays);
    }
    return null;
  }

  flags(due: IsoDate | null, today: IsoDate, receivedDate: IsoDate): DeadlineFlags {
    if (!due) return { overdue: false, dueSoon: false };
    if (dayNumber(today) > dayNumber(due)) return { overdue: true, dueSoon: false };
    const left = this.calendar.workingDaysBetween(today, due);
    return { overdue: false, dueSoon: left <= this.policyFor(receivedDate).dueSoonDays };
  }

  /** Last due date still counted as "due soon" when seen on `today` (for indexed list filters). */
  dueSoonHorizon(today: IsoDate): IsoDate {
    return this.calendar.addWorkingDays(today, this.policyFor(today).dueSoonDays);
  }

  private make(kind: DeadlineKind, from: IsoDate, days: number): Deadline {
    const due = this.calendar.addWorkingDays(from, days);
    const covered = this.calendar.covers(Number(from.slice(0, 4))) && this.calendar.covers(Number(due.slice(0, 4)));
    return { kind, due, calendarCovered: covered };
  }
}
