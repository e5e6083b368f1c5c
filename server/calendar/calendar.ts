import holidayData from './cn-holidays.json' with { type: 'json' };

/**
 * Working-day calendar of mainland China, shared by the case deadlines (《市场监督管理投诉举报处理暂行办法》
 * counts in 工作日) and the IVR's open/closed decision. Pure: no clock, no I/O.
 *
 * A calendar date is an ISO string `YYYY-MM-DD` in Asia/Shanghai. Shanghai has been UTC+8 without
 * daylight saving since 1991, so an instant maps to its local date by adding 8 h; no tz database needed.
 *
 * Years the data does not cover fall back to Monday–Friday; `covers(year)` tells the caller, and the
 * deadline code flags such dates so nobody trusts a deadline computed without the year's 调休 notice.
 */

export type IsoDate = string;

export interface HolidayRange {
  name: string;
  from: IsoDate;
  to: IsoDate;
}

export interface HolidayYear {
  /** The State Council notice the dates were copied from. */
  source: string;
  holidays: HolidayRange[];
  /** 调休上班日: weekend days that are working days. */
  workdays: IsoDate[];
}

export interface HolidayData {
  years: Record<string, HolidayYear>;
}

export interface TimeInterval {
  /** Local time `HH:MM`, inclusive. */
  from: string;
  /** Local time `HH:MM`, exclusive. */
  to: string;
}

export interface BusinessHours {
  /** `working`: only on working days (调休 aware); `everyday`: every calendar day, holidays included. */
  days: 'working' | 'everyday';
  intervals: TimeInterval[];
  /** Per-date exceptions (e.g. a shortened day before 春节); an empty list means closed that day. */
  overrides?: Record<IsoDate, TimeInterval[]>;
}

const SHANGHAI_OFFSET_MS = 8 * 3600_000;
const DAY_MS = 86_400_000;
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const HHMM_RE = /^([01]\d|2[0-4]):([0-5]\d)$/;

/** Days since 1970-01-01 for a valid ISO date; throws on anything else (2025-02-30 included). */
export function dayNumber(d: IsoDate): number {
  const m = ISO_RE.exec(d);
  if (!m) throw new RangeError(`not a YYYY-MM-DD date: ${JSON.stringify(d)}`);
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const n = Math.floor(ms / DAY_MS);
  if (fromDayNumber(n) !== d) throw new RangeError(`no such date: ${d}`);
  return n;
}

export function fromDayNumber(n: number): IsoDate {
  return new Date(n * DAY_MS).toISOString().slice(0, 10);
}

export function isIsoDate(d: unknown): d is IsoDate {
  if (typeof d !== 'string') return false;
  try {
    dayNumber(d);
    return true;
  } catch {
    return false;
  }
}

/** The Asia/Shanghai calendar date of an instant. */
export function shanghaiDate(instant: Date | number): IsoDate {
  const ms = typeof instant === 'number' ? instant : instant.getTime();
  return new Date(ms + SHANGHAI_OFFSET_MS).toISOString().slice(0, 10);
}

/** Minutes since local (Asia/Shanghai) midnight of an instant. */
export function shanghaiMinuteOfDay(instant: Date | number): number {
  const ms = (typeof instant === 'number' ? instant : instant.getTime()) + SHANGHAI_OFFSET_MS;
  return Math.floor((((ms % DAY_MS) + DAY_MS) % DAY_MS) / 60_000);
}

function minutes(hhmm: string): number {
  const m = HHMM_RE.exec(hhmm);
  if (!m) throw new RangeError(`not a HH:MM time: ${JSON.stringify(hhmm)}`);
  const v = Number(m[1]) * 60 + Number(m[2]);
  if (v > 24 * 60) throw new RangeError(`not a HH:MM time: ${hhmm}`);
  return v;
}

export class WorkingCalendar {
  private readonly holidays = new Map<number, string>();
  private readonly workdays = new Set<number>();
  private readonly years = new Set<number>();

  constructor(data: HolidayData = holidayData as HolidayData) {
    for (const [y, year] of Object.entries(data.years)) {
      const yn = Number(y);
      if (!Number.isInteger(yn)) throw new RangeError(`bad year key ${y}`);
      this.years.add(yn);
      for (const h of year.holidays) {
        const a = dayNumber(h.from);
        const b = dayNumber(h.to);
        if (b < a) throw new RangeError(`holiday ${h.name} ends before it starts`);
        for (let n = a; n <= b; n++) this.holidays.set(n, h.name);
      }
      for (const w of year.workdays) {
        const n = dayNumber(w);
        if (this.holidays.has(n)) throw new RangeError(`${w} is both a holiday and a make-up workday`);
        this.workdays.add(n);
      }
    }
  }

  /** Whether the holiday notice of that year is in the data. */
  covers(year: number): boolean {
    return this.years.has(year);
  }

  /** Holiday name (e.g. 春节) if the date is a public holiday, else null. */
  holidayName(d: IsoDate): string | null {
    return this.holidays.get(dayNumber(d)) ?? null;
  }

  isWorkingDay(d: IsoDate | Date): boolean {
    return this.isWorkingN(dayNumber(typeof d === 'string' ? d : shanghaiDate(d)));
  }

  /**
   * The n-th working day after `d` (n ≥ 0; n = 0 returns d itself, working or not). The legal periods
   * ("自收到投诉之日起七个工作日内") start counting on the day after receipt, which is exactly this.
   * Negative n counts backwards.
   */
  addWorkingDays(d: IsoDate, n: number): IsoDate {
    if (!Number.isInteger(n)) throw new RangeError('n must be an integer');
    let x = dayNumber(d);
    const step = n >= 0 ? 1 : -1;
    for (let left = Math.abs(n); left > 0;) {
      x += step;
      if (this.isWorkingN(x)) left--;
    }
    return fromDayNumber(x);
  }

  /**
   * Working days in (a, b]: how many working days have passed from a to b. Negative if b < a.
   * workingDaysBetween(d, addWorkingDays(d, n)) === n.
   */
  workingDaysBetween(a: IsoDate, b: IsoDate): number {
    const x = dayNumber(a);
    const y = dayNumber(b);
    if (y < x) return -this.workingDaysBetween(b, a);
    let count = 0;
    for (let n = x + 1; n <= y; n++) if (this.isWorkingN(n)) count++;
    return count;
  }

  /** Whether the hotline is staffed at an instant under the given hours. */
  isOpen(at: Date | number, hours: BusinessHours): boolean {
    const date = shanghaiDate(at);
    const minute = shanghaiMinuteOfDay(at);
    const override = hours.overrides?.[date];
    let intervals: TimeInterval[];
    if (override) intervals = override;
    else if (hours.days === 'working' && !this.isWorkingDay(date)) return false;
    else intervals = hours.intervals;
    return intervals.some((iv) => minute >= minutes(iv.from) && minute < minutes(iv.to));
  }

  private isWorkingN(n: number): boolean {
    if (this.holidays.has(n)) return false;
    if (this.workdays.has(n)) return true;
    // 1970-01-01 was a Thursday: day 0 → weekday 4 (0 = Sunday).
    const weekday = (((n + 4) % 7) + 7) % 7;
    return weekday !== 0 && weekday !== 6;
  }
}

/** Validates a BusinessHours object; returns messages (empty when valid). */
export function checkBusinessHours(h: BusinessHours): string[] {
  const errs: string[] = [];
  const check = (ivs: TimeInterval[], where: string) => {
    for (const iv of ivs) {
      try {
        if (minutes(iv.from) >= minutes(iv.to)) errs.push(`${where}: ${iv.from}–${iv.to} is empty`);
      } catch (e) {
        errs.push(`${where}: ${(e as Error).message}`);
      }
    }
  };
  if (h.days !== 'working' && h.days !== 'everyday') errs.push('days must be working or everyday');
  check(h.intervals, 'intervals');
  for (const [d, ivs] of Object.entries(h.overrides ?? {})) {
    if (!isIsoDate(d)) errs.push(`override key ${d} is not a date`);
    check(ivs, `override ${d}`);
  }
  return errs;
}

/** The 12315 hotline's usual staffed hours: working days 08:30–12:00 and 13:30–17:30 (local practice varies). */
export const DEFAULT_HOTLINE_HOURS: BusinessHours = {
  days: 'working',
  intervals: [
    { from: '08:30', to: '12:00' },
    { from: '13:30', to: '17:30' },
  ],
};

let shared: WorkingCalendar | null = null;
/** The calendar built from the bundled data, built once. */
export function defaultCalendar(): WorkingCalendar {
  shared ??= new WorkingCalendar();
  return shared;
}
