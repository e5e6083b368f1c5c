import { describe, expect, it } from 'vitest';
import {
  DEFAULT_HOTLINE_HOURS,
  WorkingCalendar,
  checkBusinessHours,
  dayNumber,
  shanghaiDate,
} from '../../server/calendar/index.js';

const cal = new WorkingCalendar();

describe('WorkingCalendar with the 2025/2026 State Council notices', () => {
  it('knows which years it covers', () => {
    expect(cal.covers(2025)).toBe(true);
    expect(cal.covers(2026)).toBe(true);
    expect(cal.covers(2027)).toBe(false);
  });

  it('treats public holidays as non-working, even on weekdays', () => {
    expect(cal.isWorkingDay('2025-10-08')).toBe(false); // Wednesday, 国庆 2025 lasts 8 days
    expect(cal.isWorkingDay('2026-02-23')).toBe(false); // Monday, last day of 春节 2026
    expect(cal.isWorkingDay('2026-01-02')).toBe(false); // Friday, 元旦 2026
    expect(cal.holidayName('2026-02-17')).toBe('春节');
    expect(cal.holidayName('2026-02-24')).toBeNull();
  });

  it('treats 调休 make-up Saturdays and Sundays as working days', () => {
    expect(cal.isWorkingDay('2025-01-26')).toBe(true); // Sunday
    expect(cal.isWorkingDay('2025-02-08')).toBe(true); // Saturday
    expect(cal.isWorkingDay('2026-02-14')).toBe(true);
    expect(cal.isWorkingDay('2026-02-28')).toBe(true);
    expect(cal.isWorkingDay('2026-10-10')).toBe(true);
    expect(cal.isWorkingDay('2026-10-11')).toBe(false); // plain Sunday
  });

  it('falls back to Monday–Friday outside the data', () => {
    expect(cal.isWorkingDay('2027-03-01')).toBe(true); // Monday
    expect(cal.isWorkingDay('2027-03-06')).toBe(false); // Saturday
  });

  it('accepts a Date and uses the Shanghai calendar date', () => {
    // 2026-02-13 17:00 UTC is 2026-02-14 01:00 in Shanghai, a make-up Saturday.
    expect(cal.isWorkingDay(new Date('2026-02-13T17:00:00Z'))).toBe(true);
    // 2026-02-13 15:00 UTC is 23:00 Friday in Shanghai.
    expect(shanghaiDate(new Date('2026-02-13T15:00:00Z'))).toBe('2026-02-13');
  });

  it('adds working days across 春节 and make-up days', () => {
    // Received Friday 2026-02-13: working days after are 14 (Sat make-up), 24, 25, 26, 27, 28 (Sat make-up), Mar 2.
    expect(cal.addWorkingDays('2026-02-13', 1)).toBe('2026-02-14');
    expect(cal.addWorkingDays('2026-02-13', 2)).toBe('2026-02-24');
    expect(cal.addWorkingDays('2026-02-13', 7)).toBe('2026-03-02');
    expect(cal.addWorkingDays('2026-03-02', -7)).toBe('2026-02-13');
    expect(cal.addWorkingDays('2026-02-15', 0)).toBe('2026-02-15');
  });

  it('counts 国庆 2025 correctly for a 7-working-day acceptance period', () => {
    // Received Tue 2025-09-30; Oct 1–8 off, Oct 9 Thu, 10 Fri, 11 Sat (make-up), 13, 14, 15, 16.
    expect(cal.addWorkingDays('2025-09-30', 7)).toBe('2025-10-16');
  });

  it('workingDaysBetween is the inverse of addWorkingDays and antisymmetric', () => {
    for (const start of ['2025-01-20', '2025-09-26', '2026-02-10', '2026-09-18', '2026-12-28']) {
      for (const n of [0, 1, 5, 7, 15, 45]) {
        const end = cal.addWorkingDays(start, n);
        expect(cal.workingDaysBetween(start, end)).toBe(n);
        expect(cal.workingDaysBetween(end, start)).toBe(-n || 0);
      }
    }
  });

  it('rejects impossible dates', () => {
    expect(() => cal.isWorkingDay('2025-02-29')).toThrow(RangeError);
    expect(() => dayNumber('2025-1-1')).toThrow(RangeError);
  });

  it('rejects contradictory data', () => {
    expect(
      () =>
        new WorkingCalendar({
          years: {
            '2030': {
              source: 't',
              holidays: [{ name: 'x', from: '2030-01-01', to: '2030-01-01' }],
              workdays: ['2030-01-01'],
            },
          },
        }),
    ).toThrow(/both/);
  });
});

describe('isOpen', () => {
  const at = (local: string) => new Date(`${local}+08:00`);
  it('follows business hours on working days only', () => {
    expect(cal.isOpen(at('2026-03-02T08:29:59'), DEFAULT_HOTLINE_HOURS)).toBe(false);
    expect(cal.isOpen(at('2026-03-02T08:30:00'), DEFAULT_HOTLINE_HOURS)).toBe(true);
    expect(cal.isOpen(at('2026-03-02T12:00:00'), DEFAULT_HOTLINE_HOURS)).toBe(false); // lunch break
    expect(cal.isOpen(at('2026-03-02T17:29:00'), DEFAULT_HOTLINE_HOURS)).toBe(true);
    expect(cal.isOpen(at('2026-03-02T17:30:00'), DEFAULT_HOTLINE_HOURS)).toBe(false);
    expect(cal.isOpen(at('2026-02-17T10:00:00'), DEFAULT_HOTLINE_HOURS)).toBe(false); // 春节
    expect(cal.isOpen(at('2026-02-14T10:00:00'), DEFAULT_HOTLINE_HOURS)).toBe(true); // make-up Saturday
  });

  it('everyday hours ignore holidays; overrides win', () => {
    const hours = {
      days: 'everyday' as const,
      intervals: [{ from: '00:00', to: '24:00' }],
      overrides: { '2026-02-16': [{ from: '09:00', to: '12:00' }], '2026-02-17': [] },
    };
    expect(cal.isOpen(at('2026-02-15T03:00:00'), hours)).toBe(true);
    expect(cal.isOpen(at('2026-02-16T08:00:00'), hours)).toBe(false);
    expect(cal.isOpen(at('2026-02-16T09:00:00'), hours)).toBe(true);
    expect(cal.isOpen(at('2026-02-17T10:00:00'), hours)).toBe(false);
  });

  it('checkBusinessHours reports bad intervals', () => {
    expect(checkBusinessHours(DEFAULT_HOTLINE_HOURS)).toEqual([]);
    expect(
      checkBusinessHours({
        days: 'working',
        intervals: [
          { from: '18:00', to: '09:00' },
          { from: '9', to: '10:00' },
        ],
      }),
    ).toHaveLength(2);
  });
});
