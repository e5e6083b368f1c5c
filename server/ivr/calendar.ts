/**
 * What the IVR needs to know about the calendar: is the hotline open now, is today a statutory holiday,
 * is today a working day (which on a 调休 weekend it is). The full calendar lives elsewhere
 * (server/calendar); the IVR depends only on this interface. `SimpleCalendar` is a self-contained
 * implementation for tests, the simulator and deployments without the calendar module.
 *
 * All wall-clock reasoning is in Beijing time (UTC+8, no daylight saving since 1991), whatever the
 * server's TZ, because a hotline in China opens by the clock on the caller's wall.
 */

export interface IvrCalendar {
  /** Whether `schedule` (default: the hotline's) is open at `at`. Closed on holidays, open on 调休 workdays. */
  isOpen(at: Date, schedule?: string): boolean;
  /** A statutory holiday day (法定节假日 incl. the weekend days inside a holiday period). */
  isHoliday(at: Date): boolean;
  /** A working day: Monday–Friday outside holidays, plus 调休 makeup working days. */
  isWorkday(at: Date): boolean;
}

const BEIJING_OFFSET_MS = 8 * 3600_000;

/** `YYYY-MM-DD` of `at` in Beijing. */
export function beijingDate(at: Date): string {
  return new Date(at.getTime() + BEIJING_OFFSET_MS).toISOString().slice(0, 10);
}
/** Minutes since Beijing midnight. */
export function beijingMinutes(at: Date): number {
  const b = new Date(at.getTime() + BEIJING_OFFSET_MS);
  return b.getUTCHours() * 60 + b.getUTCMinutes();
}
/** The instant of `YYYY-MM-DD` + `HH:MM` Beijing time. */
export function beijingInstant(date: string, hhmm: string): Date {
  return new Date(Date.parse(`${date}T${hhmm}:00+08:00`));
}
export function hhmmToMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}

export interface SimpleCalendarOptions {
  /** Opening hours on working days, Beijing time; a schedule may have several spans (lunch break). */
  schedules?: Record<string, Array<[string, string]>>;
  /** Statutory holiday days, `YYYY-MM-DD`. */
  holidays?: readonly string[];
  /** 调休 makeup working days (weekend days that are working days), `YYYY-MM-DD`. */
  makeupWorkdays?: readonly string[];
}

export const DEFAULT_SCHEDULE = 'default';

export class SimpleCalendar implements IvrCalendar {
  private readonly schedules: Record<string, Array<[number, number]>>;
  private readonly holidays: Set<string>;
  private readonly makeup: Set<string>;

  constructor(opts: SimpleCalendarOptions = {}) {
    // Same as server/calendar's DEFAULT_HOTLINE_HOURS: working days 08:30–12:00 and 13:30–17:30.
    const s = opts.schedules ?? {
      [DEFAULT_SCHEDULE]: [
        ['08:30', '12:00'],
        ['13:30', '17:30'],
      ],
    };
    this.schedules = Object.fromEntries(
      Object.entries(s).map(([k, spans]) => [k, spans.map(([a, b]) => [hhmmToMinutes(a), hhmmToMinutes(b)])]),
    );
    this.holidays = new Set(opts.holidays ?? []);
    this.makeup = new Set(opts.makeupWorkdays ?? []);
  }

  isHoliday(at: Date): boolean {
    return this.holidays.has(beijingDate(at));
  }

  isWorkday(at: Date): boolean {
    const day = beijingDate(at);
    if (this.holidays.has(day)) return false;
    if (this.makeup.has(day)) return true;
    const dow = new Date(`${day}T00:00:00Z`).getUTCDay();
    return dow >= 1 && dow <= 5;
  }

  isOpen(at: Date, schedule = DEFAULT_SCHEDULE): boolean {
    const spans = this.schedules[schedule];
    if (!spans) throw new Error(`unknown schedule "${schedule}"`);
    if (!this.isWorkday(at)) return false;
    const m = beijingMinutes(at);
    return spans.some(([a, b]) => m >= a && m < b);
  }
}
