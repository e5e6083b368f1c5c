/**
 * The UA core (RFC 3261 §8.2): every new request the transaction layer hands up passes here.
 * It validates (request-checks.ts), answers what the core owns (CANCEL §9.2, OPTIONS §11,
 * requests for unknown dialogs §12.2.2, unknown methods §8.2.1) and dispatches the rest to the
 * method handlers registered by the layers above (registrar, call control).
 *
 * MUST (§8.2, §17.2): every server transaction gets a final response, or it would stay alive
 * forever; a handler that throws is answered 500 here.
 */
import type { Logger } from 'pino';
import { guardListener } from '../../util/log.js';
import { createResponse } from '../message/build.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import type { Dialog } from '../dialogs/dialog.js';
import type { DialogLayer } from '../dialogs/layer.js';
import type { ServerTransaction, TransactionLayer } from '../transactions/layer.js';
import { InviteServerTransaction } from '../transactions/server-invite.js';
import { checkRequest, type RequestCheckOptions } from './request-checks.js';

/** A request handed to a method handler, with its server transaction and reply helpers. */
export interface IncomingRequest {
  readonly req: SipRequest;
  readonly tx: ServerTransaction;
  /** Sends a response through the transaction; `toTag` keeps one tag for all responses of a dialog. */
  reply(status: number, opts?: ReplyOptions): SipResponse;
  /** True once a final response has been sent. */
  readonly answered: boolean;
}

export interface ReplyOptions {
  reason?: string;
  headers?: ReadonlyArray<readonly [string, string]>;
  body?: { contentType: string; data: Buffer | string };
  toTag?: string;
}

export type MethodHandler = (request: IncomingRequest) => void | Promise<void>;

/** Receives requests inside an existing dialog (BYE, re-INVITE, INFO, REFER, UPDATE ...). */
export interface DialogUser {
  onRequest(request: IncomingRequest, dialog: Dialog): void | Promise<void>;
  /** The ACK for our 2xx arrived (§13.3.1.4): the session is confirmed. */
  onAck?(ack: SipRequest, dialog: Dialog): void;
  /** Our 2xx was never acknowledged; the dialog layer has sent BYE. */
  onAckTimeout?(dialog: Dialog): void;
}

export interface UserAgentCoreOptions {
  transactions: TransactionLayer;
  dialogs: DialogLayer;
  log: Logger;
  /** Product name and version for Server / User-Agent headers. */
  serverName: string;
  checks: RequestCheckOptions;
}

/** Methods the core itself understands; anything else is 501 (§8.2.1). */
const KNOWN_METHODS = new Set([
  'INVITE',
  'ACK',
  'BYE',
  'CANCEL',
  'OPTIONS',
  'REGISTER',
  'INFO',
  'UPDATE',
  'PRACK',
  'REFER',
  'NOTIFY',
  'SUBSCRIBE',
  'MESSAGE',
  'PUBLISH',
]);

export class UserAgentCore {
  readonly stats = { requests: 0, rejectedByChecks: 0, noDialog: 0, handlerErrors: 0 };
  private readonly handlers = new Map<string, MethodHandler>();
  private readonly dialogUsers = new Map<string, DialogUser>();
  /** Whoever is answering an INVITE is told when it is cancelled. */
  private readonly cancelWatchers = new Map<InviteServerTransaction, () => void>();

  /** Built once: the checks run for every request. */
  private readonly checks: RequestCheckOptions;

  constructor(private readonly opts: UserAgentCoreOptions) {
    this.checks = { ...opts.checks, allowedMethods: [...KNOWN_METHODS] };
  }

  /** Methods that reach a handler, for Allow (§20.5). */
  get allow(): string[] {
    const all = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', ...this.handlers.keys()];
    return all.filter((m, i) => all.indexOf(m) === i);
  }

  on(method: string, handler: MethodHandler): void {
    this.handlers.set(method, handler);
  }

  /** Routes the in-dialog requests of `dialog` to `user` until `unbindDialog`. */
  bindDialog(dialog: Dialog, user: DialogUser): void {
    this.dialogUsers.set(dialog.key, user);
  }

  unbindDialog(dialog: Dialog): void {
    this.dialogUsers.delete(dialog.key);
  }

  /** Entry point for ACKs of 2xx responses (stray at the transaction layer, matched to a dialog). */
  receiveAck(ack: SipRequest, dialog: Dialog): void {
    const user = this.dialogUsers.get(dialog.key);
    if (user?.onAck) guardListener('sip.ua.onAck', this.opts.log, () => user.onAck!(ack, dialog))();
  }

  ackTimedOut(dialog: Dialog): void {
    const user = this.dialogUsers.get(dialog.key);
    if (user?.onAckTimeout) guardListener('sip.ua.onAckTimeout', this.opts.log, () => user.onAckTimeout!(dialog))();
  }

  /** Called when the INVITE transaction `tx` is cancelled; the watcher must send 487 (§9.2). */
  watchCancel(tx: InviteServerTransaction, onCancel: () => void): void {
    this.cancelWatchers.set(tx, onCancel);
  }

  unwatchCancel(tx: InviteServerTransaction): void {
    this.cancelWatchers.delete(tx);
  }

  /** Entry point: TransactionLayer.onRequest. */
  receiveRequest(req: SipRequest, tx: ServerTransaction): void {
    this.stats.requests++;
    const request = this.wrap(req, tx);
    try {
      this.dispatch(request);
    } catch (err) {
      this.failed(request, err);
    }
  }

  private dispatch(request: IncomingRequest): void {
    const { req } = request;
    if (req.method === 'CANCEL') return this.cancel(request);

    const rejection = checkRequest(req, this.checks);
    if (rejection) {
      this.stats.rejectedByChecks++;
      const headers = [...(rejection.headers ?? [])];
      if (rejection.status === 405 || rejection.status === 501) headers.push(['Allow', this.allow.join(', ')]);
      request.reply(rejection.status, { reason: rejection.reason, headers });
      return;
    }

    if (req.toTag !== null) {
      const dialog = this.opts.dialogs.findForRequest(req);
      const user = dialog && this.dialogUsers.get(dialog.key);
      if (!dialog || !user) {
        // §12.2.2: a request with a To tag that matches no dialog gets 481.
        this.stats.noDialog++;
        request.reply(481);
        return;
      }
      const verdict = dialog.receiveRequest(req);
      if (!verdict.ok) {
        request.reply(verdict.status, { reason: verdict.reason });
        return;
      }
      this.run(request, () => user.onRequest(request, dialog));
      return;
    }

    const handler = this.handlers.get(req.method);
    if (handler) {
      this.run(request, () => handler(request));
      return;
    }
    if (req.method === 'OPTIONS') return this.options(request);
    if (req.method === 'BYE') {
      this.stats.noDialog++;
      request.reply(481);
      return;
    }
    request.reply(KNOWN_METHODS.has(req.method) ? 405 : 501, { headers: [['Allow', this.allow.join(', ')]] });
  }

  /** §11.2: OPTIONS to the server itself (also the keepalive that phones send) gets our capabilities. */
  private options(request: IncomingRequest): void {
    request.reply(200, {
      headers: [
        ['Allow', this.allow.join(', ')],
        ['Accept', 'application/sdp'],
        ['Accept-Encoding', 'identity'],
        ['Accept-Language', 'zh-CN, en'],
        ['Supported', this.opts.checks.supportedExtensions.join(', ')],
      ],
    });
  }

  /**
   * §9.2: a CANCEL matching a pending INVITE gets 200, and the INVITE's owner answers 487;
   * one matching nothing gets 481. A CANCEL for an INVITE already answered finally changes nothing.
   */
  private cancel(request: IncomingRequest): void {
    const tx = request.tx;
    const target = 'cancelTarget' in tx ? tx.cancelTarget : undefined;
    if (!target) {
      request.reply(481);
      return;
    }
    request.reply(200);
    const watcher = this.cancelWatchers.get(target);
    if (watcher && !target.isTerminated && (target.lastResponse === null || target.lastResponse.status < 200)) {
      this.cancelWatchers.delete(target);
      guardListener('sip.ua.cancel', this.opts.log, watcher)();
    }
  }

  private run(request: IncomingRequest, fn: () => void | Promise<void>): void {
    let r: void | Promise<void>;
    try {
      r = fn();
    } catch (err) {
      this.failed(request, err);
      return;
    }
    if (r && typeof r.catch === 'function') r.catch((err) => this.failed(request, err));
  }

  private failed(request: IncomingRequest, err: unknown): void {
    this.stats.handlerErrors++;
    this.opts.log.error({ err, method: request.req.method }, 'request handler failed');
    if (request.req.method !== 'ACK' && !request.answered && !request.tx.isTerminated) {
      try {
        request.reply(500, { reason: 'Server Internal Error' });
      } catch (e) {
        this.opts.log.error({ err: e }, 'could not answer 500');
      }
    }
  }

  private wrap(req: SipRequest, tx: ServerTransaction): IncomingRequest {
    const serverName = this.opts.serverName;
    let answered = false;
    return {
      req,
      tx,
      get answered() {
        return answered;
      },
      reply(status, o = {}) {
        if (status >= 200) answered = true;
        const res = createResponse(req, status, o.reason, o.toTag ? { toTag: o.toTag } : {});
        res.headers.add('Server', serverName);
        for (const [n, v] of o.headers ?? []) res.headers.add(n, v);
        if (o.body) {
          res.headers.set('Content-Type', o.body.contentType);
          res.body = typeof o.body.data === 'string' ? Buffer.from(o.body.data, 'utf8') : o.body.data;
        }
        tx.respond(res);
        return res;
      },
    };
  }
}

export { InviteServerTransaction };
