/**
 * Minimal SDP (RFC 4566) model, parser and serializer, enough for audio sessions from SIP phones, SIPp,
 * baresip, gateways and WebRTC browsers. Unknown lines and attributes are kept, so a description survives
 * parse → serialize, which matters for debugging captures and for re-offers.
 */

export class SdpParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SdpParseError';
  }
}

export interface SdpOrigin {
  username: string;
  /** Kept as decimal strings: RFC 4566 §5.2 allows 64-bit values that a JS number cannot hold. */
  sessionId: string;
  sessionVersion: string;
  netType: string;
  addrType: string;
  address: string;
}

export interface SdpConnection {
  netType: string;
  addrType: string;
  /** Without any /ttl/count suffix. */
  address: string;
}

export interface SdpAttribute {
  name: string;
  /** null for a property attribute (`a=sendrecv`). */
  value: string | null;
}

export interface SdpLine {
  type: string;
  value: string;
}

export interface SdpMedia {
  type: string;
  port: number;
  portCount: number | null;
  proto: string;
  formats: string[];
  connection: SdpConnection | null;
  bandwidths: string[];
  attributes: SdpAttribute[];
  /** i=, k= and unknown lines, in order. */
  other: SdpLine[];
}

export interface SessionDescription {
  version: number;
  origin: SdpOrigin;
  sessionName: string;
  connection: SdpConnection | null;
  bandwidths: string[];
  /** t= lines (with their r= lines appended as raw SdpLine in `other`). */
  timing: string[];
  attributes: SdpAttribute[];
  /** i, u, e, p, r, z, k and unknown session-level lines, in order. */
  other: SdpLine[];
  media: SdpMedia[];
}

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
const DIRECTIONS = new Set<string>(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

const MAX_SDP_BYTES = 65536;
const MAX_MEDIA = 32;

function parseConnection(v: string): SdpConnection {
  const p = v.trim().split(/\s+/);
  if (p.length !== 3) throw new SdpParseError(`bad c= line: ${v}`);
  return { netType: p[0]!, addrType: p[1]!, address: p[2]!.split('/')[0]! };
}

function parseAttribute(v: string): SdpAttribute {
  const i = v.indexOf(':');
  // The value is kept as sent (Chrome writes `a=msid-semantic: WMS`), so serialize(parse(x)) reproduces x.
  return i < 0 ? { name: v.trim(), value: null } : { name: v.slice(0, i).trim(), value: v.slice(i + 1).trimEnd() };
}

export function parseSdp(text: string | Buffer): SessionDescription {
  const s = typeof text === 'string' ? text : text.toString('utf8');
  if (s.length > MAX_SDP_BYTES) throw new SdpParseError('SDP too large');
  const lines = s.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0 || lines[0]!.trim() !== 'v=0') throw new SdpParseError('SDP must start with v=0');
  const desc: Partial<SessionDescription> & { media: SdpMedia[]; other: SdpLine[] } = {
    version: 0,
    connection: null,
    bandwidths: [],
    timing: [],
    attributes: [],
    other: [],
    media: [],
  };
  let m: SdpMedia | null = null;
  for (let li = 1; li < lines.length; li++) {
    const line = lines[li]!;
    if (line.length < 2 || line[1] !== '=') throw new SdpParseError(`malformed SDP line: ${line.slice(0, 40)}`);
    const type = line[0]!;
    const value = line.slice(2);
    if (m) {
      switch (type) {
        case 'm':
          break;
        case 'c':
          m.connection = parseConnection(value);
          continue;
        case 'b':
          m.bandwidths.push(value.trim());
          continue;
        case 'a':
          m.attributes.push(parseAttribute(value));
          continue;
        default:
          m.other.push({ type, value });
          continue;
      }
    }
    switch (type) {
      case 'o': {
        const p = value.trim().split(/\s+/);
        if (p.length !== 6 || !/^\d+$/.test(p[1]!) || !/^\d+$/.test(p[2]!))
          throw new SdpParseError(`bad o= line: ${value}`);
        desc.origin = {
          username: p[0]!,
          sessionId: p[1]!,
          sessionVersion: p[2]!,
          netType: p[3]!,
          addrType: p[4]!,
          address: p[5]!,
        };
        break;
      }
      case 's':
        desc.sessionName = value;
        break;
      case 'c':
        desc.connection = parseConnection(value);
        break;
      case 'b':
        desc.bandwidths!.push(value.trim());
        break;
      case 't':
        desc.timing!.push(value.trim());
        break;
      case 'a':
        desc.attributes!.push(parseAttribute(value));
        break;
      case 'm': {
        if (desc.media.length >= MAX_MEDIA) throw new SdpParseError('too many m= lines');
        const p = value.trim().split(/\s+/);
        if (p.length < 3) throw new SdpParseError(`bad m= line: ${value}`);
        const [portStr, countStr] = p[1]!.split('/');
        const port = Number(portStr);
        if (!/^\d+$/.test(portStr!) || port > 65535) throw new SdpParseError(`bad m= port: ${p[1]}`);
        m = {
          type: p[0]!,
          port,
          portCount: countStr !== undefined && /^\d+$/.test(countStr) ? Number(countStr) : null,
          proto: p[2]!,
          formats: p.slice(3),
          connection: null,
          bandwidths: [],
          attributes: [],
          other: [],
        };
        desc.media.push(m);
        break;
      }
      default:
        desc.other.push({ type, value });
    }
  }
  if (!desc.origin) throw new SdpParseError('SDP without o= line');
  if (desc.sessionName === undefined) throw new SdpParseError('SDP without s= line');
  if (desc.timing!.length === 0) desc.timing!.push('0 0'); // tolerated: some gateways omit t=
  return desc as SessionDescription;
}

function attrLine(a: SdpAttribute): string {
  return a.value === null ? `a=${a.name}` : `a=${a.name}:${a.value}`;
}
function connLine(c: SdpConnection): string {
  return `c=${c.netType} ${c.addrType} ${c.address}`;
}

/** RFC 4566 §5 line order; CRLF line ends. */
export function serializeSdp(d: SessionDescription): string {
  const o = d.origin;
  const out = [
    `v=${d.version}`,
    `o=${o.username} ${o.sessionId} ${o.sessionVersion} ${o.netType} ${o.addrType} ${o.address}`,
    `s=${d.sessionName || '-'}`,
  ];
  // §5 order: i u e p, c, b, t, r z k, then anything else. Plain loops: this runs for every answer and
  // offer (twice, see LocalSdpSession.stamp); with filter/map/spread it was among the main thread's top allocators.
  const other = (types: string) => {
    for (const t of types) for (const l of d.other) if (l.type === t) out.push(`${t}=${l.value}`);
  };
  other('iuep');
  if (d.connection) out.push(connLine(d.connection));
  for (const b of d.bandwidths) out.push(`b=${b}`);
  for (const t of d.timing) out.push(`t=${t}`);
  other('rzk');
  for (const l of d.other) if (!'iueprzk'.includes(l.type)) out.push(`${l.type}=${l.value}`);
  for (const a of d.attributes) out.push(attrLine(a));
  for (const m of d.media) {
    const port = m.portCount !== null ? `${m.port}/${m.portCount}` : `${m.port}`;
    out.push(`m=${m.type} ${port} ${m.proto}${m.formats.length ? ' ' + m.formats.join(' ') : ''}`);
    for (const l of m.other) if (l.type === 'i') out.push(`i=${l.value}`);
    if (m.connection) out.push(connLine(m.connection));
    for (const b of m.bandwidths) out.push(`b=${b}`);
    for (const l of m.other) if (l.type !== 'i') out.push(`${l.type}=${l.value}`);
    for (const a of m.attributes) out.push(attrLine(a));
  }
  return out.join('\r\n') + '\r\n';
}

export function getAttribute(attrs: readonly SdpAttribute[], name: string): string | null | undefined {
  const n = name.toLowerCase();
  for (const a of attrs) if (a.name.toLowerCase() === n) return a.value;
  return undefined;
}
export function hasAttribute(attrs: readonly SdpAttribute[], name: string): boolean {
  return getAttribute(attrs, name) !== undefined;
}

export interface RtpMap {
  payloadType: number;
  encoding: string;
  clockRate: number;
  channels: number;
}

/** Static payload types of RFC 3551 §6 Table 4 that an offer may use without an rtpmap. */
const STATIC_PT: Record<number, [string, number]> = {
  0: ['PCMU', 8000],
  3: ['GSM', 8000],
  4: ['G723', 8000],
  8: ['PCMA', 8000],
  9: ['G722', 8000],
  13: ['CN', 8000],
  18: ['G729', 8000],
};

/** The rtpmap of each format of an m= line; static types get their RFC 3551 defaults. */
export function rtpMaps(m: SdpMedia): Map<number, RtpMap> {
  const maps = new Map<number, RtpMap>();
  for (const f of m.formats) {
    const pt = Number(f);
    if (!/^\d+$/.test(f) || pt > 127) continue;
    const st = STATIC_PT[pt];
    if (st) maps.set(pt, { payloadType: pt, encoding: st[0], clockRate: st[1], channels: 1 });
  }
  for (const a of m.attributes) {
    if (a.name.toLowerCase() !== 'rtpmap' || !a.value) continue;
    const mm = /^\s*(\d+)\s+([^/\s]+)\/(\d+)(?:\/(\d+))?/.exec(a.value);
    if (!mm) continue;
    const pt = Number(mm[1]);
    maps.set(pt, { payloadType: pt, encoding: mm[2]!, clockRate: Number(mm[3]), channels: mm[4] ? Number(mm[4]) : 1 });
  }
  return maps;
}

/** Media-level direction, else session-level, else sendrecv (RFC 4566 §6). */
export function mediaDirection(d: SessionDescription, m: SdpMedia): Direction {
  for (const a of m.attributes) if (DIRECTIONS.has(a.name)) return a.name as Direction;
  for (const a of d.attributes) if (DIRECTIONS.has(a.name)) return a.name as Direction;
  return 'sendrecv';
}

export function mediaConnection(d: SessionDescription, m: SdpMedia): SdpConnection | null {
  return m.connection ?? d.connection;
}

/** ptime from the media or session level, if present and sane. */
export function mediaPtime(d: SessionDescription, m: SdpMedia): number | null {
  const v = getAttribute(m.attributes, 'ptime') ?? getAttribute(d.attributes, 'ptime');
  if (!v) return null;
  const n = Number(v.trim());
  return Number.isFinite(n) && n > 0 && n <= 1000 ? n : null;
}
