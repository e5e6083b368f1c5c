/**
 * Call-setup trace (issue 4): where an INVITE spends its time between the socket and our 200 OK.
 *
 * Off by default (every `mark` is one branch). With `CALL_SETUP_TRACE=1` each new INVITE (no To tag) is
 * time-stamped at each stage with performance.now(); when its 200 OK leaves, the gaps between consecutive
 * stages go into one histogram each, and at process exit a table of p50/p90/p99/max per gap is written to
 * stderr (or to `CALL_SETUP_TRACE=/path/file`). A gap that is large while the process is idle is a wait (a
 * thread hop, a queue, the threadpool), not work; comparing the gaps says which stage waits.
 *
 * The record is keyed by the request object (WeakMap), so an INVITE that never gets a 200 (rejected,
 * cancelled) leaves nothing behind. It lives with the message types because the transport, the lowest layer
 * that sees the INVITE, marks it first.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import fs from 'node:fs';

/** Stages in the order a call to 7000 passes them; a stage a path skips is left out of that call's gaps. */
export enum SetupStage {
  /** The datagram/frame was handed to the transport (socket callback), before parsing. */
  Receive = 0,
  Parsed = 1,
  /** The transaction layer created the server transaction and handed the INVITE up. */
  Transaction = 2,
  /** Admission control (overload gate) let it through. */
  Admission = 3,
  /** Caller identified and the call admitted (InboundCalls → CallManager.offer). */
  CallManager = 4,
  /** The media endpoint exists: a round trip to the media worker (createEndpoint). */
  Endpoint = 5,
  /** Call, leg and CDR row created; the IVR access handler starts the flow. */
  IvrStart = 6,
  /** The SDP answer came back: a second round trip to the media worker (answer). */
  SdpAnswer = 7,
  /** The 200 OK was handed to the transport. */
  Sent = 8,
}

export const STAGE_NAMES: readonly string[] = [
  'receive',
  'parse',
  'transaction',
  'admission',
  'call-manager',
  'media endpoint',
  'ivr start',
  'sdp answer',
  '200 sent',
];

const N = STAGE_NAMES.length;
/** Samples kept per gap; 300 calls/s for 10 minutes. The rest are counted only. */
const MAX_SAMPLES = 180_000;

export interface GapSummary {
  from: string;
  to: string;
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface SetupTraceSummary {
  calls: number;
  /**
   * INVITE datagrams parsed (retransmissions included), then how many distinct INVITEs reached each later
   * stage: where the count drops is where unanswered calls stopped (rejected, or still waiting at exit).
   */
  reached: { stage: string; count: number }[];
  gaps: GapSummary[];
  total: GapSummary;
  /** Event-loop delay from the first traced INVITE on (1 ms resolution), ms. */
  loopDelay: { p50: number; p99: number; max: number } | null;
  /** Main-thread work timed with `work()` (e.g. CDR flushes), ms: a long one stalls every INVITE behind it. */
  work: GapSummary[];
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function summarise(from: string, to: string, samples: number[]): GapSummary {
  const s = Float64Array.from(samples).sort();
  return {
    from,
    to,
    count: samples.length,
    p50: percentile(s, 0.5),
    p90: percentile(s, 0.9),
    p99: percentile(s, 0.99),
    max: s.length ? s[s.length - 1]! : 0,
  };
}

export class SetupTrace {
  private on = false;
  private readonly open = new WeakMap<object, Float64Array>();
  /** gaps[i][j]: samples of stage i → stage j, for stages that follow each other in some call. */
  private readonly gaps = new Map<number, number[]>();
  private readonly totals: number[] = [];
  private readonly works = new Map<string, number[]>();
  private readonly reachedCount = new Array<number>(N).fill(0);
  private calls = 0;
  /** The receive stamp of the datagram being parsed: the request object does not exist yet. */
  private pendingReceive = 0;
  private loop: IntervalHistogram | null = null;
  private started = false;
  private exitHook: (() => void) | null = null;

  get enabled(): boolean {
    return this.on;
  }

  /** Starts tracing. `dumpTo`: 'stderr', a file path, or null (read `summary()` yourself). */
  enable(dumpTo: string | null = null): void {
    if (this.on) return;
    this.on = true;
    this.loop = monitorEventLoopDelay({ resolution: 1 });
    this.loop.enable();
    if (dumpTo !== null) {
      this.exitHook = () => {
        const text = formatSetupTrace(this.summary());
        if (dumpTo === 'stderr') process.stderr.write(text);
        else fs.appendFileSync(dumpTo, text);
      };
      process.once('exit', this.exitHook);
    }
  }

  disable(): void {
    if (!this.on) return;
    this.on = false;
    this.loop?.disable();
    if (this.exitHook) process.off('exit', this.exitHook);
    this.exitHook = null;
  }

  /** Stamp for a datagram about to be parsed (the transport's receive callback). */
  receiving(): void {
    if (this.on) this.pendingReceive = performance.now();
  }

  /** The datagram stamped by `receiving()` parsed into `req`, a new INVITE. */
  parsed(req: object): void {
    if (!this.on) return;
    // Startup (migrations, prompt loading) is not what the trace is about.
    if (!this.started) {
      this.started = true;
      this.loop?.reset();
    }
    const t = new Float64Array(N).fill(-1);
    t[SetupStage.Receive] = this.pendingReceive || performance.now();
    t[SetupStage.Parsed] = performance.now();
    this.reachedCount[SetupStage.Parsed]!++;
    this.pendingReceive = 0;
    this.open.set(req, t);
  }

  mark(req: object, stage: SetupStage): void {
    if (!this.on) return;
    const t = this.open.get(req);
    if (!t || t[stage]! >= 0) return;
    t[stage] = performance.now();
    this.reachedCount[stage]!++;
    if (stage === SetupStage.Sent) this.finish(req, t);
  }

  /** Times a piece of synchronous main-thread work under `name` (no-op when disabled). */
  work<T>(name: string, fn: () => T): T {
    if (!this.on) return fn();
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      let a = this.works.get(name);
      if (!a) this.works.set(name, (a = []));
      if (a.length < MAX_SAMPLES) a.push(performance.now() - t0);
    }
  }

  private finish(req: object, t: Float64Array): void {
    this.open.delete(req);
    this.calls++;
    let prev = -1;
    for (let i = 0; i < N; i++) {
      if (t[i]! < 0) continue;
      if (prev >= 0) this.add(prev * N + i, t[i]! - t[prev]!);
      prev = i;
    }
    if (this.totals.length < MAX_SAMPLES) this.totals.push(t[SetupStage.Sent]! - t[SetupStage.Receive]!);
  }

  private add(key: number, ms: number): void {
    let a = this.gaps.get(key);
    if (!a) this.gaps.set(key, (a = []));
    if (a.length < MAX_SAMPLES) a.push(ms);
  }

  summary(): SetupTraceSummary {
    const gaps = [...this.gaps.entries()]
      .sort(([a], [b]) => a - b)
      .map(([k, s]) => summarise(STAGE_NAMES[Math.floor(k / N)]!, STAGE_NAMES[k % N]!, s));
    const l = this.loop;
    return {
      calls: this.calls,
      gaps,
      total: summarise(STAGE_NAMES[0]!, STAGE_NAMES[N - 1]!, this.totals),
      loopDelay:
        l && l.count > 0 ? { p50: l.percentile(50) / 1e6, p99: l.percentile(99) / 1e6, max: l.max / 1e6 } : null,
      reached: this.reachedCount.slice(1).map((count, i) => ({ stage: STAGE_NAMES[i + 1]!, count })),
      work: [...this.works.entries()].map(([name, s]) => summarise(name, '', s)),
    };
  }

  reset(): void {
    this.gaps.clear();
    this.totals.length = 0;
    this.calls = 0;
    this.works.clear();
    this.reachedCount.fill(0);
    this.started = false;
    this.loop?.reset();
  }
}

export function formatSetupTrace(s: SetupTraceSummary): string {
  const f = (x: number) => x.toFixed(3).padStart(9);
  const row = (g: GapSummary) =>
    `${`${g.from} → ${g.to}`.padEnd(34)}${String(g.count).padStart(7)}${f(g.p50)}${f(g.p90)}${f(g.p99)}${f(g.max)}`;
  const lines = [
    `call setup trace (pid ${process.pid}): ${s.calls} INVITEs answered 200, ms`,
    `${'gap'.padEnd(34)}${'n'.padStart(7)}${'p50'.padStart(9)}${'p90'.padStart(9)}${'p99'.padStart(9)}${'max'.padStart(9)}`,
    ...s.gaps.map(row),
    row(s.total),
  ];
  lines.push(`reached: ${s.reached.map((r) => `${r.stage} ${r.count}`).join(', ')}`);
  for (const w of s.work) lines.push(`work: ${row(w).replace(' → ', '')}`);
  if (s.loopDelay)
    lines.push(
      `event-loop delay (1 ms resolution): p50 ${s.loopDelay.p50.toFixed(2)} p99 ${s.loopDelay.p99.toFixed(2)} max ${s.loopDelay.max.toFixed(2)}`,
    );
  return `${lines.join('\n')}\n`;
}

/** The process's trace, switched on by CALL_SETUP_TRACE (1 → stderr at exit, else a file path). */
export const setupTrace = new SetupTrace();
const env = process.env.CALL_SETUP_TRACE;
if (env && env !== '0') setupTrace.enable(env === '1' ? 'stderr' : env);
