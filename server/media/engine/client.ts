/**
 * The MediaEngine the rest of the server holds: handles (endpoints, bridges, conferences, recordings) that turn
 * method calls into commands on an EngineChannel. The channel reaches an EngineCore in this thread (inline) or
 * in a media worker; both paths share this file, so they behave the same.
 *
 * Foreign endpoint kinds (WebRTC) live on this side: their session (werift) runs in the calling thread and
 * only plain RTP crosses to the core.
 */
import { parseDtmfInfo } from '../dtmf/dtmf-relay.js';
import { LocalSdpSession, SdpNegotiationError, answerOffer } from '../sdp/offer-answer.js';
import { parseSdp, serializeSdp, type SessionDescription } from '../sdp/sdp.js';
import { createLogger, guardListener } from '../../util/log.js';
import type {
  Bridge,
  Conference,
  ConferenceMemberInfo,
  EndpointEvents,
  EndpointKind,
  EndpointKindFactory,
  EndpointStats,
  EngineStats,
  ExternalMediaSession,
  MediaEndpoint,
  MediaEngine,
  MemberOptions,
  PlayItem,
  PlayOptions,
  PlayResult,
  PromptId,
  RecordOptions,
  Recording,
  RecordingResult,
} from './api.js';
import type { CoreEvent, LocalSdpParams } from './core.js';

const log = createLogger('media');

export interface EngineChannel {
  readonly thread: 'worker' | 'inline';
  call(cmd: string, args: unknown[]): Promise<unknown>;
  /** A packet from an external transport to the core. */
  packet(ep: string, buf: Buffer): void;
  onEvent(fn: (e: CoreEvent) => void): void;
  /** After the core closed: stop the thread / ticker. */
  shutdown(): Promise<void>;
}

/** An error as it crosses a thread: name, message and the SIP status of an SdpNegotiationError. */
export interface WireError {
  name: string;
  message: string;
}

export function toWireError(err: unknown): WireError {
  const e = err as Error;
  return { name: e?.name ?? 'Error', message: e?.message ?? String(err) };
}

export function fromWireError(w: WireError): Error {
  if (w.name === 'SdpNegotiationError') return new SdpNegotiationError(w.message);
  const e = w.name === 'RangeError' ? new RangeError(w.message) : new Error(w.message);
  e.name = w.name;
  return e;
}

type Listener = (...args: never[]) => void;

class EndpointHandle implements MediaEndpoint {
  private readonly listeners = new Map<string, Map<Listener, (...args: unknown[]) => void>>();
  private closing: Promise<void> | null = null;
  closedByCore = false;

  constructor(
    private readonly engine: EngineClient,
    readonly id: string,
    readonly kind: EndpointKind,
    readonly label: string | undefined,
    readonly session: ExternalMediaSession | null,
    /** Until the endpoint's first SDP exchange: what answering its first offer here needs (null after). */
    private localSdp: LocalSdpParams | null = null,
  ) {}

  private call(cmd: string, ...args: unknown[]): Promise<unknown> {
    return this.engine.channel.call(cmd, [this.id, ...args]);
  }

  async answer(remoteOfferSdp: string, parsedOffer?: SessionDescription): Promise<string> {
    if (!this.session && this.localSdp) return this.answerHere(parsedOffer ?? parseSdp(remoteOfferSdp), this.localSdp);
    if (!this.session) return (await this.call('answer', remoteOfferSdp)) as string;
    const sdp = await this.session.answer(remoteOfferSdp);
    await this.pushNegotiated();
    return sdp;
  }

  /**
   * The first offer of a fresh RTP endpoint is answered in this thread (issue 4: the 200 OK of an INVITE waited
   * for a round trip to a busy media worker). The core is told the outcome without being waited for — the
   * negotiated audio and the o= line's state, so later offers and re-INVITEs carry on from what was sent — and
   * commands after this one reach it in order (one message port).
   */
  private answerHere(offer: SessionDescription, local: LocalSdpParams): string {
    const session = new LocalSdpSession(local.address, '-', local.sessionId);
    const { answer, audio } = answerOffer(
      offer,
      { address: local.address, port: local.port, codecs: local.codecs, telephoneEvent: true },
      session,
    );
    const sdp = serializeSdp(answer);
    this.localSdp = null;
    this.call('adoptAnswer', audio, session.state).catch((err: unknown) => {
      // Closed before the answer reached it (caller hung up at once): nothing to negotiate any more.
      if (!this.closing && !this.closedByCore) log.warn({ err, ep: this.id }, 'media core could not take an answer');
    });
    return sdp;
  }

  async createOffer(opts?: { direction?: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive' }): Promise<string> {
    this.localSdp = null;
    if (!this.session) return (await this.call('createOffer', opts ?? {})) as string;
    return this.session.createOffer();
  }

  async applyAnswer(remoteAnswerSdp: string): Promise<void> {
    this.localSdp = null;
    if (!this.session) {
      await this.call('applyAnswer', remoteAnswerSdp);
      return;
    }
    await this.session.applyAnswer(remoteAnswerSdp);
    await this.pushNegotiated();
  }

  private async pushNegotiated(): Promise<void> {
    const n = this.session!.negotiated;
    if (!n) throw new SdpNegotiationError('the endpoint reported no negotiated audio');
    await this.call('setNegotiated', {
      codec: n.codec,
      payloadType: n.payloadType,
      telephoneEventPt: n.telephoneEventPt,
      remoteHold: n.remoteHold,
    });
  }

  play(items: readonly PlayItem[], opts?: PlayOptions): Promise<PlayResult> {
    return this.call('play', items, opts ?? {}) as Promise<PlayResult>;
  }

  stopPlayback(): void {
    this.call('stopPlayback').catch(() => undefined);
  }

  echo(delayMs?: number): void {
    this.call('echo', delayMs).catch(() => undefined);
  }

  stopEcho(): void {
    this.call('stopEcho').catch(() => undefined);
  }

  async sendDtmf(digits: string, opts?: { durationMs?: number }): Promise<void> {
    await this.call('sendDtmf', digits, opts ?? {});
  }

  receiveInfoDtmf(body: string, contentType: string | undefined): boolean {
    // Parsed here too so the caller knows at once whether to answer 200 or 415; the core reports the digit.
    if (!parseDtmfInfo(contentType, body)) return false;
    this.call('infoDtmf', body, contentType).catch(() => undefined);
    return true;
  }

  setInbandDtmf(on: boolean): void {
    this.call('setInband', on).catch(() => undefined);
  }

  on<E extends keyof EndpointEvents>(event: E, listener: EndpointEvents[E]): this {
    let m = this.listeners.get(event);
    if (!m) this.listeners.set(event, (m = new Map()));
    m.set(listener as Listener, guardListener(`media.${event}`, log, listener as (...a: unknown[]) => void));
    return this;
  }

  off<E extends keyof EndpointEvents>(event: E, listener: EndpointEvents[E]): this {
    this.listeners.get(event)?.delete(listener as Listener);
    return this;
  }

  emit(event: string, ...args: unknown[]): void {
    const m = this.listeners.get(event);
    if (m) for (const fn of [...m.values()]) fn(...args);
  }

  stats(): Promise<EndpointStats> {
    return this.call('epStats') as Promise<EndpointStats>;
  }

  close(): Promise<void> {
    if (!this.closing) {
      let done!: () => void;
      // Assigned before the core is told: an inline core reports 'closed' synchronously, which lands here again.
      this.closing = new Promise<void>((r) => (done = r));
      void (async () => {
        if (!this.closedByCore) await this.engine.channel.call('closeEndpoint', [this.id]).catch(() => undefined);
        this.engine.forget(this);
        if (this.session) await Promise.resolve(this.session.close()).catch(() => undefined);
      })().finally(done);
    }
    return this.closing;
  }
}

class BridgeHandle implements Bridge {
  private closing: Promise<void> | null = null;
  constructor(
    private readonly engine: EngineClient,
    readonly id: string,
    readonly a: MediaEndpoint,
    readonly b: MediaEndpoint,
  ) {}
  close(): Promise<void> {
    this.closing ??= this.engine.channel.call('closeBridge', [this.id]).then(
      () => undefined,
      () => undefined,
    );
    return this.closing;
  }
}

class ConferenceHandle implements Conference {
  private closing: Promise<void> | null = null;
  constructor(
    private readonly engine: EngineClient,
    readonly id: string,
  ) {}
  private async call(cmd: string, ...args: unknown[]): Promise<unknown> {
    return this.engine.channel.call(cmd, [this.id, ...args]);
  }
  async join(ep: MediaEndpoint, opts?: MemberOptions): Promise<void> {
    await this.call('confJoin', ep.id, opts ?? {});
  }
  async leave(ep: MediaEndpoint): Promise<void> {
    await this.call('confLeave', ep.id);
  }
  async setMuted(ep: MediaEndpoint, muted: boolean): Promise<void> {
    await this.call('confMute', ep.id, muted);
  }
  async setListenOnly(ep: MediaEndpoint, listenOnly: boolean): Promise<void> {
    await this.call('confListenOnly', ep.id, listenOnly);
  }
  async setWhisper(ep: MediaEndpoint, target: MediaEndpoint | null): Promise<void> {
    await this.call('confWhisper', ep.id, target?.id ?? null);
  }
  members(): Promise<ConferenceMemberInfo[]> {
    return this.call('confMembers') as Promise<ConferenceMemberInfo[]>;
  }
  close(): Promise<void> {
    this.closing ??= this.engine.channel.call('closeConference', [this.id]).then(
      () => undefined,
      () => undefined,
    );
    return this.closing;
  }
}

class RecordingHandle implements Recording {
  private result: Promise<RecordingResult> | null = null;
  constructor(
    private readonly engine: EngineClient,
    readonly id: string,
    readonly file: string,
  ) {}
  stop(): Promise<RecordingResult> {
    this.result ??= this.engine.channel.call('stopRecording', [this.id]).then(
      (r) => r as RecordingResult,
      // Already stopped with its endpoint/bridge: the core has forgotten it; the file is complete.
      () => ({ file: this.file, durationMs: 0, error: null }),
    );
    return this.result;
  }
}

export class EngineClient implements MediaEngine {
  private readonly kinds = new Map<string, EndpointKindFactory>();
  private readonly endpoints = new Map<string, EndpointHandle>();
  private readonly promptIds = new Map<string, Promise<PromptId>>();
  private closing: Promise<void> | null = null;

  constructor(readonly channel: EngineChannel) {
    channel.onEvent((e) => this.onEvent(e));
  }

  get thread(): 'worker' | 'inline' {
    return this.channel.thread;
  }

  private onEvent(e: CoreEvent): void {
    if (e.type === 'engine-failed') {
      log.error({ endpoints: this.endpoints.size }, 'media engine thread failed; closing its endpoints');
      for (const h of [...this.endpoints.values()]) this.onEvent({ type: 'closed', ep: h.id });
      return;
    }
    const h = this.endpoints.get(e.ep);
    if (!h) return;
    switch (e.type) {
      case 'xpkt':
        h.session?.send(e.buf);
        break;
      case 'dtmf':
        h.emit('dtmf', e.digit, e.via);
        break;
      case 'rtp-timeout':
        h.emit('rtp-timeout');
        break;
      case 'closed':
        if (h.closedByCore) break;
        h.closedByCore = true;
        h.emit('closed');
        void h.close();
        break;
    }
  }

  forget(h: EndpointHandle): void {
    if (this.endpoints.get(h.id) === h) this.endpoints.delete(h.id);
  }

  createRtpEndpoint(opts: { label?: string; inbandDtmf?: boolean } = {}): Promise<MediaEndpoint> {
    return this.createEndpoint('rtp', opts);
  }

  registerEndpointKind(kind: string, factory: EndpointKindFactory): void {
    if (kind === 'rtp') throw new Error("'rtp' is built in");
    this.kinds.set(kind, factory);
  }

  async createEndpoint(kind: string, opts: { label?: string; inbandDtmf?: boolean } = {}): Promise<MediaEndpoint> {
    let session: ExternalMediaSession | null = null;
    if (kind !== 'rtp') {
      const f = this.kinds.get(kind);
      if (!f) throw new Error(`unknown endpoint kind ${kind}`);
      session = await f({ label: opts.label });
    }
    let id: string;
    let sdp: LocalSdpParams | null | undefined;
    try {
      ({ id, sdp } = (await this.channel.call('createEndpoint', [kind, opts])) as {
        id: string;
        sdp?: LocalSdpParams | null;
      });
    } catch (err) {
      await session?.close();
      throw err;
    }
    const h = new EndpointHandle(this, id, kind, opts.label, session, session ? null : (sdp ?? null));
    this.endpoints.set(id, h);
    session?.onPacket((buf) => this.channel.packet(id, buf));
    return h;
  }

  async bridge(a: MediaEndpoint, b: MediaEndpoint): Promise<Bridge> {
    const id = (await this.channel.call('bridge', [a.id, b.id])) as string;
    return new BridgeHandle(this, id, a, b);
  }

  async createConference(): Promise<Conference> {
    const id = (await this.channel.call('createConference', [])) as string;
    return new ConferenceHandle(this, id);
  }

  async record(target: MediaEndpoint | Bridge | Conference, opts: RecordOptions): Promise<Recording> {
    const type =
      target instanceof BridgeHandle ? 'bridge' : target instanceof ConferenceHandle ? 'conference' : 'endpoint';
    const r = (await this.channel.call('record', [type, target.id, opts])) as { id: string; file: string };
    return new RecordingHandle(this, r.id, r.file);
  }

  /**
   * Asked once per path: the core keeps a loaded WAV for its lifetime, so the id of a path never changes, and
   * asking again was a round trip to the media worker per prompt per call (issue 4). A failed load is
   * forgotten (the file may appear later).
   */
  loadPrompt(file: string): Promise<PromptId> {
    let p = this.promptIds.get(file);
    if (!p) {
      p = this.channel.call('loadPrompt', [file]) as Promise<PromptId>;
      this.promptIds.set(file, p);
      p.catch(() => {
        if (this.promptIds.get(file) === p) this.promptIds.delete(file);
      });
    }
    return p;
  }

  stats(): Promise<EngineStats> {
    return this.channel.call('stats', []) as Promise<EngineStats>;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.channel.call('close', []).catch((err: unknown) => log.error({ err }, 'media engine close failed'));
      await Promise.all([...this.endpoints.values()].map((h) => h.close()));
      await this.channel.shutdown();
    })();
    return this.closing;
  }
}
