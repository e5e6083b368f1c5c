import type { CSeq, Endpoint, HeaderField, NameAddr, ReadonlyVia, SipUri, Via } from './types.js';
import { canonicalHeaderName } from './headers.js';
import { parseCSeq, parseNameAddr, parseNameAddrList, parseVia } from './grammar.js';

/**
 * Ordered header list. Names are stored canonical (compact forms expanded, see headers.ts);
 * look-ups are case-insensitive (§7.3.5).
 */
export class SipHeaders {
  readonly fields: HeaderField[] = [];

  /** First value of a header, or undefined. */
  get(name: string): string | undefined {
    const n = canonicalHeaderName(name);
    for (const f of this.fields) if (f.name === n) return f.value;
    return undefined;
  }
  getAll(name: string): string[] {
    const n = canonicalHeaderName(name);
    return this.fields.filter((f) => f.name === n).map((f) => f.value);
  }
  has(name: string): boolean {
    return this.get(name) !== undefined;
  }
  /** Appends a value after the existing ones. */
  add(name: string, value: string): this {
    this.fields.push({ name: canonicalHeaderName(name), value });
    return this;
  }
  /** Puts a value first (Via, Record-Route, Route prepend, §16.6). */
  prepend(name: string, value: string): this {
    this.fields.unshift({ name: canonicalHeaderName(name), value });
    return this;
  }
  /** Replaces every value of the header with one value, at the position of the first. */
  set(name: string, value: string): this {
    const n = canonicalHeaderName(name);
    const i = this.fields.findIndex((f) => f.name === n);
    this.remove(n);
    if (i < 0) this.fields.push({ name: n, value });
    else this.fields.splice(i, 0, { name: n, value });
    return this;
  }
  remove(name: string): this {
    const n = canonicalHeaderName(name);
    for (let i = this.fields.length - 1; i >= 0; i--) if (this.fields[i]!.name === n) this.fields.splice(i, 1);
    return this;
  }
  /** Removes only the first value (a proxy popping its own Via, §16.7 step 3). */
  removeFirst(name: string): string | undefined {
    const n = canonicalHeaderName(name);
    const i = this.fields.findIndex((f) => f.name === n);
    if (i < 0) return undefined;
    return this.fields.splice(i, 1)[0]!.value;
  }
  clone(): SipHeaders {
    const h = new SipHeaders();
    for (const f of this.fields) h.fields.push({ ...f });
    return h;
  }
}

const EMPTY_BODY = Buffer.alloc(0);

/** What both requests and responses have (§7). Typed accessors parse from the raw values on demand. */
export abstract class SipMessage {
  readonly headers = new SipHeaders();
  /** Shared while empty: a zero-length Buffer has no bytes to mutate, and this saves an allocation per message. */
  body: Buffer = EMPTY_BODY;
  /** Set by the transport layer on received messages. */
  source?: Endpoint;

  abstract readonly isRequest: boolean;

  get callId(): string {
    return this.headers.get('Call-ID') ?? '';
  }
  get cseq(): CSeq {
    return parseCSeq(this.requireHeader('CSeq'));
  }
  get from(): NameAddr {
    return parseNameAddr(this.requireHeader('From'));
  }
  get to(): NameAddr {
    return parseNameAddr(this.requireHeader('To'));
  }
  /**
   * Tags are asked for several times per message on the way through the stack (matching, dialogs, calls),
   * and each ask parsed the whole name-addr: remembered against the raw header value they came from, so a
   * rewritten header is parsed again.
   */
  get fromTag(): string | null {
    const raw = this.requireHeader('From');
    if (raw !== this.fromTagOf) {
      this.fromTagValue = parseNameAddr(raw).params.get('tag') ?? null;
      this.fromTagOf = raw;
    }
    return this.fromTagValue;
  }
  get toTag(): string | null {
    const raw = this.requireHeader('To');
    if (raw !== this.toTagOf) {
      this.toTagValue = parseNameAddr(raw).params.get('tag') ?? null;
      this.toTagOf = raw;
    }
    return this.toTagValue;
  }
  private fromTagOf: string | undefined = undefined;
  private fromTagValue: string | null = null;
  private toTagOf: string | undefined = undefined;
  private toTagValue: string | null = null;
  /** All Via entries, top first. */
  get vias(): Via[] {
    return this.headers.getAll('Via').map(parseVia);
  }
  /**
   * Read by the transaction key, the response route and the client matching, several times per message: parsed
   * once per raw value and shared, hence read-only (a rewritten Via header is parsed again).
   */
  get topVia(): ReadonlyVia {
    const raw = this.requireHeader('Via');
    if (raw !== this.topViaOf || !this.topViaValue) {
      this.topViaValue = parseVia(raw);
      this.topViaOf = raw;
    }
    return this.topViaValue;
  }
  private topViaOf: string | undefined = undefined;
  private topViaValue: ReadonlyVia | null = null;
  get contacts(): NameAddr[] {
    return this.headers.getAll('Contact').flatMap(parseNameAddrList);
  }
  get contentType(): string | undefined {
    return this.headers.get('Content-Type');
  }

  protected requireHeader(name: string): string {
    const v = this.headers.get(name);
    if (v === undefined) throw new Error(`missing ${name} header`);
    return v;
  }
}

export class SipRequest extends SipMessage {
  readonly isRequest = true;
  constructor(
    public method: string,
    public uri: SipUri,
    public version = 'SIP/2.0',
  ) {
    super();
  }
}

export class SipResponse extends SipMessage {
  readonly isRequest = false;
  constructor(
    public status: number,
    public reason: string,
    public version = 'SIP/2.0',
  ) {
    super();
  }
}
