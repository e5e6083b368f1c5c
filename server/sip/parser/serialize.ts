/**
 * SIP message serializer (RFC 3261 §7): start line, header fields in stored order, a
 * Content-Length computed from the body (§20.14: it MUST be correct, and on stream transports it
 * is the only framing), empty line, body.
 */
import { formatUri } from '../message/grammar.js';
import { SipRequest, type SipMessage, type SipResponse } from '../message/message.js';

function startLine(msg: SipMessage): string {
  if (msg instanceof SipRequest) return `${msg.method} ${formatUri(msg.uri)} ${msg.version}`;
  const r = msg as SipResponse;
  return `${r.version} ${r.status} ${r.reason}`;
}

/** Rejects what would let a value smuggle extra header lines into the output (response splitting). */
function assertSafe(text: string, what: string): void {
  if (/[\r\n]/.test(text)) throw new Error(`${what} contains CR or LF`);
}

export function serializeMessage(msg: SipMessage): Buffer {
  const first = startLine(msg);
  assertSafe(first, 'start line');
  let head = first + '\r\n';
  let clWritten = false;
  const cl = 'Content-Length: ' + msg.body.length + '\r\n';
  for (const f of msg.headers.fields) {
    if (f.name === 'Content-Length') {
      // keep the position of the first one, drop the others
      if (!clWritten) head += cl;
      clWritten = true;
      continue;
    }
    assertSafe(f.value, `${f.name} header`);
    assertSafe(f.name, 'header name');
    head += f.name + ': ' + f.value + '\r\n';
  }
  if (!clWritten) head += cl;
  head += '\r\n';
  if (msg.body.length === 0) return Buffer.from(head, 'utf8');
  return Buffer.concat([Buffer.from(head, 'utf8'), msg.body]);
}
