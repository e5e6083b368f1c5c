/**
 * Pure SDP work around werift's descriptions for the WebRTC leg: which candidates we advertise (host
 * addresses we actually want reachable, an extra candidate for a 1:1 NAT public address, no TCP), and what
 * was negotiated (G.711 codec, payload types, telephone-event, direction) so the media engine can treat the
 * leg like any other G.711 endpoint.
 */
import { SdpNegotiationError } from '../sdp/offer-answer.js';
import {
  mediaDirection,
  parseSdp,
  rtpMaps,
  serializeSdp,
  type Direction,
  type SdpMedia,
  type SessionDescription,
} from '../sdp/sdp.js';

export type G711Name = 'PCMU' | 'PCMA';

export interface IceCandidateLine {
  foundation: string;
  component: number;
  transport: string;
  priority: number;
  address: string;
  port: number;
  type: string;
  /** Everything after `typ <type>` (raddr/rport, tcptype, generation, ufrag ...), kept verbatim. */
  rest: string;
}

/** RFC 8839 §5.1 candidate-attribute: `foundation component transport priority address port typ type ...`. */
export function parseCandidate(value: string): IceCandidateLine | null {
  const p = value.trim().split(/\s+/);
  if (p.length < 8 || p[6]!.toLowerCase() !== 'typ') return null;
  const component = Number(p[1]);
  const priority = Number(p[3]);
  const port = Number(p[5]);
  if (!Number.isInteger(component) || !Number.isFinite(priority) || !Number.isInteger(port)) return null;
  return {
    foundation: p[0]!,
    component,
    transport: p[2]!.toLowerCase(),
    priority,
    address: p[4]!,
    port,
    type: p[7]!.toLowerCase(),
    rest: p.slice(8).join(' '),
  };
}

export function formatCandidate(c: IceCandidateLine): string {
  return [c.foundation, c.component, c.transport, c.priority, c.address, c.port, 'typ', c.type, c.rest]
    .filter((x) => x !== '')
    .join(' ');
}

/** RFC 8445 §5.1.2.1 priority: 2^24·type preference + 2^8·local preference + (256 − component). */
export function candidatePriority(typePreference: number, localPreference: number, component: number): number {
  return typePreference * 2 ** 24 + localPreference * 2 ** 8 + (256 - component);
}

/** RFC 8445 §5.1.2.2 recommended type preference for server-reflexive candidates. */
const SRFLX_TYPE_PREFERENCE = 100;

export interface CandidatePolicy {
  /**
   * Host candidate addresses to keep. Empty or undefined keeps all. Outside a test namespace werift offers
   * every interface (docker bridges, VPNs); an agent should only be told the ones it can reach.
   */
  hostAddresses?: readonly string[];
  /**
   * Public address of a 1:1 NAT in front of us (cloud elastic IP). For each kept UDP host candidate we add a
   * server-reflexive candidate with this address and the same port, because the NAT keeps the port; no STUN
   * round trip is needed for that.
   */
  publicAddress?: string;
  /** ICE-TCP is not offered: werift's passive TCP is not enabled and a browser's `tcptype active` port 9 is useless. */
  dropTcp?: boolean;
}

/** Applies a CandidatePolicy to every m= section's a=candidate lines (werift does not trickle here). */
export function applyCandidatePolicy(d: SessionDescription, policy: CandidatePolicy): SessionDescription {
  const keep = policy.hostAddresses && policy.hostAddresses.length > 0 ? new Set(policy.hostAddresses) : null;
  const dropTcp = policy.dropTcp ?? true;
  for (const m of d.media) {
    const out: typeof m.attributes = [];
    const added: typeof m.attributes = [];
    for (const a of m.attributes) {
      if (a.name.toLowerCase() !== 'candidate' || a.value === null) {
        out.push(a);
        continue;
      }
      const c = parseCandidate(a.value);
      if (!c) continue; // an unparsable candidate would only confuse the browser
      if (dropTcp && c.transport !== 'udp') continue;
      if (c.type === 'host' && keep && !keep.has(c.address)) continue;
      out.push(a);
      if (policy.publicAddress && c.type === 'host' && c.transport === 'udp' && c.address !== policy.publicAddress) {
        const srflx: IceCandidateLine = {
          foundation: `pub${c.foundation}`.slice(0, 32),
          component: c.component,
          transport: 'udp',
          // Below every host candidate (126 << 24) so a peer on the same LAN still uses the direct path.
          priority: candidatePriority(SRFLX_TYPE_PREFERENCE, 65535, c.component),
          address: policy.publicAddress,
          port: c.port,
          type: 'srflx',
          rest: `raddr ${c.address} rport ${c.port}`,
        };
        added.push({ name: 'candidate', value: formatCandidate(srflx) });
      }
    }
    // Candidates go before end-of-candidates if present.
    const eoc = out.findIndex((a) => a.name.toLowerCase() === 'end-of-candidates');
    if (eoc >= 0) out.splice(eoc, 0, ...added);
    else out.push(...added);
    m.attributes = out;
    // The c= address is what legacy (non-ICE) readers use; point it at what the peer can reach.
    if (policy.publicAddress && m.connection) m.connection = { ...m.connection, address: policy.publicAddress };
  }
  if (policy.publicAddress && d.connection) d.connection = { ...d.connection, address: policy.publicAddress };
  return d;
}

/** Text → text version of applyCandidatePolicy. */
export function rewriteLocalSdp(sdp: string, policy: CandidatePolicy): string {
  return serializeSdp(applyCandidatePolicy(parseSdp(sdp), policy));
}

/**
 * Leaves only PCMU/PCMA and telephone-event/8000 in audio sections, with their rtpmap/fmtp/rtcp-fb lines.
 * werift echoes every telephone-event the browser offered (Chromium adds telephone-event/48000 for opus);
 * our leg never sends opus, so that one only invites the browser to use a clock we do not run.
 */
export function keepOnlyG711(d: SessionDescription): SessionDescription {
  for (const m of d.media) {
    if (m.type !== 'audio' || (m.port === 0 && m.formats.length === 0)) continue;
    const maps = rtpMaps(m);
    const keep = m.formats.filter((f) => {
      const map = maps.get(Number(f));
      if (!map || map.clockRate !== 8000) return false;
      const enc = map.encoding.toUpperCase();
      return enc === 'PCMU' || enc === 'PCMA' || enc === 'TELEPHONE-EVENT';
    });
    if (keep.length === 0) continue; // leave an unusable section as werift wrote it; negotiation fails later
    const drop = new Set(m.formats.filter((f) => !keep.includes(f)));
    m.formats = keep;
    m.attributes = m.attributes.filter((a) => {
      const n = a.name.toLowerCase();
      if ((n !== 'rtpmap' && n !== 'fmtp' && n !== 'rtcp-fb') || a.value === null) return true;
      return !drop.has(a.value.trim().split(/\s+/)[0]!);
    });
  }
  return d;
}

export interface WebRtcNegotiated {
  codec: G711Name;
  /** The payload type we send and expect for audio. */
  payloadType: number;
  /** RFC 4733 telephone-event/8000 payload type, null when not agreed. */
  telephoneEventPt: number | null;
  /** Our direction as written in our own description. */
  direction: Direction;
  /** The remote asks us not to send (sendonly/inactive from its side), i.e. hold. */
  remoteHold: boolean;
}

function firstAudio(d: SessionDescription): SdpMedia | undefined {
  return d.media.find((m) => m.type === 'audio' && m.port !== 0);
}

/**
 * What an offer/answer exchange agreed. Codec and telephone-event come from the answer (its first G.711
 * format is what both sides send; werift's sender also uses codecs[0]), our direction from our own
 * description, hold from the remote one. Throws SdpNegotiationError (→ 488) when the answer has no G.711.
 */
export function readNegotiated(
  answer: SessionDescription,
  local: SessionDescription,
  remote: SessionDescription,
): WebRtcNegotiated {
  const am = firstAudio(answer);
  const lm = firstAudio(local);
  const rm = firstAudio(remote);
  if (!am || !lm || !rm) throw new SdpNegotiationError('no active audio stream');
  const maps = rtpMaps(am);
  let codec: { name: G711Name; pt: number } | null = null;
  let te: number | null = null;
  for (const f of am.formats) {
    const map = maps.get(Number(f));
    if (!map) continue;
    const enc = map.encoding.toUpperCase();
    if (!codec && (enc === 'PCMU' || enc === 'PCMA') && map.clockRate === 8000)
      codec = { name: enc, pt: map.payloadType };
    if (te === null && enc === 'TELEPHONE-EVENT' && map.clockRate === 8000) te = map.payloadType;
  }
  if (!codec) throw new SdpNegotiationError('no G.711 codec in the WebRTC answer');
  const remoteDir = mediaDirection(remote, rm);
  return {
    codec: codec.name,
    payloadType: codec.pt,
    telephoneEventPt: te,
    direction: mediaDirection(local, lm),
    remoteHold: remoteDir === 'sendonly' || remoteDir === 'inactive',
  };
}

/**
 * Whether a browser offer can be answered with G.711 at all: a DTLS-SRTP audio section (UDP/TLS/RTP/SAVPF)
 * with PCMU or PCMA at 8 kHz. Checked before werift is involved, so a bad offer costs no sockets.
 */
export function checkWebRtcOffer(d: SessionDescription): void {
  const m = firstAudio(d);
  if (!m) throw new SdpNegotiationError('no active audio stream');
  if (!m.proto.toUpperCase().includes('SAVPF')) throw new SdpNegotiationError(`not a WebRTC audio stream: ${m.proto}`);
  for (const map of rtpMaps(m).values()) {
    const enc = map.encoding.toUpperCase();
    if ((enc === 'PCMU' || enc === 'PCMA') && map.clockRate === 8000 && m.formats.includes(String(map.payloadType)))
      return;
  }
  throw new SdpNegotiationError('the browser offered neither PCMU nor PCMA');
}
