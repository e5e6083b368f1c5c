/**
 * 12315 KPIs from the case store and the IVR survey store (read-only SQL; the arithmetic is pure).
 * Periods are [from, to) in epoch ms; case times are ISO strings, so they are compared as ISO strings.
 */
import { defaultCalendar } from '../calendar/index.js';
import { Deadlines } from '../cases/deadlines.js';
import { CaseStatus, type CaseType } from '../cases/workflow.js';
import type { Database } from '../storage/database.js';

export interface CaseKpiCounts {
  /** Cases registered (not draft, not discarded) received in the period. */
  registered: number;
  /** …of which closed (办结). */
  closed: number;
  /** Complaints and reports closed in the period, and those closed by the statutory deadline of their stage. */
  closedWithDue: number;
  closedOnTime: number;
  /** Complaint mediations that ended in the period: succeeded / all ended (succeeded + terminated). */
  mediationEnded: number;
  mediationSucceeded: number;
  /** Report verification decisions in the period: 立案 (filed) / all decided (filed + not filed). */
  reportsDecided: number;
  reportsFiled: number;
  /** Complaints registered in the period and those turned into a 立案 case (诉转案). */
  complaints: number;
  complaintsToCase: number;
  /** Satisfaction answers in the period: IVR surveys and return-visit scores; satisfied = score ≥ 4. */
  surveys: number;
  surveysSatisfied: number;
  /** Closed complaints/reports in the period and those with a return visit (回访). */
  closedForFollowUp: number;
  followedUp: number;
}

export interface CaseKpis extends CaseKpiCounts {
  /** 诉求办结率 = closed / registered. */
  resolutionRate: number | null;
  /** 按期办结率 = closed on time / closed with a due date. */
  onTimeRate: number | null;
  /** 调解成功率 = mediation succeeded / mediations ended. */
  mediationSuccessRate: number | null;
  /** 举报查实率 = filed / decided. */
  reportVerifiedRate: number | null;
  /** 诉转案率 = complaints turned into cases / complaints. */
  complaintToCaseRate: number | null;
  /** 满意度 = satisfied answers / answers. */
  satisfactionRate: number | null;
  /** 回访率 = followed up / closed complaints and reports. */
  followUpRate: number | null;
}

const ratio = (n: number, d: number): number | null => (d > 0 ? n / d : null);

export function caseKpisFromCounts(c: CaseKpiCounts): CaseKpis {
  return {
    ...c,
    resolutionRate: ratio(c.closed, c.registered),
    onTimeRate: ratio(c.closedOnTime, c.closedWithDue),
    mediationSuccessRate: ratio(c.mediationSucceeded, c.mediationEnded),
    reportVerifiedRate: ratio(c.reportsFiled, c.reportsDecided),
    complaintToCaseRate: ratio(c.complaintsToCase, c.complaints),
    satisfactionRate: ratio(c.surveysSatisfied, c.surveys),
    followUpRate: ratio(c.followedUp, c.closedForFollowUp),
  };
}

/** Beijing calendar date (YYYY-MM-DD) of an epoch ms. */
export function beijingDate(t: number): string {
  return new Date(t + 8 * 3600_000).toISOString().slice(0, 10);
}

/** Counts for [from, to) straight from SQLite. Tables that do not exist (cases or IVR not set up) count 0. */
export function caseKpiCounts(db: Database, from: number, to: number, deadlines?: Deadlines): CaseKpiCounts {
  const isoFrom = new Date(from).toISOString();
  const isoTo = new Date(to).toISOString();
  const dFrom = beijingDate(from);
  const dTo = beijingDate(to - 1);
  const has = (t: string) =>
    db.sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(t) !== undefined;
  const one = (sql: string, ...p: unknown[]): number =>
    Number((db.sqlite.prepare(sql).get(...p) as { n: number | null } | undefined)?.n ?? 0);
  const zero: CaseKpiCounts = {
    registered: 0,
    closed: 0,
    closedWithDue: 0,
    closedOnTime: 0,
    mediationEnded: 0,
    mediationSucceeded: 0,
    reportsDecided: 0,
    reportsFiled: 0,
    complaints: 0,
    complaintsToCase: 0,
    surveys: 0,
    surveysSatisfied: 0,
    closedForFollowUp: 0,
    followedUp: 0,
  };
  const c = { ...zero };
  if (has('cases')) {
    const live = "status NOT IN ('draft', 'discarded')";
    c.registered = one(`SELECT COUNT(*) n FROM cases WHERE ${live} AND received_date BETWEEN ? AND ?`, dFrom, dTo);
    c.closed = one(
      `SELECT COUNT(*) n FROM cases WHERE status = 'closed' AND received_date BETWEEN ? AND ?`,
      dFrom,
      dTo,
    );
    const closedIn = `status = 'closed' AND closed_at >= ? AND closed_at < ?`;
    // The due date is cleared once an outcome is reached, so it is recomputed for the stage the case was in:
    // complaints accepted → 调解期限 from 受理日, never accepted → 受理决定期限, reports → 核查期限.
    const closedRows = db.sqlite
      .prepare(
        `SELECT type, received_date, accepted_date, closed_at FROM cases
         WHERE ${closedIn} AND type IN ('complaint', 'report')`,
      )
      .all(isoFrom, isoTo) as Array<{
      type: CaseType;
      received_date: string;
      accepted_date: string | null;
      closed_at: string;
    }>;
    const dl = deadlines ?? new Deadlines(defaultCalendar());
    for (const r of closedRows) {
      const status =
        r.type === 'report' ? CaseStatus.Verifying : r.accepted_date ? CaseStatus.Mediating : CaseStatus.Registered;
      const due = dl.current({ type: r.type, status, receivedDate: r.received_date, acceptedDate: r.accepted_date });
      if (!due) continue;
      c.closedWithDue++;
      if (beijingDate(Date.parse(r.closed_at)) <= due.due) c.closedOnTime++;
    }
    const moved = (to: string) =>
      one(
        `SELECT COUNT(DISTINCT case_id) n FROM case_audit
           WHERE at >= ? AND at < ? AND json_valid(changes) AND json_extract(changes, '$.status[1]') = ?`,
        isoFrom,
        isoTo,
        to,
      );
    c.mediationSucceeded = moved('mediation_succeeded');
    c.mediationEnded = c.mediationSucceeded + moved('mediation_terminated');
    c.reportsFiled = moved('filed');
    c.reportsDecided = c.reportsFiled + moved('not_filed');
    c.complaints = one(
      `SELECT COUNT(*) n FROM cases WHERE ${live} AND type = 'complaint' AND received_date BETWEEN ? AND ?`,
      dFrom,
      dTo,
    );
    c.complaintsToCase = one(
      `SELECT COUNT(*) n FROM cases WHERE ${live} AND type = 'complaint' AND complaint_to_case = 1
         AND received_date BETWEEN ? AND ?`,
      dFrom,
      dTo,
    );
    c.closedForFollowUp = one(
      `SELECT COUNT(*) n FROM cases WHERE ${closedIn} AND type IN ('complaint', 'report')`,
      isoFrom,
      isoTo,
    );
    c.followedUp = one(
      `SELECT COUNT(*) n FROM cases WHERE ${closedIn} AND type IN ('complaint', 'report') AND follow_up_at IS NOT NULL`,
      isoFrom,
      isoTo,
    );
    c.surveys += one(
      `SELECT COUNT(*) n FROM cases WHERE follow_up_at >= ? AND follow_up_at < ? AND satisfaction IS NOT NULL`,
      isoFrom,
      isoTo,
    );
    c.surveysSatisfied += one(
      `SELECT COUNT(*) n FROM cases WHERE follow_up_at >= ? AND follow_up_at < ? AND satisfaction >= 4`,
      isoFrom,
      isoTo,
    );
  }
  if (has('ivr_survey_result')) {
    c.surveys += one('SELECT COUNT(*) n FROM ivr_survey_result WHERE at >= ? AND at < ?', isoFrom, isoTo);
    c.surveysSatisfied += one(
      'SELECT COUNT(*) n FROM ivr_survey_result WHERE at >= ? AND at < ? AND score >= 4',
      isoFrom,
      isoTo,
    );
  }
  return c;
}

export interface HotSpot {
  key: string;
  count: number;
}

export interface HotSpots {
  categories: HotSpot[];
  businesses: Array<HotSpot & { creditCode: string }>;
  /** Businesses at or over the threshold: candidates for 行政约谈. */
  interviewList: Array<HotSpot & { creditCode: string }>;
  threshold: number;
}

/** Top complaint categories and businesses by complaint count among complaints received in [from, to). */
export function hotSpots(
  db: Database,
  from: number,
  to: number,
  o: { top?: number; threshold?: number } = {},
): HotSpots {
  const top = o.top ?? 10;
  const threshold = o.threshold ?? 10;
  const dFrom = beijingDate(from);
  const dTo = beijingDate(to - 1);
  const where = `type = 'complaint' AND status NOT IN ('draft', 'discarded') AND received_date BETWEEN ? AND ?`;
  const categories = db.sqlite
    .prepare(
      `SELECT category AS key, COUNT(*) AS count FROM cases WHERE ${where} AND category <> ''
       GROUP BY category ORDER BY count DESC, key LIMIT ?`,
    )
    .all(dFrom, dTo, top) as HotSpot[];
  // One business may be typed with or without its credit code: group by the code when there is one.
  const all = db.sqlite
    .prepare(
      `SELECT MAX(respondent_name) AS key, respondent_credit_code AS creditCode, COUNT(*) AS count FROM cases
       WHERE ${where} AND respondent_name <> ''
       GROUP BY CASE WHEN respondent_credit_code <> '' THEN respondent_credit_code ELSE respondent_name END
       ORDER BY count DESC, key`,
    )
    .all(dFrom, dTo) as Array<HotSpot & { creditCode: string }>;
  return {
    categories,
    businesses: all.slice(0, top),
    interviewList: all.filter((b) => b.count >= threshold),
    threshold,
  };
}
