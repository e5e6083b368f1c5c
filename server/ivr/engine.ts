/**
 * Runs flows against calls. One IvrSession per call walk (the main walk, or the post-call survey); it owns
 * the call's digit buffer and timers and reads flows from the FlowSet snapshot taken when it started, so a
 * reload in the middle of a call never swaps nodes under a caller.
 *
 * The session's life is a state machine (enum + transition table); an illegal move throws, and the engine
 * logs and counts it.
 */
import type { Logger } from 'pino';
import type { Clock } from '../util/clock.js';
import { beijingDate, beijingInstant } from './calendar.js';
import { CallerHangup, DigitBuffer } from './digits.js';
import type {
  BranchNode,
  CallbackNode,
  CollectNode,
  Condition,
  Flow,
  FlowNode,
  MenuNode,
  SurveyNode,
  VarValue,
} from './flow.js';
import type { IvrCallPort, IvrPrompt, IvrServices } from './port.js';
import { interpolate, resolvePrompt } from './prompts.js';
import type { FlowSet } from './registry.js';
import { compose, SayError } from './say.js';

export enum IvrSessionState {
  Idle = 'idle',
  Running = 'running',
  /** Waiting in an ACD queue. */
  Queued = 'queued',
  /** An agent answered; the IVR's part is over. */
  Connected = 'connected',
  Surveying = 'surveying',
  Ended = 'ended',
}

const TRANSITIONS: Record<IvrSessionState, readonly IvrSessionState[]> = {
  [IvrSessionState.Idle]: [IvrSessionState.Running, IvrSessionState.Surveying, IvrSessionState.Ended],
  [IvrSessionState.Running]: [IvrSessionState.Queued, IvrSessionState.Ended],
  [IvrSessionState.Queued]: [IvrSessionState.Running, IvrSessionState.Connected, IvrSessionState.Ended],
  [IvrSessionState.Connected]: [IvrSessionState.Ended],
  [IvrSessionState.Surveying]: [IvrSessionState.Ended],
  [IvrSessionState.Ended]: [],
};

export class IllegalTransition extends Error {
  constructor(from: IvrSessionState, to: IvrSessionState) {
    super(`IVR session: illegal transition ${from} → ${to}`);
    this.name = 'IllegalTransition';
  }
}

export type IvrOutcome =
  /** An agent answered (the call layer bridges; run the survey when the agent hangs up). */
  | 'connected'
  | 'transferred'
  /** The flow hung up (goodbye, voicemail done, after-hours). */
  | 'hangup'
  | 'caller-hangup'
  /** The walk reached a `return` outside any sub-flow; the call layer should hang up. */
  | 'ended'
  | 'error';

export interface IvrResult {
  outcome: IvrOutcome;
  /** Flow the walk ended in: its `survey` entry is the one to run after the agent hangs up. */
  flowId: string;
  ivrPath: string[];
  vars: Record<string, string>;
  /** Queue the caller was connected from, when connected. */
  queue: string | null;
}

export interface IvrEngineOptions {
  /** The current flows; a session snapshots it at start. */
  flows: () => FlowSet;
  services: IvrServices;
  clock: Clock;
  log?: Logger;
  /** Bound on nodes executed per session: a goto loop without caller input must not spin forever. */
  maxSteps?: number;
}

export interface StartOptions {
  flowId: string;
  /** Start node; the flow's `start` when absent. */
  node?: string;
  vars?: Record<string, VarValue>;
  ivrPath?: string[];
}

type Next =
  | { kind: 'node'; id: string }
  | { kind: 'goto'; flow: Flow; id: string }
  | { kind: 'subflow'; flow: Flow; id: string; returnTo: string }
  | { kind: 'return' }
  | { kind: 'end'; outcome: IvrOutcome };

export class SessionClosed extends Error {
  constructor() {
    super('IVR session closed');
    this.name = 'SessionClosed';
  }
}

export class IvrEngine {
  readonly stats = {
    started: 0,
    surveys: 0,
    errors: 0,
    illegalTransitions: 0,
    outcomes: {} as Partial<Record<IvrOutcome, number>>,
    menuTimeouts: 0,
    menuInvalid: 0,
    menuFallbacks: 0,
  };

  constructor(readonly o: IvrEngineOptions) {}

  /** Runs a flow for a newly answered call. Throws when the flow does not exist. */
  start(port: IvrCallPort, opts: StartOptions): IvrSession {
    const flows = this.o.flows();
    const flow = flows.flows.get(opts.flowId);
    if (!flow) throw new Error(`no IVR flow "${opts.flowId}"`);
    this.stats.started++;
    return new IvrSession(this, port, flows, flow, opts.node ?? flow.start, opts, IvrSessionState.Running);
  }

  /**
   * Runs the flow's post-call survey entry (after the agent hung up, caller still on the line).
   * Returns null when the flow has no survey.
   */
  startSurvey(port: IvrCallPort, opts: StartOptions): IvrSession | null {
    const flows = this.o.flows();
    const flow = flows.flows.get(opts.flowId);
    if (!flow?.survey) return null;
    this.stats.surveys++;
    return new IvrSession(this, port, flows, flow, flow.survey, opts, IvrSessionState.Surveying);
  }

  /** @internal */
  count(outcome: IvrOutcome): void {
    this.stats.outcomes[outcome] = (this.stats.outcomes[outcome] ?? 0) + 1;
  }
}

export class IvrSession {
  private st = IvrSessionState.Idle;
  readonly ivrPath: string[];
  readonly vars: Record<string, string> = {};
  readonly done: Promise<IvrResult>;
  private readonly digits: DigitBuffer;
  private readonly unsubscribe: Array<() => void> = [];
  private rejectAbort: (e: Error) => void = () => undefined;
  private readonly aborted: Promise<never>;
  private flow: Flow;
  private queue: string | null = null;
  private closed = false;
  private readonly log: Logger | undefined;

  constructor(
    private readonly engine: IvrEngine,
    private readonly port: IvrCallPort,
    private readonly flows: FlowSet,
    flow: Flow,
    startNode: string,
    opts: StartOptions,
    initial: IvrSessionState.Running | IvrSessionState.Surveying,
  ) {
    this.flow = flow;
    this.log = engine.o.log?.child({ callId: port.callId });
    this.ivrPath = [...(opts.ivrPath ?? [])];
    this.digits = new DigitBuffer(engine.o.clock);
    this.aborted = new Promise<never>((_, reject) => (this.rejectAbort = reject));
    this.aborted.catch(() => undefined);
    for (const [k, v] of Object.entries(flow.vars)) this.vars[k] = String(v);
    Object.assign(this.vars, { caller: port.caller, dialled: port.dialled, call_id: port.callId });
    for (const [k, v] of Object.entries(opts.vars ?? {})) this.vars[k] = String(v);
    this.unsubscribe.push(port.onDigit((d) => this.digits.push(d)));
    this.unsubscribe.push(
      port.onHangup(() => {
        this.digits.fail(new CallerHangup());
        this.rejectAbort(new CallerHangup());
      }),
    );
    this.transition(initial);
    this.done = this.walk(startNode);
  }

  get state(): IvrSessionState {
    return this.st;
  }

  /** Stops the walk (call torn down by the call layer). Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const err = new SessionClosed();
    this.digits.fail(err);
    this.rejectAbort(err);
    this.port.stopPlayback();
    for (const u of this.unsubscribe.splice(0)) u();
  }

  private transition(to: IvrSessionState): void {
    if (!TRANSITIONS[this.st].includes(to)) {
      this.engine.stats.illegalTransitions++;
      throw new IllegalTransition(this.st, to);
    }
    this.st = to;
  }

  private guard<T>(p: Promise<T>): Promise<T> {
    return Promise.race([p, this.aborted]);
  }

  private async walk(startNode: string): Promise<IvrResult> {
    const stack: Array<{ flow: Flow; returnTo: string }> = [];
    let nodeId = startNode;
    let outcome: IvrOutcome = 'error';
    const maxSteps = this.engine.o.maxSteps ?? 1000;
    try {
      for (let steps = 0; ; steps++) {
        if (steps >= maxSteps)
          throw new Error(`more than ${maxSteps} nodes in one call (loop in flow ${this.flow.id}?)`);
        const node = this.flow.nodes.get(nodeId);
        if (!node) throw new Error(`flow ${this.flow.id} has no node ${nodeId}`);
        this.log?.debug({ flow: this.flow.id, node: node.id, type: node.type }, 'ivr node');
        const next = await this.exec(node);
        if (next.kind === 'node') nodeId = next.id;
        else if (next.kind === 'goto') {
          if (next.flow !== this.flow) this.enter(next.flow);
          this.flow = next.flow;
          nodeId = next.id;
        } else if (next.kind === 'subflow') {
          stack.push({ flow: this.flow, returnTo: next.returnTo });
          this.enter(next.flow);
          this.flow = next.flow;
          nodeId = next.id;
        } else if (next.kind === 'return') {
          const frame = stack.pop();
          if (!frame) {
            outcome = 'ended';
            break;
          }
          this.flow = frame.flow;
          nodeId = frame.returnTo;
        } else {
          outcome = next.outcome;
          break;
        }
      }
    } catch (e) {
      if (e instanceof CallerHangup) outcome = 'caller-hangup';
      else if (e instanceof SessionClosed) outcome = 'ended';
      else {
        outcome = 'error';
        this.engine.stats.errors++;
        this.log?.error({ err: e, flow: this.flow.id, node: nodeId }, 'IVR flow failed; hanging up');
        await this.port.hangup('ivr error').catch(() => undefined);
      }
    }
    try {
      if (this.st !== IvrSessionState.Ended) this.transition(IvrSessionState.Ended);
    } catch (e) {
      this.log?.error({ err: e }, 'IVR session end');
    }
    this.engine.count(outcome);
    const result: IvrResult = {
      outcome,
      flowId: this.flow.id,
      ivrPath: [...this.ivrPath],
      vars: { ...this.vars },
      queue: outcome === 'connected' ? this.queue : null,
    };
    // Listeners stay until here so that a hangup during the last await is seen; then release them.
    this.closed = true;
    for (const u of this.unsubscribe.splice(0)) u();
    return result;
  }

  /** Entering another flow: record it in the path and apply its variables (e.g. language: en). */
  private enter(flow: Flow): void {
    this.ivrPath.push(`flow:${flow.id}`);
    for (const [k, v] of Object.entries(flow.vars)) this.vars[k] = String(v);
  }

  // ---- nodes ---------------------------------------------------------------------------------

  private async exec(node: FlowNode): Promise<Next> {
    const svc = this.engine.o.services;
    switch (node.type) {
      case 'play':
        await this.play(node.prompts, node.bargeIn);
        return { kind: 'node', id: node.next };
      case 'menu':
        return this.menu(node);
      case 'collect':
        return this.collect(node);
      case 'say': {
        const value = node.value !== null ? interpolate(node.value, this.vars) : (this.vars[node.var!] ?? '');
        let names: string[] = [];
        try {
          names = compose(node.as, value, this.flow.language);
        } catch (e) {
          if (!(e instanceof SayError)) throw e;
          this.log?.warn({ node: node.id, reason: e.message }, 'say skipped');
        }
        await this.play(names, false);
        return { kind: 'node', id: node.next };
      }
      case 'branch':
        return { kind: 'node', id: this.branch(node) };
      case 'set':
        for (const [k, v] of Object.entries(node.vars)) this.vars[k] = interpolate(String(v), this.vars);
        return { kind: 'node', id: node.next };
      case 'lookup': {
        const number = (this.vars[node.numberVar] ?? '').replace(/\D/g, '');
        let status = null;
        try {
          status = number ? await this.guard(svc.cases.statusForIvr(number)) : null;
        } catch (e) {
          if (e instanceof CallerHangup || e instanceof SessionClosed) throw e;
          this.log?.error({ err: e }, 'case status lookup failed');
          this.vars.lookup_error = '1';
        }
        if (!status) return { kind: 'node', id: node.notFound };
        Object.assign(this.vars, {
          case_id: status.caseId,
          case_status: status.status,
          case_accepted_on: status.acceptedOn,
          case_updated_on: status.updatedOn,
        });
        return { kind: 'node', id: node.next };
      }
      case 'enqueue': {
        await this.play(node.prompts, false);
        this.transition(IvrSessionState.Queued);
        this.ivrPath.push(`queue:${node.queue}`);
        const r = await this.guard(
          this.port.enqueue({
            callId: this.port.callId,
            queue: node.queue,
            priority: node.priority,
            skills: [...node.skills],
            ivrPath: [...this.ivrPath],
            vars: { ...this.vars },
          }),
        );
        if (r.outcome === 'hangup') throw new CallerHangup();
        // Keys pressed while waiting for an agent are not answers to whatever comes next.
        this.digits.flush();
        if (r.outcome === 'connected') {
          this.transition(IvrSessionState.Connected);
          this.queue = node.queue;
          return { kind: 'end', outcome: 'connected' };
        }
        this.transition(IvrSessionState.Running);
        this.vars.queue_fail = r.reason;
        return { kind: 'node', id: node.onFail };
      }
      case 'callback':
        return this.callback(node);
      case 'voicemail': {
        await this.play(node.prompts, false);
        this.digits.flush();
        const r = await this.guard(this.port.recordVoicemail({ maxMs: node.maxMs }));
        this.digits.flush();
        this.ivrPath.push('voicemail');
        this.vars.voicemail_draft = '';
        if (r.file) {
          const { draftId } = await this.guard(
            svc.voicemail.attachVoicemail({
              callId: this.port.callId,
              caller: this.port.caller,
              file: r.file,
              durationMs: r.durationMs,
              ivrPath: [...this.ivrPath],
              receivedAt: svc.wallClock(),
            }),
          );
          this.vars.voicemail_draft = draftId;
        }
        return { kind: 'node', id: node.next };
      }
      case 'survey':
        return this.survey(node);
      case 'transfer': {
        await this.play(node.prompts, false);
        const target = interpolate(node.target, this.vars);
        this.ivrPath.push(`transfer:${target}`);
        const r = await this.guard(this.port.transfer(target));
        this.digits.flush();
        return r.ok ? { kind: 'end', outcome: 'transferred' } : { kind: 'node', id: node.onFail };
      }
      case 'hangup':
        await this.play(node.prompts, false);
        await this.guard(this.port.hangup('ivr'));
        return { kind: 'end', outcome: 'hangup' };
      case 'goto': {
        const flow = node.flow === null ? this.flow : this.flowById(node.flow);
        return { kind: 'goto', flow, id: node.node ?? flow.start };
      }
      case 'subflow': {
        const flow = this.flowById(node.flow);
        return { kind: 'subflow', flow, id: node.node ?? flow.start, returnTo: node.next };
      }
      case 'return':
        return { kind: 'return' };
    }
  }

  private flowById(id: string): Flow {
    const f = this.flows.flows.get(id);
    if (!f) throw new Error(`no flow ${id}`);
    return f;
  }

  /**
   * Plays prompts. With barge-in, a digit stops the playback and stays buffered for the next menu; if the
   * caller already typed ahead the prompt is skipped. Without barge-in, digits pressed meanwhile are dropped.
   */
  private async play(names: readonly string[], bargeIn: boolean): Promise<void> {
    if (bargeIn && this.digits.pending > 0) return;
    const prompts = this.resolve(names);
    if (prompts.length === 0) return;
    this.digits.onArrival = bargeIn ? () => this.port.stopPlayback() : null;
    try {
      const outcome = await this.guard(this.port.play(prompts, { bargeIn }));
      if (outcome === 'hangup') throw new CallerHangup();
    } finally {
      this.digits.onArrival = null;
    }
    if (!bargeIn) this.digits.flush();
  }

  private resolve(names: readonly string[]): IvrPrompt[] {
    const cat = this.flows.catalogs.get(this.flow.language);
    const out: IvrPrompt[] = [];
    for (const n of names) {
      const name = interpolate(n, this.vars);
      const p = cat ? resolvePrompt(cat, name) : null;
      if (p) out.push(p);
      else this.log?.warn({ flow: this.flow.id, prompt: name }, 'prompt not in catalogue; skipped');
    }
    return out;
  }

  private async menu(node: MenuNode): Promise<Next> {
    let reason: 'first' | 'timeout' | 'invalid' = 'first';
    for (let attempt = 0; ; attempt++) {
      const pre = reason === 'timeout' ? node.timeoutPrompts : reason === 'invalid' ? node.invalidPrompts : [];
      await this.play([...pre, ...node.prompts], node.bargeIn);
      const d = await this.digits.next(node.timeoutMs);
      if (d !== null && node.options[d] !== undefined) {
        this.ivrPath.push(`${node.label}:${d}`);
        return { kind: 'node', id: node.options[d] };
      }
      reason = d === null ? 'timeout' : 'invalid';
      if (reason === 'timeout') this.engine.stats.menuTimeouts++;
      else this.engine.stats.menuInvalid++;
      // Whatever else was typed after a wrong key belongs to the wrong attempt.
      this.digits.flush();
      if (attempt >= node.retries) {
        this.engine.stats.menuFallbacks++;
        this.ivrPath.push(`${node.label}:${reason}`);
        return { kind: 'node', id: node.fallback };
      }
    }
  }

  private async collect(node: CollectNode): Promise<Next> {
    let reason: 'first' | 'timeout' | 'invalid' = 'first';
    for (let attempt = 0; ; attempt++) {
      const pre = reason === 'timeout' ? node.timeoutPrompts : reason === 'invalid' ? node.invalidPrompts : [];
      await this.play([...pre, ...node.prompts], node.bargeIn);
      let entered = '';
      let d = await this.digits.next(node.firstTimeoutMs);
      const silent = d === null;
      while (d !== null) {
        if (d === node.terminator) break;
        if (d >= '0' && d <= '9') {
          entered += d;
          if (entered.length >= node.max) {
            if (node.terminator) this.digits.swallowNext(node.terminator, node.interDigitTimeoutMs);
            break;
          }
        }
        d = await this.digits.next(node.interDigitTimeoutMs);
      }
      if (!silent && entered.length >= node.min && entered.length <= node.max) {
        this.vars[node.var] = entered;
        return { kind: 'node', id: node.next };
      }
      reason = silent ? 'timeout' : 'invalid';
      this.digits.flush();
      if (attempt >= node.retries) {
        this.ivrPath.push(`${node.id}:${reason}`);
        return { kind: 'node', id: node.fallback };
      }
    }
  }

  private async survey(node: SurveyNode): Promise<Next> {
    const svc = this.engine.o.services;
    this.vars[node.var] = '';
    for (let attempt = 0; attempt <= node.retries; attempt++) {
      await this.play(attempt === 0 ? node.prompts : [...node.invalidPrompts, ...node.prompts], true);
      const d = await this.digits.next(node.timeoutMs);
      if (d !== null && d >= '1' && d <= '5') {
        const score = Number(d);
        await this.guard(
          svc.surveys.recordSurvey({
            callId: this.port.callId,
            caseId: this.vars.case_id ? this.vars.case_id : null,
            score,
            at: svc.wallClock(),
          }),
        );
        this.vars[node.var] = d;
        this.ivrPath.push(`survey:${d}`);
        return { kind: 'node', id: node.next };
      }
      this.digits.flush();
    }
    this.ivrPath.push('survey:none');
    return { kind: 'node', id: node.next };
  }

  private async callback(node: CallbackNode): Promise<Next> {
    const svc = this.engine.o.services;
    const number = (this.vars[node.numberVar] ?? '').replace(/[^\d+]/g, '');
    let name = interpolate(node.window, this.vars);
    if (!(name in node.windows)) name = Object.keys(node.windows)[0]!;
    const [from, to] = node.windows[name]!;
    const now = svc.wallClock();
    // The first working day whose window still has at least 30 minutes left.
    let slot: { date: string; start: Date; end: Date } | null = null;
    for (let day = 0; day < 30 && !slot; day++) {
      const date = beijingDate(new Date(now.getTime() + day * 86_400_000));
      const start = beijingInstant(date, from);
      const end = beijingInstant(date, to);
      if (!svc.calendar.isWorkday(start)) continue;
      if (end.getTime() - now.getTime() < 30 * 60_000) continue;
      slot = { date, start: start < now ? now : start, end };
    }
    if (!slot || number.length < 3) throw new Error('callback: no usable window or number');
    const { id } = await this.guard(
      svc.callbacks.requestCallback({
        callId: this.port.callId,
        number,
        windowStart: slot.start,
        windowEnd: slot.end,
        ivrPath: [...this.ivrPath],
        requestedAt: now,
      }),
    );
    Object.assign(this.vars, { callback_id: id, callback_date: slot.date, callback_from: from, callback_to: to });
    this.ivrPath.push(`callback:${name}`);
    return { kind: 'node', id: node.next };
  }

  private branch(node: BranchNode): string {
    for (const c of node.cases) if (this.holds(c.when)) return c.next;
    return node.default;
  }

  private holds(c: Condition): boolean {
    const svc = this.engine.o.services;
    const now = svc.wallClock();
    if (c.businessHours !== undefined && svc.calendar.isOpen(now, c.schedule) !== c.businessHours) return false;
    if (c.holiday !== undefined && svc.calendar.isHoliday(now) !== c.holiday) return false;
    if (c.workday !== undefined && svc.calendar.isWorkday(now) !== c.workday) return false;
    if (c.var !== undefined) {
      const v = this.vars[c.var];
      if (c.exists !== undefined && (v !== undefined && v !== '') !== c.exists) return false;
      if (c.equals !== undefined && v !== String(c.equals)) return false;
      if (c.in !== undefined && (v === undefined || !c.in.map(String).includes(v))) return false;
      if (c.matches !== undefined && (v === undefined || !new RegExp(c.matches).test(v))) return false;
    }
    if (c.all && !c.all.every((x) => this.holds(x))) return false;
    if (c.any && !c.any.some((x) => this.holds(x))) return false;
    if (c.not && this.holds(c.not)) return false;
    return true;
  }
}
