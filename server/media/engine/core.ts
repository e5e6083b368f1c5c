/**
 * The media engine proper: synchronous, single-threaded, driven by packets (receive) and by ONE media clock
 * (send). It runs wherever index.ts puts it (this thread or a worker); it talks to the outside only through
 * `handle(cmd, args)` and the `emit` callback, both plain data.
 *
 * One clock: the tick source fires every 20/phases ms; each endpoint, conference and recording belongs to one
 * phase (the least loaded one when it is created, so hang-ups do not leave some phases crowded), so the sends of
 * the 20 ms frame are spread over `phases` smaller bursts instead of one big one, and a receive never waits behind
 * all sends at once. A burst is also what a receiver sees: packets of one burst reach the far end back to back,
 * and a receiver that stamps them in callback order turns burst length into interval error.
 *
 * Output priority of an endpoint, highest first: DTMF being sent > player > echo > bridge relay / conference.
 * Bridged audio and echo are relayed as they arrive (no clock, no decode when the codecs match: the echo is a
 * delay line clocked by the caller's own packets, so it goes back out at the caller's pace); everything generated
 * (prompts, tones, conference mixes) leaves on the endpoint's or conference's tick. One
 * RtpStreamRewriter per endpoint keeps SSRC/seq/timestamp continuous across all of these sources.
 */
import { randomPool } from '../../util/random-pool.js';
import type { Logger } from 'pino';
import {
  ALAW_DECODE,
  ALAW_TO_ULAW,
  ULAW_DECODE,
  ULAW_TO_ALAW,
  encodeAlaw,
  encodeUlaw,
  type G711Name,
} from '../codecs/g711.js';
import { DtmfReceiver, planDtmfPackets } from '../dtmf/rfc4733.js';
import { GoertzelDtmfDetector } from '../dtmf/goertzel.js';
import { parseDtmfInfo } from '../dtmf/dtmf-relay.js';
import { AudioMixer, type MixerSlot } from '../mixer/mixer.js';
import { EchoLine } from './echo-line.js';
import { RtpPacketView, RtpParseStatus, isRtcpPacket } from '../rtp/packet.js';
import {
  RtpReceiverStats,
  buildReceiverReport,
  buildSdesCname,
  buildSenderReport,
  ntpFromUnixMs,
  ntpMiddle,
  parseRtcp,
  roundTripSeconds,
  type ReportBlock,
} from '../rtp/rtcp.js';
import { RtpStreamRewriter } from '../rtp/rewriter.js';
import {
  LocalSdpSession,
  answerOffer,
  createOffer,
  processAnswer,
  type LocalSdpSessionState,
  type NegotiatedAudio,
} from '../sdp/offer-answer.js';
import { parseSdp, serializeSdp, type Direction, type SessionDescription } from '../sdp/sdp.js';
import { WavWriter } from '../wav.js';
import type { Clock } from '../../util/clock.js';
import type {
  ConferenceMemberInfo,
  DtmfVia,
  EndpointStats,
  EngineStats,
  MediaEngineOptions,
  NegotiatedMedia,
  PlayItem,
  PlayOptions,
  PlayResult,
  RecordOptions,
  RecordingResult,
} from './api.js';
import { SampleFifo } from './fifo.js';
import { RtpPortPool, type PortPair } from './ports.js';
import { PromptStore, silence, tone, type EncodedAudio } from './prompts.js';
import type { TickSource } from './ticker.js';

export const FRAME_MS = 20;
export const FRAME = 160;
/** A new source address replaces the latched one only after the latched one fell silent this long (RTP bleed). */
export const RELATCH_QUIET_MS = 250;
const DTMF_GAP_FRAMES = 3;
const ECHO_MAX_FRAMES = 100;
/** How far past its delay an echo frame may still go out; older ones are dropped. */
const ECHO_SLACK_MS = 3 * FRAME_MS;

export type CoreEvent =
  | { type: 'dtmf'; ep: string; digit: string; via: DtmfVia }
  | { type: 'rtp-timeout'; ep: string }
  | { type: 'closed'; ep: string }
  /** A packet for an external (e.g. WebRTC) endpoint's transport. */
  | { type: 'xpkt'; ep: string; buf: Buffer }
  /** The media worker died: every endpoint is gone (emitted by the channel, not the core). */
  | { type: 'engine-failed'; ep: '' };

/**
 * A new RTP endpoint's local SDP parameters and its o= session id: enough for the calling thread to build the
 * answer to the endpoint's first offer byte for byte as answer() here will (no wait for this thread).
 */
export interface LocalSdpParams {
  address: string;
  port: number;
  codecs: ('PCMU' | 'PCMA')[];
  sessionId: string;
}

export interface CoreEnv {
  clock: Clock;
  ticks: TickSource;
  emit(e: CoreEvent): void;
  log: Logger;
  thread: 'worker' | 'inline';
}

const DTMF_FREQS: Record<string, [number, number]> = {};
{
  const rows = [697, 770, 852, 941];
  const cols = [1209, 1336, 1477, 1633];
  const keys = ['123A', '456B', '789C', '*0#D'];
  keys.forEach((r, i) => [...r].forEach((k, j) => (DTMF_FREQS[k] = [rows[i]!, cols[j]!])));
}

class EngineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineError';
  }
}

function settle<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** How many of the phase ticks lo..hi (inclusive) fall on `phase` (tick t runs phase t mod phases). */
export function countInPhase(lo: number, hi: number, phase: number, phases: number): number {
  if (hi < lo) return 0;
  const upTo = (t: number) => (t < phase ? 0 : Math.floor((t - phase) / phases) + 1);
  return upTo(hi) - upTo(lo - 1);
}

const SKIP_SCRATCH = new Uint8Array(FRAME);

/** Pre-encoded segments played frame by frame; one object per play() call (its identity is the source key). */
class Player {
  private seg = 0;
  private off = 0;
  done = false;
  private readonly result = settle<PlayResult>();
  readonly promise = this.result.promise;

  constructor(
    private readonly segs: EncodedAudio[],
    readonly loop: boolean,
    readonly bargeIn: boolean,
  ) {
    if (segs.every((s) => s.samples === 0)) this.done = true;
  }

  /** Next 160 bytes in `codec` (a view into the prompt when possible, else `scratch`); null when finished. */
  next(codec: G711Name, scratch: Uint8Array): Uint8Array | null {
    if (this.done) return null;
    let filled = 0;
    let view: Uint8Array | null = null;
    while (filled < FRAME) {
      const s = this.segs[this.seg];
      if (!s) {
        if (this.loop) {
          this.seg = 0;
          this.off = 0;
          continue;
        }
        this.done = true;
        break;
      }
      const data = codec === 'PCMU' ? s.pcmu : s.pcma;
      const take = Math.min(FRAME - filled, data.length - this.off);
      if (take > 0) {
        if (filled === 0 && take === FRAME) view = data.subarray(this.off, this.off + FRAME);
        else scratch.set(data.subarray(this.off, this.off + take), filled);
        filled += take;
        this.off += take;
      }
      if (this.off >= data.length) {
        this.seg++;
        this.off = 0;
      }
    }
    if (filled === 0) return null;
    if (view) return view;
    if (filled < FRAME) scratch.fill(codec === 'PCMU' ? 0xff : 0xd5, filled, FRAME);
    return scratch;
  }

  /**
   * Moves on `frames` frames without producing them: the media clock fell behind and those frames' time has
   * passed. A prompt keeps to the wall clock, so a stalled engine shortens what the caller hears instead of
   * stretching every call it carries (which would raise the load that made it late).
   */
  skip(frames: number): void {
    for (let i = 0; i < frames && !this.done; i++) this.next('PCMU', SKIP_SCRATCH);
  }

  finish(r: PlayResult): void {
    this.done = true;
    this.result.resolve(r);
  }
}

type DtmfOut =
  | { t: 'te'; key: object; payload: Uint8Array; seq: number; ts: number }
  | { t: 'audio'; key: object; payload: Uint8Array }
  | { t: 'gap' }
  | { t: 'done'; resolve: () => void };

class Endpoint {
  // RFC 3550 §8.1, §5.1: SSRC, first sequence number and timestamp random.
  readonly ssrc = randomPool.uint32();
  readonly cname = `media-${randomPool.token(6, 'hex')}`;
  readonly rewriter: RtpStreamRewriter;
  readonly sdp: LocalSdpSession;
  phase = 0;
  closed = false;
  neg: NegotiatedMedia | null = null;
  direction: Direction = 'sendrecv';
  sdpAddr: string | null = null;
  sdpPort = 0;
  sdpRtcpPort = 0;
  rtcpMux = false;
  lastOffer: SessionDescription | null = null;
  // Symmetric RTP (latching).
  latchAddr: string | null = null;
  latchPort = 0;
  rtcpAddr: string | null = null;
  rtcpPort = 0;
  lastRxAt = 0;
  timeoutFired = false;
  relatches = 0;
  // Receive side, per source.
  rxStats = new RtpReceiverStats(8000, 1);
  readonly dtmfRx = new DtmfReceiver();
  inband: GoertzelDtmfDetector | null = null;
  readonly rxTaps: SampleFifo[] = [];
  readonly txTaps: SampleFifo[] = [];
  rxPackets = 0;
  rxBytes = 0;
  /** SSRC of the last packet of the latched source (stats are per 5-tuple; the report block names an SSRC). */
  remoteSsrc = 0;
  dropped = 0;
  // Send side.
  txPackets = 0;
  txOctets = 0;
  lastTxTs = 0;
  lastTxAt = 0;
  private genSeq = 0;
  private genTs = 0;
  remoteLost: number | null = null;
  remoteJitterMs: number | null = null;
  rttMs: number | null = null;
  rtcpSent = 0;
  rtcpReceived = 0;
  nextRtcpAt = 0;
  // What we send.
  player: Player | null = null;
  /** The echo's delay line while the endpoint echoes, else null. */
  echoLine: EchoLine | null = null;
  readonly dtmfOut: DtmfOut[] = [];
  peer: Endpoint | null = null;
  bridge: BridgeState | null = null;
  conf: ConferenceState | null = null;
  readonly scratch = new Uint8Array(FRAME);
  readonly pcm = new Int16Array(2048);

  constructor(
    readonly id: string,
    readonly kind: string,
    readonly label: string | undefined,
    readonly pair: PortPair | null,
    advertise: string,
  ) {
    this.rewriter = new RtpStreamRewriter({
      ssrc: this.ssrc,
      initialSeq: randomPool.uint16(),
      initialTimestamp: randomPool.uint32(),
    });
    this.sdp = new LocalSdpSession(advertise);
  }

  get codec(): G711Name | null {
    return this.neg?.codec ?? null;
  }

  /** Something overrides bridged/conference audio right now. */
  busy(): boolean {
    return this.dtmfOut.length > 0 || (this.player !== null && !this.player.done);
  }

  canSend(): boolean {
    return (
      this.neg !== null && !this.neg.remoteHold && (this.direction === 'sendrecv' || this.direction === 'sendonly')
    );
  }

  expectsRx(): boolean {
    return this.neg !== null && (this.direction === 'sendrecv' || this.direction === 'recvonly');
  }

  nextGen(): void {
    this.genSeq = (this.genSeq + 1) & 0xffff;
    this.genTs = (this.genTs + FRAME) >>> 0;
  }
  /** Frames whose time passed unsent: the timestamp moves on (RFC 3550 §5.1), the sequence does not (no loss). */
  skipGen(frames: number): void {
    this.genTs = (this.genTs + frames * FRAME) >>> 0;
  }
  get gSeq(): number {
    return this.genSeq;
  }
  get gTs(): number {
    return this.genTs;
  }
}

class BridgeState {
  constructor(
    readonly id: string,
    readonly a: Endpoint,
    readonly b: Endpoint,
  ) {}
}

interface ConferenceMember {
  ep: Endpoint;
  fifo: SampleFifo;
  slot: MixerSlot;
  whisperTo: string | null;
  muted: boolean;
  listenOnly: boolean;
}

class ConferenceState {
  readonly mixer = new AudioMixer(FRAME);
  readonly members = new Map<string, ConferenceMember>();
  /** `members` as an array for the tick (rebuilt on join and leave, not per frame). */
  list: ConferenceMember[] = [];
  /** Members fading out: their input still feeds this one last frame, they get no more output. */
  readonly leaving = new Map<string, ConferenceMember>();
  readonly order: string[] = [];
  phase = 0;
  constructor(readonly id: string) {}
}

class RecordingState {
  readonly l = new Int16Array(FRAME);
  readonly r = new Int16Array(FRAME);
  frames = 0;
  phase = 0;
  error: string | null = null;
  result: Promise<RecordingResult> | null = null;
  constructor(
    readonly id: string,
    readonly file: string,
    readonly mode: 'mono' | 'stereo',
    readonly writer: WavWriter,
    readonly left: SampleFifo,
    readonly right: SampleFifo,
    /** Removes the taps from their endpoints. */
    readonly detach: () => void,
  ) {}
}

export class EngineCore {
  private readonly pool: RtpPortPool;
  private readonly advertise: string;
  private readonly codecs: ('PCMU' | 'PCMA')[];
  private readonly rtpTimeoutMs: number;
  private readonly rtcpIntervalMs: number;
  readonly phases: number;
  private readonly tickMs: number;
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly bridges = new Map<string, BridgeState>();
  private readonly conferences = new Map<string, ConferenceState>();
  private readonly recordings = new Map<string, RecordingState>();
  private readonly prompts = new PromptStore();
  private readonly view = new RtpPacketView();
  private nextId = 1;
  private rr = 0;
  /** What each phase sends per tick: its endpoints (an endpoint in a conference counts on the conference's phase). */
  private readonly phaseLoad: number[] = [];
  private readonly phaseEps: Set<Endpoint>[] = [];
  private readonly phaseConfs: Set<ConferenceState>[] = [];
  private readonly phaseRecs: Set<RecordingState>[] = [];
  private tickCount = 0;
  private skippedTicks = 0;
  private lastK = -1;
  private readonly late = new Float64Array(1024);
  private lateN = 0;
  /** Work time of the same ticks, ms (ring with `late`). */
  private readonly work = new Float64Array(1024);
  private overruns = 0;
  private rxTotal = 0;
  private txTotal = 0;
  private droppedTotal = 0;
  private recorderErrors = 0;
  private closed = false;
  private closing: Promise<void> | null = null;

  constructor(
    opts: MediaEngineOptions,
    private readonly env: CoreEnv,
  ) {
    const bind = opts.bindAddress ?? '0.0.0.0';
    this.advertise = opts.advertiseAddress ?? (bind === '0.0.0.0' || bind === '::' ? '127.0.0.1' : bind);
    this.pool = new RtpPortPool(opts.portMin ?? 20000, opts.portMax ?? 29999, bind);
    this.codecs = opts.codecs ?? ['PCMU', 'PCMA'];
    this.rtpTimeoutMs = opts.rtpTimeoutMs ?? 30_000;
    this.rtcpIntervalMs = opts.rtcpIntervalMs ?? 5000;
    this.phases = Math.max(1, Math.min(20, Math.floor(opts.phases ?? 4)));
    this.tickMs = FRAME_MS / this.phases;
    for (let i = 0; i < this.phases; i++) {
      this.phaseLoad.push(0);
      this.phaseEps.push(new Set());
      this.phaseConfs.push(new Set());
      this.phaseRecs.push(new Set());
    }
    env.ticks.start((k, late) => this.tick(k, late));
  }

  private id(prefix: string): string {
    return `${prefix}${this.nextId++}`;
  }

  /** The least loaded phase; ties go round-robin so that equal loads still spread. */
  private nextPhase(): number {
    const n = this.phases;
    let best = this.rr % n;
    for (let i = 1; i < n; i++) {
      const p = (this.rr + i) % n;
      if (this.phaseLoad[p]! < this.phaseLoad[best]!) best = p;
    }
    this.rr = best + 1;
    return best;
  }

  // ---------------------------------------------------------------- commands

  /** Dispatches one command of the async API. Values and errors are plain data (they may cross a thread). */
  handle(cmd: string, a: unknown[]): unknown {
    if (this.closed && cmd !== 'close' && cmd !== 'stats') throw new EngineError('media engine is closed');
    switch (cmd) {
      case 'createEndpoint':
        return this.createEndpoint(a[0] as string, a[1] as { label?: string; inbandDtmf?: boolean });
      case 'answer':
        return this.answer(this.ep(a[0]), a[1] as string);
      case 'adoptAnswer':
        return this.adoptAnswer(this.ep(a[0]), a[1] as NegotiatedAudio, a[2] as LocalSdpSessionState);
      case 'createOffer':
        return this.createOffer(this.ep(a[0]), a[1] as { direction?: Direction } | undefined);
      case 'applyAnswer':
        return this.applyAnswer(this.ep(a[0]), a[1] as string);
      case 'setNegotiated':
        return this.setNegotiated(this.ep(a[0]), a[1] as NegotiatedMedia);
      case 'play':
        return this.play(this.ep(a[0]), a[1] as PlayItem[], (a[2] ?? {}) as PlayOptions);
      case 'stopPlayback':
        return this.stopPlayback(this.ep(a[0]), 'stopped');
      case 'echo':
        return this.echo(this.ep(a[0]), a[1] as number | undefined);
      case 'stopEcho':
        return this.stopEcho(this.ep(a[0]));
      case 'sendDtmf':
        return this.sendDtmf(this.ep(a[0]), a[1] as string, (a[2] ?? {}) as { durationMs?: number });
      case 'infoDtmf':
        return this.infoDtmf(this.ep(a[0]), a[1] as string, a[2] as string | undefined);
      case 'setInband':
        return this.setInband(this.ep(a[0]), a[1] as boolean);
      case 'epStats':
        return this.epStats(this.ep(a[0]));
      case 'closeEndpoint':
        return this.closeEndpoint(a[0] as string);
      case 'bridge':
        return this.bridge(this.ep(a[0]), this.ep(a[1]));
      case 'closeBridge':
        return this.closeBridge(a[0] as string);
      case 'createConference':
        return this.createConference();
      case 'confJoin':
        return this.confJoin(this.conf(a[0]), this.ep(a[1]), (a[2] ?? {}) as { muted?: boolean; listenOnly?: boolean });
      case 'confLeave':
        return this.confLeave(this.conf(a[0]), a[1] as string);
      case 'confMute':
        return this.confSet(this.conf(a[0]), a[1] as string, 'muted', a[2] as boolean);
      case 'confListenOnly':
        return this.confSet(this.conf(a[0]), a[1] as string, 'listenOnly', a[2] as boolean);
      case 'confWhisper':
        return this.confWhisper(this.conf(a[0]), a[1] as string, a[2] as string | null);
      case 'confMembers':
        return this.confMembers(this.conf(a[0]));
      case 'closeConference':
        return this.closeConference(a[0] as string);
      case 'record':
        return this.record(a[0] as 'endpoint' | 'bridge' | 'conference', a[1] as string, a[2] as RecordOptions);
      case 'stopRecording':
        return this.stopRecording(a[0] as string);
      case 'loadPrompt':
        return this.prompts.load(a[0] as string);
      case 'stats':
        return this.stats();
      case 'close':
        return this.close();
      default:
        throw new EngineError(`unknown media command ${cmd}`);
    }
  }

  private ep(id: unknown): Endpoint {
    const e = this.endpoints.get(id as string);
    if (!e) throw new EngineError(`no endpoint ${String(id)}`);
    return e;
  }

  private conf(id: unknown): ConferenceState {
    const c = this.conferences.get(id as string);
    if (!c) throw new EngineError(`no conference ${String(id)}`);
    return c;
  }

  async createEndpoint(
    kind: string,
    opts: { label?: string; inbandDtmf?: boolean } = {},
  ): Promise<{ id: string; port: number | null; sdp: LocalSdpParams | null }> {
    const pair = kind === 'rtp' ? await this.pool.allocate() : null;
    if (this.closed) {
      if (pair) this.releasePair(pair);
      throw new EngineError('media engine is closed');
    }
    const ep = new Endpoint(this.id('ep'), kind, opts.label, pair, this.advertise);
    ep.phase = this.nextPhase();
    this.phaseLoad[ep.phase]!++;
    this.phaseEps[ep.phase]!.add(ep);
    if (opts.inbandDtmf) ep.inband = new GoertzelDtmfDetector();
    if (pair) {
      pair.rtp.on('message', (msg, rinfo) => this.onRtp(ep, msg, rinfo.address, rinfo.port));
      pair.rtcp.on('message', (msg, rinfo) => this.onRtcp(ep, msg, rinfo.address, rinfo.port));
      // Sends to an unreachable peer (ICMP) surface here: count, never crash.
      pair.rtp.on('error', () => ep.dropped++);
      pair.rtcp.on('error', () => ep.dropped++);
    }
    this.endpoints.set(ep.id, ep);
    return {
      id: ep.id,
      port: pair?.port ?? null,
      // What the calling thread needs to answer the first offer itself (client.ts) exactly as answer() below will.
      sdp: pair ? { address: this.advertise, port: pair.port, codecs: this.codecs, sessionId: ep.sdp.sessionId } : null,
    };
  }

  private localParams(ep: Endpoint, direction?: Direction) {
    return {
      address: this.advertise,
      port: ep.pair!.port,
      codecs: this.codecs,
      telephoneEvent: true,
      direction,
    };
  }

  answer(ep: Endpoint, offerSdp: string): string {
    if (!ep.pair) throw new EngineError(`endpoint ${ep.id} (${ep.kind}) negotiates in its own module`);
    const { answer, audio } = answerOffer(parseSdp(offerSdp), this.localParams(ep), ep.sdp);
    this.applyAudio(ep, audio);
    return serializeSdp(answer);
  }

  /**
   * The calling thread answered this endpoint's first offer itself (client.ts): take on the outcome — the
   * negotiated audio and the o= line's state — instead of negotiating the same offer again.
   */
  adoptAnswer(ep: Endpoint, audio: NegotiatedAudio, session: LocalSdpSessionState): void {
    if (!ep.pair) throw new EngineError(`endpoint ${ep.id} (${ep.kind}) negotiates in its own module`);
    ep.sdp.restore(session);
    this.applyAudio(ep, audio);
  }

  createOffer(ep: Endpoint, opts: { direction?: Direction } = {}): string {
    if (!ep.pair) throw new EngineError(`endpoint ${ep.id} (${ep.kind}) negotiates in its own module`);
    const offer = createOffer(this.localParams(ep, opts.direction), ep.sdp);
    ep.lastOffer = offer;
    return serializeSdp(offer);
  }

  applyAnswer(ep: Endpoint, answerSdp: string): void {
    if (!ep.lastOffer) throw new EngineError('applyAnswer without an offer');
    const audio = processAnswer(ep.lastOffer, parseSdp(answerSdp));
    ep.lastOffer = null;
    this.applyAudio(ep, audio);
  }

  private applyAudio(ep: Endpoint, audio: NegotiatedAudio): void {
    const moved = audio.remoteAddress !== ep.sdpAddr || audio.remotePort !== ep.sdpPort;
    ep.sdpAddr = audio.remoteAddress;
    ep.sdpPort = audio.remotePort;
    ep.sdpRtcpPort = audio.remoteRtcpPort;
    ep.rtcpMux = audio.rtcpMux;
    ep.direction = audio.direction;
    // A re-INVITE to a new address (transfer, resume from another device) drops the latch.
    if (moved && ep.neg) {
      ep.latchAddr = null;
      ep.rtcpAddr = null;
    }
    this.setNegotiated(ep, {
      codec: audio.codec,
      payloadType: audio.payloadType,
      telephoneEventPt: audio.telephoneEventPt,
      remoteHold: audio.remoteHold,
    });
  }

  setNegotiated(ep: Endpoint, neg: NegotiatedMedia): void {
    const first = ep.neg === null;
    ep.neg = { ...neg };
    const now = this.env.clock.now();
    if (first) {
      ep.nextRtcpAt = now + this.rtcpIntervalMs * (0.5 + Math.random());
    }
    ep.lastRxAt = now;
    ep.timeoutFired = false;
  }

  play(ep: Endpoint, items: PlayItem[], opts: PlayOptions): Promise<PlayResult> {
    const segs: EncodedAudio[] = [];
    for (const it of items) {
      if (typeof it === 'string') {
        const p = this.prompts.get(it);
        if (!p) throw new EngineError(`prompt not loaded: ${it}`);
        segs.push(p);
      } else if ('silenceMs' in it) segs.push(silence(it.silenceMs));
      else segs.push(tone(it.toneHz, it.ms));
    }
    this.stopPlayback(ep, 'stopped');
    const p = new Player(segs, opts.loop ?? false, opts.bargeIn ?? false);
    if (p.done) {
      p.finish({ reason: 'done' });
      return p.promise;
    }
    ep.player = p;
    return p.promise;
  }

  stopPlayback(ep: Endpoint, reason: PlayResult['reason'], digit?: string): void {
    const p = ep.player;
    if (!p) return;
    ep.player = null;
    p.finish(digit === undefined ? { reason } : { reason, digit });
  }

  echo(ep: Endpoint, delayMs = 200): void {
    const delay = Math.max(0, Math.min(2000, delayMs));
    ep.echoLine = new EchoLine(delay, delay + ECHO_SLACK_MS, ECHO_MAX_FRAMES);
  }

  stopEcho(ep: Endpoint): void {
    ep.echoLine = null;
  }

  sendDtmf(ep: Endpoint, digits: string, opts: { durationMs?: number }): Promise<void> {
    const durationMs = Math.max(40, Math.min(2000, opts.durationMs ?? 100));
    for (const d of digits) if (!DTMF_FREQS[d.toUpperCase()]) throw new RangeError(`not a DTMF digit: ${d}`);
    const done = settle<void>();
    for (const raw of digits) {
      const d = raw.toUpperCase();
      const key = {};
      if (ep.neg?.telephoneEventPt != null) {
        const ts = (ep.gTs + 7 * FRAME) >>> 0;
        for (const pk of planDtmfPackets(d, { durationMs })) {
          ep.nextGen();
          ep.dtmfOut.push({ t: 'te', key, payload: pk.payload, seq: ep.gSeq, ts });
        }
      } else {
        const t = tone(DTMF_FREQS[d]!, durationMs);
        // In-band: the tone as ordinary audio frames (both codecs were encoded once and cached).
        for (let off = 0; off < t.samples; off += FRAME) {
          ep.dtmfOut.push({ t: 'audio', key, payload: t.pcmu.subarray(off, off + FRAME) });
        }
      }
      for (let i = 0; i < DTMF_GAP_FRAMES; i++) ep.dtmfOut.push({ t: 'gap' });
    }
    ep.dtmfOut.push({ t: 'done', resolve: () => done.resolve() });
    return done.promise;
  }

  infoDtmf(ep: Endpoint, body: string, contentType: string | undefined): boolean {
    const d = parseDtmfInfo(contentType, body);
    if (!d) return false;
    this.dtmfIn(ep, d.digit, 'info');
    return true;
  }

  setInband(ep: Endpoint, on: boolean): void {
    ep.inband = on ? (ep.inband ?? new GoertzelDtmfDetector()) : null;
  }

  private dtmfIn(ep: Endpoint, digit: string, via: DtmfVia): void {
    if (ep.player?.bargeIn) this.stopPlayback(ep, 'barge-in', digit);
    this.env.emit({ type: 'dtmf', ep: ep.id, digit, via });
  }

  epStats(ep: Endpoint): EndpointStats {
    const remote = ep.latchAddr ? `${ep.latchAddr}:${ep.latchPort}` : ep.sdpAddr ? `${ep.sdpAddr}:${ep.sdpPort}` : null;
    return {
      id: ep.id,
      kind: ep.kind,
      codec: ep.codec,
      localPort: ep.pair?.port ?? null,
      remote,
      rxPackets: ep.rxPackets,
      txPackets: ep.txPackets,
      rxBytes: ep.rxBytes,
      txBytes: ep.txOctets,
      lost: Math.max(0, ep.rxStats.cumulativeLost),
      jitterMs: ep.rxStats.jitterMs,
      remoteLost: ep.remoteLost,
      remoteJitterMs: ep.remoteJitterMs,
      rttMs: ep.rttMs,
      dropped: ep.dropped,
      relatches: ep.relatches,
      rtcpSent: ep.rtcpSent,
      rtcpReceived: ep.rtcpReceived,
    };
  }

  closeEndpoint(id: string): void {
    const ep = this.endpoints.get(id);
    if (!ep || ep.closed) return;
    ep.closed = true;
    this.endpoints.delete(id);
    if (ep.bridge) this.closeBridge(ep.bridge.id);
    if (ep.conf) this.confLeave(ep.conf, ep.id);
    this.phaseLoad[ep.phase]!--;
    this.phaseEps[ep.phase]!.delete(ep);
    for (const r of [...this.recordings.values()]) if (r.id.startsWith(`${id}/`)) void this.stopRecording(r.id);
    this.stopPlayback(ep, 'closed');
    for (const o of ep.dtmfOut) if (o.t === 'done') o.resolve();
    ep.dtmfOut.length = 0;
    if (ep.pair && ep.neg && ep.txPackets > 0) this.sendRtcp(ep, this.env.clock.now());
    if (ep.pair) this.releasePair(ep.pair);
    this.env.emit({ type: 'closed', ep: id });
  }

  private releasePair(pair: PortPair): void {
    pair.rtp.removeAllListeners('message');
    pair.rtcp.removeAllListeners('message');
    pair.rtp.close();
    pair.rtcp.close();
    this.pool.release(pair.port);
  }

  bridge(a: Endpoint, b: Endpoint): string {
    if (a === b) throw new EngineError('cannot bridge an endpoint to itself');
    for (const e of [a, b]) {
      if (e.bridge) this.closeBridge(e.bridge.id);
      if (e.conf) this.confLeave(e.conf, e.id);
    }
    const br = new BridgeState(this.id('br'), a, b);
    a.peer = b;
    b.peer = a;
    a.bridge = br;
    b.bridge = br;
    this.bridges.set(br.id, br);
    return br.id;
  }

  closeBridge(id: string): void {
    const br = this.bridges.get(id);
    if (!br) return;
    this.bridges.delete(id);
    for (const e of [br.a, br.b]) {
      if (e.bridge === br) {
        e.bridge = null;
        e.peer = null;
      }
    }
    for (const r of [...this.recordings.values()]) if (r.id.startsWith(`${id}/`)) void this.stopRecording(r.id);
  }

  createConference(): string {
    const c = new ConferenceState(this.id('cf'));
    c.phase = this.nextPhase();
    this.phaseConfs[c.phase]!.add(c);
    this.conferences.set(c.id, c);
    return c.id;
  }

  confJoin(c: ConferenceState, ep: Endpoint, opts: { muted?: boolean; listenOnly?: boolean }): void {
    if (ep.conf === c && c.members.has(ep.id)) return;
    if (ep.bridge) this.closeBridge(ep.bridge.id);
    if (ep.conf) this.confLeave(ep.conf, ep.id);
    // Two frames of jitter buffer: a member whose packets land around the conference tick is not cut in and out.
    const fifo = new SampleFifo(FRAME, FRAME * 5, 2);
    c.leaving.delete(ep.id);
    const slot = c.mixer.add(ep.id, { muted: opts.muted, listenOnly: opts.listenOnly });
    c.members.set(ep.id, { ep, fifo, slot, whisperTo: null, muted: !!opts.muted, listenOnly: !!opts.listenOnly });
    c.list = [...c.members.values()];
    if (!c.order.includes(ep.id)) c.order.push(ep.id);
    ep.rxTaps.push(fifo);
    ep.conf = c;
    this.phaseLoad[ep.phase]!--;
    this.phaseLoad[c.phase]!++;
  }

  confLeave(c: ConferenceState, epId: string): void {
    const m = c.members.get(epId);
    if (!m) return;
    c.members.delete(epId);
    c.list = [...c.members.values()];
    m.ep.conf = null;
    this.phaseLoad[c.phase]!--;
    this.phaseLoad[m.ep.phase]!++;
    removeItem(m.ep.rxTaps, m.fifo);
    for (const o of c.members.values()) {
      if (o.whisperTo === epId) {
        o.whisperTo = null;
        c.mixer.setWhisper(o.ep.id, null);
      }
    }
    // Fade out over the next frame (the mixer ramps the gain), fed by what is still buffered.
    c.mixer.remove(epId);
    c.leaving.set(epId, m);
  }

  confSet(c: ConferenceState, epId: string, what: 'muted' | 'listenOnly', on: boolean): void {
    const m = c.members.get(epId);
    if (!m) throw new EngineError(`${epId} is not in conference ${c.id}`);
    m[what] = on;
    if (what === 'muted') c.mixer.setMuted(epId, on);
    else c.mixer.setListenOnly(epId, on);
  }

  confWhisper(c: ConferenceState, epId: string, target: string | null): void {
    const m = c.members.get(epId);
    if (!m) throw new EngineError(`${epId} is not in conference ${c.id}`);
    if (target !== null && !c.members.has(target)) throw new EngineError(`${target} is not in conference ${c.id}`);
    c.mixer.setWhisper(epId, target);
    m.whisperTo = target;
  }

  confMembers(c: ConferenceState): ConferenceMemberInfo[] {
    return [...c.members.values()].map((m) => ({
      endpointId: m.ep.id,
      muted: m.muted,
      listenOnly: m.listenOnly,
      whisperTo: m.whisperTo,
    }));
  }

  closeConference(id: string): void {
    const c = this.conferences.get(id);
    if (!c) return;
    for (const epId of [...c.members.keys()]) this.confLeave(c, epId);
    this.conferences.delete(id);
    this.phaseConfs[c.phase]!.delete(c);
    c.mixer.close();
    for (const r of [...this.recordings.values()]) if (r.id.startsWith(`${id}/`)) void this.stopRecording(r.id);
  }

  async record(
    type: 'endpoint' | 'bridge' | 'conference',
    id: string,
    opts: RecordOptions,
  ): Promise<{ id: string; file: string }> {
    const left = new SampleFifo(FRAME);
    const right = new SampleFifo(FRAME);
    let attach: () => () => void;
    if (type === 'endpoint') {
      const ep = this.ep(id);
      attach = () => tap(ep.rxTaps, left, ep.txTaps, right);
    } else if (type === 'bridge') {
      const br = this.bridges.get(id);
      if (!br) throw new EngineError(`no bridge ${id}`);
      attach = () => tap(br.a.rxTaps, left, br.b.rxTaps, right);
    } else {
      const c = this.conf(id);
      const firstId = c.order.find((x) => c.members.has(x));
      if (!firstId) throw new EngineError(`conference ${id} has no members to record`);
      const first = c.members.get(firstId)!.ep;
      // The first member's own voice and what it hears: together, the whole conference as that caller knows it.
      attach = () => tap(first.rxTaps, left, first.txTaps, right);
    }
    let writer: WavWriter;
    try {
      writer = await WavWriter.create(opts.file, { channels: opts.mode === 'stereo' ? 2 : 1 });
    } catch (err) {
      this.recorderErrors++;
      this.env.log.error({ err, file: opts.file }, 'recording could not start');
      throw new EngineError(`recording could not start: ${(err as Error).message}`);
    }
    const detach = attach();
    const r = new RecordingState(`${id}/rec${this.nextId++}`, opts.file, opts.mode, writer, left, right, detach);
    r.phase = this.nextPhase();
    this.phaseLoad[r.phase]!++;
    this.phaseRecs[r.phase]!.add(r);
    this.recordings.set(r.id, r);
    return { id: r.id, file: r.file };
  }

  stopRecording(id: string): Promise<RecordingResult> {
    const r = this.recordings.get(id);
    if (!r) throw new EngineError(`no recording ${id}`);
    if (!r.result) {
      r.detach();
      r.result = r.writer.close().then(
        () => ({ file: r.file, durationMs: r.frames * FRAME_MS, error: r.error }),
        (err: Error) => {
          this.recorderErrors++;
          this.env.log.error({ err, file: r.file }, 'recording write failed; the call went on');
          return { file: r.file, durationMs: r.frames * FRAME_MS, error: r.error ?? err.message };
        },
      );
      this.phaseLoad[r.phase]!--;
      this.phaseRecs[r.phase]!.delete(r);
      void r.result.finally(() => this.recordings.delete(id));
    }
    return r.result;
  }

  stats(): EngineStats {
    const n = Math.min(this.lateN, this.late.length);
    const late = ringQuantiles(this.late, n);
    const work = ringQuantiles(this.work, n);
    return {
      endpoints: this.endpoints.size,
      bridges: this.bridges.size,
      conferences: this.conferences.size,
      recordings: this.recordings.size,
      ports: { inUse: this.pool.used, capacity: this.pool.capacity },
      clock: {
        ticks: this.tickCount,
        lateP50Ms: late.p50,
        lateP99Ms: late.p99,
        lateMaxMs: late.max,
        workP50Ms: work.p50,
        workP99Ms: work.p99,
        workMaxMs: work.max,
        overruns: this.overruns,
        skipped: this.skippedTicks,
      },
      packets: { rx: this.rxTotal, tx: this.txTotal, dropped: this.droppedTotal },
      recorderErrors: this.recorderErrors,
      thread: this.env.thread,
    };
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.closed = true;
      this.env.ticks.close();
      for (const id of [...this.endpoints.keys()]) this.closeEndpoint(id);
      for (const id of [...this.conferences.keys()]) this.closeConference(id);
      for (const id of [...this.bridges.keys()]) this.closeBridge(id);
      const recs = [...this.recordings.keys()].map((id) => this.stopRecording(id));
      this.closing = Promise.all(recs).then(() => undefined);
    }
    return this.closing;
  }

  // ---------------------------------------------------------------- receive path

  /** Packets of an external transport (WebRTC): no latching, RTCP is the transport's business. */
  externalPacket(id: string, buf: Buffer): void {
    const ep = this.endpoints.get(id);
    if (ep) this.onRtp(ep, buf, null, 0);
  }

  private onRtp(ep: Endpoint, msg: Buffer, addr: string | null, port: number): void {
    if (ep.closed) return;
    const now = this.env.clock.now();
    if (ep.rtcpMux && isRtcpPacket(msg)) {
      if (addr) this.onRtcp(ep, msg, addr, port);
      return;
    }
    const neg = ep.neg;
    const v = this.view;
    if (!neg || v.parse(msg) !== RtpParseStatus.Ok) {
      ep.dropped++;
      this.droppedTotal++;
      return;
    }
    if (addr !== null) {
      // Symmetric RTP: answer where the packets come from (NAT), streams told apart by 5-tuple, not SSRC.
      if (ep.latchAddr === null) this.latch(ep, addr, port, false);
      else if (addr !== ep.latchAddr || port !== ep.latchPort) {
        if (now - ep.lastRxAt < RELATCH_QUIET_MS) {
          ep.dropped++;
          this.droppedTotal++;
          return;
        }
        this.latch(ep, addr, port, true);
      }
    }
    ep.lastRxAt = now;
    ep.timeoutFired = false;
    ep.rxPackets++;
    ep.rxBytes += msg.length;
    this.rxTotal++;
    const pt = v.payloadType;
    if (pt === neg.telephoneEventPt) {
      const d = ep.dtmfRx.push(v.ssrc, v.timestamp, msg, now, v.payloadOffset, v.payloadLength);
      if (d) this.dtmfIn(ep, d.digit, 'rfc4733');
      const peer = ep.peer;
      if (peer && peer.neg?.telephoneEventPt != null && !peer.busy()) {
        this.relay(peer, ep, msg, v.payloadOffset, v.payloadLength, peer.neg.telephoneEventPt, null, now);
      }
      return;
    }
    if (pt !== 0 && pt !== 8) {
      ep.dropped++;
      this.droppedTotal++;
      return;
    }
    ep.remoteSsrc = v.ssrc;
    ep.rxStats.update(v.sequenceNumber, v.timestamp, now);
    const off = v.payloadOffset;
    const len = v.payloadLength;
    const line = ep.echoLine;
    if (line) {
      // Stale frames (a player or DTMF held the echo back) would come out as a burst: the delay stays bounded.
      while (line.length > 0 && (line.full || now - line.headAt > line.spanMs)) line.drop();
      if (!line.push(now, v.timestamp, pt, msg, off, len)) ep.dropped++;
      // Sent on receipt of the frame recorded one delay later: the caller's packet timing, not our tick's,
      // sets the pace (a queue drained on the tick added up to a frame of jitter whenever arrivals sat near a
      // tick boundary). "One delay later" is read from the RTP timestamps, not from arrival times: a frame
      // received late (our thread busy or paused for GC) would otherwise look too young at its turn, wait for
      // the next arrival and leave 20 ms late, two frames back to back. Two at most: a burst after a stall in the
      // network is passed on, not multiplied.
      if (!ep.busy()) this.echoOnReceipt(ep, line, now, v.timestamp);
    }
    const peer = ep.peer;
    if (peer && peer.neg && !peer.busy() && !peer.echoLine) {
      const ppt = peer.neg.payloadType;
      const table =
        pt === 0 && peer.neg.codec === 'PCMA'
          ? ULAW_TO_ALAW
          : pt === 8 && peer.neg.codec === 'PCMU'
            ? ALAW_TO_ULAW
            : null;
      this.relay(peer, ep, msg, off, len, ppt, table, now);
    }
    if (ep.rxTaps.length > 0 || ep.inband) {
      const n = Math.min(len, ep.pcm.length);
      const dec = pt === 0 ? ULAW_DECODE : ALAW_DECODE;
      // Each listener (conference member, recording) decodes straight into its own buffer.
      for (const t of ep.rxTaps) t.pushDecoded(msg, off, n, dec);
      if (ep.inband) {
        const pcm = ep.pcm;
        for (let i = 0; i < n; i++) pcm[i] = dec[msg[off + i]!]!;
        const digits = ep.inband.process(pcm, 0, n);
        for (const d of digits) this.dtmfIn(ep, d, 'inband');
      }
    }
  }

  private latch(ep: Endpoint, addr: string, port: number, relatch: boolean): void {
    ep.latchAddr = addr;
    ep.latchPort = port;
    if (relatch) {
      ep.relatches++;
      ep.rxStats = new RtpReceiverStats(8000, 1);
      ep.dtmfRx.reset();
      ep.inband?.reset();
      ep.rtcpAddr = null;
    }
  }

  private onRtcp(ep: Endpoint, msg: Buffer, addr: string, port: number): void {
    if (ep.closed) return;
    ep.rtcpReceived++;
    ep.rtcpAddr = addr;
    ep.rtcpPort = port;
    let pkts;
    try {
      pkts = parseRtcp(msg);
    } catch {
      ep.dropped++;
      return;
    }
    const now = this.env.clock.now();
    const wall = ntpFromUnixMs(Date.now());
    const arrival = ntpMiddle(wall.msw, wall.lsw);
    for (const p of pkts) {
      if (p.type === 'sr') ep.rxStats.onSenderReport(p.sender.ntpMsw, p.sender.ntpLsw, now);
      if (p.type === 'sr' || p.type === 'rr') {
        for (const b of p.reports) {
          if (b.ssrc !== ep.ssrc) continue;
          ep.remoteLost = b.cumulativeLost;
          ep.remoteJitterMs = b.jitter / 8;
          const rtt = roundTripSeconds(b, arrival);
          if (rtt !== null) ep.rttMs = rtt * 1000;
        }
      }
    }
  }

  // ---------------------------------------------------------------- send path

  /** Bridged packet from `src` to `dst`: header rewritten for dst's stream, payload copied or transcoded by table. */
  private relay(
    dst: Endpoint,
    src: Endpoint,
    msg: Buffer,
    off: number,
    len: number,
    pt: number,
    table: Uint8Array | null,
    now: number,
  ): void {
    if (!dst.canSend()) return;
    const v = this.view;
    const buf = this.newPacket(dst, src, pt, v.sequenceNumber, v.timestamp, v.marker, len, now);
    if (table) for (let i = 0; i < len; i++) buf[12 + i] = table[msg[off + i]!]!;
    else msg.copy(buf, 12, off, off + len);
    this.sendPacket(dst, buf, pt === dst.neg!.payloadType ? dst.neg!.codec : null, now);
  }

  /** One generated frame (player, echo, conference, DTMF) on dst's own timeline. */
  private sendFrame(
    ep: Endpoint,
    key: object,
    pt: number,
    payload: Uint8Array,
    seq: number,
    ts: number,
    now: number,
    codec: G711Name | null,
  ): void {
    const buf = this.newPacket(ep, key, pt, seq, ts, false, payload.length, now);
    buf.set(payload, 12);
    this.sendPacket(ep, buf, codec, now);
  }

  /** A mixed frame, encoded straight into the packet on dst's own timeline. */
  private sendPcmFrame(ep: Endpoint, key: object, pt: number, pcm: Int16Array, now: number, codec: G711Name): void {
    const buf = this.newPacket(ep, key, pt, ep.gSeq, ep.gTs, false, FRAME, now);
    if (codec === 'PCMU') encodeUlaw(pcm, buf, FRAME, 12);
    else encodeAlaw(pcm, buf, FRAME, 12);
    this.sendPacket(ep, buf, codec, now);
  }

  /** A packet for dst's stream: `key`'s (seq, ts) mapped onto it, the header written, `len` bytes of payload to fill. */
  private newPacket(
    dst: Endpoint,
    key: object,
    pt: number,
    seq: number,
    ts: number,
    marker: boolean,
    len: number,
    now: number,
  ): Buffer {
    dst.rewriter.map(key, seq, ts, marker, now);
    const buf = Buffer.allocUnsafe(12 + len);
    writeHeader(buf, pt, dst.rewriter, dst.ssrc);
    return buf;
  }

  /** Sends a filled packet; `codec` names the payload's G.711 law when its audio goes to dst's send taps too. */
  private sendPacket(ep: Endpoint, buf: Buffer, codec: G711Name | null, now: number): void {
    if (codec && ep.txTaps.length > 0) {
      const dec = codec === 'PCMU' ? ULAW_DECODE : ALAW_DECODE;
      const n = Math.min(buf.length - 12, ep.pcm.length);
      for (const t of ep.txTaps) t.pushDecoded(buf, 12, n, dec);
    }
    this.transmit(ep, buf, now);
  }

  private transmit(ep: Endpoint, buf: Buffer, now: number): void {
    ep.txPackets++;
    ep.txOctets += buf.length - 12;
    ep.lastTxTs = ep.rewriter.timestamp;
    ep.lastTxAt = now;
    this.txTotal++;
    if (!ep.pair) {
      this.env.emit({ type: 'xpkt', ep: ep.id, buf });
      return;
    }
    const addr = ep.latchAddr ?? ep.sdpAddr;
    const port = ep.latchAddr ? ep.latchPort : ep.sdpPort;
    if (!addr || addr === '0.0.0.0' || port === 0) return;
    ep.pair.rtp.send(buf, port, addr);
  }

  private sendRtcp(ep: Endpoint, now: number): void {
    ep.nextRtcpAt = now + this.rtcpIntervalMs * (0.5 + Math.random()); // RFC 3550 §6.3.1 randomisation
    if (!ep.pair) return;
    let addr: string | null;
    let port: number;
    if (ep.rtcpAddr) {
      addr = ep.rtcpAddr;
      port = ep.rtcpPort;
    } else if (ep.latchAddr && (ep.latchAddr !== ep.sdpAddr || ep.latchPort !== ep.sdpPort)) {
      // Behind NAT: the SDP's RTCP port means nothing; RFC 3550 §11 pairing is the best guess until RTCP arrives.
      addr = ep.latchAddr;
      port = ep.rtcpMux ? ep.latchPort : ep.latchPort + 1;
    } else {
      addr = ep.sdpAddr;
      port = ep.sdpRtcpPort;
    }
    if (!addr || addr === '0.0.0.0' || !port) return;
    const blocks: ReportBlock[] = [];
    if (ep.rxStats.expected > 0 && ep.latchAddr) blocks.push(ep.rxStats.reportBlock(ep.remoteSsrc, now));
    let report: Buffer;
    if (ep.txPackets > 0) {
      const wall = ntpFromUnixMs(Date.now());
      const ts = (ep.lastTxTs + Math.round((now - ep.lastTxAt) * 8)) >>> 0;
      report = buildSenderReport(
        ep.ssrc,
        {
          ntpMsw: wall.msw,
          ntpLsw: wall.lsw,
          rtpTimestamp: ts,
          packetCount: ep.txPackets >>> 0,
          octetCount: ep.txOctets >>> 0,
        },
        blocks,
      );
    } else report = buildReceiverReport(ep.ssrc, blocks);
    const parts = [report, buildSdesCname(ep.ssrc, ep.cname)];
    const sock = ep.rtcpMux ? ep.pair.rtp : ep.pair.rtcp;
    ep.rtcpSent++;
    try {
      sock.send(Buffer.concat(parts), port, addr);
    } catch {
      ep.dropped++;
    }
  }

  // ---------------------------------------------------------------- the media clock

  /**
   * One tick message from the ticker. Ticks that fell behind (a busy thread) are caught up, but by one frame at
   * most: a backlog of queued ticks (a thread that was blocked or just started) must not become a burst of
   * several frames per call; the audio they would have carried is dropped instead. Prompts skip those frames
   * (`skipPhase`), so a stall never stretches a prompt: under overload, stretched prompts kept calls up longer,
   * which raised the load that had made the clock late (the 400 calls/s collapse, docs/performance.md).
   */
  private tick(k: number, lateMs: number): void {
    if (this.closed) return;
    const due = k + Math.max(0, Math.floor(lateMs / this.tickMs));
    if (due <= this.lastK) {
      this.skippedTicks++;
      return;
    }
    let from = this.lastK < 0 ? due : this.lastK + 1;
    if (due - from >= this.phases) {
      const first = due - this.phases + 1;
      this.skippedTicks += first - from;
      // Each phase missed ⌊…⌋ or one more of its ticks: its players skip those frames.
      for (let ph = 0; ph < this.phases; ph++) {
        const missed = countInPhase(from, first - 1, ph, this.phases);
        if (missed > 0) this.skipPhase(ph, missed);
      }
      from = first;
    }
    this.lastK = due;
    const slot = this.lateN++ % this.late.length;
    this.late[slot] = Math.max(0, lateMs);
    const now = this.env.clock.now();
    for (let t = from; t <= due; t++) this.runPhase(t % this.phases, now);
    const work = this.env.clock.now() - now;
    this.work[slot] = work;
    if (work > this.tickMs) this.overruns++;
  }

  private skipPhase(phase: number, frames: number): void {
    for (const ep of this.phaseEps[phase]!) {
      const p = ep.player;
      if (!p || p.done || ep.dtmfOut.length > 0) continue;
      p.skip(frames);
      ep.skipGen(frames);
    }
  }

  private runPhase(phase: number, now: number): void {
    this.tickCount++;
    for (const ep of this.phaseEps[phase]!) this.tickEndpoint(ep, now);
    for (const c of this.phaseConfs[phase]!) this.tickConference(c, now);
    for (const r of this.phaseRecs[phase]!) this.tickRecording(r);
  }

  private tickEndpoint(ep: Endpoint, now: number): void {
    const neg = ep.neg;
    if (!neg) return;
    if (ep.pair && now >= ep.nextRtcpAt) this.sendRtcp(ep, now);
    if (this.rtpTimeoutMs > 0 && !ep.timeoutFired && ep.expectsRx() && now - ep.lastRxAt > this.rtpTimeoutMs) {
      ep.timeoutFired = true;
      this.env.emit({ type: 'rtp-timeout', ep: ep.id });
    }
    // DTMF first: the far end's detector needs the events/tones unbroken.
    while (ep.dtmfOut.length > 0) {
      const o = ep.dtmfOut.shift()!;
      if (o.t === 'done') {
        o.resolve();
        continue;
      }
      if (o.t === 'gap') return;
      if (o.t === 'te') {
        const buf = this.newPacket(ep, o.key, neg.telephoneEventPt ?? 101, o.seq, o.ts, false, o.payload.length, now);
        buf.set(o.payload, 12);
        if (ep.canSend()) this.transmit(ep, buf, now);
      } else {
        ep.nextGen();
        const payload = neg.codec === 'PCMU' ? o.payload : ulawToAlawCopy(o.payload, ep.scratch);
        if (ep.canSend()) this.sendFrame(ep, o.key, neg.payloadType, payload, ep.gSeq, ep.gTs, now, neg.codec);
      }
      return;
    }
    const p = ep.player;
    if (p) {
      const frame = p.next(neg.codec, ep.scratch);
      if (frame) {
        ep.nextGen();
        if (ep.canSend()) this.sendFrame(ep, p, neg.payloadType, frame, ep.gSeq, ep.gTs, now, neg.codec);
      }
      if (p.done) {
        ep.player = null;
        p.finish({ reason: 'done' });
      }
      if (frame) return;
    }
    // The caller stopped sending (hold, silence suppression, hang-up in progress): the tail of the delay line
    // plays out on the clock, one frame per frame.
    const line = ep.echoLine;
    if (line && line.length > 0 && now - line.lastAt > 2 * FRAME_MS && now - line.headAt >= line.delayMs) {
      this.echoSend(ep, line, now);
    }
  }

  /** Sends up to two echo frames recorded (RTP timestamp) at least the echo delay before the frame `ts`. */
  private echoOnReceipt(ep: Endpoint, line: EchoLine, now: number, ts: number): void {
    const delay = line.delayMs * (FRAME / FRAME_MS) - FRAME / 2;
    // Signed 32-bit difference: timestamps wrap (RFC 3550 §5.1); a source that restarted its timeline (a
    // negative difference) leaves its old frames to the age limit.
    for (let n = 0; n < 2 && line.length > 0 && ((ts - line.headTs) | 0) >= delay; n++) this.echoSend(ep, line, now);
  }

  /** Sends the oldest frame of the echo's delay line. */
  private echoSend(ep: Endpoint, line: EchoLine, now: number): void {
    const neg = ep.neg!;
    const e = line.shift()!;
    ep.nextGen();
    let data = e.data;
    if (e.pt !== neg.payloadType) {
      const t = e.pt === 0 ? ULAW_TO_ALAW : ALAW_TO_ULAW;
      const out = data.length <= ep.scratch.length ? ep.scratch.subarray(0, data.length) : new Uint8Array(data.length);
      for (let i = 0; i < data.length; i++) out[i] = t[data[i]!]!;
      data = out;
    }
    if (ep.canSend()) this.sendFrame(ep, line, neg.payloadType, data, ep.gSeq, ep.gTs, now, neg.codec);
  }

  private tickConference(c: ConferenceState, now: number): void {
    const list = c.list;
    // Each jitter buffer pops straight into its member's mixer input.
    for (let k = 0; k < list.length; k++) {
      const m = list[k]!;
      m.slot.hasInput = m.fifo.pop(m.slot.input);
    }
    if (c.leaving.size > 0) for (const l of c.leaving.values()) l.slot.hasInput = l.fifo.pop(l.slot.input);
    c.mixer.mix();
    c.leaving.clear();
    for (let k = 0; k < list.length; k++) {
      const ep = list[k]!.ep;
      const neg = ep.neg;
      if (!neg || ep.busy() || ep.echoLine) continue;
      ep.nextGen();
      if (ep.canSend()) this.sendPcmFrame(ep, c, neg.payloadType, list[k]!.slot.out, now, neg.codec);
    }
  }

  private tickRecording(r: RecordingState): void {
    r.left.pop(r.l);
    r.right.pop(r.r);
    r.frames++;
    try {
      if (r.mode === 'stereo') r.writer.writeStereo(r.l, r.r, FRAME);
      else {
        const l = r.l;
        const rr = r.r;
        for (let i = 0; i < FRAME; i++) {
          const s = l[i]! + rr[i]!;
          l[i] = s > 32767 ? 32767 : s < -32768 ? -32768 : s;
        }
        r.writer.write(l, FRAME);
      }
    } catch (err) {
      if (!r.error) {
        r.error = (err as Error).message;
        this.recorderErrors++;
        this.env.log.error({ err, file: r.file }, 'recording write failed; the call goes on');
      }
    }
  }
}

/** p50 / p99 / max of the first `n` values of a ring of recent samples (0 when empty). */
function ringQuantiles(ring: Float64Array, n: number): { p50: number; p99: number; max: number } {
  if (n === 0) return { p50: 0, p99: 0, max: 0 };
  const sorted = ring.slice(0, n).sort();
  const q = (p: number) => sorted[Math.min(n - 1, Math.floor(p * n))]!;
  return { p50: q(0.5), p99: q(0.99), max: sorted[n - 1]! };
}

function writeHeader(buf: Uint8Array, pt: number, rw: RtpStreamRewriter, ssrc: number): void {
  buf[0] = 0x80;
  buf[1] = (rw.marker ? 0x80 : 0) | pt;
  buf[2] = (rw.seq >>> 8) & 0xff;
  buf[3] = rw.seq & 0xff;
  const ts = rw.timestamp;
  buf[4] = (ts >>> 24) & 0xff;
  buf[5] = (ts >>> 16) & 0xff;
  buf[6] = (ts >>> 8) & 0xff;
  buf[7] = ts & 0xff;
  buf[8] = (ssrc >>> 24) & 0xff;
  buf[9] = (ssrc >>> 16) & 0xff;
  buf[10] = (ssrc >>> 8) & 0xff;
  buf[11] = ssrc & 0xff;
}

function ulawToAlawCopy(src: Uint8Array, out: Uint8Array): Uint8Array {
  for (let i = 0; i < src.length; i++) out[i] = ULAW_TO_ALAW[src[i]!]!;
  return out.subarray(0, src.length);
}

function removeItem<T>(arr: T[], x: T): void {
  const i = arr.indexOf(x);
  if (i >= 0) arr.splice(i, 1);
}

function tap(rxList: SampleFifo[], left: SampleFifo, otherList: SampleFifo[], right: SampleFifo): () => void {
  rxList.push(left);
  otherList.push(right);
  return () => {
    removeItem(rxList, left);
    removeItem(otherList, right);
  };
}
