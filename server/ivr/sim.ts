/**
 * Text-mode IVR simulator: runs a flow through the real engine with a port that prints prompts instead of
 * playing them and takes key presses from lines of text. Time is a FakeClock that moves only when the
 * author answers with silence (an empty line), so timeouts happen exactly when asked for; the wall clock
 * for business hours is whatever `at` says.
 */
import path from 'node:path';
import { FakeClock } from '../util/clock.js';
import { defaultCalendar, DEFAULT_HOTLINE_HOURS } from '../calendar/index.js';
import { ivrCalendarFrom } from './adapters.js';
import { SimpleCalendar } from './calendar.js';
import { IvrEngine, type IvrResult } from './engine.js';
import type {
  IvrCallPort,
  IvrCaseStatus,
  IvrEnqueueRequest,
  IvrEnqueueResult,
  IvrPrompt,
  PlayOutcome,
} from './port.js';
import { FlowRegistry } from './registry.js';
import { MemoryIvrStore, MemoryVoicemailSink, StaticCaseStatusTable } from './services.js';

export interface SimOptions {
  /** Flow file (its directory is loaded) or flow id within `dir`. */
  flow: string;
  dir?: string;
  at: Date;
  caller: string;
  holidays: string[];
  makeupWorkdays: string[];
  cases: Record<string, IvrCaseStatus>;
  queueResult: 'connected' | 'closed' | 'full' | 'timeout';
  /** Run the post-call survey after an agent answered. */
  survey: boolean;
  out: (line: string) => void;
  /** Next line of caller input: digits (`1`, `2026#`), '' for silence, null to hang up. */
  input: () => Promise<string | null>;
}

class TextPort implements IvrCallPort {
  readonly callId = 'sim-1';
  readonly dialled = '12315';
  private digit: ((d: string) => void) | null = null;
  private hang: (() => void) | null = null;

  constructor(
    readonly caller: string,
    private readonly o: SimOptions,
  ) {}

  async play(prompts: readonly IvrPrompt[], opts: { bargeIn: boolean }): Promise<PlayOutcome> {
    for (const p of prompts) this.o.out(`  ▶ ${p.name.padEnd(22)} ${p.text}${opts.bargeIn ? '' : '  (不可打断)'}`);
    return 'done';
  }
  stopPlayback(): void {}
  onDigit(listener: (digit: string) => void): () => void {
    this.digit = listener;
    return () => (this.digit = null);
  }
  onHangup(listener: () => void): () => void {
    this.hang = listener;
    return () => (this.hang = null);
  }
  press(digits: string): void {
    for (const d of digits) if (/[0-9*#]/.test(d)) this.digit?.(d);
  }
  callerHangsUp(): void {
    this.hang?.();
  }
  async hangup(reason: string): Promise<void> {
    this.o.out(`  ✆ 挂机 hangup (${reason})`);
  }
  async transfer(target: string): Promise<{ ok: boolean }> {
    this.o.out(`  ↪ 转接 transfer → ${target}`);
    return { ok: true };
  }
  async enqueue(req: IvrEnqueueRequest): Promise<IvrEnqueueResult> {
    this.o.out(
      `  ☎ 排队 enqueue queue=${req.queue} priority=${req.priority} skills=${req.skills.join(',')} path=${req.ivrPath.join('>')}`,
    );
    if (this.o.queueResult === 'connected') {
      this.o.out('  ☎ 坐席已接听 agent answered');
      return { outcome: 'connected', agent: '8001' };
    }
    this.o.out(`  ☎ 排队失败 queue failed: ${this.o.queueResult}`);
    return { outcome: 'failed', reason: this.o.queueResult };
  }
  async recordVoicemail(opts: { maxMs: number }): Promise<{ file: string | null; durationMs: number }> {
    this.o.out(`  ● 录音 recording voicemail (max ${opts.maxMs / 1000} s) … 模拟 20 s 留言`);
    return { file: '/tmp/sim-voicemail.wav', durationMs: 20_000 };
  }
}

const flush = () => new Promise<void>((r) => setImmediate(r));

export async function simulate(o: SimOptions): Promise<IvrResult> {
  const isFile = /\.(ya?ml|json)$/i.test(o.flow);
  const dir = o.dir ?? (isFile ? path.dirname(path.resolve(o.flow)) : path.resolve('ivr-flows'));
  const registry = new FlowRegistry({ dir });
  const report = registry.reload();
  for (const e of report.errors) o.out(`错误 error: ${e.message}`);
  const flowId = isFile
    ? [...registry.snapshot().flows.values()].find((f) => f.file === path.resolve(o.flow))?.id
    : o.flow;
  if (!flowId || !registry.get(flowId)) throw new Error(`flow ${o.flow} did not load`);
  const clock = new FakeClock();
  const store = new MemoryIvrStore();
  const voicemail = new MemoryVoicemailSink();
  const start = o.at.getTime();
  const engine = new IvrEngine({
    flows: () => registry.snapshot(),
    clock,
    services: {
      // The bundled national holiday calendar, unless the author lists the days to simulate.
      calendar:
        o.holidays.length + o.makeupWorkdays.length > 0
          ? new SimpleCalendar({ holidays: o.holidays, makeupWorkdays: o.makeupWorkdays })
          : ivrCalendarFrom(defaultCalendar(), { default: DEFAULT_HOTLINE_HOURS }),
      cases: new StaticCaseStatusTable(o.cases),
      callbacks: store,
      surveys: store,
      voicemail,
      wallClock: () => new Date(start + clock.now()),
    },
  });
  const port = new TextPort(o.caller, o);
  const bj = new Date(o.at.getTime() + 8 * 3600_000).toISOString().slice(0, 16).replace('T', ' ');
  o.out(`流程 flow ${flowId} · 北京时间 ${bj} · 空行=静默（超时）, h=挂机`);
  const drive = async (session: ReturnType<IvrEngine['start']>): Promise<IvrResult> => {
    let done: IvrResult | null = null;
    void session.done.then((r) => (done = r));
    for (;;) {
      await flush();
      await flush();
      if (done) return done;
      const line = await o.input();
      if (line === null || line.trim().toLowerCase() === 'h') {
        port.callerHangsUp();
        return session.done;
      }
      const keys = line.trim();
      if (keys === '') {
        o.out('  … 静默 silence');
        // Fires only the timer now pending; timers the engine sets in reaction start from the new time.
        clock.advance(60_000);
      } else {
        o.out(`  ⌨ 按键 ${keys}`);
        port.press(keys);
      }
    }
  };
  let result = await drive(engine.start(port, { flowId }));
  o.out(`结果 outcome=${result.outcome} path=${result.ivrPath.join('>')}`);
  for (const cb of store.callbacks) {
    o.out(`回电 callback ${cb.id}: ${cb.windowStart.toISOString()} – ${cb.windowEnd.toISOString()}`);
  }
  for (const vm of voicemail.messages) o.out(`留言 voicemail → 工单草稿 draft ${vm.draftId}`);
  if (result.outcome === 'connected' && o.survey) {
    o.out('— 坐席挂机，进入满意度调查 agent hung up, survey —');
    const s = engine.startSurvey(port, { flowId: result.flowId, ivrPath: result.ivrPath });
    if (s) {
      result = await drive(s);
      o.out(`结果 outcome=${result.outcome} path=${result.ivrPath.join('>')}`);
      for (const r of store.surveys) o.out(`评价 survey score=${r.score}`);
    }
  }
  registry.close();
  return result;
}
