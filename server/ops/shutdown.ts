/**
 * Graceful shutdown (issue 9): on SIGTERM new calls get 503 + Retry-After (admission draining) while
 * live calls go on; after the last call ends, or after the drain limit, the rest are hung up (BYE /
 * 503 for unanswered ones), the BYEs get a moment to be answered, and everything is closed.
 */
import type { Logger } from 'pino';
import type { Clock } from '../util/clock.js';

export interface ShutdownTarget {
  /** Refuse every new call from now on. */
  drain(): void;
  liveCalls(): number;
  /** Ends every live call (BYE for answered calls, a final response for the others). */
  hangupAll(): void | Promise<void>;
  /** Closes everything; must be safe to call twice. */
  close(): Promise<void>;
}

export interface ShutdownOptions {
  /** How long live calls may go on after the signal (DRAIN_TIMEOUT_MS). */
  drainTimeoutMs: number;
  /** After hanging up: how long to wait for the calls to finish their BYE transactions. */
  hangupGraceMs?: number;
  pollMs?: number;
}

export interface ShutdownReport {
  /** Every call ended by itself within the drain limit. */
  drained: boolean;
  /** Calls still live at the limit, which were hung up. */
  hungUp: number;
  ms: number;
}

export async function gracefulShutdown(
  target: ShutdownTarget,
  o: ShutdownOptions,
  clock: Clock,
  log: Logger,
): Promise<ShutdownReport> {
  const t0 = clock.now();
  const poll = o.pollMs ?? 100;
  const sleep = (ms: number) => new Promise<void>((r) => clock.setTimeout(r, ms));
  target.drain();
  log.info({ live: target.liveCalls(), drainTimeoutMs: o.drainTimeoutMs }, 'draining: new calls get 503');
  while (target.liveCalls() > 0 && clock.now() - t0 < o.drainTimeoutMs) await sleep(poll);
  const hungUp = target.liveCalls();
  if (hungUp > 0) {
    log.warn({ hungUp }, 'drain limit reached: hanging up the remaining calls');
    await target.hangupAll();
    const until = clock.now() + (o.hangupGraceMs ?? 2000);
    while (target.liveCalls() > 0 && clock.now() < until) await sleep(Math.min(poll, 50));
  }
  await target.close();
  const report = { drained: hungUp === 0, hungUp, ms: Math.round(clock.now() - t0) };
  log.info(report, 'shutdown complete');
  return report;
}
