/**
 * The IVR engine's view of a live call (server/ivr/port.ts), on top of the call's media endpoint,
 * the ACD bridge and the recorder. The engine does all digit timing; this port only plays, reports
 * digits and hangups, and carries out enqueue/transfer/voicemail.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { MediaEndpoint, MediaEngine } from '../media/engine/api.js';
import type { IvrCallPort, IvrEnqueueRequest, IvrEnqueueResult, IvrPrompt, PlayOutcome } from '../ivr/port.js';
import type { Clock } from '../util/clock.js';
import { safePlay, type AcdCallBridge, type QueueOutcome } from './acd-bridge.js';
import type { Call } from './call.js';
import type { CallManager } from './call-manager.js';
import type { UacLeg } from './sip-leg.js';

export interface CallIvrPortOptions {
  call: Call;
  media: MediaEndpoint;
  engine: MediaEngine;
  calls: CallManager;
  acd: AcdCallBridge | null;
  clock: Clock;
  log: Logger;
  voicemailDir: string;
  language: () => string;
}

export class CallIvrPort implements IvrCallPort {
  readonly callId: string;
  readonly caller: string;
  readonly dialled: string;
  /** Set when enqueue connected an agent: the call layer waits for this leg to end, then runs the survey. */
  agentLeg: UacLeg | null = null;
  lastQueueOutcome: QueueOutcome | null = null;

  constructor(private readonly o: CallIvrPortOptions) {
    this.callId = o.call.id;
    this.caller = o.call.callerNumber;
    this.dialled = o.call.dialled;
    // Gateways that pass keys only as audio tones (trunk.inbandDtmf): the IVR needs the Goertzel detector.
    const c = o.call.caller;
    if (c.kind === 'trunk' && c.trunk.inbandDtmf) o.media.setInbandDtmf(true);
  }

  async play(prompts: readonly IvrPrompt[], _opts: { bargeIn: boolean }): Promise<PlayOutcome> {
    if (this.o.call.inbound.isEnded) return 'hangup';
    const recent = this.o.call.recentPrompts;
    for (const p of prompts) recent.push(p.name);
    if (recent.length > 64) recent.splice(0, recent.length - 64);
    const ids = [];
    try {
      for (const p of prompts) ids.push(await this.o.engine.loadPrompt(p.file));
    } catch (err) {
      this.o.log.error({ err }, 'IVR prompt could not be loaded');
      return 'done';
    }
    const r = await safePlay(this.o.media, ids);
    if (r.reason === 'closed' || this.o.call.inbound.isEnded) return 'hangup';
    return r.reason === 'done' ? 'done' : 'stopped';
  }

  stopPlayback(): void {
    this.o.media.stopPlayback();
  }

  onDigit(listener: (digit: string) => void): () => void {
    const l = (d: string) => listener(d);
    this.o.media.on('dtmf', l);
    return () => this.o.media.off('dtmf', l);
  }

  onHangup(listener: () => void): () => void {
    const leg = this.o.call.inbound;
    if (leg.isEnded) {
      queueMicrotask(listener);
      return () => undefined;
    }
    const l = () => listener();
    leg.once('ended', l);
    return () => leg.off('ended', l);
  }

  async hangup(_reason: string): Promise<void> {
    this.o.call.hangupBy ??= 'system';
    this.o.call.inbound.hangup();
  }

  /** Blind transfer to an extension (merchant station, another hotline's seat). */
  async transfer(target: string): Promise<{ ok: boolean }> {
    const r = await this.o.calls.connectToDevice(this.o.call, this.o.media, target);
    return { ok: r === 'answered' };
  }

  async enqueue(req: IvrEnqueueRequest): Promise<IvrEnqueueResult> {
    if (!this.o.acd) return { outcome: 'failed', reason: 'closed' };
    const r = await this.o.acd.enqueue(this.o.call, this.o.media, {
      queue: req.queue,
      priority: req.priority,
      skills: req.skills,
      ivrPath: req.ivrPath,
      vars: req.vars,
      language: this.o.language(),
    });
    this.lastQueueOutcome = r;
    switch (r.outcome) {
      case 'connected':
        this.agentLeg = r.agentLeg;
        return { outcome: 'connected', agent: r.agent };
      case 'callback':
      case 'hangup':
        return { outcome: 'hangup' };
      default:
        return { outcome: 'failed', reason: r.reason };
    }
  }

  /** Records the caller until `#`, `maxMs`, or hangup. */
  async recordVoicemail(opts: { maxMs: number }): Promise<{ file: string | null; durationMs: number }> {
    fs.mkdirSync(this.o.voicemailDir, { recursive: true });
    const file = path.join(this.o.voicemailDir, `${this.callId}-${Date.now()}.wav`);
    const rec = await this.o.engine.record(this.o.media, { file, mode: 'mono' });
    await new Promise<void>((resolve) => {
      const leg = this.o.call.inbound;
      const finish = () => {
        this.o.clock.clearTimeout(timer);
        this.o.media.off('dtmf', onDigit);
        leg.off('ended', finish);
        resolve();
      };
      const onDigit = (d: string) => {
        if (d === '#') finish();
      };
      const timer = this.o.clock.setTimeout(finish, opts.maxMs);
      this.o.media.on('dtmf', onDigit);
      if (leg.isEnded) finish();
      else leg.once('ended', finish);
    });
    const result = await rec.stop();
    if (result.error) this.o.log.warn({ err: result.error }, 'voicemail recording had a write error');
    if (result.durationMs < 500) {
      fs.rmSync(file, { force: true });
      return { file: null, durationMs: result.durationMs };
    }
    return { file, durationMs: result.durationMs };
  }
}
