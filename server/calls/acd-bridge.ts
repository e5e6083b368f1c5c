/**
 * Where the ACD meets real calls. The ACD (server/acd) decides who gets which caller; this bridge
 * does it over SIP and media: it parks queued callers on music on hold with announcements, rings
 * the chosen agent's seat, bridges on answer, and reports back (RingOutcome, call ended).
 */
import type { Logger } from 'pino';
import type { Acd } from '../acd/acd.js';
import type { AgentTarget, CallControl, DialOutcome, RingOutcome } from '../acd/call-control.js';
import { AgentState } from '../acd/agent-state.js';
import type { OverflowTarget, QueueEntry } from '../acd/queue.js';
import type { MediaEndpoint, MediaEngine, PlayItem } from '../media/engine/api.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { maskPhone } from '../util/log.js';
import type { Call } from './call.js';
import { CallEvent, CallState } from './call.js';
import type { CallManager } from './call-manager.js';
import type { UacLeg } from './sip-leg.js';
import { awaitAnswer, type OutboundCalls } from './outbound.js';

export interface QueueRequest {
  queue: string;
  priority: number;
  skills: string[];
  ivrPath: string[];
  vars: Record<string, string>;
  language: string;
}

export type QueueOutcome =
  | { outcome: 'connected'; agent: string; agentLeg: UacLeg }
  | { outcome: 'failed'; reason: 'closed' | 'full' | 'timeout' | 'no-agents' | 'error' }
  /** The caller chose to be called back and the call has been ended politely. */
  | { outcome: 'callback' }
  | { outcome: 'hangup' };

export interface QueueAnnouncements {
  /** Prompt files by name for the caller's language, or null when missing. */
  prompt(language: string, name: string): string | null;
  /** Recorded pieces reading a number in that language. */
  number(language: string, n: number): string[];
  /** Looping music on hold. */
  mohFile: string | null;
  /** Seconds between announcements. */
  everyMs: number;
}

interface Parked {
  call: Call;
  media: MediaEndpoint;
  req: QueueRequest;
  settle: (o: QueueOutcome) => void;
  announceTimer: TimerHandle | null;
  /**
   * Agents whose seats ring for this caller now. A set, not one id: after a RONA the ACD offers to the
   * next agent synchronously, before the aborted ring has settled, and ring-all rings several at once.
   */
  ringing: Set<string>;
  stopped: boolean;
}

export interface AcdBridgeOptions {
  calls: CallManager;
  engine: MediaEngine;
  clock: Clock;
  log: Logger;
  announcements: QueueAnnouncements;
  /** Told as soon as a call is offered to an agent (screen pop, case draft). */
  onOffer?(call: Call, agentId: string): void;
  /** Calls out through the trunk (callbacks); without it callbacks fail and are retried. */
  outbound?: OutboundCalls;
  /** How long a callback rings the agent's seat, and then the consumer (default 20 s / 30 s). */
  callbackRingMs?: number;
}

export class AcdCallBridge implements CallControl {
  acd!: Acd;
  private readonly parked = new Map<string, Parked>();
  /** callId → agent on it (answered calls), for the ACD's consistency check. */
  private readonly talking = new Map<string, string>();
  readonly stats = { enqueued: 0, answered: 0, noAnswer: 0, abandoned: 0, callbacks: 0 };
  /** Agents put on a call by a transfer or a rejoin rather than by the ACD: agentId → callId. */
  private readonly handedTo = new Map<string, string>();
  /** The last queue request of each call (a transfer back to a queue keeps its IVR path and skills). */
  private readonly requests = new WeakMap<Call, QueueRequest>();

  constructor(private readonly o: AcdBridgeOptions) {}

  requestOf(call: Call): QueueRequest | null {
    return this.requests.get(call) ?? null;
  }

  /**
   * A transfer (or a rejoin) connected `agentId` to the call outside the ACD: an explicit hand-over
   * (Acd.assign), and Acd.release into wrap-up when their leg ends. `handedTo` keeps the consistency
   * check's picture right meanwhile, so it finds nothing to repair.
   */
  attachAgent(call: Call, agentId: string, leg: UacLeg): void {
    this.handedTo.set(agentId, call.id);
    try {
      this.acd.assign(agentId, call.id, this.requests.get(call)?.queue ?? null);
    } catch (err) {
      // The ACD logged and counted the illegal move (offline or on another call); its check will see it.
      this.o.log.warn({ err, agent: agentId, call: call.id }, 'hand-over refused by the ACD');
    }
    const done = () => {
      if (this.handedTo.get(agentId) !== call.id) return;
      this.handedTo.delete(agentId);
      this.releaseAgent(agentId, call.id);
    };
    leg.once('ended', done);
    call.onEnd(done);
  }

  /** The agent's leg of this call ended: wrap-up. Nothing to do if they are no longer on it (a lead forced a state). */
  private releaseAgent(agentId: string, callId: string): void {
    const a = this.acd.agent(agentId);
    if (a?.state !== AgentState.OnCall || a.callId !== callId) return;
    this.acd.release(agentId, callId);
  }

  /** Called once the Acd exists (the Acd needs us as its CallControl, and we need it). */
  attach(acd: Acd): void {
    this.acd = acd;
  }

  /** Puts an answered call in a queue; resolves when an agent answered or the caller left the queue. */
  enqueue(call: Call, media: MediaEndpoint, req: QueueRequest): Promise<QueueOutcome> {
    const cfg = this.acd.queueConfig(req.queue);
    if (!cfg) return Promise.resolve({ outcome: 'failed', reason: 'error' });
    // Only skills-routed queues carry the IVR's skill wishes; elsewhere any member may answer.
    const skills = cfg.strategy === 'skills' ? Object.fromEntries(req.skills.map((s) => [s, 1])) : {};
    return new Promise<QueueOutcome>((resolve) => {
      const p: Parked = {
        call,
        media,
        req,
        settle: () => undefined,
        announceTimer: null,
        ringing: new Set(),
        stopped: false,
      };
      let settled = false;
      p.settle = (o) => {
        if (settled) return;
        settled = true;
        this.unpark(p);
        resolve(o);
      };
      this.parked.set(call.id, p);
      this.requests.set(call, req);
      const onGone = () => {
        this.stats.abandoned++;
        this.acd.abandon(call.id);
        p.settle({ outcome: 'hangup' });
      };
      call.inbound.once('ended', onGone);
      // Queued before the ACD sees it: with a free agent, enqueue() rings at once (synchronously).
      call.queue = req.queue;
      call.queuedAt = Date.now();
      if (call.state !== CallState.Queued) call.move(CallEvent.Enqueue);
      const res = this.acd.enqueue({
        callId: call.id,
        queueId: req.queue,
        priority: Math.max(0, Math.min(9, req.priority)),
        skills,
        consumer: call.caller.kind === 'trunk' ? call.callerNumber : null,
        data: { ivrPath: req.ivrPath, vars: req.vars, language: req.language },
      });
      if (!res.accepted) {
        call.inbound.off('ended', onGone);
        call.move(CallEvent.Return);
        p.settle({
          outcome: 'failed',
          reason: res.reason === 'full' ? 'full' : res.reason === 'empty' ? 'no-agents' : 'error',
        });
        return;
      }
      this.stats.enqueued++;
      const digit = (d: string) => {
        // 1 during the wait: keep the place and be called back (the most-asked feature).
        if (d === '1' && call.caller.kind === 'trunk' && p.ringing.size === 0) {
          if (this.acd.convertToCallback(call.id, call.callerNumber)) {
            this.stats.callbacks++;
            call.inbound.off('ended', onGone);
            media.off('dtmf', digit);
            void this.politeGoodbye(p).then(() => p.settle({ outcome: 'callback' }));
          }
        }
      };
      media.on('dtmf', digit);
      call.onEnd(() => {
        media.off('dtmf', digit);
      });
      void this.holdMusic(p, true).catch((err: unknown) => this.o.log.warn({ err }, 'music on hold failed'));
    });
  }

  private unpark(p: Parked): void {
    p.stopped = true;
    this.o.clock.clearTimeout(p.announceTimer);
    this.parked.delete(p.call.id);
  }

  /** Music on hold, interrupted every `everyMs` by position and expected-wait announcements. */
  private async holdMusic(p: Parked, first: boolean): Promise<void> {
    const a = this.o.announcements;
    const lang = p.req.language;
    if (first) {
      const hold = a.prompt(lang, 'queue_hold');
      if (hold) await safePlay(p.media, [await this.o.engine.loadPrompt(hold)]);
    }
    if (p.stopped || p.ringing.size > 0) return;
    this.o.clock.clearTimeout(p.announceTimer);
    p.announceTimer = this.o.clock.setTimeout(
      () => void this.announce(p).catch((err: unknown) => this.o.log.warn({ err }, 'queue announcement failed')),
      a.everyMs,
    );
    if (a.mohFile) void safePlay(p.media, [await this.o.engine.loadPrompt(a.mohFile)], { loop: true });
    else void safePlay(p.media, [{ silenceMs: 1000 }], { loop: true });
  }

  private async announce(p: Parked): Promise<void> {
    if (p.stopped || p.ringing.size > 0) return;
    const entry = this.acd.entries().find((e) => e.callId === p.call.id);
    if (!entry) return;
    const a = this.o.announcements;
    const lang = p.req.language;
    const pos = this.acd.position(entry.id);
    const wait = this.acd.estimatedWaitMs(entry.id);
    const files: string[] = [];
    const add = (name: string) => {
      const f = a.prompt(lang, name);
      if (f) files.push(f);
    };
    if (pos !== null && pos > 1) {
      add('queue_position_1');
      files.push(...a.number(lang, pos - 1));
      add('queue_position_2');
    }
    if (wait !== null && wait > 0) {
      add('queue_wait_1');
      files.push(...a.number(lang, Math.max(1, Math.round(wait / 60_000))));
      add('queue_wait_2');
    }
    if (p.call.caller.kind === 'trunk') add('queue_callback_offer');
    const items: PlayItem[] = [];
    for (const f of files) items.push(await this.o.engine.loadPrompt(f));
    if (p.stopped || p.ringing.size > 0) return;
    if (items.length) await safePlay(p.media, items);
    if (!p.stopped && p.ringing.size === 0) void this.holdMusic(p, false).catch(() => undefined);
  }

  private async politeGoodbye(p: Parked): Promise<void> {
    p.stopped = true;
    this.o.clock.clearTimeout(p.announceTimer);
    const f = this.o.announcements.prompt(p.req.language, 'queue_callback_ok');
    if (f) await safePlay(p.media, [await this.o.engine.loadPrompt(f)]);
    p.call.hangupBy ??= 'system';
    p.call.inbound.hangup();
  }

  // ---- CallControl (called by the ACD) ----

  async ringAgent(agent: AgentTarget, entry: Readonly<QueueEntry>, signal: AbortSignal): Promise<RingOutcome> {
    const p = this.parked.get(entry.callId);
    if (!p || p.call.inbound.isEnded) return 'caller_gone';
    if (!agent.seat) return 'rejected';
    p.ringing.add(agent.agentId);
    p.call.move(CallEvent.Ring);
    this.o.onOffer?.(p.call, agent.agentId);
    const vars = p.req.vars;
    const { result, leg } = await this.o.calls.ringDevice(p.call, agent.seat, {
      signal,
      displayName: vars.category ? `12315-${vars.category}` : '12315',
      extraHeaders: [
        ['X-Call-Id', p.call.id],
        ['X-Queue', entry.queueId],
        ['X-Ivr-Path', p.req.ivrPath.join('>')],
      ],
    });
    p.ringing.delete(agent.agentId);
    if (signal.aborted || result !== 'answered' || !leg) {
      if (leg) leg.hangup();
      if (p.call.inbound.isEnded) return 'caller_gone';
      this.stats.noAnswer++;
      // Another seat may ring for this caller already (the ACD re-offers before this ring settles, and
      // ring-all rings several): then the call stays ringing and without hold music, or that agent's
      // answer would find the call queued and could not connect it.
      if (p.ringing.size === 0) {
        if (p.call.state === CallState.Ringing) p.call.move(CallEvent.Return);
        if (!p.stopped) void this.holdMusic(p, false).catch(() => undefined);
      }
      if (result === 'busy' || result === 'failed' || result === 'unavailable') return 'rejected';
      return result === 'caller-gone' ? 'caller_gone' : 'no_answer';
    }
    this.stats.answered++;
    // Stop the hold music for good before bridging: its loop must not restart behind the bridge.
    this.unpark(p);
    await this.o.calls.bridgeLeg(p.call, p.media, leg);
    this.talking.set(p.call.id, agent.agentId);
    p.call.agent = { id: agent.agentId, leg };
    // Released by name: after a transfer another agent may be on the same call id.
    const off = () => {
      if (this.talking.get(p.call.id) !== agent.agentId) return;
      this.talking.delete(p.call.id);
      this.releaseAgent(agent.agentId, p.call.id);
    };
    leg.once('ended', off);
    p.call.onEnd(off);
    p.settle({ outcome: 'connected', agent: agent.agentId, agentLeg: leg });
    return 'answered';
  }

  /**
   * A callback whose turn has come; the ACD has reserved the agent. The agent's seat rings first (so the
   * consumer never answers to nobody), then the consumer is dialled through the outbound trunk on behalf
   * of that seat (its dial patterns are the toll-fraud guard) and the two are bridged. 'failed' and
   * 'no_answer' make the ACD retry later; the entry keeps its place meanwhile.
   */
  async dialCallback(agent: AgentTarget, entry: Readonly<QueueEntry>, signal: AbortSignal): Promise<DialOutcome> {
    const out = this.o.outbound;
    if (!out || !out.trunk()) {
      this.o.log.warn({ consumer: maskPhone(entry.consumer) }, 'callback due but no outbound trunk is configured');
      return 'failed';
    }
    if (!agent.seat || !entry.consumer) return 'failed';
    const headers: [string, string][] = [
      ['X-Call-Id', entry.callId],
      ['X-Queue', entry.queueId],
      ['X-Callback', '1'],
    ];
    const seat = await out.dialDevice(agent.seat, {
      ringTimeoutMs: this.o.callbackRingMs ?? 20_000,
      signal,
      displayName: '12315-回拨',
      extraHeaders: headers,
    });
    if (seat.result !== 'answered' || !seat.leg) return seat.result === 'unavailable' ? 'failed' : 'no_answer';
    const agentLeg = seat.leg;
    let consumerLeg: UacLeg;
    try {
      consumerLeg = await out.dialOut(entry.consumer, { onBehalfOf: agent.seat, displayName: '12315' });
    } catch (err) {
      this.o.log.warn({ err, consumer: maskPhone(entry.consumer) }, 'callback could not be dialled');
      agentLeg.hangup();
      return 'failed';
    }
    const onAgentGone = () => consumerLeg.hangup();
    agentLeg.once('ended', onAgentGone);
    const consumer = await awaitAnswer([consumerLeg], {
      clock: this.o.clock,
      timeoutMs: this.o.callbackRingMs ?? 30_000,
      signal,
    });
    agentLeg.off('ended', onAgentGone);
    if (consumer.result !== 'answered' || agentLeg.isEnded || signal.aborted) {
      consumerLeg.hangup();
      agentLeg.hangup();
      return consumer.result === 'no-answer' || consumer.result === 'busy' ? 'no_answer' : 'failed';
    }
    let bridge: { close(): Promise<void> } | null = null;
    try {
      bridge = await this.o.engine.bridge(agentLeg.media as MediaEndpoint, consumerLeg.media as MediaEndpoint);
    } catch (err) {
      this.o.log.error({ err }, 'callback bridge failed');
      consumerLeg.hangup();
      agentLeg.hangup();
      return 'failed';
    }
    this.stats.answered++;
    this.talking.set(entry.callId, agent.agentId);
    const end = () => {
      consumerLeg.hangup();
      agentLeg.hangup();
      void bridge?.close().catch(() => undefined);
      bridge = null;
      if (this.talking.get(entry.callId) === agent.agentId) {
        this.talking.delete(entry.callId);
        // After the ACD has taken 'answered' (the agent is on the call), never before.
        setImmediate(() => this.acd.callEnded(entry.callId));
      }
    };
    agentLeg.once('ended', end);
    consumerLeg.once('ended', end);
    if (agentLeg.isEnded || consumerLeg.isEnded) end();
    return 'answered';
  }

  overflow(entry: Readonly<QueueEntry>, target: OverflowTarget | null, reason: 'max_wait' | 'leave_empty'): void {
    const p = this.parked.get(entry.callId);
    if (!p) return;
    if (target?.kind === 'queue') return; // the ACD moved the entry; the caller keeps waiting
    this.o.log.info({ call: p.call.id, reason, target: target?.kind ?? 'none' }, 'caller overflowed out of the queue');
    p.settle({ outcome: 'failed', reason: reason === 'max_wait' ? 'timeout' : 'no-agents' });
  }

  liveAgentCalls(): Array<{ agentId: string; callId: string }> {
    return [
      ...[...this.talking].map(([callId, agentId]) => ({ agentId, callId })),
      ...[...this.handedTo].map(([agentId, callId]) => ({ agentId, callId })),
    ];
  }
}

/** Plays, treating an endpoint that closed meanwhile (caller hung up) as a finished play. */
export async function safePlay(
  media: MediaEndpoint,
  items: readonly PlayItem[],
  opts?: { loop?: boolean },
): Promise<{ reason: 'done' | 'stopped' | 'barge-in' | 'closed'; digit?: string }> {
  try {
    return await media.play(items, opts);
  } catch {
    return { reason: 'closed' };
  }
}
