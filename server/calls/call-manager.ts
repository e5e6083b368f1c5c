/**
 * Call control: admitted INVITEs become calls. Built-in services answer themselves (9196 echo, 7000
 * short test flow); extensions are rung back to back (every registered contact of the device, first
 * answer wins) and bridged; access numbers go to the IVR through `accessHandler`.
 */
import type { Logger } from 'pino';
import type { Binding } from '../sip/registrar/location.js';
import type { Registrar } from '../sip/registrar/registrar.js';
import { parseUri } from '../sip/message/grammar.js';
import type { SipStack } from '../sip/stack.js';
import type { IncomingRequest } from '../sip/ua/user-agent-core.js';
import { setupTrace, SetupStage } from '../sip/message/setup-trace.js';
import { parseSdp, type SessionDescription } from '../media/sdp/sdp.js';
import { classifyOffer } from '../media/sdp/offer-answer.js';
import type { Conference, MediaEndpoint, MediaEngine, PlayItem } from '../media/engine/api.js';
import type { Clock } from '../util/clock.js';
import { maskPhone } from '../util/log.js';
import type { Caller, CallTarget } from './admission.js';
import { Call, CallEvent, CallState } from './call.js';
import type { CdrStore, Disposition } from './cdr.js';
import type { CallHandler } from './inbound.js';
import { UacLeg, UasLeg, type EndReason } from './sip-leg.js';
import { safePlay } from './acd-bridge.js';
import { EndpointReserve } from './endpoint-reserve.js';

export interface AccessHandler {
  /**
   * Runs the IVR for a call to an access number (or `flowId`); the call manager has created the
   * call, not answered it.
   */
  run(call: Call, ctx: CallContext, flowId?: string): Promise<void>;
  hasFlow(flowId: string): boolean;
}

/** What services and the IVR may do with a call. */
export interface CallContext {
  readonly media: MediaEndpoint;
  answer(): Promise<boolean>;
  hangup(): void;
  /** Rings a device (seat or station) and bridges it to the caller when it answers. */
  connectToDevice(extension: string, opts?: { ringTimeoutMs?: number; displayName?: string }): Promise<ConnectResult>;
}

export type ConnectResult = 'answered' | 'no-answer' | 'busy' | 'unavailable' | 'failed' | 'caller-gone';

export interface RingOptions {
  ringTimeoutMs?: number;
  displayName?: string;
  /** Aborting cancels the ringing legs (RONA, ring-all losers, caller gone). */
  signal?: AbortSignal;
  onRinging?: () => void;
  extraHeaders?: [string, string][];
  /** From user instead of the caller's number (merchant stations must not see the consumer's number). */
  fromUser?: string;
}

export interface RingResult {
  result: ConnectResult;
  /** The answered leg, when `result` is 'answered'. */
  leg: UacLeg | null;
}

export interface CallManagerOptions {
  stack: SipStack;
  engine: MediaEngine;
  registrar: Registrar;
  cdr: CdrStore;
  clock: Clock;
  log: Logger;
  realm: string;
  /** Prompt played by the 7000 test flow (about 1 s): a WAV file, or a tone. */
  testPrompt: string | PlayItem;
  accessHandler?: AccessHandler;
  /** Default ring time for extensions before 480. */
  ringTimeoutMs?: number;
  /**
   * RTP endpoints kept ready for inbound calls (endpoint-reserve.ts): a call that takes one skips a media
   * worker round trip before its 200 OK. 0 (the default) creates every endpoint on demand.
   */
  endpointReserve?: number;
}

export interface LiveCallInfo {
  id: string;
  state: CallState;
  caller: string;
  dialled: string;
  ivrPath: string;
  queue: string | null;
  startedAt: number;
  answeredAt: number | null;
  waitingSeconds: number | null;
}

let seq = 0;

/** Built-in meet-me conference room. */
export const MEET_ME = '9100';

export class CallManager implements CallHandler {
  readonly calls = new Map<string, Call>();
  readonly stats = { started: 0, ended: 0, failed: 0 };
  private closed = false;
  /** Told about every leg as it is created (transfers listen for REFER on them). */
  onLeg: ((call: Call, leg: UasLeg | UacLeg) => void) | null = null;

  private readonly reserve: EndpointReserve | null;

  constructor(private readonly o: CallManagerOptions) {
    this.reserve =
      (o.endpointReserve ?? 0) > 0
        ? new EndpointReserve({ engine: o.engine, size: o.endpointReserve!, log: o.log }).start()
        : null;
  }

  /** The endpoint reserve's counters, or null without one. */
  get reserveStats(): EndpointReserve['stats'] | null {
    return this.reserve?.stats ?? null;
  }

  async offer(request: IncomingRequest, caller: Caller, target: CallTarget): Promise<void> {
    if (this.closed) {
      request.reply(503, { headers: [['Retry-After', '5']] });
      return;
    }
    const offerSdp = request.req.body.length > 0 ? request.req.body.toString('utf8') : null;
    let media: MediaEndpoint;
    let offer: { text: string; parsed: SessionDescription } | null = null;
    try {
      if (offerSdp) offer = { text: offerSdp, parsed: parseSdp(offerSdp) };
      media = await this.endpointFor(offer?.parsed ?? null, `in:${target.kind}`);
      setupTrace.mark(request.req, SetupStage.Endpoint);
    } catch (err) {
      this.o.log.warn({ err }, 'no media endpoint for the call');
      request.reply(err instanceof UnsupportedOfferError ? 488 : 503);
      return;
    }
    const leg = new UasLeg(this.o.stack, this.o.clock, this.o.log, media, request, offer);
    const callerNumber =
      caller.kind === 'device' ? caller.device.extension : (request.req.from.uri.user ?? 'anonymous');
    const dialled = request.req.uri.user ?? '';
    const call = new Call(
      `c${Date.now().toString(36)}${(seq++).toString(36)}`,
      leg,
      caller,
      callerNumber,
      dialled,
      target,
    );
    this.calls.set(call.id, call);
    this.stats.started++;
    this.onLeg?.(call, leg);
    this.o.cdr.insert({
      id: call.id,
      sipCallId: request.req.callId,
      direction: caller.kind === 'trunk' ? 'inbound' : 'internal',
      caller: callerNumber,
      callerKind: caller.kind,
      dialled,
      target: target.kind === 'device' ? target.device.extension : target.number,
      startedAt: call.startedAt,
      answeredAt: null,
      endedAt: null,
      hangupBy: null,
      disposition: 'live',
      ivrPath: null,
      queue: null,
      legs: [leg.id],
      recordingFile: null,
    });
    leg.once('ended', (reason) => {
      if (!call.isEnded) call.hangupBy ??= reason.by === 'remote' ? 'caller' : 'system';
      void this.end(call);
    });
    leg.once('answered', () => {
      call.answeredAt ??= Date.now();
    });
    // Checked first: at a few hundred calls/s the masked number and the object were built for nothing.
    if (this.o.log.isLevelEnabled('info'))
      this.o.log.info(
        {
          call: call.id,
          caller: caller.kind === 'trunk' ? maskPhone(callerNumber) : callerNumber,
          target: target.kind,
        },
        'call started',
      );
    try {
      await this.route(call, media);
    } catch (err) {
      this.o.log.error({ err, call: call.id }, 'call routing failed');
      this.stats.failed++;
      leg.hangup(500);
    }
  }

  private async route(call: Call, media: MediaEndpoint): Promise<void> {
    const ctx = this.context(call, media);
    const t = call.target;
    if (t.kind === 'service' && t.number === '9196') {
      if (!(await ctx.answer())) return;
      call.move(CallEvent.Answered);
      media.echo(200);
      return;
    }
    if (t.kind === 'service' && t.number === MEET_ME) {
      if (!(await ctx.answer())) return;
      call.move(CallEvent.Answered);
      await this.joinMeetMe(call, media);
      return;
    }
    if (t.kind === 'service' && t.number === '7000') {
      if (this.o.accessHandler?.hasFlow('test-7000')) {
        await this.o.accessHandler.run(call, ctx, 'test-7000');
        return;
      }
      if (!(await ctx.answer())) return;
      call.move(CallEvent.Answered);
      const p = this.o.testPrompt;
      await safePlay(media, [typeof p === 'string' ? await this.o.engine.loadPrompt(p) : p]);
      ctx.hangup();
      return;
    }
    if (t.kind === 'device') {
      const r = await ctx.connectToDevice(t.device.extension);
      if (r !== 'answered' && !call.inbound.isEnded) {
        call.inbound.hangup(r === 'busy' ? 486 : r === 'no-answer' ? 480 : r === 'unavailable' ? 480 : 500);
      }
      return;
    }
    if (t.kind === 'access' && this.o.accessHandler) {
      await this.o.accessHandler.run(call, ctx);
      return;
    }
    // Outbound calls through trunks are not offered yet.
    call.inbound.hangup(t.kind === 'external' ? 503 : 480);
  }

  private context(call: Call, media: MediaEndpoint): CallContext {
    return {
      media,
      answer: () => call.inbound.answer(),
      hangup: () => {
        call.hangupBy ??= 'system';
        call.inbound.hangup();
      },
      connectToDevice: (ext, opts) => this.connectToDevice(call, media, ext, opts),
    };
  }

  /** A device with a live registration (transfer targets, stations). */
  isRegistered(extension: string): boolean {
    return this.o.registrar.lookup(extension).some((b) => b.source !== null);
  }

  /**
   * Rings every live binding of `extension` in parallel (forking, like §16.6 but as a B2BUA) and
   * resolves with the first leg to answer; the others are cancelled. Nothing is bridged here: the
   * caller decides (plain extension call, ACD agent, merchant station, consultation).
   */
  async ringDevice(call: Call, extension: string, opts: RingOptions = {}): Promise<RingResult> {
    const bindings = this.o.registrar.lookup(extension).filter((b) => b.source !== null);
    if (bindings.length === 0) return { result: 'unavailable', leg: null };
    if (call.inbound.isEnded) return { result: 'caller-gone', leg: null };
    const legs: UacLeg[] = [];
    for (const b of bindings) {
      const media = await this.endpointForDevice(b, `out:${extension}`);
      const leg = new UacLeg(this.o.stack, this.o.clock, this.o.log, media, {
        flow: b.source!,
        requestUri: parseUri(b.contact),
        to: `<sip:${extension}@${this.o.realm}>`,
        from: {
          user:
            opts.fromUser ??
            (call.caller.kind === 'device'
              ? call.callerNumber
              : call.callerNumber.replace(/[^0-9+*#]/g, '') || 'anonymous'),
          displayName: opts.displayName,
        },
        extraHeaders: opts.extraHeaders,
      });
      legs.push(leg);
      call.outbound.add(leg);
      this.onLeg?.(call, leg);
      leg.once('ended', () => call.outbound.delete(leg));
    }
    const ringTimeout = opts.ringTimeoutMs ?? this.o.ringTimeoutMs ?? 30_000;

    return new Promise<RingResult>((resolve) => {
      let done = false;
      const failures: EndReason[] = [];
      const timer = this.o.clock.setTimeout(() => finish('no-answer'), ringTimeout);
      const onCallerGone = () => finish('caller-gone');
      const onAbort = () => finish('no-answer');
      call.inbound.once('ended', onCallerGone);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const finish = (r: ConnectResult, winner: UacLeg | null = null) => {
        if (done) return;
        done = true;
        this.o.clock.clearTimeout(timer);
        call.inbound.off('ended', onCallerGone);
        opts.signal?.removeEventListener('abort', onAbort);
        for (const l of legs) if (l !== winner) l.hangup();
        resolve({ result: r, leg: winner });
      };
      if (opts.signal?.aborted) finish('no-answer');
      // The caller may have hung up while the endpoints were being made: its 'ended' is then already past.
      else if (call.inbound.isEnded) finish('caller-gone');
      for (const leg of legs) {
        leg.on('ringing', () => {
          if (!done) opts.onRinging?.();
        });
        leg.once('answered', () => {
          if (done) leg.hangup();
          else finish('answered', leg);
        });
        leg.once('ended', (reason) => {
          if (done) return;
          failures.push(reason);
          if (failures.length === legs.length) {
            const busy = failures.some((f) => f.status === 486 || f.status === 600 || f.status === 603);
            finish(
              busy ? 'busy' : failures.every((f) => f.status === 480 || f.status === 408) ? 'no-answer' : 'failed',
            );
          }
        });
        void leg.start().catch((err: unknown) => {
          this.o.log.warn({ err }, 'INVITE to device failed');
          leg.hangup();
        });
      }
    });
  }

  /** Connects the caller's media to an answered outbound leg; closing the call closes the bridge. */
  async bridgeLeg(call: Call, callerMedia: MediaEndpoint, leg: UacLeg): Promise<void> {
    callerMedia.stopPlayback();
    const bridge = await this.o.engine.bridge(callerMedia, leg.media as MediaEndpoint);
    call.onEnd(() => bridge.close());
    leg.once('ended', () => void bridge.close());
    call.move(CallEvent.Connect);
  }

  /**
   * A plain extension call: ring the device, answer the caller when it answers, bridge; when the
   * callee hangs up the caller is hung up too.
   */
  async connectToDevice(
    call: Call,
    callerMedia: MediaEndpoint,
    extension: string,
    opts: { ringTimeoutMs?: number; displayName?: string } = {},
  ): Promise<ConnectResult> {
    if (this.o.registrar.lookup(extension).length === 0) return 'unavailable';
    call.move(CallEvent.Ring);
    const { result, leg } = await this.ringDevice(call, extension, {
      ...opts,
      onRinging: () => call.inbound.ring(),
    });
    if (result !== 'answered' || !leg) return result;
    if (!(await call.inbound.answer())) {
      leg.hangup();
      return 'caller-gone';
    }
    await this.bridgeLeg(call, callerMedia, leg);
    leg.once('ended', () => {
      if (call.isEnded) return;
      // An attended transfer gave the caller someone else to talk to (call.agent names that leg).
      if (call.agent && call.agent.leg !== leg && !call.agent.leg.isEnded) return;
      call.hangupBy ??= 'callee';
      call.inbound.hangup();
    });
    return 'answered';
  }

  /**
   * The meet-me room: everyone who dials it is in one conference (班长 briefings, and the way to test the
   * mixer from real phones). The room closes when the last member leaves.
   */
  private async joinMeetMe(call: Call, media: MediaEndpoint): Promise<void> {
    // The promise is shared so that callers arriving together join one room.
    // MEETME_ROOM_SIZE=N (benchmarks: sipload dials one number) starts a new room after every N arrivals.
    const size = Number(process.env.MEETME_ROOM_SIZE ?? 0);
    if (this.meetMe && size > 0 && this.meetMe.joined >= size) this.meetMe = null;
    this.meetMe ??= { conference: this.o.engine.createConference({ label: 'meet-me' }), members: 0, joined: 0 };
    const room = this.meetMe;
    room.members++;
    room.joined++;
    const conference = await room.conference;
    call.onEnd(async () => {
      await conference.leave(media).catch(() => undefined);
      if (--room.members === 0) {
        if (this.meetMe === room) this.meetMe = null;
        await conference.close();
      }
    });
    await conference.join(media);
  }

  private meetMe: { conference: Promise<Conference>; members: number; joined: number } | null = null;

  private async endpointFor(offer: SessionDescription | null, label: string): Promise<MediaEndpoint> {
    const kind = offer ? classifyOffer(offer) : 'rtp';
    if (kind === 'srtp-sdes') throw new UnsupportedOfferError('SDES-SRTP is not offered');
    if (kind === 'webrtc') return this.o.engine.createEndpoint('webrtc', { label });
    return this.reserve?.take() ?? this.o.engine.createRtpEndpoint({ label });
  }

  /** Browsers registered over WebSocket get a WebRTC offer; phones get plain RTP. */
  private endpointForDevice(b: Binding, label: string): Promise<MediaEndpoint> {
    const t = b.source?.transport;
    if (t === 'WS' || t === 'WSS') return this.o.engine.createEndpoint('webrtc', { label });
    return this.o.engine.createRtpEndpoint({ label });
  }

  private async end(call: Call): Promise<void> {
    if (call.isEnded) return;
    call.move(CallEvent.End);
    call.endedAt = Date.now();
    for (const l of call.legs) l.hangup();
    await call.runCleanups();
    this.calls.delete(call.id);
    this.stats.ended++;
    this.o.cdr.update(call.id, {
      answeredAt: call.answeredAt,
      endedAt: call.endedAt,
      hangupBy: call.hangupBy,
      disposition: dispositionOf(call),
      ivrPath: call.ivrPath.join('>') || null,
      queue: call.queue,
    });
  }

  list(now = Date.now()): LiveCallInfo[] {
    return [...this.calls.values()].map((c) => ({
      id: c.id,
      state: c.state,
      caller: c.caller.kind === 'trunk' ? maskPhone(c.callerNumber) : c.callerNumber,
      dialled: c.dialled,
      ivrPath: c.ivrPath.join('>'),
      queue: c.queue,
      startedAt: c.startedAt,
      answeredAt: c.answeredAt,
      waitingSeconds:
        c.queuedAt !== null && c.state === CallState.Queued ? Math.round((now - c.queuedAt) / 1000) : null,
    }));
  }

  /** Ends every call (graceful shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    for (const c of [...this.calls.values()]) {
      c.hangupBy ??= 'system';
      for (const l of c.legs) l.hangup(503);
    }
    await this.reserve?.close();
  }
}

function dispositionOf(call: Call): Disposition {
  if (call.answeredAt !== null) return 'answered';
  const r = call.inbound.endReason;
  if (r?.cause === 'cancel') return 'cancelled';
  if (r && r.by === 'local' && r.status === 486) return 'busy';
  if (r && r.by === 'local' && (r.status === 480 || r.status === 408)) return 'no-answer';
  if (r && r.by === 'local' && r.cause === 'rejected') return 'rejected';
  return 'failed';
}

export class UnsupportedOfferError extends Error {}
