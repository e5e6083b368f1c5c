import { describe, expect, it } from 'vitest';
import { DEFAULT_DEADLINE_POLICIES, parseDeadlinePolicies } from '../../server/cases/index.js';

const base = {
  effectiveFrom: '2020-01-01',
  acceptComplaintDays: 7,
  mediationDays: 45,
  verifyReportDays: 15,
  dueSoonDays: 2,
  basis: 'x',
};

describe('legal deadlines as configuration', () => {
  it('ships the 7 / 45 / 15 working-day defaults as data', () => {
    expect(DEFAULT_DEADLINE_POLICIES[0]).toMatchObject({
      effectiveFrom: '2020-01-01',
      acceptComplaintDays: 7,
      mediationDays: 45,
      verifyReportDays: 15,
    });
  });

  it('accepts an added rule change and refuses entries that would miscount', () => {
    const two = parseDeadlinePolicies({
      policies: [base, { ...base, effectiveFrom: '2026-07-01', mediationDays: 30 }],
    });
    expect(two.map((p) => p.mediationDays)).toEqual([45, 30]);
    expect(() => parseDeadlinePolicies({ policies: [] })).toThrow(/non-empty/);
    expect(() => parseDeadlinePolicies({ policies: [{ ...base, effectiveFrom: '2026/07/01' }] })).toThrow(
      /effectiveFrom/,
    );
    expect(() => parseDeadlinePolicies({ policies: [base, base] })).toThrow(/duplicate/);
    expect(() => parseDeadlinePolicies({ policies: [{ ...base, mediationDays: 4.5 }] })).toThrow(/mediationDays/);
    expect(() => parseDeadlinePolicies({ policies: [{ ...base, verifyReportDays: -1 }] })).toThrow(/verifyReportDays/);
  });
});
