/**
 * UAS request validation (RFC 3261 §8.2, §16.3 step 3, §20; RFC 4475 §3.2, §3.3).
 *
 * Pure: it looks at a parsed request and says which error response, if any, the UAS core must send
 * before the request reaches the application. The parser has already refused what is not
 * well-formed; this covers requests that are well-formed but that a UAS must not process.
 * The caller must never answer an ACK (§17.1.1.3): a non-null result for an ACK means "drop it".
 */
import { SINGLE_VALUE_HEADERS } from '../message/headers.js';
import { parseCSeq, parseMediaType, parseNameAddr, parseTokenList, parseUnsigned } from '../message/grammar.js';
import type { SipRequest } from '../message/message.js';

export interface RequestCheckOptions {
  /** Option tags we implement (Require / Supported, §8.2.2.3), e.g. ['replaces', 'timer']. */
  supportedExtensions: string[];
  /** Media types we accept in request bodies (§8.2.3), e.g. ['application/sdp']. */
  acceptedContentTypes: string[];
  /** Media types we can answer an INVITE with (406 check, §21.4.7). Default ['application/sdp']. */
  answerContentTypes?: string[];
  /** Request-URI schemes we serve (§8.2.2.1). Default sip, sips, tel. */
  uriSchemes?: string[];
  /** Content codings we understand (§20.12). Default ['identity']. */
  contentEncodings?: string[];
  /** Methods we implement; when given, others get 501 with Allow (§8.2.1). */
  allowedMethods?: string[];
}

export interface RequestRejection {
  status: number;
  reason: string;
  headers?: [string, string][];
}

/** §8.1.1: mandatory in every request. Max-Forwards is left out: RFC 2543 UAs omit it (RFC 4475 §3.4.1). */
const MANDATORY = ['To', 'From', 'CSeq', 'Call-ID', 'Via'] as const;

/** Single-value headers whose repetition makes the request ambiguous (RFC 4475 §3.3.8, §3.3.9). */
const NO_DUPLICATES = [...SINGLE_VALUE_HEADERS].filter((n) =>
  ['Call-ID', 'CSeq', 'From', 'To', 'Max-Forwards', 'Content-Length', 'Content-Type', 'Expires'].includes(n),
);

function bad(reason: string): RequestRejection {
  return { status: 400, reason: `Bad Request (${reason})` };
}

/** Does media type `t` ("type/subtype") match a media-range from Accept (with wildcards, §20.1)? */
function rangeMatches(range: string, t: string): boolean {
  const [rt, rs] = range.split('/');
  const [tt, ts] = t.split('/');
  if (rt === '*') return true;
  return rt === tt && (rs === '*' || rs === ts);
}

export function checkRequest(req: SipRequest, opts: RequestCheckOptions): RequestRejection | null {
  const h = req.headers;
  const method = req.method;

  // §8.1.1 mandatory header fields (RFC 4475 §3.3.1 insuf)
  const missing = MANDATORY.filter((n) => !h.has(n));
  if (missing.length > 0) return bad(`missing ${missing.join(', ')} header${missing.length > 1 ? 's' : ''}`);

  // Duplicated single-value fields (RFC 4475 §3.3.8 multi01, §3.3.9 mcl01)
  const dup = NO_DUPLICATES.filter((n) => h.getAll(n).length > 1);
  if (dup.length > 0) return bad(`multiple ${dup.join(', ')} headers`);

  try {
    parseNameAddr(h.get('From')!);
    parseNameAddr(h.get('To')!);
    // §8.1.1.5: the CSeq method MUST match the request method (RFC 4475 §3.1.2.17 mismatch01)
    const cseq = parseCSeq(h.get('CSeq')!);
    if (cseq.method !== method) return bad(`CSeq method ${cseq.method} does not match ${method}`);
  } catch (e) {
    return bad((e as Error).message);
  }

  // §16.3 step 3 / RFC 4475 §3.3.11: Max-Forwards 0 may not go further; OPTIONS is answered
  // by the element itself (§11), everything else gets 483.
  const mf = h.get('Max-Forwards');
  if (mf !== undefined) {
    let n: number;
    try {
      n = parseUnsigned(mf, 255, 'Max-Forwards');
    } catch (e) {
      return bad((e as Error).message);
    }
    if (n === 0 && method !== 'OPTIONS') return { status: 483, reason: 'Too Many Hops' };
  }

  // §8.2.1 method inspection
  if (opts.allowedMethods && !opts.allowedMethods.includes(method) && method !== 'ACK') {
    return { status: 501, reason: 'Not Implemented', headers: [['Allow', opts.allowedMethods.join(', ')]] };
  }

  // §8.2.2.1: a scheme we do not serve gets 416 (RFC 4475 §3.3.2 unkscm, §3.3.3 novelsc)
  const schemes = opts.uriSchemes ?? ['sip', 'sips', 'tel'];
  if (!schemes.includes(req.uri.scheme)) return { status: 416, reason: 'Unsupported URI Scheme' };

  // §8.2.2.3: unknown Require option tags get 420 listing them in Unsupported (RFC 4475 §3.3.5).
  // Not for ACK/CANCEL, whose Require a UAS ignores. Proxy-Require is for proxies (§20.29).
  if (method !== 'ACK' && method !== 'CANCEL') {
    const unknown: string[] = [];
    try {
      for (const v of h.getAll('Require'))
        for (const tag of parseTokenList(v))
          if (!opts.supportedExtensions.some((s) => s.toLowerCase() === tag.toLowerCase())) unknown.push(tag);
    } catch (e) {
      return bad((e as Error).message);
    }
    if (unknown.length > 0)
      return { status: 420, reason: 'Bad Extension', headers: [['Unsupported', unknown.join(', ')]] };
  }

  // §8.2.3 content processing: body type and coding we understand (RFC 4475 §3.3.6 invut)
  if (req.body.length > 0) {
    const ct = h.get('Content-Type');
    // §20.15: Content-Type MUST be present when there is a body
    if (ct === undefined) return bad('body without Content-Type');
    let type: string;
    try {
      const m = parseMediaType(ct);
      type = `${m.type}/${m.subtype}`;
    } catch (e) {
      return bad((e as Error).message);
    }
    const accepted = opts.acceptedContentTypes.map((t) => t.toLowerCase());
    if (!accepted.includes(type))
      return {
        status: 415,
        reason: 'Unsupported Media Type',
        headers: [['Accept', opts.acceptedContentTypes.join(', ')]],
      };
    const encodings = opts.contentEncodings ?? ['identity'];
    for (const v of h.getAll('Content-Encoding')) {
      for (const enc of v.split(',').map((x) => x.trim().toLowerCase())) {
        if (enc && !encodings.includes(enc))
          return {
            status: 415,
            reason: 'Unsupported Media Type',
            headers: [['Accept-Encoding', encodings.join(', ')]],
          };
      }
    }
  }

  // §21.4.7 / RFC 4475 §3.3.15 sdp01: an INVITE whose Accept excludes every type we could answer with.
  // §20.1: an empty Accept means nothing is acceptable.
  if (method === 'INVITE' && h.has('Accept')) {
    const ranges = h
      .getAll('Accept')
      .flatMap((v) => v.split(','))
      .map((x) => x.split(';')[0]!.trim().toLowerCase())
      .filter((x) => x.length > 0);
    const answer = (opts.answerContentTypes ?? ['application/sdp']).map((t) => t.toLowerCase());
    if (!answer.some((t) => ranges.some((r) => rangeMatches(r, t))))
      return { status: 406, reason: 'Not Acceptable', headers: [['Accept', answer.join(', ')]] };
  }
  return null;
}
