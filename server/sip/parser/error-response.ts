/**
 * The response to a request that failed to parse (§8.2.6, §16.3, RFC 4475 §3.1.2). It is sent
 * statelessly, from the salvaged header fields of a SipMessageParseError.
 */
import { randomBytes } from 'node:crypto';
import { parseNameAddr } from '../message/grammar.js';
import { SipResponse } from '../message/message.js';
import { SipParseError } from '../message/types.js';
import { SipMessageParseError } from './parse.js';

const DEFAULT_REASONS: Record<number, string> = {
  400: 'Bad Request',
  413: 'Request Entity Too Large',
  505: 'Version Not Supported',
  513: 'Message Too Large',
};

/** Reason phrases must stay on one line and within printable UTF-8 (§25.1 Reason-Phrase). */
function sanitizeReason(text: string): string {
  const clean = text.replace(/[\x00-\x1f\x7f]/g, '?'); // eslint-disable-line no-control-regex
  return clean.length > 200 ? clean.slice(0, 200) : clean;
}

/**
 * Builds the error response for a parse failure, or returns null when nothing must be sent: a
 * malformed response (status null), an ACK (never answered, §17.1.1.3), or a request without the
 * Via needed to route a response back (§18.2.2).
 */
export function parseErrorResponse(err: unknown): SipResponse | null {
  if (!(err instanceof SipParseError) || err.status === null) return null;
  const partial = err instanceof SipMessageParseError ? err.partial : null;
  if (!partial || partial.method === 'ACK') return null;
  const h = partial.headers;
  if (!h.has('Via')) return null;
  const base = DEFAULT_REASONS[err.status] ?? 'Bad Request';
  const res = new SipResponse(err.status, sanitizeReason(`${base} (${err.message})`));
  // §8.2.6.2: Via (all, in order), From, Call-ID, CSeq copied; To copied and tagged
  for (const v of h.getAll('Via')) res.headers.add('Via', v);
  for (const name of ['From', 'To', 'Call-ID', 'CSeq']) {
    const v = h.get(name);
    if (v === undefined) continue;
    if (name === 'To') {
      let tagged = v;
      try {
        if (!parseNameAddr(v).params.has('tag')) tagged = `${v};tag=${randomBytes(6).toString('hex')}`;
      } catch {
        // malformed To: copied as it came; the request is broken anyway
      }
      res.headers.add('To', tagged);
    } else {
      res.headers.add(name, v);
    }
  }
  return res;
}
