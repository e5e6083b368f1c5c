/**
 * Admission control for new calls (issue 9, overload). A new INVITE is refused with 503 and
 * Retry-After (RFC 3261 §21.5.4, §20.33) when the process is draining for shutdown, when the channel
 * limit is reached, or while the event loop or the CPU is saturated, so that calls already up keep
 * their signalling timely and their audio clean. In-dialog requests (BYE, re-INVITE) never come here.
 *
 * Load is sampled on the injected clock (default once a second). Shedding starts only after
 * `sustainSamples` bad samples in a row and stops only after as many good ones below
 * `resumeFactor` × limit: one GC pause or one busy second on a shared machine must not bounce calls,
 * and a load right at the limit must not flap between admitting and refusing.
 */
import os from 'node:os';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Clock, TimerHandle } from '../util/clock.js';
import { nextState, type TransitionTable } from '../util/fsm.js';

export enum AdmissionState {
  Accepting = 'accepting',
  Shedding = 'shedding',
  Draining = 'draining',
  Closed = 'closed',
}

export enum AdmissionEvent {
  Overloaded = 'overloaded',
  Recovered = 'recovered',
  Drain = 'drain',
  Close = 'close',
}

export const ADMISSION_TABLE: TransitionTable<AdmissionState, AdmissionEvent> = {
  [AdmissionState.Accepting]: {
    [AdmissionEvent.Overloaded]: AdmissionState.Shedding,
    [AdmissionEvent.Drain]: AdmissionState.Draining,
    [AdmissionEvent.Close]: AdmissionState.Closed,
  },
  [AdmissionState.Shedding]: {
    [AdmissionEvent.Recovered]: AdmissionState.Accepting,
    [AdmissionEvent.Drain]: AdmissionState.Draining,
    [AdmissionEvent.Close]: AdmissionState.Closed,
  },
  // Draining is one way: a server that is stopping does not start taking calls again.
  [AdmissionState.Draining]: { [AdmissionEvent.Close]: AdmissionState.Closed },
  [AdmissionState.Closed]: {},
};

/** What the process looks like now. Injected so that tests drive the thresholds directly. */
export interface LoadProbes {
  /** Event-loop delay p99 over the window since the previous call, in ms. */
  lagMs(): number;
  /** CPU used by the whole process (main thread + media worker) since the previous call, in cores. */
  cpuCores(): number;
  /** Calls in progress now (the channel count). */
  activeCalls(): number;
}

export interface AdmissionLimits {
  /** Channel limit (MAX_CALLS). New calls beyond it get 503 at once, without waiting for a sample. */
  maxCalls: number;
  /** Event-loop p99 delay above which new calls are shed (OVERLOAD_MAX_LAG_MS). */
  maxLagMs: number;
  /** Process CPU, in cores, above which new calls are shed (OVERLOAD_MAX_CPU). */
  maxCpuCores: number;
  /** Retry-After seconds when overloaded or full (RETRY_AFTER_S). */
  retryAfterS: number;
  /** Retry-After seconds while draining for shutdown: long enough for the restart. */
  drainRetryAfterS: number;
  sampleMs: number;
  sustainSamples: number;
  resumeFactor: number;
}

export const DEFAULT_LIMITS: AdmissionLimits = {
  maxCalls: 2000,
  maxLagMs: 500,
  maxCpuCores: Math.max(1, os.availableParallelism() - 0.2),
  retryAfterS: 5,
  drainRetryAfterS: 30,
  sampleMs: 1000,
  sustainSamples: 3,
  resumeFactor: 0.7,
};

export type RefusalReason = 'draining' | 'closed' | 'channels' | 'lag' | 'cpu';
export type AdmissionVerdict = { ok: true } | { ok: false; reason: RefusalReason; retryAfterS: number };

/** The part the call path sees (InboundCalls). */
export interface AdmissionGate {
  admit(): AdmissionVerdict;
}

export interface AdmissionSnapshot {
  state: AdmissionState;
  lastLagMs: number;
  lastCpuCores: number;
  activeCalls: number;
  admitted: number;
  refused: Record<RefusalReason, number>;
  sheddingEpisodes: number;
}

export class AdmissionControl implements AdmissionGate {
  readonly limits: AdmissionLimits;
  private stateNow = AdmissionState.Accepting;
  private shedCause: 'lag' | 'cpu' = 'lag';
  private bad = 0;
  private good = 0;
  private lastLag = 0;
  private lastCpu = 0;
  private timer: TimerHandle | null = null;
  private readonly counts = {
    admitted: 0,
    refused: { draining: 0, closed: 0, channels: 0, lag: 0, cpu: 0 } as Record<RefusalReason, number>,
    sheddingEpisodes: 0,
  };

  constructor(
    private readonly probes: LoadProbes,
    private readonly clock: Clock,
    limits: Partial<AdmissionLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  get state(): AdmissionState {
    return this.stateNow;
  }

  /** Starts periodic sampling on the clock. */
  start(): this {
    if (this.timer === null && this.stateNow !== AdmissionState.Closed) this.schedule();
    return this;
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      if (this.stateNow === AdmissionState.Closed) return;
      this.sample();
      this.schedule();
    }, this.limits.sampleMs);
  }

  /** One load sample: moves between Accepting and Shedding with hysteresis. Public for tests. */
  sample(): void {
    const lag = this.probes.lagMs();
    const cpu = this.probes.cpuCores();
    this.lastLag = lag;
    this.lastCpu = cpu;
    const { maxLagMs, maxCpuCores, sustainSamples, resumeFactor } = this.limits;
    if (this.stateNow === AdmissionState.Accepting) {
      const over = lag > maxLagMs ? 'lag' : cpu > maxCpuCores ? 'cpu' : null;
      this.bad = over ? this.bad + 1 : 0;
      if (over && this.bad >= sustainSamples) {
        this.shedCause = over;
        this.bad = 0;
        this.good = 0;
        this.counts.sheddingEpisodes++;
        this.move(AdmissionEvent.Overloaded);
      }
    } else if (this.stateNow === AdmissionState.Shedding) {
      const calm = lag <= maxLagMs * resumeFactor && cpu <= maxCpuCores * resumeFactor;
      this.good = calm ? this.good + 1 : 0;
      if (!calm) this.shedCause = lag > maxLagMs * resumeFactor ? 'lag' : 'cpu';
      if (this.good >= sustainSamples) {
        this.good = 0;
        this.move(AdmissionEvent.Recovered);
      }
    }
  }

  admit(): AdmissionVerdict {
    const refuse = (reason: RefusalReason, retryAfterS: number): AdmissionVerdict => {
      this.counts.refused[reason]++;
      return { ok: false, reason, retryAfterS };
    };
    switch (this.stateNow) {
      case AdmissionState.Closed:
        return refuse('closed', this.limits.drainRetryAfterS);
      case AdmissionState.Draining:
        return refuse('draining', this.limits.drainRetryAfterS);
      case AdmissionState.Shedding:
        return refuse(this.shedCause, this.limits.retryAfterS);
      case AdmissionState.Accepting:
        break;
    }
    if (this.probes.activeCalls() >= this.limits.maxCalls) return refuse('channels', this.limits.retryAfterS);
    this.counts.admitted++;
    return { ok: true };
  }

  /** Graceful shutdown: every new call from now on gets 503. */
  drain(): void {
    if (this.stateNow === AdmissionState.Draining || this.stateNow === AdmissionState.Closed) return;
    this.move(AdmissionEvent.Drain);
  }

  snapshot(): AdmissionSnapshot {
    return {
      state: this.stateNow,
      lastLagMs: this.lastLag,
      lastCpuCores: this.lastCpu,
      activeCalls: this.probes.activeCalls(),
      admitted: this.counts.admitted,
      refused: { ...this.counts.refused },
      sheddingEpisodes: this.counts.sheddingEpisodes,
    };
  }

  close(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    if (this.stateNow !== AdmissionState.Closed) this.move(AdmissionEvent.Close);
  }

  private move(e: AdmissionEvent): void {
    this.stateNow = nextState('admission', ADMISSION_TABLE, this.stateNow, e);
  }
}

/**
 * The process's own probes: event-loop delay from perf_hooks (10 ms resolution) and CPU from
 * process.cpuUsage (all threads, so the media worker counts). Each read covers the window since the
 * previous read. `close()` stops the histogram.
 */
const RESOLUTION_MS = 10;

export class ProcessProbes implements LoadProbes {
  private readonly hist: IntervalHistogram;
  private lastCpu = process.cpuUsage();
  private lastAt = performance.now();
  private closed = false;

  constructor(private readonly calls: () => number) {
    this.hist = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.hist.enable();
  }

  lagMs(): number {
    if (this.hist.count === 0) return 0;
    // The histogram records the whole interval of its 10 ms timer: the lag is what exceeds it.
    const ms = Math.max(0, this.hist.percentile(99) / 1e6 - RESOLUTION_MS);
    this.hist.reset();
    return ms;
  }

  cpuCores(): number {
    const now = performance.now();
    const used = process.cpuUsage(this.lastCpu);
    const elapsedMs = now - this.lastAt;
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    return elapsedMs <= 0 ? 0 : (used.user + used.system) / 1000 / elapsedMs;
  }

  activeCalls(): number {
    return this.calls();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.hist.disable();
  }
}
