/** Pure display helpers shared by the desktop's components and its unit tests. */

/** 65_000 → "01:05"; 3_725_000 → "1:02:05". Negative durations show as 00:00. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** Seconds left until `untilLocal`, rounded up so "0" shows only once the time is really up. */
export function secondsLeft(untilLocal: number, nowLocal: number): number {
  return Math.max(0, Math.ceil((untilLocal - nowLocal) / 1000));
}

/**
 * Same rule as the server's maskPhone: keep the first 3 and last 4 digits of numbers long enough to
 * identify someone (138****5678); short service numbers (12315, extensions) stay readable.
 */
export function maskPhone(n: string): string {
  const digits = n.replace(/[^0-9+]/g, '');
  if (digits.length < 7) return n;
  const head = digits.startsWith('+') ? digits.slice(0, 6) : digits.slice(0, 3);
  const tail = digits.slice(-4);
  return `${head}${'*'.repeat(Math.max(4, digits.length - head.length - 4))}${tail}`;
}

export type CallerRole = 'agent' | 'lead' | 'merchant' | 'admin';

/**
 * Who sees the consumer's full number. Agents see it masked while the call only rings (the notice can be
 * seen by anyone passing the desk) and in full once they have answered, because they must read it back
 * and fill it in the case form; leads (who coach and monitor) always see it; no other role ever does.
 */
export function callerForDisplay(consumer: string | null, role: CallerRole, answered: boolean): string | null {
  if (consumer === null || consumer === '') return null;
  if (role === 'lead') return consumer;
  if (role === 'agent') return answered ? consumer : maskPhone(consumer);
  return maskPhone(consumer);
}
