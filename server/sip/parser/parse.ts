/**
 * SIP message parser (RFC 3261 §7, §18.3, §20, §25; hardened against RFC 4475).
 *
 * One pass over the head: start line, header lines with LWS folding undone (§7.3.1), compact forms
 * expanded, list headers split into one entry per element, then the well-known headers are parsed
 * eagerly so that a malformed one becomes a 400 at the door instead of an exception deep inside a
 * transaction. Errors carry the status to answer with (400, 505, 513) or null for a response, which
 * is dropped silently (§18.1.2, RFC 4475 §3.1.2.5). A failed request also carries whatever header
 * fields could be salvaged, so the caller can still build the 400 (§8.2.6 needs Via, From, To,
 * Call-ID, CSeq).
 */
import { canonicalHeaderName, knownHeaderAt, LIST_HEADERS } from '../message/headers.js';
import {
  isToken,
  parseCSeq,
  parseMediaType,
  parseNameAddr,
  parseNameAddrList,
  parseRequestUri,
  parseTokenList,
  parseUnsigned,
  parseVia,
  splitHeaderValues,
} from '../message/grammar.js';
import { SipHeaders, SipRequest, SipResponse } from '../message/message.js';
import { SipParseError } from '../message/types.js';
import { fastMediaType, fastNameAddr, fastTokenList, fastVia } from './fast-check.js';

export interface ParseOptions {
  /** Received over a stream transport (TCP/TLS/WS): the framer cut the message and Content-Length is mandatory (§18.3, §20.14). */
  stream?: boolean;
  /** Larger messages are refused with 513 (§21.5.14). Default 65535, the UDP ceiling. */
  maxBytes?: number;
  /** Bound on header fields after list splitting, against memory exhaustion. Default 256. */
  maxHeaders?: number;
}

/** Header fields of a request that failed to parse, enough for a stateless 400 (§8.2.6). */
export interface PartialRequest {
  method: string | null;
  headers: SipHeaders;
}

/** A parse failure with, for requests, the salvaged header fields. */
export class SipMessageParseError extends SipParseError {
  constructor(
    message: string,
    status: number | null,
    public readonly partial: PartialRequest | null,
  ) {
    super(message, status);
  }
}

const DEFAULT_MAX_BYTES = 65535;
const DEFAULT_MAX_HEADERS = 256;
const MAX_UINT32 = 2 ** 32 - 1;
const VERSION_RE = /^SIP\/(\d+)\.(\d+)$/i;

/** Signals a failure found while parsing; turned into SipMessageParseError at the top. */
class Fail {
  constructor(
    readonly reason: string,
    readonly status: number,
  ) {}
}

function fail(reason: string, status = 400): never {
  throw new Fail(reason, status);
}

/**
 * Parses one SIP message.
 * @throws SipMessageParseError whose `status` is the response to send (null: drop silently).
 */
export function parseMessage(buf: Buffer, opts: ParseOptions = {}): SipRequest | SipResponse {
  // §7.5: CRLFs before the start line are ignored (stream keep-alives, RFC 5626 §3.5.1)
  let start = 0;
  while (start < buf.length && (buf[start] === 13 || buf[start] === 10)) start++;
  if (start >= buf.length) throw new SipMessageParseError('empty message', null, null);
  // A response starts with its version; a method never contains '/' so "SIP/" is unambiguous.
  const isResponse =
    buf.length - start >= 4 &&
    (buf[start]! | 0x20) === 0x73 &&
    (buf[start + 1]! | 0x20) === 0x69 &&
    (buf[start + 2]! | 0x20) === 0x70 &&
    buf[start + 3] === 0x2f;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  let headEnd = -1;
  let head = '';
  try {
    if (buf.length > maxBytes) fail(`message larger than ${maxBytes} bytes`, 513);
    // End of head: the first empty line. A datagram that ends right after its last header line
    // has no body; accept it (RFC 4475 §3.1.2.15 ends that way and must fail for another reason).
    let bodyStart: number;
    headEnd = buf.indexOf('\r\n\r\n', start, 'latin1');
    if (headEnd >= 0) bodyStart = headEnd + 4;
    else {
      const lf = buf.indexOf('\n\n', start, 'latin1');
      if (lf >= 0) {
        headEnd = lf;
        bodyStart = lf + 2;
      } else {
        headEnd = buf.length;
        bodyStart = buf.length;
      }
    }
    head = buf.toString('utf8', start, headEnd);
    const msg = parseHead(head, opts.maxHeaders ?? DEFAULT_MAX_HEADERS);
    msg.body = frameBody(msg, buf, bodyStart, opts.stream === true);
    return msg;
  } catch (e) {
    // Hostile input must never escape as a TypeError: any surprise is still a 400 / a drop.
    const f =
      e instanceof Fail
        ? e
        : e instanceof SipParseError
          ? new Fail(e.message, e.status ?? 400)
          : new Fail('unparseable message', 400);
    if (isResponse) throw new SipMessageParseError(f.reason, null, null);
    if (!head) {
      // failed before the head was decoded (oversize): salvage from a bounded prefix
      const limit = Math.min(buf.length, start + maxBytes);
      const he = buf.indexOf('\r\n\r\n', start, 'latin1');
      head = buf.toString('utf8', start, he >= 0 && he < limit ? he : limit);
    }
    throw new SipMessageParseError(f.reason, f.status, salvage(head));
  }
}

function parseHead(head: string, maxHeaders: number): SipRequest | SipResponse {
  // §25.1: CR appears only in CRLF; a lone CR would survive into a header value and could never be
  // re-sent (our serializer refuses it as header injection), so the message is malformed here.
  if (LONE_CR.test(head)) fail('CR not followed by LF');
  let eol = head.indexOf('\n');
  if (eol < 0) eol = head.length;
  const startLine = head.charCodeAt(eol - 1) === 13 ? head.slice(0, eol - 1) : head.slice(0, eol);
  const msg = parseStartLine(startLine);
  const fields = msg.headers.fields;

  // Header lines, folds joined (§7.3.1: a line starting with SP/HT continues the previous one).
  let pos = eol + 1;
  let name = '';
  let value = '';
  while (pos < head.length) {
    let e = head.indexOf('\n', pos);
    if (e < 0) e = head.length;
    const lineEnd = head.charCodeAt(e - 1) === 13 ? e - 1 : e;
    const c = head.charCodeAt(pos);
    if (c === 32 || c === 9) {
      if (!name) fail('folded line before the first header');
      const more = head.slice(pos, lineEnd).trim();
      value = value === '' ? more : more === '' ? value : value + ' ' + more;
    } else {
      if (name) addField(fields, name, value, maxHeaders);
      const colon = head.indexOf(':', pos);
      if (colon < 0 || colon >= lineEnd) fail(`header line without ':' (${clip(head.slice(pos, lineEnd))})`);
      // HCOLON = *( SP / HTAB ) ":" SWS
      let ne = colon;
      while (ne > pos && (head.charCodeAt(ne - 1) === 32 || head.charCodeAt(ne - 1) === 9)) ne--;
      const known = ne > pos ? knownHeaderAt(head, pos, ne - pos) : undefined;
      if (known !== undefined) name = known;
      else {
        const raw = head.slice(pos, ne);
        if (!isToken(raw)) fail(`invalid header name ${JSON.stringify(clip(raw))}`);
        name = canonicalHeaderName(raw);
      }
      // trim by index: one slice instead of two strings per line
      let vs = colon + 1;
      let ve = lineEnd;
      while (vs < ve && isSpace(head.charCodeAt(vs))) vs++;
      while (ve > vs && isSpace(head.charCodeAt(ve - 1))) ve--;
      value = head.slice(vs, ve);
    }
    pos = e + 1;
  }
  if (name) addField(fields, name, value, maxHeaders);
  checkWellKnown(msg);
  return msg;
}

const LONE_CR = /\r(?!\n)/;

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13;
}

function clip(s: string): string {
  return s.length > 40 ? s.slice(0, 40) + '...' : s;
}

function parseStartLine(line: string): SipRequest | SipResponse {
  if (line.length === 0) fail('empty start line');
  if (
    line.length > 4 &&
    (line.charCodeAt(0) | 0x20) === 0x73 &&
    (line.charCodeAt(1) | 0x20) === 0x69 &&
    (line.charCodeAt(2) | 0x20) === 0x70 &&
    line.charCodeAt(3) === 0x2f
  ) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (§7.2)
    const sp1 = line.indexOf(' ');
    if (sp1 < 0) fail('malformed Status-Line');
    const version = line.slice(0, sp1);
    if (!VERSION_RE.test(version)) fail('malformed SIP-Version in Status-Line');
    const code = line.slice(sp1 + 1, sp1 + 4);
    if (!/^[1-6]\d\d$/.test(code)) fail('Status-Code must be three digits 100-699');
    const rest = line.slice(sp1 + 4);
    // Reason-Phrase may be empty; tolerate a missing SP before it (RFC 4475 §3.1.1.13)
    if (rest.length > 0 && rest.charCodeAt(0) !== 32) fail('Status-Code must be three digits 100-699');
    if (version.toUpperCase() !== 'SIP/2.0') fail(`unsupported SIP version ${version}`, 505);
    for (let i = 1; i < rest.length; i++) {
      const c = rest.charCodeAt(i);
      if ((c < 32 && c !== 9) || c === 127) fail('control character in Reason-Phrase');
    }
    return new SipResponse(Number(code), rest.slice(1), 'SIP/2.0');
  }
  // Request-Line = Method SP Request-URI SP SIP-Version (§7.1): exactly two single spaces
  const sp1 = line.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp2 < 0) fail('malformed Request-Line');
  if (sp2 === sp1 + 1 || line.indexOf(' ', sp2 + 1) >= 0 || sp2 === line.length - 1)
    fail('extra whitespace in Request-Line');
  const method = line.slice(0, sp1);
  if (!isToken(method)) fail('invalid method token');
  const version = line.slice(sp2 + 1);
  if (version !== 'SIP/2.0') {
    if (!VERSION_RE.test(version)) fail(`malformed SIP-Version ${JSON.stringify(clip(version))} in Request-Line`);
    // §21.5.7: a well-formed other version is 505, checked before the URI so badvers gets 505
    if (version.toUpperCase() !== 'SIP/2.0') fail(`SIP version ${version} not supported`, 505);
  }
  const uri = parseRequestUri(line.slice(sp1 + 1, sp2));
  return new SipRequest(method, uri, 'SIP/2.0');
}

function addField(fields: { name: string; value: string }[], name: string, value: string, maxHeaders: number): void {
  if (LIST_HEADERS.has(name) && value.indexOf(',') >= 0) {
    for (const part of splitHeaderValues(value)) {
      if (part === '') fail(`empty element in ${name} list`);
      fields.push({ name, value: part });
    }
  } else {
    fields.push({ name, value });
  }
  if (fields.length > maxHeaders) fail(`more than ${maxHeaders} header fields`, 513);
}

/** Parses the headers every layer relies on, so that a malformed one is a 400 with a clear reason. */
function checkWellKnown(msg: SipRequest | SipResponse): void {
  let cseqSeen = false;
  for (const f of msg.headers.fields) {
    const v = f.value;
    try {
      switch (f.name) {
        case 'Via':
          if (!fastVia(v)) parseVia(v);
          break;
        case 'From':
        case 'To':
        case 'Reply-To':
          if (!fastNameAddr(v)) parseNameAddr(v);
          break;
        case 'Contact':
        case 'Route':
        case 'Record-Route':
        case 'Path':
        case 'Service-Route': {
          // after addField's split each entry is normally one address
          if (fastNameAddr(v)) break;
          const list = parseNameAddrList(v);
          if (list.some((n) => n.wildcard) && f.name !== 'Contact') throw new SipParseError('"*" not allowed');
          break;
        }
        case 'Call-ID':
          // callid = word [ "@" word ]: anything visible, no whitespace
          if (v.length === 0 || /\s/.test(v)) throw new SipParseError('must be one word without spaces');
          break;
        case 'CSeq': {
          const c = parseCSeq(v);
          // §8.1.1.5: the CSeq method MUST match the request method (RFC 4475 §3.1.2.17)
          if (!cseqSeen && msg instanceof SipRequest && c.method !== msg.method)
            throw new SipParseError(`method ${c.method} does not match the request method ${msg.method}`);
          cseqSeen = true;
          break;
        }
        case 'Max-Forwards':
          parseUnsigned(v, 255, 'Max-Forwards'); // §20.22: 0-255
          break;
        case 'Content-Length':
          parseUnsigned(v, MAX_UINT32, 'Content-Length');
          break;
        case 'Expires':
        case 'Min-Expires':
          parseUnsigned(v, MAX_UINT32, f.name); // §20.19: up to 2^32-1
          break;
        case 'Content-Type':
          if (!fastMediaType(v)) parseMediaType(v);
          break;
        case 'Require':
        case 'Proxy-Require':
        case 'Supported':
        case 'Unsupported':
        case 'Allow':
          if (!fastTokenList(v)) parseTokenList(v);
          break;
      }
    } catch (e) {
      if (e instanceof SipParseError) fail(`Bad ${f.name} header: ${e.message}`);
      throw e;
    }
  }
}

/** Content-Length rules of §18.3 and §20.14. */
function frameBody(msg: SipRequest | SipResponse, buf: Buffer, bodyStart: number, stream: boolean): Buffer {
  let cl: number | undefined;
  for (const f of msg.headers.fields) {
    if (f.name !== 'Content-Length') continue;
    const n = Number(f.value);
    // Two different lengths leave no way to frame the body (RFC 4475 §3.3.9)
    if (cl !== undefined && cl !== n) fail('conflicting Content-Length headers');
    cl = n;
  }
  const available = buf.length - bodyStart;
  if (cl === undefined) {
    // §18.3: mandatory on stream transports; on datagrams the body runs to the end of the packet
    if (stream) fail('missing Content-Length on a stream transport');
    return buf.subarray(bodyStart);
  }
  // §18.3: a datagram body shorter than Content-Length is an error (RFC 4475 §3.1.2.2) ...
  if (available < cl) fail(`Content-Length ${cl} larger than the ${available} body bytes received`);
  // ... and octets beyond it are discarded (RFC 4475 §3.1.1.8)
  return buf.subarray(bodyStart, bodyStart + cl);
}

/** Best-effort header extraction from a head that failed to parse, for the 400 (§8.2.6). */
function salvage(head: string): PartialRequest | null {
  if (!head) return null;
  const lines = head.split(/\r?\n/);
  const sp = lines[0]!.indexOf(' ');
  const method = sp > 0 && isToken(lines[0]!.slice(0, sp)) ? lines[0]!.slice(0, sp) : null;
  const headers = new SipHeaders();
  let cur: { name: string; value: string } | null = null;
  for (let i = 1; i < lines.length && headers.fields.length < DEFAULT_MAX_HEADERS; i++) {
    const line = lines[i]!;
    if ((line.startsWith(' ') || line.startsWith('\t')) && cur) {
      cur.value += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    const raw = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!isToken(raw)) {
      cur = null;
      continue;
    }
    const name = canonicalHeaderName(raw);
    const value = line.slice(colon + 1).trim();
    const field = { name, value };
    cur = field;
    if (name === 'Via' && value.indexOf(',') >= 0) {
      try {
        for (const part of splitHeaderValues(value)) if (part) headers.fields.push({ name, value: part });
        cur = null;
        continue;
      } catch {
        // unbalanced quotes: keep the raw value
      }
    }
    headers.fields.push(field);
  }
  return { method, headers };
}
