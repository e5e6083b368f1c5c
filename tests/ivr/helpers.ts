/**
 * A scripted IvrCallPort on a FakeClock: each prompt "plays" for `promptMs` of fake time; reactions press
 * keys when a given prompt starts (or a given time after); everything the engine asks of the call is logged.
 */
import path from 'node:path';
import { FakeClock, type TimerHandle } from '../../server/util/clock.js';
import { SimpleCalendar, type SimpleCalendarOptions } from '../../server/ivr/calendar.js';
import { IvrEngine, type IvrResult, type IvrSession } from '../../server/ivr/engine.js';
import type {
  IvrCallPort,
  IvrCaseStatus,
  IvrEnqueueRequest,
  IvrEnqueueResult,
  IvrPrompt,
  IvrServices,
  PlayOutcome,
  SurveyStore,
} from '../../server/ivr/port.js';
import { FlowRegistry } from '../../server/ivr/registry.js';
import { MemoryIvrStore, MemoryVoicemailSink, StaticCaseStatusTable } from '../../server/ivr/services.js';

export const FLOWS_DIR = path.join(import.meta.dirname, '..', '..', 'ivr-flows');

export interface Reaction {
  /** Prompt name whose start triggers the press. */
  onPrompt: string;
  keys: string;
  /** Fake ms after the prompt starts; 0 presses at once (barge-in). */
  afterMs?: number;
  /** Trigger only on the n-th time the prompt plays (1-based); every time when absent… once by default. */
  nth?: number;
}

export class ScriptedPort implements IvrCallPort {
  readonly callId: string;
  readonly dialled = '12315';
  /** Every prompt name started, in order. */
  readonly played: string[] = [];
  readonly events: string[] = [];
  readonly enqueued: IvrEnqueueRequest[] = [];
  enqueueResult: IvrEnqueueResult = { outcome: 'connected', agent: '8001' };
  transferOk = true;
  voicemailFile: string | null = '/var/spool/vm/1.wav';
  stops = 0;
  private digitListeners = new Set<(d: string) => void>();
  private hangupListeners = new Set<() => void>();
  private playing: { resolve: (o: PlayOutcome) => void; timer: TimerHandle } | null = null;
  private readonly counts = new Map<string, number>();
  private hungUp = false;

  constructor(
    private readonly clock: FakeClock,
    readonly reactions: Reaction[] = [],
    readonly caller = '13812345678',
    readonly promptMs = 1000,
    callId = 'call-1',
  ) {
    this.callId = callId;
  }

  play(prompts: readonly IvrPrompt[], opts: { bargeIn: boolean }): Promise<PlayOutcome> {
    if (this.playing) throw new Error('play while playing');
    this.events.push(`play${opts.bargeIn ? '*' : ''}:${prompts.map((p) => p.name).join(',')}`);
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => {
        this.playing = null;
        resolve('done');
      }, prompts.length * this.promptMs);
      this.playing = { resolve, timer };
      prompts.forEach((p, i) => {
        // Each prompt starts i*promptMs in; schedule its reactions relative to that.
        const start = () => {
          if (!this.playing || this.playing.timer !== timer) return;
          this.played.push(p.name);
          this.react(p.name);
        };
        if (i === 0) start();
        else this.clock.setTimeout(start, i * this.promptMs);
      });
    });
  }

  private react(name: string): void {
    const n = (this.counts.get(name) ?? 0) + 1;
    this.counts.set(name, n);
    for (const r of this.reactions) {
      if (r.onPrompt !== name || (r.nth ?? 1) !== n) continue;
      const go = () => this.press(r.keys);
      if (!r.afterMs) go();
      else this.clock.setTimeout(go, r.afterMs);
    }
  }

  stopPlayback(): void {
    if (!this.playing) return;
    this.stops++;
    const p = this.playing;
    this.playing = null;
    this.clock.clearTimeout(p.timer);
    p.resolve('stopped');
  }
  press(keys: string): void {
    for (const k of keys) for (const l of [...this.digitListeners]) l(k);
  }
  onDigit(listener: (digit: string) => void): () => void {
    this.digitListeners.add(listener);
    return () => this.digitListeners.delete(listener);
  }
  onHangup(listener: () => void): () => void {
    this.hangupListeners.add(listener);
    return () => this.hangupListeners.delete(listener);
  }
  callerHangsUp(): void {
    if (this.hungUp) return;
    this.hungUp = true;
    this.events.push('caller-hangup');
    if (this.playing) {
      const p = this.playing;
      this.playing = null;
      this.clock.clearTimeout(p.timer);
      p.resolve('hangup');
    }
    for (const l of [...this.hangupListeners]) l();
  }
  get listenerCount(): number {
    return this.digitListeners.size + this.hangupListeners.size;
  }
  async hangup(reason: string): Promise<void> {
    this.events.push(`hangup:${reason}`);
  }
  async transfer(target: string): Promise<{ ok: boolean }> {
    this.events.push(`transfer:${target}`);
    return { ok: this.transferOk };
  }
  async enqueue(req: IvrEnqueueRequest): Promise<IvrEnqueueResult> {
    this.events.push(`enqueue:${req.queue}`);
    this.enqueued.push(req);
    return this.enqueueResult;
  }
  async recordVoicemail(opts: { maxMs: number }): Promise<{ file: string | null; durationMs: number }> {
    this.events.push(`record:${opts.maxMs}`);
    return { file: this.voicemailFile, durationMs: 15_000 };
  }
}

export const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

/** Advances fake time in small steps, letting promise chains run between steps, until the session ends. */
export async function runToEnd(clock: FakeClock, session: IvrSession, limitMs = 10 * 60_000): Promise<IvrResult> {
  let result: IvrResult | null = null;
  void session.done.then((r) => (result = r));
  for (let t = 0; t <= limitMs; t += 50) {
    await flush();
    if (result) return result;
    clock.advance(50);
  }
  throw new Error(`session still running after ${limitMs} ms of fake time`);
}

export interface Harness {
  clock: FakeClock;
  registry: FlowRegistry;
  engine: IvrEngine;
  store: MemoryIvrStore;
  voicemail: MemoryVoicemailSink;
  cases: StaticCaseStatusTable;
  /** Wall clock = `at` + fake time elapsed. */
  at: Date;
}

/** 2026-11-30 is a Monday. */
export const MONDAY_10AM = new Date('2026-11-30T10:00:00+08:00');

export function harness(
  opts: {
    dir?: string;
    at?: Date;
    calendar?: SimpleCalendarOptions;
    surveys?: SurveyStore;
    cases?: Record<string, IvrCaseStatus>;
    services?: Partial<IvrServices>;
  } = {},
): Harness {
  const clock = new FakeClock();
  const registry = new FlowRegistry({ dir: opts.dir ?? FLOWS_DIR });
  const rep = registry.reload();
  if (!rep.ok) throw new Error(rep.errors.map((e) => e.message).join('\n'));
  const store = new MemoryIvrStore();
  const voicemail = new MemoryVoicemailSink();
  const cases = new StaticCaseStatusTable(opts.cases ?? {});
  const at = opts.at ?? MONDAY_10AM;
  const engine = new IvrEngine({
    flows: () => registry.snapshot(),
    clock,
    services: {
      calendar: new SimpleCalendar(opts.calendar),
      cases,
      callbacks: store,
      surveys: opts.surveys ?? store,
      voicemail,
      wallClock: () => new Date(at.getTime() + clock.now()),
      ...opts.services,
    },
  });
  return { clock, registry, engine, store, voicemail, cases, at };
}
