/**
 * Splits a TCP/TLS byte stream into whole SIP messages (RFC 3261 §18.3). Pure: no sockets, no timers.
 *
 * On a stream the message boundary is known only from Content-Length, so the framer reads just
 * enough of the header section to find it; the full grammar check is left to the parser.
 * Memory is bounded by `maxHeaderBytes + maxBodyBytes`: a peer sending an endless header list or a
 * huge Content-Length gets an error (and its connection closed) before the buffer can grow past that.
 */

export interface FramerLimits {
  /** Start line + headers + the empty line. */
  maxHeaderBytes: number;
  maxBodyBytes: number;
}

export const DEFAULT_FRAMER_LIMITS: FramerLimits = { maxHeaderBytes: 16 * 1024, maxBodyBytes: 64 * 1024 };

export type FrameEvent =
  /** One whole message: header section and exactly Content-Length body bytes. */
  | { kind: 'message'; data: Buffer }
  /** RFC 5626 §4.4.1 keep-alive ping (CRLF CRLF): the owner answers with a single CRLF pong. */
  | { kind: 'ping' }
  /**
   * The stream cannot be framed any further; the owner closes the connection (§18.3: without a
   * trustworthy Content-Length the next message boundary is unknown). `head` is the complete header
   * section when it was read, so the owner can still answer a request with `status`.
   */
  | { kind: 'error'; reason: string; status: number; head: Buffer | null };

const LF = 0x0a;
const CR = 0x0d;

enum FramerState {
  /** Between messages: CRLFs here are keep-alives (§7.5 says ignore them, RFC 5626 makes pairs a ping). */
  Idle = 'idle',
  Header = 'header',
  Body = 'body',
  Failed = 'failed',
}

const TRANSITIONS: Record<FramerState, readonly FramerState[]> = {
  [FramerState.Idle]: [FramerState.Header, FramerState.Failed],
  [FramerState.Header]: [FramerState.Body, FramerState.Idle, FramerState.Failed],
  [FramerState.Body]: [FramerState.Idle, FramerState.Failed],
  [FramerState.Failed]: [],
};

export class StreamFramer {
  private state = FramerState.Idle;
  private buf: Buffer = Buffer.alloc(0);
  /** Where the search for the end of the header section resumes, so each byte is scanned once. */
  private scan = 0;
  /** Line feeds seen in the current run of keep-alive CR/LF bytes. */
  private idleLfs = 0;
  private headLen = 0;
  private bodyLen = 0;
  private readonly limits: FramerLimits;

  constructor(limits: Partial<FramerLimits> = {}) {
    this.limits = { ...DEFAULT_FRAMER_LIMITS, ...limits };
  }

  /** Bytes held waiting for the rest of a message. */
  get buffered(): number {
    return this.buf.length;
  }

  get failed(): boolean {
    return this.state === FramerState.Failed;
  }

  /** Feeds bytes; returns what became complete. After an 'error' event every later push returns []. */
  push(chunk: Buffer): FrameEvent[] {
    if (this.state === FramerState.Failed) return [];
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: FrameEvent[] = [];
    for (;;) {
      if (this.state === FramerState.Idle) {
        if (!this.skipKeepAlives(out)) break;
        this.move(FramerState.Header);
        this.scan = 0;
      }
      if (this.state === FramerState.Header) {
        const end = this.findHeaderEnd();
        if (end < 0) {
          if (this.buf.length > this.limits.maxHeaderBytes) {
            out.push(this.fail('header section exceeds limit', 513, null));
          }
          break;
        }
        if (end > this.limits.maxHeaderBytes) {
          out.push(this.fail('header section exceeds limit', 513, null));
          break;
        }
        const head = this.buf.subarray(0, end);
        const cl = contentLength(head);
        if (typeof cl === 'string') {
          out.push(this.fail(cl, 400, Buffer.from(head)));
          break;
        }
        if (cl > this.limits.maxBodyBytes) {
          // 413 Request Entity Too Large (§21.4.11): the header section is fine, the body is not.
          out.push(this.fail(`body of ${cl} bytes exceeds limit`, 413, Buffer.from(head)));
          break;
        }
        this.headLen = end;
        this.bodyLen = cl;
        this.move(FramerState.Body);
      }
      if (this.state === FramerState.Body) {
        const total = this.headLen + this.bodyLen;
        if (this.buf.length < total) break;
        // Copy: the caller may keep the message while we reuse or drop the rest of the buffer.
        out.push({ kind: 'message', data: Buffer.from(this.buf.subarray(0, total)) });
        this.buf = this.buf.subarray(total);
        this.move(FramerState.Idle);
        continue;
      }
    }
    if (this.buf.length === 0) this.buf = Buffer.alloc(0);
    return out;
  }

  private move(to: FramerState): void {
    if (!TRANSITIONS[this.state].includes(to)) throw new Error(`stream framer: illegal move ${this.state} → ${to}`);
    this.state = to;
  }

  private fail(reason: string, status: number, head: Buffer | null): FrameEvent {
    this.move(FramerState.Failed);
    this.buf = Buffer.alloc(0);
    return { kind: 'error', reason, status, head };
  }

  /**
   * Consumes CR/LF bytes before a start line. Returns true when a message starts at buf[0].
   * Every second LF of a run is a "double CRLF" ping (RFC 5626 §4.4.1); counting LFs rather than
   * matching "\r\n\r\n" makes the result independent of where the stream was split.
   */
  private skipKeepAlives(out: FrameEvent[]): boolean {
    let i = 0;
    while (i < this.buf.length) {
      const b = this.buf[i]!;
      if (b === LF) {
        this.idleLfs++;
        if (this.idleLfs === 2) {
          out.push({ kind: 'ping' });
          this.idleLfs = 0;
        }
      } else if (b !== CR) {
        break;
      }
      i++;
    }
    this.buf = this.buf.subarray(i);
    if (this.buf.length === 0) return false;
    this.idleLfs = 0;
    return true;
  }

  /** Index just past the empty line ending the header section, or -1. Accepts bare LF line ends too. */
  private findHeaderEnd(): number {
    const b = this.buf;
    // Resume one byte early: an LF at the end of the last chunk may be the first of the pair.
    let i = Math.max(0, this.scan - 2);
    for (; i < b.length; i++) {
      if (b[i] !== LF) continue;
      // LF LF or LF CR LF ends the header section.
      if (i + 1 < b.length && b[i + 1] === LF) return i + 2;
      if (i + 2 < b.length && b[i + 1] === CR && b[i + 2] === LF) return i + 3;
    }
    this.scan = b.length;
    return -1;
  }
}

/**
 * Content-Length of a header section, or a reason string when it cannot be trusted.
 * §18.3: on a stream the header MUST be present; §20.14: compact form `l`.
 * Folded values (§7.3.1) are joined before reading.
 */
export function contentLength(head: Buffer): number | string {
  const lines = head.toString('latin1').split(/\r?\n/);
  const unfolded: string[] = [];
  // Line 0 is the start line.
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    if ((line[0] === ' ' || line[0] === '\t') && unfolded.length > 0) {
      unfolded[unfolded.length - 1] += ' ' + line.trim();
    } else {
      unfolded.push(line);
    }
  }
  let found: number | null = null;
  for (const line of unfolded) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (name !== 'content-length' && name !== 'l') continue;
    const value = line.slice(colon + 1).trim();
    if (!/^[0-9]+$/.test(value)) return `invalid Content-Length "${value.slice(0, 32)}"`;
    // More than 15 digits is over every limit anyway; Infinity keeps it from losing precision into a fit.
    const n = value.length > 15 ? Infinity : Number(value);
    if (found !== null && found !== n) return 'conflicting Content-Length headers';
    found = n;
  }
  if (found === null) return 'missing Content-Length on a stream transport';
  return found;
}
