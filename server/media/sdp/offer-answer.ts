/**
 * RFC 3264 offer/answer for the engine's G.711 audio legs: answering a caller's or gateway's offer, building
 * our own offers (calls to agents' phones), reading the answer to those, recognising WebRTC offers (which go
 * to a WebRTC leg instead) and detecting hold.
 */
import { randomInt } from 'node:crypto';
import {
  getAttribute,
  hasAttribute,
  mediaConnection,
  mediaDirection,
  mediaPtime,
  rtpMaps,
  serializeSdp,
  type Direction,
  type SdpAttribute,
  type SdpMedia,
  type SessionDescription,
} from './sdp.js';

export type AudioCodecName = 'PCMU' | 'PCMA';
const STATIC_PT: Record<AudioCodecName, number> = { PCMU: 0, PCMA: 8 };

export class SdpNegotiationError extends Error {
  /** The SIP response to send: 488 Not Acceptable Here (RFC 3261 §21.4.26). */
  readonly status = 488;
  constructor(message: string) {
    super(message);
    this.name = 'SdpNegotiationError';
  }
}

export type OfferKind = 'rtp' | 'webrtc' | 'srtp-sdes' | 'none';

/**
 * What kind of audio an offer asks for. WebRTC = DTLS-SRTP with ICE (UDP/TLS/RTP/SAVPF, a=fingerprint,
 * a=ice-ufrag); those go to the WebRTC leg. 'none' = no audio stream with a port.
 */
export function classifyOffer(d: SessionDescription): OfferKind {
  const audio = d.media.find((m) => m.type === 'audio' && m.port !== 0);
  if (!audio) return 'none';
  const proto = audio.proto.toUpperCase();
  const has = (n: string) => hasAttribute(audio.attributes, n) || hasAttribute(d.attributes, n);
  if (proto.includes('TLS') || proto.endsWith('SAVPF') || has('fingerprint') || has('ice-ufrag')) return 'webrtc';
  if (proto === 'RTP/SAVP') return 'srtp-sdes';
  return 'rtp';
}

/**
 * Whether the remote side has put us on hold in this description: sendonly/inactive (RFC 3264 §8.4) or the
 * legacy c=0.0.0.0 (RFC 2543).
 */
export function isHold(d: SessionDescription, m: SdpMedia = firstAudio(d)): boolean {
  const dir = mediaDirection(d, m);
  return dir === 'sendonly' || dir === 'inactive' || mediaConnection(d, m)?.address === '0.0.0.0';
}

function firstAudio(d: SessionDescription): SdpMedia {
  const m = d.media.find((x) => x.type === 'audio' && x.port !== 0) ?? d.media[0];
  if (!m) throw new SdpNegotiationError('no media stream');
  return m;
}

function canSend(d: Direction): boolean {
  return d === 'sendrecv' || d === 'sendonly';
}
function canRecv(d: Direction): boolean {
  return d === 'sendrecv' || d === 'recvonly';
}
function dirOf(send: boolean, recv: boolean): Direction {
  return send ? (recv ? 'sendrecv' : 'sendonly') : recv ? 'recvonly' : 'inactive';
}

/**
 * RFC 3264 §6.1: we may send only if the offerer receives, receive only if it sends; within that, `wish` is
 * what we want (e.g. 'sendonly' when we hold the peer with music).
 */
export function answerDirection(offered: Direction, wish: Direction = 'sendrecv'): Direction {
  return dirOf(canRecv(offered) && canSend(wish), canSend(offered) && canRecv(wish));
}

/** What a LocalSdpSession remembers between descriptions (plain data: it crosses to the media worker). */
export interface LocalSdpSessionState {
  version: string;
  lastBody: string | null;
}

/** Owns our o= line across a dialog: same session id, version +1 whenever the description changes (§8). */
export class LocalSdpSession {
  readonly sessionId: string;
  private version: bigint;
  private lastBody: string | null = null;

  constructor(
    readonly address: string,
    readonly username = '-',
    sessionId?: string,
  ) {
    this.sessionId = sessionId ?? String(randomInt(1, 2 ** 47));
    this.version = BigInt(this.sessionId);
  }

  get addrType(): 'IP4' | 'IP6' {
    return this.address.includes(':') ? 'IP6' : 'IP4';
  }

  get currentVersion(): string {
    return this.version.toString();
  }

  /** What `stamp` remembers, so another thread's copy of this session can carry on from it (`restore`). */
  get state(): LocalSdpSessionState {
    return { version: this.version.toString(), lastBody: this.lastBody };
  }

  restore(state: LocalSdpSessionState): void {
    this.version = BigInt(state.version);
    this.lastBody = state.lastBody;
  }

  /**
   * Fills in the o= line. §8: a changed description MUST carry version+1; an unchanged one may repeat the
   * version (session-timer refreshes then do not look like a media change to the peer).
   */
  stamp(d: SessionDescription): SessionDescription {
    d.origin = {
      username: this.username,
      sessionId: this.sessionId,
      sessionVersion: '0',
      netType: 'IN',
      addrType: this.addrType,
      address: this.address,
    };
    const body = serializeSdp(d);
    if (this.lastBody !== null && body !== this.lastBody) this.version += 1n;
    this.lastBody = body;
    d.origin.sessionVersion = this.version.toString();
    return d;
  }
}

export interface LocalAudioParams {
  /** Where we receive RTP. */
  address: string;
  port: number;
  /** Codecs we accept, in our preference for offers; default PCMU then PCMA. */
  codecs?: AudioCodecName[];
  /** Offer/accept RFC 4733 telephone-event; default true. */
  telephoneEvent?: boolean;
  /** Payload type for telephone-event in our own offers; default 101. */
  telephoneEventPt?: number;
  /** Our packetisation (a=ptime), default 20. */
  ptime?: number;
  /** Direction we want; default sendrecv. */
  direction?: Direction;
  /** Accept rtcp-mux when offered, and offer it; default true for answers, false for offers. */
  rtcpMux?: boolean;
}

export interface NegotiatedAudio {
  mediaIndex: number;
  codec: AudioCodecName;
  payloadType: number;
  /** Payload type for RFC 4733 events, the remote's number; null if not negotiated. */
  telephoneEventPt: number | null;
  remoteAddress: string;
  remotePort: number;
  /** RFC 3605 a=rtcp, else port + 1; equal to remotePort when rtcp-mux was agreed. */
  remoteRtcpPort: number;
  rtcpMux: boolean;
  /** Our direction as agreed. */
  direction: Direction;
  /** True when the remote description puts us on hold. */
  remoteHold: boolean;
  /** Packet time to use when sending to the remote (its a=ptime, else 20 ms). */
  ptime: number;
}

function connectionOf(address: string) {
  return { netType: 'IN', addrType: address.includes(':') ? 'IP6' : 'IP4', address };
}

function audioAttributes(
  codec: { pt: number; name: AudioCodecName }[],
  te: { pt: number; fmtp: string } | null,
  ptime: number,
  direction: Direction,
  rtcpMux: boolean,
): SdpAttribute[] {
  const a: SdpAttribute[] = codec.map((c) => ({ name: 'rtpmap', value: `${c.pt} ${c.name}/8000` }));
  if (te) {
    a.push({ name: 'rtpmap', value: `${te.pt} telephone-event/8000` });
    a.push({ name: 'fmtp', value: `${te.pt} ${te.fmtp}` });
  }
  a.push({ name: 'ptime', value: String(ptime) });
  if (rtcpMux) a.push({ name: 'rtcp-mux', value: null });
  a.push({ name: direction, value: null });
  return a;
}

function sanePtime(p: number | null): number {
  return p !== null && p >= 10 && p <= 60 && p % 10 === 0 ? p : 20;
}

function remoteRtcp(m: SdpMedia, port: number): number {
  const v = getAttribute(m.attributes, 'rtcp');
  const n = v ? Number(v.trim().split(/\s+/)[0]) : NaN;
  return Number.isInteger(n) && n > 0 && n <= 65535 ? n : port + 1;
}

/**
 * Answers a remote offer. Exactly one audio stream is accepted (the first acceptable one); every other
 * m= line is rejected with port 0, keeping the count and order of the offer (RFC 3264 §6 MUST).
 * Throws SdpNegotiationError (→ 488) when no stream is acceptable.
 */
export function answerOffer(
  offer: SessionDescription,
  local: LocalAudioParams,
  session: LocalSdpSession,
): { answer: SessionDescription; audio: NegotiatedAudio } {
  const ours = local.codecs ?? ['PCMU', 'PCMA'];
  const wantTe = local.telephoneEvent ?? true;
  const wantMux = local.rtcpMux ?? true;
  const ptime = local.ptime ?? 20;
  let audio: NegotiatedAudio | null = null;
  const media: SdpMedia[] = offer.media.map((m, index) => {
    const reject: SdpMedia = {
      type: m.type,
      port: 0,
      portCount: null,
      proto: m.proto,
      formats: m.formats.slice(0, 1),
      connection: null,
      bandwidths: [],
      attributes: [],
      other: [],
    };
    const proto = m.proto.toUpperCase();
    if (audio || m.type !== 'audio' || m.port === 0 || (proto !== 'RTP/AVP' && proto !== 'RTP/AVPF')) return reject;
    const maps = rtpMaps(m);
    let chosen: { pt: number; name: AudioCodecName } | null = null;
    // The offerer's order wins among the codecs we support (RFC 3264 §6.1 SHOULD keep its preference).
    for (const f of m.formats) {
      const rm = maps.get(Number(f));
      if (!rm || rm.clockRate !== 8000 || rm.channels !== 1) continue;
      const name = rm.encoding.toUpperCase() as AudioCodecName;
      if (ours.includes(name)) {
        chosen = { pt: rm.payloadType, name };
        break;
      }
    }
    if (!chosen) return reject;
    let te: { pt: number; fmtp: string } | null = null;
    if (wantTe) {
      for (const rm of maps.values()) {
        if (
          rm.encoding.toLowerCase() === 'telephone-event' &&
          rm.clockRate === 8000 &&
          m.formats.includes(String(rm.payloadType))
        ) {
          te = { pt: rm.payloadType, fmtp: '0-16' };
          break;
        }
      }
    }
    const conn = mediaConnection(offer, m);
    const offered = mediaDirection(offer, m);
    const legacyHold = conn?.address === '0.0.0.0';
    // c=0.0.0.0 means "do not send to me" whatever the attribute says.
    const effective = legacyHold ? dirOf(canSend(offered), false) : offered;
    const direction = answerDirection(effective, local.direction ?? 'sendrecv');
    const mux = wantMux && hasAttribute(m.attributes, 'rtcp-mux');
    audio = {
      mediaIndex: index,
      codec: chosen.name,
      payloadType: chosen.pt,
      telephoneEventPt: te?.pt ?? null,
      remoteAddress: conn?.address ?? '0.0.0.0',
      remotePort: m.port,
      remoteRtcpPort: mux ? m.port : remoteRtcp(m, m.port),
      rtcpMux: mux,
      direction,
      remoteHold: isHold(offer, m),
      ptime: sanePtime(mediaPtime(offer, m)),
    };
    return {
      type: 'audio',
      port: local.port,
      portCount: null,
      proto: m.proto,
      formats: [String(chosen.pt), ...(te ? [String(te.pt)] : [])],
      connection: null, // the session-level c= covers it
      bandwidths: [],
      attributes: audioAttributes([chosen], te, ptime, direction, mux),
      other: [],
    };
  });
  if (!audio) throw new SdpNegotiationError('no acceptable audio stream (need RTP/AVP with PCMU or PCMA)');
  const answer = session.stamp({
    version: 0,
    origin: undefined as never,
    sessionName: '-',
    connection: connectionOf(local.address),
    bandwidths: [],
    timing: ['0 0'],
    attributes: [],
    other: [],
    media,
  });
  return { answer, audio };
}

/** Our own offer (calls to agents, re-INVITE for hold/resume). */
export function createOffer(local: LocalAudioParams, session: LocalSdpSession): SessionDescription {
  const codecs = (local.codecs ?? ['PCMU', 'PCMA']).map((name) => ({ pt: STATIC_PT[name], name }));
  const te = (local.telephoneEvent ?? true) ? { pt: local.telephoneEventPt ?? 101, fmtp: '0-16' } : null;
  const m: SdpMedia = {
    type: 'audio',
    port: local.port,
    portCount: null,
    proto: 'RTP/AVP',
    formats: [...codecs.map((c) => String(c.pt)), ...(te ? [String(te.pt)] : [])],
    connection: null,
    bandwidths: [],
    attributes: audioAttributes(codecs, te, local.ptime ?? 20, local.direction ?? 'sendrecv', local.rtcpMux ?? false),
    other: [],
  };
  return session.stamp({
    version: 0,
    origin: undefined as never,
    sessionName: '-',
    connection: connectionOf(local.address),
    bandwidths: [],
    timing: ['0 0'],
    attributes: [],
    other: [],
    media: [m],
  });
}

/**
 * Reads the answer to an offer we made. The answer must keep our m= lines (§6) and pick formats we offered.
 * Throws SdpNegotiationError when the audio stream was refused or nothing usable was chosen.
 */
export function processAnswer(offer: SessionDescription, answer: SessionDescription): NegotiatedAudio {
  if (answer.media.length !== offer.media.length)
    throw new SdpNegotiationError('answer changed the number of m= lines');
  const index = offer.media.findIndex((m) => m.type === 'audio' && m.port !== 0);
  if (index < 0) throw new SdpNegotiationError('our offer had no audio stream');
  const om = offer.media[index]!;
  const am = answer.media[index]!;
  if (am.type !== 'audio' || am.port === 0) throw new SdpNegotiationError('audio stream rejected by the answerer');
  const oMaps = rtpMaps(om);
  const aMaps = rtpMaps(am);
  let chosen: { pt: number; name: AudioCodecName } | null = null;
  let tePt: number | null = null;
  for (const f of am.formats) {
    const pt = Number(f);
    const rm = aMaps.get(pt) ?? oMaps.get(pt);
    if (!rm || !om.formats.includes(f)) continue;
    const name = rm.encoding.toUpperCase();
    if (!chosen && (name === 'PCMU' || name === 'PCMA') && rm.clockRate === 8000) chosen = { pt, name };
    if (tePt === null && name === 'TELEPHONE-EVENT' && rm.clockRate === 8000) tePt = pt;
  }
  if (!chosen) throw new SdpNegotiationError('answer chose no G.711 codec that we offered');
  const conn = mediaConnection(answer, am);
  const ourDir = mediaDirection(offer, om);
  const theirs = mediaDirection(answer, am);
  const mux = hasAttribute(om.attributes, 'rtcp-mux') && hasAttribute(am.attributes, 'rtcp-mux');
  return {
    mediaIndex: index,
    codec: chosen.name,
    payloadType: chosen.pt,
    telephoneEventPt: tePt,
    remoteAddress: conn?.address ?? '0.0.0.0',
    remotePort: am.port,
    remoteRtcpPort: mux ? am.port : remoteRtcp(am, am.port),
    rtcpMux: mux,
    // What we may do is bounded by both what we offered and what they answered.
    direction: dirOf(canSend(ourDir) && canRecv(theirs), canRecv(ourDir) && canSend(theirs)),
    remoteHold: isHold(answer, am),
    ptime: sanePtime(mediaPtime(answer, am)),
  };
}
