/**
 * One WebRTC audio leg (a JsSIP agent in a browser) terminated with werift: ICE (host candidates, an optional
 * 1:1 NAT public address, an optional STUN server), DTLS-SRTP, G.711 only. To the media engine it is just a
 * packet transport: plain RTP in (decrypted) and plain RTP out (encrypted by werift), so mixing, recording,
 * DTMF and echo stay in the engine.
 *
 * werift specifics this relies on (see /work/shared/research/webrtc-jssip-werift.md):
 * - its default config asks stun.l.google.com; we always pass our own iceServers (possibly empty);
 * - it skips loopback/internal interfaces, so loopback must come in as an additional host address;
 * - it does not trickle here: descriptions are read after gathering completes;
 * - `connectionState === 'connected'` means ICE and DTLS are both done (iceConnectionState 'completed' fires
 *   when *gathering* completes, which is useless as a readiness signal);
 * - its sender rewrites SSRC and PT to the first negotiated codec, so RFC 4733 events bypass it.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import {
  RTCDtlsTransport,
  RTCPeerConnection,
  RTCRtpCodecParameters,
  RtpPacket,
  type RTCRtpTransceiver,
  type RTCPeerConnectionConfig,
} from 'werift';
import type { EndpointKindFactory, ExternalMediaSession } from '../engine/api.js';
import { isRtcpPacket } from '../rtp/packet.js';
import { SdpNegotiationError } from '../sdp/offer-answer.js';
import { parseSdp, serializeSdp, type SessionDescription } from '../sdp/sdp.js';
import { systemClock, type Clock, type TimerHandle } from '../../util/clock.js';
import { createLogger, guardListener } from '../../util/log.js';
import {
  applyCandidatePolicy,
  checkWebRtcOffer,
  keepOnlyG711,
  readNegotiated,
  type G711Name,
  type WebRtcNegotiated,
} from './sdp.js';

export interface WebRtcEndpointOptions {
  label?: string;
  clock?: Clock;
  log?: Logger;
  /**
   * Host addresses to gather on and to advertise (e.g. ['127.0.0.1'] in a test namespace, or the LAN
   * address). werift ignores loopback unless it is named here. Undefined: werift's own interface list.
   */
  hostAddresses?: string[];
  /** 1:1 NAT public address: advertised as an extra srflx candidate with the host port. */
  publicAddress?: string;
  /** 'host:port' of our own STUN server. Never defaults to a public one. */
  stunServer?: string;
  /** UDP port range for ICE sockets (werift needs min < max). */
  portRange?: [number, number];
  /** Codecs we accept, in our preference; default PCMU then PCMA (werift sends with the first agreed one). */
  codecs?: G711Name[];
  /** RFC 4733 telephone-event/8000; default true. */
  telephoneEvent?: boolean;
  /** Payload type for telephone-event in our own offers; JsSIP/Chromium use 126 for 8 kHz. */
  telephoneEventPt?: number;
  /** ICE+DTLS must finish within this after both descriptions are set; default 10 s. */
  connectTimeoutMs?: number;
  /** Gathering must finish within this; default 5 s. */
  gatherTimeoutMs?: number;
}

export enum WebRtcState {
  New = 'new',
  /** We sent an offer (server → agent INVITE) and wait for the answer. */
  Offering = 'offering',
  /** Both descriptions set, ICE/DTLS in progress. */
  Connecting = 'connecting',
  Connected = 'connected',
  Failed = 'failed',
  Closed = 'closed',
}

const TRANSITIONS: Record<WebRtcState, readonly WebRtcState[]> = {
  [WebRtcState.New]: [WebRtcState.Offering, WebRtcState.Connecting, WebRtcState.Failed, WebRtcState.Closed],
  [WebRtcState.Offering]: [WebRtcState.Connecting, WebRtcState.Failed, WebRtcState.Closed],
  // A re-offer (hold/resume, session refresh) while still connecting keeps us connecting.
  [WebRtcState.Connecting]: [WebRtcState.Connecting, WebRtcState.Connected, WebRtcState.Failed, WebRtcState.Closed],
  [WebRtcState.Connected]: [WebRtcState.Connected, WebRtcState.Failed, WebRtcState.Closed],
  [WebRtcState.Failed]: [WebRtcState.Closed],
  [WebRtcState.Closed]: [],
};

export class IllegalWebRtcTransition extends Error {
  constructor(
    readonly from: WebRtcState,
    readonly to: WebRtcState,
  ) {
    super(`illegal WebRTC endpoint transition ${from} → ${to}`);
    this.name = 'IllegalWebRtcTransition';
  }
}

/** Throws IllegalWebRtcTransition unless `to` is allowed from `from`. */
export function checkWebRtcTransition(from: WebRtcState, to: WebRtcState): void {
  if (!TRANSITIONS[from].includes(to)) throw new IllegalWebRtcTransition(from, to);
}

/** Milliseconds from answer()/createOffer() to each milestone; null until reached. */
export interface WebRtcSetupTimes {
  /** Local description with all candidates ready (werift gathering). */
  descriptionReady: number | null;
  iceConnected: number | null;
  /** DTLS handshake done, SRTP keys in place: media can flow. */
  connected: number | null;
  firstRtpIn: number | null;
}

export interface WebRtcEndpointStats {
  state: WebRtcState;
  rxPackets: number;
  txPackets: number;
  txDtmfPackets: number;
  /** Packets handed to send() that could not go out (not connected, unknown PT, RTCP, unparsable). */
  txDropped: number;
  setup: WebRtcSetupTimes;
}

const PCMA_PARAMS = { mimeType: 'audio/PCMA', clockRate: 8000, channels: 1, payloadType: 8 };
const PCMU_PARAMS = { mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 };

let nextId = 1;

/**
 * werift makes one self-signed DTLS certificate per process, lazily, on the first peer connection: measured
 * 0.5–1.1 s here, which the first agent's call would otherwise wait for. Call at server start; returns the ms.
 */
export async function warmUpWebRtc(): Promise<number> {
  const t0 = performance.now();
  await RTCDtlsTransport.SetupCertificate();
  return Math.round(performance.now() - t0);
}

export class WebRtcEndpoint extends EventEmitter implements ExternalMediaSession {
  readonly id: string;
  readonly kind = 'webrtc' as const;
  private _state = WebRtcState.New;
  private readonly pc: RTCPeerConnection;
  private readonly transceiver: RTCRtpTransceiver;
  private readonly clock: Clock;
  private readonly log: Logger;
  private packetHandler: ((rtp: Buffer) => void) | null = null;
  private _negotiated: WebRtcNegotiated | null = null;
  private localOffer: string | null = null;
  private startedAt: number | null = null;
  private connectTimer: TimerHandle | null = null;
  private closing: Promise<void> | null = null;
  private readonly setup: WebRtcSetupTimes = {
    descriptionReady: null,
    iceConnected: null,
    connected: null,
    firstRtpIn: null,
  };
  private rx = 0;
  private tx = 0;
  private txDtmf = 0;
  private txDropped = 0;

  constructor(private readonly opts: WebRtcEndpointOptions = {}) {
    super();
    this.id = `webrtc-${nextId++}`;
    this.clock = opts.clock ?? systemClock;
    this.log = (opts.log ?? createLogger('webrtc')).child({ ep: this.id, label: opts.label });
    this.pc = new RTCPeerConnection(this.peerConfig());
    this.transceiver = this.pc.addTransceiver('audio', { direction: 'sendrecv' });
    this.transceiver.onTrack.subscribe(
      guardListener('webrtc.track', this.log, (track) => {
        track.onReceiveRtp.subscribe(guardListener('webrtc.rtp', this.log, (rtp: RtpPacket) => this.onRtp(rtp)));
      }),
    );
    this.pc.iceConnectionStateChange.subscribe(
      guardListener('webrtc.ice', this.log, (s) => {
        if (s === 'connected' && this.setup.iceConnected === null) this.setup.iceConnected = this.elapsed();
      }),
    );
    this.pc.connectionStateChange.subscribe(guardListener('webrtc.conn', this.log, (s) => this.onConnectionState(s)));
  }

  get state(): WebRtcState {
    return this._state;
  }

  /** Codec and payload types agreed in the last completed offer/answer; null before. */
  get negotiated(): WebRtcNegotiated | null {
    return this._negotiated;
  }

  /**
   * Answers a browser's offer (INVITE from a JsSIP agent, or its re-INVITE for hold/resume/refresh).
   * Returns our answer SDP with G.711 only. Throws SdpNegotiationError (→ 488) for an unusable offer.
   */
  async answer(remoteOfferSdp: string): Promise<string> {
    this.assertOpen();
    // An offer while our own offer is outstanding would be glare (RFC 3261 §14.2 answers that with 491).
    if (this._state === WebRtcState.Offering) throw new IllegalWebRtcTransition(this._state, WebRtcState.Connecting);
    const offer = parseSdp(remoteOfferSdp);
    checkWebRtcOffer(offer);
    this.startedAt ??= this.clock.now();
    await this.pc.setRemoteDescription({ type: 'offer', sdp: remoteOfferSdp });
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    const local = await this.localDescriptionAfterGathering();
    this.assertOpen();
    this._negotiated = readNegotiated(local, local, offer);
    // A re-offer on a live leg (hold/resume, session refresh) keeps the ICE/DTLS association.
    this.transition(this._state === WebRtcState.Connected ? WebRtcState.Connected : WebRtcState.Connecting);
    this.armConnectTimer();
    return serializeSdp(local);
  }

  /** Our offer towards a browser (server calls the agent): DTLS-SRTP, G.711, telephone-event. */
  async createOffer(): Promise<string> {
    this.assertOpen();
    // Re-offers from our side (server-initiated hold of an agent) are not supported: werift would renegotiate
    // its transceiver, and call control holds the consumer's leg instead.
    if (this._state !== WebRtcState.New) throw new IllegalWebRtcTransition(this._state, WebRtcState.Offering);
    this.startedAt ??= this.clock.now();
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    const local = await this.localDescriptionAfterGathering();
    this.assertOpen();
    this.localOffer = serializeSdp(local);
    this.transition(WebRtcState.Offering);
    return this.localOffer;
  }

  /** The browser's answer to createOffer(). Throws SdpNegotiationError when it agreed on no G.711 codec. */
  async applyAnswer(remoteAnswerSdp: string): Promise<void> {
    this.assertOpen();
    if (this._state !== WebRtcState.Offering || this.localOffer === null)
      throw new IllegalWebRtcTransition(this._state, WebRtcState.Connecting);
    const answer = parseSdp(remoteAnswerSdp);
    // Checked before werift is told, so a non-G.711 answer fails cleanly with 488 semantics.
    const negotiated = readNegotiated(answer, parseSdp(this.localOffer), answer);
    await this.pc.setRemoteDescription({ type: 'answer', sdp: remoteAnswerSdp });
    this.assertOpen();
    this._negotiated = negotiated;
    this.transition(WebRtcState.Connecting);
    this.armConnectTimer();
  }

  /**
   * Sends one plain RTP packet. Audio goes through werift's sender (SSRC and the negotiated PT set there, SR
   * counters kept); telephone-event packets go straight to the SRTP transport with the same SSRC because
   * the sender would overwrite their PT. Sequence numbers and timestamps are the caller's.
   */
  send(rtp: Buffer): void {
    const neg = this._negotiated;
    if (this._state !== WebRtcState.Connected || !neg || isRtcpPacket(rtp)) {
      this.txDropped++;
      return;
    }
    let packet: RtpPacket;
    try {
      packet = RtpPacket.deSerialize(rtp);
    } catch {
      this.txDropped++;
      return;
    }
    const pt = packet.header.payloadType;
    const sender = this.transceiver.sender;
    if (pt === neg.payloadType) {
      this.tx++;
      sender.sendRtp(packet).catch((err: unknown) => this.sendFailed(err));
    } else if (pt === neg.telephoneEventPt) {
      packet.header.ssrc = sender.ssrc;
      this.txDtmf++;
      sender.dtlsTransport.sendRtp(packet.payload, packet.header).catch((err: unknown) => this.sendFailed(err));
    } else {
      this.txDropped++;
    }
  }

  /** Replaces the previous handler. Packets arrive decrypted, header intact (remote SSRC/seq/timestamp). */
  onPacket(cb: (rtp: Buffer) => void): void {
    this.packetHandler = cb;
  }

  stats(): WebRtcEndpointStats {
    return {
      state: this._state,
      rxPackets: this.rx,
      txPackets: this.tx,
      txDtmfPackets: this.txDtmf,
      txDropped: this.txDropped,
      setup: { ...this.setup },
    };
  }

  /** Resolves when connected; rejects on failure, close or `timeoutMs`. */
  waitConnected(timeoutMs = this.opts.connectTimeoutMs ?? 10_000): Promise<void> {
    if (this._state === WebRtcState.Connected) return Promise.resolve();
    if (this._state === WebRtcState.Failed || this._state === WebRtcState.Closed)
      return Promise.reject(new Error(`WebRTC endpoint ${this._state}`));
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimeout(() => done(new Error('WebRTC connect timeout')), timeoutMs);
      const onState = (s: WebRtcState) => {
        if (s === WebRtcState.Connected) done(null);
        else if (s === WebRtcState.Failed || s === WebRtcState.Closed) done(new Error(`WebRTC endpoint ${s}`));
      };
      const done = (err: Error | null) => {
        this.clock.clearTimeout(timer);
        this.off('state', onState);
        if (err) reject(err);
        else resolve();
      };
      this.on('state', onState);
    });
  }

  /** Idempotent; closes the peer connection (ICE sockets, DTLS) and stops delivering packets. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.clock.clearTimeout(this.connectTimer);
      this.packetHandler = null;
      if (this._state !== WebRtcState.Closed) this.transition(WebRtcState.Closed);
      try {
        await this.pc.close();
      } catch (err) {
        this.log.warn({ err }, 'werift close failed');
      }
      this.emit('closed');
    })();
    return this.closing;
  }

  private peerConfig(): RTCPeerConnectionConfig {
    const o = this.opts;
    const codecs = (o.codecs ?? ['PCMU', 'PCMA']).map(
      (c) => new RTCRtpCodecParameters(c === 'PCMU' ? PCMU_PARAMS : PCMA_PARAMS),
    );
    if (o.telephoneEvent ?? true)
      codecs.push(
        new RTCRtpCodecParameters({
          mimeType: 'audio/telephone-event',
          clockRate: 8000,
          channels: 1,
          payloadType: o.telephoneEventPt ?? 126,
          parameters: '0-16',
        }),
      );
    return {
      codecs: { audio: codecs, video: [] },
      // werift's default is stun.l.google.com: never let a call leak to a third party.
      iceServers: o.stunServer ? [{ urls: `stun:${o.stunServer}` }] : [],
      iceAdditionalHostAddresses: o.hostAddresses,
      iceUseIpv6: (o.hostAddresses ?? []).some((a) => a.includes(':')),
      icePortRange: o.portRange,
    };
  }

  private async localDescriptionAfterGathering(): Promise<SessionDescription> {
    if (this.pc.iceGatheringState !== 'complete') {
      await new Promise<void>((resolve, reject) => {
        const timer = this.clock.setTimeout(() => {
          sub.unSubscribe();
          reject(new SdpNegotiationError('ICE gathering timed out'));
        }, this.opts.gatherTimeoutMs ?? 5000);
        const sub = this.pc.iceGatheringStateChange.subscribe((s) => {
          if (s !== 'complete') return;
          this.clock.clearTimeout(timer);
          sub.unSubscribe();
          resolve();
        });
      });
    }
    const sdp = this.pc.localDescription?.sdp;
    if (!sdp) throw new SdpNegotiationError('no local description');
    this.setup.descriptionReady ??= this.elapsed();
    const d = applyCandidatePolicy(keepOnlyG711(parseSdp(sdp)), {
      hostAddresses: this.opts.hostAddresses,
      publicAddress: this.opts.publicAddress,
    });
    const audio = d.media.find((m) => m.type === 'audio');
    if (audio && !audio.attributes.some((a) => a.name === 'ptime'))
      audio.attributes.push({ name: 'ptime', value: '20' });
    return d;
  }

  private onConnectionState(s: string): void {
    if (this._state === WebRtcState.Closed) return;
    if (s === 'connected') {
      if (this._state === WebRtcState.Connected) return;
      this.setup.connected ??= this.elapsed();
      this.clock.clearTimeout(this.connectTimer);
      this.transition(WebRtcState.Connected);
      this.log.info({ setup: this.setup, codec: this._negotiated?.codec }, 'WebRTC leg connected');
      this.emit('connected');
    } else if (s === 'failed') {
      this.fail('ICE/DTLS failed');
    }
    // 'disconnected' is transient in ICE (consent freshness may recover); werift moves to failed if not.
  }

  private onRtp(rtp: RtpPacket): void {
    this.rx++;
    if (this.setup.firstRtpIn === null) this.setup.firstRtpIn = this.elapsed();
    const h = this.packetHandler;
    if (h) h(rtp.serialize());
  }

  private armConnectTimer(): void {
    if (this._state === WebRtcState.Connected || this.connectTimer) return;
    this.connectTimer = this.clock.setTimeout(() => {
      this.connectTimer = null;
      if (this._state === WebRtcState.Connecting) this.fail('ICE/DTLS connect timeout');
    }, this.opts.connectTimeoutMs ?? 10_000);
  }

  private fail(reason: string): void {
    if (this._state === WebRtcState.Failed || this._state === WebRtcState.Closed) return;
    this.clock.clearTimeout(this.connectTimer);
    this.transition(WebRtcState.Failed);
    this.log.warn({ reason, setup: this.setup }, 'WebRTC leg failed');
    this.emit('failed', reason);
  }

  private sendFailed(err: unknown): void {
    this.txDropped++;
    this.log.debug({ err }, 'SRTP send failed');
  }

  private transition(to: WebRtcState): void {
    checkWebRtcTransition(this._state, to);
    this._state = to;
    this.emit('state', to);
  }

  private assertOpen(): void {
    if (this._state === WebRtcState.Closed || this._state === WebRtcState.Failed)
      throw new IllegalWebRtcTransition(this._state, WebRtcState.Connecting);
  }

  private elapsed(): number {
    return this.startedAt === null ? 0 : Math.round(this.clock.now() - this.startedAt);
  }
}

/**
 * The engine's hook for this kind: `engine.registerEndpointKind('webrtc', webRtcEndpointKind({...}))`, then
 * `engine.createEndpoint('webrtc', { label })` gives a MediaEndpoint whose packets go through werift.
 */
export function webRtcEndpointKind(defaults: Omit<WebRtcEndpointOptions, 'label'> = {}): EndpointKindFactory {
  return (o) => new WebRtcEndpoint({ ...defaults, label: o.label });
}
