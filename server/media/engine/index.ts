/**
 * createMediaEngine: the engine behind server/media/engine/api.ts.
 *
 * Thread choice (measured with scripts/bench/media-pacing.ts, see the numbers in its header): DEFAULT_THREAD
 * below. Both designs share the same core and the same ticker thread (Atomics.wait, sub-ms), so the only
 * difference is whether per-packet work competes with SIP, HTTP and SQLite on the control loop.
 */
import type { Clock } from '../../util/clock.js';
import type { MediaEngine, MediaEngineOptions } from './api.js';
import { InlineChannel, WorkerChannel } from './channels.js';
import { EngineClient } from './client.js';

export * from './api.js';

export const DEFAULT_THREAD: 'worker' | 'inline' = 'worker';

export async function createMediaEngine(opts: MediaEngineOptions = {}): Promise<MediaEngine> {
  const thread = opts.thread ?? DEFAULT_THREAD;
  const channel = thread === 'worker' ? new WorkerChannel(opts) : new InlineChannel(opts);
  const engine = new EngineClient(channel);
  await engine.stats(); // fails fast if the worker cannot start
  return engine;
}

/** An inline engine whose media clock is `clock` (FakeClock in tests): ticks happen only when the clock advances. */
export function createMediaEngineWithClock(opts: MediaEngineOptions, clock: Clock): MediaEngine {
  return new EngineClient(new InlineChannel({ ...opts, thread: 'inline' }, clock));
}
