import type { CSeq, Endpoint, HeaderField, NameAddr, ReadonlyVia, SipUri, Via } from './types.js';
import { canonicalHeaderName } from './headers.js';
import { addressTag, parseCSeq, parseNameAddr, parseNameAddrList, parseVia } from './grammar.js';

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

/** Slots of SipMessage's parsed-header memo. */
enum Parsed {
  FromTag,
  ToTag,
  TopVia,
}

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
  /** The From tag, parsed once per raw value (see `parsedOnce`). */
  get fromTag(): string | null {
    return this.parsedOnce(Parsed.FromTag, 'From', addressTag);
  }
  get toTag(): string | null {
    return this.parsedOnce(Parsed.ToTag, 'To', addressTag);
  }
  /** All Via entries, top first. */
  get vias(): Via[] {
    return this.headers.getAll('Via').map(parseVia);
  }
  /** Parsed once per raw value and shared by every reader of this message, hence read-only. */
  get topVia(): ReadonlyVia {
    return this.parsedOnce(Parsed.TopVia, 'Via', parseVia);
  }
  get contacts(): NameAddr[] {
    return this.headers.getAll('Contact').flatMap(parseNameAddrList);
  }
  get contentType(): string | undefined {
    return this.headers.get('Content-Type');
  }

  /**
   * The tags and the top Via are asked for several times per message on its way through the stack (transaction
   * key, response route, dialog and call matching), and each ask parsed the header again. They are remembered
   * against the raw value they came from, so a rewritten header (the transport's received/rport stamp) is
   * parsed again.
   */
  private parsed: Array<{ raw: string; value: unknown } | undefined> | undefined;
  private parsedOnce<T>(slot: Parsed, header: string, parse: (raw: string) => T): T {
    const raw = this.requireHeader(header);
    const hit = this.parsed?.[slot];
    if (hit?.raw === raw) return hit.value as T;
    const value = parse(raw);
    (this.parsed ??= [])[slot] = { raw, value };
    return value;
  }

  /**
   * Hands over a top Via the caller has just parsed (and perhaps stamped and written back): `topVia` then
   * returns it for as long as the header keeps that value. The caller must not change it afterwards.
   */
  rememberTopVia(via: ReadonlyVia): void {
    (this.parsed ??= [])[Parsed.TopVia] = { raw: this.requireHeader('Via'), value: via };
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
