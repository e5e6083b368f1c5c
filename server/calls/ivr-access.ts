/**
 * Calls to an access number (12315) run the IVR flow; when an agent took the call and hangs up
 * while the consumer is still on the line, the flow's satisfaction survey runs (issue 4).
 */
import type { Logger } from 'pino';
import type { MediaEngine } from '../media/engine/api.js';
import { setupTrace, SetupStage } from '../sip/message/setup-trace.js';
import type { IvrEngine } from '../ivr/engine.js';
import { promptFile } from '../ivr/prompts.js';
import type { FlowRegistry } from '../ivr/registry.js';
import { compose } from '../ivr/say.js';
import type { Clock } from '../util/clock.js';
import type { AcdCallBridge, QueueAnnouncements } from './acd-bridge.js';
import { CallEvent, type Call } from './call.js';
import type { AccessHandler, CallContext, CallManager } from './call-manager.js';
import { CallIvrPort } from './ivr-port.js';

export interface IvrAccessOptions {
  ivr: IvrEngine;
  flows: FlowRegistry;
  engine: MediaEngine;
  clock: Clock;
  log: Logger;
  voicemailDir: string;
  /** Flow for each access number; unknown numbers use `defaultFlow`. */
  flowFor?: Record<string, string>;
  defaultFlow: string;
  /** Survey answers and outcomes are stored against this case when the agent opened one. */
  caseIdForCall?(callId: string): string | null;
}

export class IvrAccessHandler implements AccessHandler {
  calls!: CallManager;
  acd: AcdCallBridge | null = null;
  readonly stats = { sessions: 0, surveys: 0, errors: 0 };

  constructor(private readonly o: IvrAccessOptions) {}

  hasFlow(id: string): boolean {
    return this.o.flows.get(id) !== undefined;
  }

  async run(call: Call, ctx: CallContext, flowId?: string): Promise<void> {
    setupTrace.mark(call.inbound.req, SetupStage.IvrStart);
    const flow = flowId ?? this.o.flowFor?.[call.dialled] ?? this.o.defaultFlow;
    if (!this.hasFlow(flow)) {
      this.o.log.error({ flow }, 'no IVR flow for the access number');
      call.inbound.hangup(503);
      return;
    }
    if (!(await ctx.answer())) return;
    call.move(CallEvent.Answered);
    let language = this.o.flows.get(flow)?.language ?? 'zh';
    const port = new CallIvrPort({
      call,
      media: ctx.media,
      engine: this.o.engine,
      calls: this.calls,
      acd: this.acd,
      clock: this.o.clock,
      log: this.o.log,
      voicemailDir: this.o.voicemailDir,
      language: () => language,
    });
    this.stats.sessions++;
    const session = this.o.ivr.start(port, { flowId: flow });
    // The session's own array: leads see the path grow while the caller walks the menus.
    call.ivrPath = session.ivrPath;
    call.onEnd(() => session.close());
    const result = await session.done;
    call.ivrPath = [...result.ivrPath];
    language = this.o.flows.get(result.flowId)?.language ?? language;
    if (result.outcome === 'error') this.stats.errors++;

    const agentLeg = port.agentLeg;
    if (result.outcome === 'connected' && agentLeg) {
      // Transfers and three-way calls may hand the caller on: wait until nobody serves them.
      await call.whileServed(agentLeg);
      if (call.inbound.isEnded || call.isEnded) return;
      // The agent hung up first: the consumer stays for the one-question survey.
      call.hangupBy ??= 'callee';
      const survey = this.o.ivr.startSurvey(port, {
        flowId: result.flowId,
        vars: { case_id: this.o.caseIdForCall?.(call.id) ?? '' },
      });
      if (survey) {
        this.stats.surveys++;
        call.move(CallEvent.Survey);
        call.onEnd(() => survey.close());
        await survey.done;
      }
    }
    if (!call.inbound.isEnded) {
      call.hangupBy ??= 'system';
      call.inbound.hangup();
    }
  }

  /** Prompt lookup for queue announcements, from the flows' catalogues. */
  announcements(mohFile: string | null, everyMs: number): QueueAnnouncements {
    const catalog = (lang: string) => this.o.flows.snapshot().catalogs.get(lang);
    return {
      mohFile,
      everyMs,
      prompt: (lang, name) => {
        const c = catalog(lang) ?? catalog('zh');
        return c && c.entries.has(name) ? promptFile(c, name) : null;
      },
      number: (lang, n) => {
        const c = catalog(lang) ?? catalog('zh');
        if (!c) return [];
        try {
          return compose('number', String(n), c.language).map((name) => promptFile(c, name));
        } catch {
          return [];
        }
      },
    };
  }
}
