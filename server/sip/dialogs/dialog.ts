/**
 * A SIP dialog (RFC 3261 §12): identity, route set, remote target and CSeq bookkeeping, plus the
 * construction of in-dialog requests. Pure state; sending is the caller's business.
 */
import { cloneUri } from '../message/build.js';
import { formatNameAddr, formatUri, parseNameAddrList } from '../message/grammar.js';
import { SipRequest, type SipResponse } from '../message/message.js';
import type { NameAddr, SipUri } from '../message/types.js';
import { nextState, type TransitionTable } from '../transactions/fsm.js';

export enum DialogState {
  Early = 'Early',
  Confirmed = 'Confirmed',
  Terminated = 'Terminated',
}

export enum DialogEvent {
  /** A 1xx with a To tag (§12.1). */
  Provisional = '1xx',
  /** A 2xx (§12.1, §13.2.2.4). */
  Success = '2xx',
  /** BYE, a non-2xx final for the dialog-creating request, 481/408 (§12.2.1.2), ACK timeout ... */
  Terminate = 'Terminate',
}

const S = DialogState;
const E = DialogEvent;

export const DIALOG_TABLE: TransitionTable<DialogState, DialogEvent> = {
  [S.Early]: { [E.Provisional]: S.Early, [E.Success]: S.Confirmed, [E.Terminate]: S.Terminated },
  // A 1xx reordered behind the 2xx, or a 2xx retransmission, changes nothing.
  [S.Confirmed]: { [E.Provisional]: S.Confirmed, [E.Success]: S.Confirmed, [E.Terminate]: S.Terminated },
  [S.Terminated]: {},
};

export interface DialogId {
  callId: string;
  localTag: string;
  remoteTag: string;
}

export function dialogKey(id: DialogId): string {
  return id.callId + '\u0000' + id.localTag + '\u0000' + id.remoteTag;
}

/** Methods whose request (and 2xx) can change the remote target (§12.2, RFC 3311, 6665, 3515). */
export const TARGET_REFRESH_METHODS: ReadonlySet<string> = new Set([
  'INVITE',
  'UPDATE',
  'SUBSCRIBE',
  'NOTIFY',
  'REFER',
]);

export type RemoteRequestVerdict = { ok: true } | { ok: false; status: number; reason: string };

export interface DialogOptions {
  /** Our Contact value (raw, e.g. `<sip:agent@10.0.0.1:5060>`), put into target-refresh requests. */
  localContact?: string;
}

interface DialogInit {
  id: DialogId;
  isUac: boolean;
  state: DialogState;
  localSeq: number | null;
  remoteSeq: number | null;
  localUri: NameAddr;
  remoteUri: NameAddr;
  remoteTarget: SipUri;
  routeSet: NameAddr[];
  secure: boolean;
  localContact?: string;
}

export class Dialog {
  readonly id: Readonly<DialogId>;
  readonly key: string;
  readonly isUac: boolean;
  /** §12.1: empty (null) until a request sets it. */
  localSeq: number | null;
  remoteSeq: number | null;
  readonly localUri: NameAddr;
  readonly remoteUri: NameAddr;
  remoteTarget: SipUri;
  /** Route set in the order requests must carry it (§12.1.1 UAS as received, §12.1.2 UAC reversed). */
  routeSet: NameAddr[];
  readonly secure: boolean;
  localContact: string | undefined;
  /** Called once on reaching Terminated (the registry removes the dialog). */
  onTerminated: (() => void) | undefined;
  private current: DialogState;

  private constructor(init: DialogInit) {
    this.id = Object.freeze({ ...init.id });
    this.key = dialogKey(init.id);
    this.isUac = init.isUac;
    this.current = init.state;
    this.localSeq = init.localSeq;
    this.remoteSeq = init.remoteSeq;
    this.localUri = init.localUri;
    this.remoteUri = init.remoteUri;
    this.remoteTarget = init.remoteTarget;
    this.routeSet = init.routeSet;
    this.secure = init.secure;
    this.localContact = init.localContact;
  }

  get state(): DialogState {
    return this.current;
  }

  /**
   * §12.1.1: the UAS side, from the request and the 1xx/2xx (with To tag) that creates the dialog.
   * Route set = Record-Route of the request in order; remote target = its Contact; remote CSeq =
   * its CSeq; local CSeq empty.
   */
  static asUas(req: SipRequest, res: SipResponse, opts: DialogOptions = {}): Dialog {
    const localTag = res.toTag;
    const remoteTag = req.fromTag;
    if (!localTag) throw new Error('a dialog-creating response needs a To tag (§12.1)');
    const contact = req.contacts[0];
    if (!contact || contact.wildcard) throw new Error('a dialog-creating request needs a Contact (§12.1.1)');
    return new Dialog({
      id: { callId: req.callId, localTag, remoteTag: remoteTag ?? '' },
      isUac: false,
      state: stateFor(res),
      localSeq: null,
      remoteSeq: req.cseq.seq,
      localUri: withoutTag(res.to),
      remoteUri: withoutTag(req.from),
      remoteTarget: cloneUri(contact.uri),
      routeSet: recordRoutes(req),
      // §12.1.1: secure when the request came over TLS with a sips Request-URI.
      secure: req.uri.scheme === 'sips' && req.source?.transport === 'TLS',
      localContact: opts.localContact,
    });
  }

  /**
   * §12.1.2: the UAC side, from the request sent and a 1xx/2xx with a To tag. Route set =
   * Record-Route of the response reversed; remote target = its Contact; local CSeq = the request's.
   */
  static asUac(req: SipRequest, res: SipResponse, opts: DialogOptions = {}): Dialog {
    const remoteTag = res.toTag;
    const localTag = req.fromTag;
    if (!remoteTag) throw new Error('a dialog-creating response needs a To tag (§12.1)');
    if (!localTag) throw new Error('the request has no From tag (§8.1.1.3)');
    const contact = res.contacts[0];
    // §12.1.2: a 2xx without Contact is a protocol error; an early dialog may still lack one.
    const target = contact && !contact.wildcard ? cloneUri(contact.uri) : cloneUri(req.uri);
    if (!contact && res.status >= 200) throw new Error('a 2xx creating a dialog needs a Contact (§12.1.2)');
    return new Dialog({
      id: { callId: req.callId, localTag, remoteTag },
      isUac: true,
      state: stateFor(res),
      localSeq: req.cseq.seq,
      remoteSeq: null,
      localUri: withoutTag(req.from),
      remoteUri: withoutTag(res.to),
      remoteTarget: target,
      routeSet: recordRoutes(res).reverse(),
      secure: req.uri.scheme === 'sips',
      localContact: opts.localContact,
    });
  }

  /**
   * A further 1xx/2xx for the dialog-creating request. §13.2.2.4: when a 2xx confirms an early
   * dialog on the UAC side, the route set and remote target are recomputed from the 2xx.
   */
  update(res: SipResponse): void {
    const event = res.status < 200 ? E.Provisional : res.status < 300 ? E.Success : E.Terminate;
    const from = this.current;
    this.fire(event);
    if (event === E.Success && from === S.Early && this.isUac) {
      this.routeSet = recordRoutes(res).reverse();
      const c = res.contacts[0];
      if (c && !c.wildcard) this.remoteTarget = cloneUri(c.uri);
    }
  }

  terminate(): void {
    if (this.current !== S.Terminated) this.fire(E.Terminate);
  }

  /**
   * §12.2.2: an incoming in-dialog request. A CSeq lower than the remote CSeq is out of order and
   * MUST get 500; otherwise the remote CSeq moves up. A target refresh request with a Contact
   * replaces the remote target. ACK and CANCEL reuse the INVITE's number and are not checked.
   */
  receiveRequest(req: SipRequest): RemoteRequestVerdict {
    if (this.current === S.Terminated) return { ok: false, status: 481, reason: 'Call/Transaction Does Not Exist' };
    if (req.method === 'ACK' || req.method === 'CANCEL') return { ok: true };
    const seq = req.cseq.seq;
    if (this.remoteSeq !== null && seq < this.remoteSeq) {
      return { ok: false, status: 500, reason: 'Out of order CSeq' };
    }
    this.remoteSeq = seq;
    if (TARGET_REFRESH_METHODS.has(req.method)) {
      const c = req.contacts[0];
      if (c && !c.wildcard) this.remoteTarget = cloneUri(c.uri);
    }
    return { ok: true };
  }

  /**
   * §12.2.1.2: the final response to a request we sent in this dialog. 481 and 408 end the dialog;
   * a 2xx to a target refresh request replaces the remote target with its Contact.
   */
  receiveResponse(req: SipRequest, res: SipResponse): void {
    if (res.status === 481 || res.status === 408) {
      this.terminate();
      return;
    }
    if (res.status >= 200 && res.status < 300 && TARGET_REFRESH_METHODS.has(req.method)) {
      const c = res.contacts[0];
      if (c && !c.wildcard) this.remoteTarget = cloneUri(c.uri);
    }
  }

  /** §12.2.1.1: the next local CSeq, strictly increasing; an empty one starts at 1. */
  nextLocalSeq(): number {
    this.localSeq = this.localSeq === null ? 1 : this.localSeq + 1;
    return this.localSeq;
  }

  /**
   * §12.2.1.1: a request inside the dialog. To/From carry the remote/local URI and tags, the
   * Request-URI and Route come from the remote target and route set (loose or strict routing),
   * CSeq is the next local number. No Via: the sender adds its own (build.ts addVia).
   */
  createRequest(method: string, body?: { contentType: string; body: Buffer }): SipRequest {
    if (this.current === S.Terminated) throw new Error('dialog terminated');
    if (method === 'ACK' || method === 'CANCEL')
      throw new Error(`${method} is not built with createRequest (§12.2.1.1)`);
    const req = this.baseRequest(method, this.nextLocalSeq());
    if (this.localContact && TARGET_REFRESH_METHODS.has(method)) req.headers.add('Contact', this.localContact);
    if (body) {
      req.headers.add('Content-Type', body.contentType);
      req.body = body.body;
    }
    return req;
  }

  /** §13.2.2.4: the ACK for a 2xx: like an in-dialog request but with the INVITE's CSeq number. */
  createAck(inviteSeq: number, body?: { contentType: string; body: Buffer }): SipRequest {
    const req = this.baseRequest('ACK', inviteSeq);
    if (body) {
      req.headers.add('Content-Type', body.contentType);
      req.body = body.body;
    }
    return req;
  }

  private baseRequest(method: string, seq: number): SipRequest {
    const { uri, routes } = this.routing();
    const req = new SipRequest(method, uri);
    for (const r of routes) req.headers.add('Route', r);
    req.headers.add('Max-Forwards', '70');
    req.headers.add('From', formatNameAddr(tagged(this.localUri, this.id.localTag)));
    // §12.2.1.1: the remote tag may be empty for dialogs with RFC 2543 peers; then no tag at all.
    req.headers.add('To', formatNameAddr(tagged(this.remoteUri, this.id.remoteTag)));
    req.headers.add('Call-ID', this.id.callId);
    req.headers.add('CSeq', `${seq} ${method}`);
    return req;
  }

  /**
   * §12.2.1.1: empty route set → R-URI = remote target, no Route. First route loose (`lr`) →
   * R-URI = remote target, Route = route set. First route strict → R-URI = that route's URI
   * (minus parameters not allowed in a Request-URI, §19.1.1), Route = the rest of the set followed
   * by the remote target.
   */
  routing(): { uri: SipUri; routes: string[] } {
    const first = this.routeSet[0];
    if (!first) return { uri: cloneUri(this.remoteTarget), routes: [] };
    if (first.uri.params.has('lr')) {
      return { uri: cloneUri(this.remoteTarget), routes: this.routeSet.map(formatNameAddr) };
    }
    const uri = cloneUri(first.uri);
    uri.params.delete('method');
    uri.params.delete('ttl');
    uri.headers.clear();
    const routes = this.routeSet.slice(1).map(formatNameAddr);
    routes.push(`<${formatUri(this.remoteTarget)}>`);
    return { uri, routes };
  }

  /**
   * Where an in-dialog request goes next (§12.2.1.1, §8.1.2): the first Route when there is a
   * route set (loose or strict alike), else the remote target. Resolving it to an address
   * (RFC 3263) is the sender's job.
   */
  nextHop(): SipUri {
    const first = this.routeSet[0];
    return cloneUri(first ? first.uri : this.remoteTarget);
  }

  private fire(event: DialogEvent): void {
    const from = this.current;
    this.current = nextState('dialog', DIALOG_TABLE, from, event);
    if (this.current === S.Terminated && from !== S.Terminated) this.onTerminated?.();
  }
}

function stateFor(res: SipResponse): DialogState {
  if (res.status >= 200 && res.status < 300) return S.Confirmed;
  if (res.status > 100 && res.status < 200) return S.Early;
  throw new Error(`status ${res.status} does not create a dialog (§12.1)`);
}

function withoutTag(na: NameAddr): NameAddr {
  const params = new Map(na.params);
  params.delete('tag');
  return { displayName: na.displayName, uri: cloneUri(na.uri), params };
}

function tagged(na: NameAddr, tag: string): NameAddr {
  const params = new Map(na.params);
  if (tag) params.set('tag', tag);
  return { ...na, params };
}

function recordRoutes(msg: SipRequest | SipResponse): NameAddr[] {
  return msg.headers.getAll('Record-Route').flatMap(parseNameAddrList);
}
