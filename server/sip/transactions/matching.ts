/**
 * Transaction matching keys (RFC 3261 §17.1.3, §17.2.3) and the response destination (§18.2.2,
 * RFC 3581). Each key is one string so that matching costs one Map lookup per message.
 */
import { MAGIC_COOKIE } from '../message/build.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import type { Endpoint, ReadonlyVia, SipUri } from '../message/types.js';

export interface ServerKey {
  key: string;
  /** True for the RFC 2543 fallback. */
  legacy: boolean;
  /**
   * RFC 2543 ACK only: the key of an INVITE that had no To tag. The ACK carries the tag of our
   * response, so an initial INVITE's transaction is found under this key, and the layer then
   * checks the tag against the response it sent.
   */
  untaggedKey?: string;
}

const SEP = '\u0000';

/**
 * §17.2.3 rule 1: with a magic-cookie branch, branch + sent-by of the top Via + method, where ACK
 * counts as INVITE (it matches the INVITE's transaction). CANCEL keeps its own method, so it gets a
 * transaction of its own; `cancelTargetKey` finds the INVITE it cancels (§9.2).
 * Otherwise the RFC 2543 rule: Request-URI, To tag, From tag, Call-ID, CSeq number, top Via and
 * the method (again ACK → INVITE).
 */
export function serverKey(req: SipRequest, methodOverride?: string): ServerKey {
  const via = req.topVia;
  const method = methodOverride ?? (req.method === 'ACK' ? 'INVITE' : req.method);
  const branch = via.params.get('branch');
  if (branch && branch.startsWith(MAGIC_COOKIE) && branch.length > MAGIC_COOKIE.length) {
    return { key: branch + SEP + sentBy(via) + SEP + method, legacy: false };
  }
  const rest = [
    req.callId,
    req.fromTag ?? '',
    String(req.cseq.seq),
    method,
    via.transport + ' ' + sentBy(via) + ';' + (branch ?? ''),
    uriKey(req.uri),
  ].join(SEP);
  const toTag = req.toTag ?? '';
  const key = '2543' + SEP + toTag + SEP + rest;
  if (req.method === 'ACK' && !methodOverride && toTag !== '') {
    return { key, legacy: true, untaggedKey: '2543' + SEP + SEP + rest };
  }
  return { key, legacy: true };
}

/** §9.2: the INVITE server transaction a CANCEL targets is found as if the CANCEL were an INVITE. */
export function cancelTargetKey(cancel: SipRequest): ServerKey {
  return serverKey(cancel, 'INVITE');
}

/** §17.1.3: branch of the top Via + CSeq method (so a CANCEL's responses never hit the INVITE's). */
export function clientKeyOfResponse(res: SipResponse): string | null {
  const branch = res.topVia.params.get('branch');
  if (!branch) return null;
  return branch + SEP + res.cseq.method;
}

export function clientKeyOfRequest(req: SipRequest): string {
  const branch = req.topVia.params.get('branch');
  if (!branch || !branch.startsWith(MAGIC_COOKIE)) {
    throw new Error('an outgoing request needs a top Via with a z9hG4bK branch (§8.1.1.7)');
  }
  return branch + SEP + req.method;
}

function sentBy(via: ReadonlyVia): string {
  return via.host + ':' + (via.port ?? '');
}

/** Enough of §19.1.4 for retransmission matching: the same request carries the same R-URI. */
function uriKey(u: SipUri): string {
  const params = [...u.params].map(([k, v]) => (v === null ? k : `${k}=${v}`)).sort();
  return `${u.scheme}:${u.user ?? ''}@${u.host}:${u.port ?? ''};${params.join(';')}${u.opaque}`;
}

/**
 * §18.2.2 + RFC 3581: connection-oriented transports answer on the connection the request came in
 * on; over UDP the response goes to the source address (the `received` one) and to the source port
 * when the client asked for `rport`, else to the sent-by port (default 5060). `maddr` (multicast)
 * is honoured as the RFC says.
 */
export function responseDestination(req: SipRequest): Endpoint {
  const src = req.source;
  if (!src) throw new Error('request has no source endpoint');
  if (src.transport !== 'UDP') return { ...src };
  const via = req.topVia;
  const maddr = via.params.get('maddr');
  if (maddr) return { transport: 'UDP', address: maddr, port: via.port ?? 5060 };
  const port = via.params.has('rport') ? src.port : (via.port ?? 5060);
  return { transport: 'UDP', address: src.address, port };
}
