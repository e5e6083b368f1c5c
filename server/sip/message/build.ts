/**
 * Message builders shared by the transaction, dialog and UA layers (RFC 3261 §8.1.1.7, §8.2.6,
 * §9.1, §17.1.1.3, §19.3, §21).
 *
 * Headers copied from a request are copied as raw values, not re-serialised, so a peer sees its
 * own Via/From/CSeq byte for byte (§8.2.6.2 says "MUST be equal"; copying avoids any doubt about
 * what equal means for odd spellings).
 */
import { randomPool } from '../../util/random-pool.js';
import { SipRequest, SipResponse } from './message.js';
import type { SipUri } from './types.js';

/** §8.1.1.7: branch MUST start with the magic cookie and be unique in space and time; 96 random bits. */
export const MAGIC_COOKIE = 'z9hG4bK';

/** `n` cryptographically random bytes as base64url (token characters only, §25.1). */
const randomToken = (n: number): string => randomPool.token(n);

export function newBranch(): string {
  return MAGIC_COOKIE + randomToken(12);
}

/** §19.3: tags need at least 32 bits of randomness; 64 bits here. */
export function newTag(): string {
  return randomToken(8);
}

/** §8.1.1.4: Call-ID MUST be globally unique; 128 random bits, an optional host for readability. */
export function newCallId(host?: string): string {
  const id = randomToken(16);
  return host ? `${id}@${host}` : id;
}

/** Default reason phrases (§21 plus the extension codes a contact centre meets). */
export const REASON_PHRASES: Readonly<Record<number, string>> = Object.freeze({
  100: 'Trying',
  180: 'Ringing',
  181: 'Call Is Being Forwarded',
  182: 'Queued',
  183: 'Session Progress',
  199: 'Early Dialog Terminated', // RFC 6228
  200: 'OK',
  202: 'Accepted', // RFC 3265
  204: 'No Notification', // RFC 5839
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Moved Temporarily',
  305: 'Use Proxy',
  380: 'Alternative Service',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  410: 'Gone',
  412: 'Conditional Request Failed', // RFC 3903
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme',
  420: 'Bad Extension',
  421: 'Extension Required',
  422: 'Session Interval Too Small', // RFC 4028
  423: 'Interval Too Brief',
  429: 'Provide Referrer Identity', // RFC 3892
  433: 'Anonymity Disallowed', // RFC 5079
  480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist',
  482: 'Loop Detected',
  483: 'Too Many Hops',
  484: 'Address Incomplete',
  485: 'Ambiguous',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  489: 'Bad Event', // RFC 6665
  491: 'Request Pending',
  493: 'Undecipherable',
  494: 'Security Agreement Required', // RFC 3329
  500: 'Server Internal Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Server Time-out',
  505: 'Version Not Supported',
  513: 'Message Too Large',
  580: 'Precondition Failure', // RFC 3312
  600: 'Busy Everywhere',
  603: 'Decline',
  604: 'Does Not Exist Anywhere',
  606: 'Not Acceptable',
  607: 'Unwanted', // RFC 8197
});

/** §21: an unknown code gets the phrase of its class (x00). */
export function reasonPhrase(status: number): string {
  return REASON_PHRASES[status] ?? REASON_PHRASES[Math.floor(status / 100) * 100] ?? 'Unknown';
}

export interface CreateResponseOptions {
  /** To-tag to add when the request's To has none (ignored when it already has one, §8.2.6.2). */
  toTag?: string;
}

/** Appends a tag parameter to a raw From/To value. Works for both name-addr and addr-spec forms,
 * because in the addr-spec form a trailing `;param` belongs to the header, not the URI (§20.10). */
export function withTag(rawNameAddr: string, tag: string): string {
  return `${rawNameAddr.trimEnd()};tag=${tag}`;
}

/**
 * §8.2.6: a response copies Via (all values, in order), From, To, Call-ID and CSeq, and adds
 * nothing else (Content-Length is the serialiser's job).
 * §8.2.6.2: the UAS MUST add a To tag if the request had none, except that a 100 MAY omit it; so
 * a tag is added for status > 100, using `opts.toTag` when given (a UAS keeps one tag for every
 * response of a dialog) or a fresh one otherwise.
 */
export function createResponse(
  req: SipRequest,
  status: number,
  reason?: string,
  opts: CreateResponseOptions = {},
): SipResponse {
  if (!Number.isInteger(status) || status < 100 || status > 699) throw new RangeError(`bad status ${status}`);
  const res = new SipResponse(status, reason ?? reasonPhrase(status));
  for (const v of req.headers.getAll('Via')) res.headers.add('Via', v);
  res.headers.add('From', requireRaw(req, 'From'));
  const to = requireRaw(req, 'To');
  const untagged = req.toTag === null;
  const addTag = untagged && (status > 100 || opts.toTag !== undefined);
  res.headers.add('To', addTag ? withTag(to, opts.toTag ?? newTag()) : to);
  res.headers.add('Call-ID', requireRaw(req, 'Call-ID'));
  res.headers.add('CSeq', requireRaw(req, 'CSeq'));
  return res;
}

/**
 * §17.1.1.3: the ACK for a non-2xx final response is built by the INVITE client transaction:
 * same Request-URI, Call-ID, From and CSeq number as the INVITE (method ACK), To from the
 * response (it carries the tag), one Via equal to the INVITE's top Via, and the INVITE's Route
 * headers. Max-Forwards is copied as well because §8.1.1 makes it mandatory in every request.
 */
export function createAckForNon2xx(invite: SipRequest, response: SipResponse): SipRequest {
  const ack = new SipRequest('ACK', cloneUri(invite.uri), invite.version);
  ack.headers.add('Via', requireRaw(invite, 'Via'));
  copyRoutingHeaders(invite, ack);
  ack.headers.add('From', requireRaw(invite, 'From'));
  ack.headers.add('To', requireRaw(response, 'To'));
  ack.headers.add('Call-ID', requireRaw(invite, 'Call-ID'));
  ack.headers.add('CSeq', `${invite.cseq.seq} ACK`);
  return ack;
}

/**
 * §9.1: CANCEL copies Request-URI, Call-ID, To, From and the CSeq number of the request being
 * cancelled (method CANCEL), has a single Via equal to the request's top Via (so it reaches the
 * same server transaction, with the same branch), and copies its Route headers.
 */
export function createCancel(invite: SipRequest): SipRequest {
  if (invite.method !== 'INVITE') throw new Error(`CANCEL is only for INVITE here, not ${invite.method} (§9.1)`);
  const cancel = new SipRequest('CANCEL', cloneUri(invite.uri), invite.version);
  cancel.headers.add('Via', requireRaw(invite, 'Via'));
  copyRoutingHeaders(invite, cancel);
  cancel.headers.add('From', requireRaw(invite, 'From'));
  cancel.headers.add('To', requireRaw(invite, 'To'));
  cancel.headers.add('Call-ID', requireRaw(invite, 'Call-ID'));
  cancel.headers.add('CSeq', `${invite.cseq.seq} CANCEL`);
  return cancel;
}

/**
 * The part of a message a finished transaction still matches on (§17.2.3: top Via branch and sent-by,
 * method, and for RFC 2543 peers From/To tags, Call-ID and CSeq): those headers only, no body.
 * A transaction that lingers for Timer L or J (32 s) keeps this instead of the whole message, so the
 * parsed headers and SDP of a call that has ended are not carried through every young-generation GC
 * and into the old generation.
 */
export function matchingSkeleton<M extends SipRequest | SipResponse>(msg: M): M {
  const out = (
    msg instanceof SipRequest
      ? new SipRequest(msg.method, msg.uri, msg.version)
      : new SipResponse(msg.status, msg.reason, msg.version)
  ) as M;
  for (const f of msg.headers.fields) if (MATCHING_HEADERS.has(f.name)) out.headers.fields.push(f);
  out.source = msg.source;
  return out;
}
const MATCHING_HEADERS = new Set(['Via', 'From', 'To', 'Call-ID', 'CSeq']);

export interface SentBy {
  transport: string;
  host: string;
  port?: number | null;
}

/**
 * Puts our own Via on top of an outgoing request (§8.1.1.7, §18.1.1) with a fresh branch and an
 * empty rport (RFC 3581) so that replies find us behind NAT. Returns the branch.
 */
export function addVia(req: SipRequest, sentBy: SentBy, branch: string = newBranch()): string {
  const port = sentBy.port ? `:${sentBy.port}` : '';
  req.headers.prepend('Via', `SIP/2.0/${sentBy.transport.toUpperCase()} ${sentBy.host}${port};branch=${branch};rport`);
  return branch;
}

export function cloneUri(uri: SipUri): SipUri {
  return { ...uri, params: new Map(uri.params), headers: new Map(uri.headers) };
}

function copyRoutingHeaders(from: SipRequest, to: SipRequest): void {
  for (const r of from.headers.getAll('Route')) to.headers.add('Route', r);
  to.headers.add('Max-Forwards', from.headers.get('Max-Forwards') ?? '70');
}

function requireRaw(msg: SipRequest | SipResponse, name: string): string {
  const v = msg.headers.get(name);
  if (v === undefined) throw new Error(`missing ${name} header`);
  return v;
}
