import { afterEach, describe, expect, it } from 'vitest';
import { CaseStatus, type CaseRecord } from '../../server/cases/index.js';
import { IvrStore } from '../../server/ivr/services.js';
import { caseKpiCounts, caseKpisFromCounts, hotSpots } from '../../server/metrics/case-kpi.js';
import { completeComplaint, tempCaseRepo } from '../cases/helpers.js';

const agent = { id: 7, role: 'agent' as const };
const lead = { id: 1, role: 'lead' as const };

let cleanup: (() => void) | null = null;
afterEach(() => cleanup?.());

/** Monday 2026-03-02, 10:00 Beijing. */
const DAY = Date.parse('2026-03-02T00:00:00+08:00');
const MONTH = [DAY, DAY + 31 * 86_400_000] as const;

function fixture() {
  const f = tempCaseRepo('2026-03-02T02:00:00Z');
  cleanup = f.cleanup;
  const { repo } = f;
  const move = (c: CaseRecord, ...steps: Array<CaseStatus | [CaseStatus, string]>) => {
    for (const s of steps) {
      const [to, reason] = Array.isArray(s) ? s : [s, undefined];
      c = repo.transition(c.id, c.version, { to, ...(reason ? { reason } : {}) }, lead);
    }
    return c;
  };
  return { ...f, move };
}

describe('12315 KPIs from the case store', () => {
  it('办结率, 按期办结率, 调解成功率, 举报查实率, 诉转案率, 满意度, 回访率 on a worked set of cases', async () => {
    const { repo, db, clock, move } = fixture();
    const S = CaseStatus;
    // Complaints: c1 mediated successfully and visited back (4); c2 mediation terminated; c3 still open, 诉转案.
    const c1 = move(repo.create(completeComplaint(), agent), S.Accepted, S.Mediating, S.MediationSucceeded, S.Closed);
    repo.followUp(c1.id, c1.version, { satisfaction: 4 }, lead);
    move(
      repo.create(completeComplaint(), agent),
      S.Accepted,
      S.Mediating,
      [S.MediationTerminated, '商家拒绝调解'],
      S.Closed,
    );
    const c3 = repo.create(
      completeComplaint({ respondent: { name: '某某超市', creditCode: '', address: '南山' } }),
      agent,
    );
    repo.update(c3.id, c3.version, { complaintToCase: true }, lead);
    // Reports: r1 filed and closed; r2 not filed, closed 20 days later (past its 15-working-day deadline).
    const report = () => repo.create(completeComplaint({ type: 'report', request: '' }), agent);
    move(report(), S.Verifying, S.Filed, S.Closed);
    const r2 = move(report(), S.Verifying);
    // Consultation answered at once.
    move(repo.create(completeComplaint({ type: 'consultation', request: '', reply: '已答复' }), agent), S.Closed);
    clock.advanceDays(28);
    move(r2, [S.NotFiled, '证据不足'], S.Closed);
    // IVR surveys: one satisfied, one not.
    const ivr = new IvrStore(db);
    await ivr.recordSurvey({ callId: 'k1', caseId: null, score: 5, at: new Date('2026-03-02T03:00:00Z') });
    await ivr.recordSurvey({ callId: 'k2', caseId: null, score: 2, at: new Date('2026-03-02T03:05:00Z') });

    const counts = caseKpiCounts(db, ...MONTH);
    expect(counts).toEqual({
      registered: 6,
      closed: 5,
      closedWithDue: 4,
      closedOnTime: 3,
      mediationEnded: 2,
      mediationSucceeded: 1,
      reportsDecided: 2,
      reportsFiled: 1,
      complaints: 3,
      complaintsToCase: 1,
      surveys: 3,
      surveysSatisfied: 2,
      closedForFollowUp: 4,
      followedUp: 1,
    });
    const k = caseKpisFromCounts(counts);
    expect(k.resolutionRate).toBeCloseTo(5 / 6, 10);
    expect(k.onTimeRate).toBeCloseTo(3 / 4, 10);
    expect(k.mediationSuccessRate).toBe(0.5);
    expect(k.reportVerifiedRate).toBe(0.5);
    expect(k.complaintToCaseRate).toBeCloseTo(1 / 3, 10);
    expect(k.satisfactionRate).toBeCloseTo(2 / 3, 10);
    expect(k.followUpRate).toBe(0.25);
    // Nothing on another month.
    const empty = caseKpisFromCounts(caseKpiCounts(db, DAY - 40 * 86_400_000, DAY));
    expect(empty.registered).toBe(0);
    expect(empty.resolutionRate).toBeNull();
  });

  it('hot spots: top categories and businesses; those at the threshold are listed for 行政约谈', () => {
    const { repo, db } = fixture();
    const shop = { name: '某某电器', creditCode: '', address: '福田' };
    for (let i = 0; i < 3; i++) repo.create(completeComplaint({ respondent: shop, category: 'G0101' }), agent);
    repo.create(completeComplaint({ category: 'G0101' }), agent);
    repo.create(completeComplaint({ category: 'G0102' }), agent);
    repo.create(completeComplaint({ type: 'report', request: '', respondent: shop }), agent); // reports do not count
    const h = hotSpots(db, ...MONTH, { threshold: 3 });
    expect(h.categories[0]).toEqual({ key: 'G0101', count: 4 });
    expect(h.businesses.map((b) => [b.key, b.count])).toEqual([
      ['某某电器', 3],
      ['深圳市某某电器有限公司', 2],
    ]);
    expect(h.interviewList.map((b) => b.key)).toEqual(['某某电器']);
  });
});
