import { pino, type Logger } from 'pino';

/**
 * One logger for the process. Consumer phone numbers must never reach a log line in clear
 * (12315 privacy rule): log `maskPhone(n)` or an id instead. `errorCounter` counts listener errors,
 * because an event listener must log and count, never crash the process.
 */
const level = process.env.LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info');
export const rootLogger: Logger = pino({ level, base: undefined });

export function createLogger(component: string): Logger {
  return rootLogger.child({ c: component });
}

/** 13812345678 → 138****5678; short numbers keep only their last two digits visible. */
export function maskPhone(phone: string | null | undefined): string {
  if (!phone) return '';
  const digits = phone.replace(/[^0-9+]/g, '');
  if (digits.length >= 7) return digits.slice(0, 3) + '****' + digits.slice(-4);
  if (digits.length <= 2) return '*'.repeat(digits.length);
  return '*'.repeat(digits.length - 2) + digits.slice(-2);
}

const listenerErrors = new Map<string, number>();

/** Wraps an event listener so that a throw is logged and counted instead of crashing the process. */
export function guardListener<A extends unknown[]>(
  name: string,
  log: Logger,
  fn: (...args: A) => void | Promise<void>,
): (...args: A) => void {
  return (...args: A) => {
    const fail = (err: unknown) => {
      listenerErrors.set(name, (listenerErrors.get(name) ?? 0) + 1);
      log.error({ err, listener: name }, 'event listener failed');
    };
    try {
      const r = fn(...args);
      if (r && typeof (r as Promise<void>).catch === 'function') (r as Promise<void>).catch(fail);
    } catch (err) {
      fail(err);
    }
  };
}

export function listenerErrorCounts(): ReadonlyMap<string, number> {
  return listenerErrors;
}
