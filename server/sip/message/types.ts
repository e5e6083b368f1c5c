/**
 * The SIP message model shared by every layer of server/sip (RFC 3261 §7, §20, §25).
 *
 * Layers import downward only: transport → parser → message; transactions → message;
 * dialogs → transactions; ua/registrar → dialogs. This file has no imports from any other layer.
 *
 * Headers are kept as an ordered list of raw values, as they arrived (a multi-value header line
 * such as `Via: a, b` is split into two entries by the parser, §7.3.1), so that proxies and
 * retransmissions can reproduce them byte for byte. The well-known headers are parsed eagerly by
 * the parser (so that a malformed one becomes a 400 at the door), and exposed through typed
 * accessors on the message classes in ./message.ts.
 */

/** Generic parameters (`;name=value`), keys lower-cased, order kept; a flag parameter has value null. */
export type Params = Map<string, string | null>;

/** A SIP or SIPS URI (§19.1). Other schemes (tel:, http:, isbn: ...) are kept opaque in `opaque`. */
export interface SipUri {
  scheme: string; // 'sip' | 'sips' | 'tel' | other, lower-cased
  user: string | null; // still %-escaped as received
  password: string | null;
  host: string; // lower-cased; IPv6 references keep their brackets: "[2001:db8::10]"
  port: number | null;
  params: Params;
  headers: Map<string, string>; // ?name=value, escaped as received
  /** For a non-SIP scheme, the part after "scheme:". Empty for sip/sips. */
  opaque: string;
}

/** name-addr / addr-spec with header parameters, as in From, To, Contact, Route (§20.10). */
export interface NameAddr {
  displayName: string | null; // unquoted, escapes resolved
  uri: SipUri;
  params: Params; // e.g. tag, expires, q
  /** Contact: * (§10.2.2) */
  wildcard?: boolean;
}

/** One Via entry (§20.42). */
export interface Via {
  protocol: string; // "SIP/2.0"
  transport: string; // upper-cased: UDP, TCP, TLS, WS, WSS, SCTP ...
  host: string;
  port: number | null;
  params: Params; // branch, received, rport (null when empty), maddr, ttl
}

/** A Via as a message hands it out to read (SipMessage.topVia is shared by every reader of one message). */
export type ReadonlyVia = Readonly<Omit<Via, 'params'>> & { readonly params: ReadonlyMap<string, string | null> };

export interface CSeq {
  seq: number; // 0 .. 2^31-1 (§8.1.1.5)
  method: string;
}

/** A header line as it travels: canonical name (see ./headers.ts) and raw value. */
export interface HeaderField {
  name: string;
  value: string;
}

/** Where a message came from or goes to; filled by the transport layer (§18). */
export interface Endpoint {
  transport: 'UDP' | 'TCP' | 'TLS' | 'WS' | 'WSS';
  address: string; // textual IP
  port: number;
  /** Connection id for connection-oriented transports: responses and in-dialog requests to a
   * WebSocket client must reuse its own connection (RFC 7118 §5). */
  connectionId?: string;
}

/** A parse failure. `status` is the response a server should send (400, 505, 413 ...), or null
 * when the message must be dropped silently (a malformed response, §18.1.2 / RFC 4475 §3.1.2). */
export class SipParseError extends Error {
  constructor(
    message: string,
    public readonly status: number | null = 400,
  ) {
    super(message);
    this.name = 'SipParseError';
  }
}
