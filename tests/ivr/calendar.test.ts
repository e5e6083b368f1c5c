import { describe, expect, it } from 'vitest';
import { beijingDate, SimpleCalendar } from '../../server/ivr/calendar.js';

const bj = (s: string) => new Date(`${s}+08:00`);

describe('SimpleCalendar', () => {
  const cal = new SimpleCalendar({
    schedules: {
      default: [['08:30', '17:30']],
      lunch: [
        ['09:00', '12:00'],
        ['13:30', '17:00'],
      ],
    },
    holidays: ['2026-10-01', '2026-10-02', '2026-10-03', '2026-10-04'],
    makeupWorkdays: ['2026-10-10'],
  });

  it('opening hours are Beijing time whatever the server time zone', () => {
    expect(cal.isOpen(bj('2026-11-30T08:29:59'))).toBe(false);
    expect(cal.isOpen(bj('2026-11-30T08:30:00'))).toBe(true);
    expect(cal.isOpen(bj('2026-11-30T17:29:00'))).toBe(true);
    expect(cal.isOpen(bj('2026-11-30T17:30:00'))).toBe(false);
    // 2026-11-30 01:00 UTC is 09:00 in Beijing on the same Monday.
    expect(cal.isOpen(new Date('2026-11-30T01:00:00Z'))).toBe(true);
    // Sunday 20:00 UTC is Monday 04:00 in Beijing: closed, but a workday.
    expect(beijingDate(new Date('2026-11-29T20:00:00Z'))).toBe('2026-11-30');
    expect(cal.isWorkday(new Date('2026-11-29T20:00:00Z'))).toBe(true);
  });

  it('holidays close, 调休 Saturdays open, ordinary weekends close', () => {
    expect(cal.isHoliday(bj('2026-10-02T10:00'))).toBe(true);
    expect(cal.isOpen(bj('2026-10-02T10:00'))).toBe(false);
    expect(cal.isWorkday(bj('2026-10-10T10:00'))).toBe(true);
    expect(cal.isOpen(bj('2026-10-10T10:00'))).toBe(true);
    expect(cal.isOpen(bj('2026-10-17T10:00'))).toBe(false);
    expect(cal.isHoliday(bj('2026-10-17T10:00'))).toBe(false);
  });

  it('named schedules with a lunch break', () => {
    expect(cal.isOpen(bj('2026-11-30T12:30'), 'lunch')).toBe(false);
    expect(cal.isOpen(bj('2026-11-30T13:30'), 'lunch')).toBe(true);
    expect(() => cal.isOpen(bj('2026-11-30T13:30'), 'night')).toThrow(/unknown schedule/);
  });
});
