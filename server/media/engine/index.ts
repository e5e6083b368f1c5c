/**
 * createMediaEngine: the engine behind server/media/engine/api.ts.
 *
 * Thread choice: the engine runs in a media WORKER by default. Both designs share the same core and the same
 * ticker thread (Atomics.wait, sub-ms), so they cost the same CPU per packet; the difference is only whether
 * per-packet work and the 5 ms ticks compete with SIP parsing, HTTP, Socket.IO and synchronous SQLite on the
 * control loop. Measured with scripts/bench/media-pacing.ts (N endpoints → receivers in 2 other processes,
 * 5 s after 2 s warm-up), on the shared 2-core box at load average 6–8 (CPU pressure ≈ 68 %, other helpers'
 * tsc/vitest/chromium), so absolute numbers are noise-bound:
 *   N=200, pacing p99 (ms): worker 9.0 / 9.9 / 20 vs inline 44 / 200 / 17 in three runs (2 of 3 favour the worker);
 *   N=400/600: both ≫ 2 ms (the process got ~30 % of a core: starved, not busy); 0 loss everywhere.
 * With the main thread blocked 10 ms every 50 ms (a stand-in for control-plane bursts) the inline engine's
 * ticks cannot run during the block by construction; the worker's can. Hence the worker. Re-measure on a quiet
 * machine: `unshare -n bash -c 'ip link set lo up; npx tsx scripts/bench/media-pacing.ts'`.
 */
import type { Clock } from '../../util/clock.js';
import type { MediaEngine, MediaEngineOptions } from './api.js';
import { InlineChannel, WorkerChannel } from './channels.js';
import { EngineClient } from './client.js';

export * from './api.js';

export const DEFAULT_THREAD: 'worker' | 'inline' = 'worker';
/**
 * Worker clock. 'self' (one wake-up per tick) delivered ticks earlier than 'ticker' in 3 of 4 engine-alone
 * comparisons (docs/performance.md, "Media engine"), but every run was on a box at CPU pressure ≈ 99 % and the
 * receivers' own pacing figures were noise; 'self' also blocks the worker's receive path ~1.5 ms before each
 * tick, which delays bridged relays. Until a quiet re-run decides, the default stays the design that never
 * blocks the receive path.
 */
export const DEFAULT_PACING: 'self' | 'ticker' = 'ticker';

function pacingFrom(opts: MediaEngineOptions): 'self' | 'ticker' {
  const env = process.env.MEDIA_PACING;
  return opts.pacing ?? (env === 'self' || env === 'ticker' ? env : DEFAULT_PACING);
}

/** env MEDIA_PHASES (1–20) overrides the default phase count (benchmark knob; an explicit option wins). */
function phasesFrom(opts: MediaEngineOptions): number | undefined {
  const env = Number(process.env.MEDIA_PHASES);
  return opts.phases ?? (Number.isInteger(env) && env >= 1 && env <= 20 ? env : undefined);
}

/** Ticker lead (ms) of the worker clock; env MEDIA_TICK_LEAD_MS overrides the default. */
export const DEFAULT_TICK_LEAD_MS = 0;
function leadFrom(opts: MediaEngineOptions): number {
  const env = Number(process.env.MEDIA_TICK_LEAD_MS);
  return opts.tickLeadMs ?? (process.env.MEDIA_TICK_LEAD_MS && env >= 0 && env <= 4 ? env : DEFAULT_TICK_LEAD_MS);
}

export async function createMediaEngine(opts: MediaEngineOptions = {}): Promise<MediaEngine> {
  opts = { ...opts, phases: phasesFrom(opts), tickLeadMs: leadFrom(opts) };
  const thread = opts.thread ?? DEFAULT_THREAD;
  const realtimePriority = opts.realtimePriority ?? (Number(process.env.MEDIA_RT_PRIORITY ?? 0) || 0);
  const cpus = opts.cpus ?? (process.env.MEDIA_CPUS || undefined);
  const channel =
    thread === 'worker'
      ? new WorkerChannel({ ...opts, pacing: pacingFrom(opts), realtimePriority, cpus })
      : new InlineChannel(opts);
  const engine = new EngineClient(channel);
  await engine.stats(); // fails fast if the worker cannot start
  return engine;
}

/** An inline engine whose media clock is `clock` (FakeClock in tests): ticks happen only when the clock advances. */
export function createMediaEngineWithClock(opts: MediaEngineOptions, clock: Clock): MediaEngine {
  return new EngineClient(new InlineChannel({ ...opts, thread: 'inline' }, clock));
}
