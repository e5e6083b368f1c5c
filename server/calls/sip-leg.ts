/**
 * Call legs: one SIP dialog each, with its media. The consumer's INVITE makes a `UasLeg`; calls we
 * place towards agents, merchant stations and consumers (callbacks) are `UacLeg`s. A leg knows SIP;
 * what the legs mean together (bridges, conferences, the IVR) is the call's business.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { SessionDescription } from '../media/sdp/sdp.js';
import type { Dialog } from '../sip/dialogs/dialog.js';
import { newCallId, newTag } from '../sip/message/build.js';
import { formatUri } from '../sip/message/grammar.js';
import { SipRequest, type SipResponse } from '../sip/message/message.js';
import { setupTrace, SetupStage } from '../sip/message/setup-trace.js';
import type { Endpoint, SipUri } from '../sip/message/types.js';
import type { SipStack } from '../sip/stack.js';
import type { InviteClientTransaction } from '../sip/transactions/client-invite.js';
import type { DialogUser, IncomingRequest } from '../sip/ua/user-agent-core.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { LegEvent, LegState, nextLegState } from './leg-state.js';

/** What a leg needs from its media endpoint (the media engine's endpoint satisfies it). */
export interface LegMedia {
  /** `parsedOffer`: `remoteOfferSdp` already parsed, when the caller has it. */
  answer(remoteOfferSdp: string, parsedOffer?: SessionDescription): Promise<string>;
  createOffer(): Promise<string>;
  applyAnswer(remoteAnswerSdp: string): Promise<void>;
  receiveInfoDtmf?(body: string, contentType: string): void;
  close(): Promise<void>;
}

export type EndReason =
  | {
      by: 'remote';
      cause: 'bye' | 'cancel' | 'rejected' | 'timeout' | 'ack-timeout' | 'session-expired';
      status?: number;
    }
  | { by: 'local'; cause: 'hangup' | 'cancel' | 'rejected' | 'error'; status?: number };

export interface LegEvents {
  ringing: [];
  answered: [];
  confirmed: [];
  ended: [EndReason];
  /** A re-INVITE changed the session (hold/resume): `held` from the new offer's direction. */
  updated: [{ held: boolean }];
  /** SIP INFO DTMF (JsSIP's default), already handed to the media when it takes INFO. */
  'info-dtmf': [string, string];
  /** The peer asked to transfer (REFER, RFC 3515). The leg answered 202 and sent NOTIFY 100; the call decides. */
  refer: [ReferRequest];
}

/** A REFER as call control sees it. */
export interface ReferRequest {
  /** The Refer-To URI without its header part, e.g. `sip:8002@12315.local`. */
  uri: string;
  /** The target's user part (extension or number), or null. */
  user: string | null;
  /** RFC 3891 Replaces from the Refer-To headers (attended transfer), or null for a blind transfer. */
  replaces: { callId: string; toTag: string; fromTag: string } | null;
  referredBy: string | null;
  /** Reports the transfer's progress to the transferor (NOTIFY sipfrag); a final status ends the subscription. */
  notify(status: number, reason: string): void;
}

/** Refer-To: `<sip:user@host?Replaces=callid%3Bto-tag%3Dx%3Bfrom-tag%3Dy>` (RFC 3515 §2.1, RFC 3891 §3). */
export function parseReferTo(value: string): Omit<ReferRequest, 'notify' | 'referredBy'> | null {
  const m = /<([^>]+)>/.exec(value);
  const raw = (m ? m[1]! : value.split(';')[0]!).trim();
  const q = raw.indexOf('?');
  const uri = q >= 0 ? raw.slice(0, q) : raw;
  const um = /^sips?:(?:([^@;?]+)@)?[^;?]+/i.exec(uri);
  if (!um) return null;
  let replaces: ReferRequest['replaces'] = null;
  if (q >= 0) {
    for (const part of raw.slice(q + 1).split('&')) {
      const eq = part.indexOf('=');
      if (eq < 0 || part.slice(0, eq).toLowerCase() !== 'replaces') continue;
      let v: string;
      try {
        v = decodeURIComponent(part.slice(eq + 1));
      } catch {
        return null;
      }
      const [callId, ...params] = v.split(';').map((x) => x.trim());
      const param = (n: string) => params.find((x) => x.toLowerCase().startsWith(`${n}=`))?.slice(n.length + 1) ?? null;
      const toTag = param('to-tag');
      const fromTag = param('from-tag');
      if (!callId || !toTag || !fromTag) return null;
      replaces = { callId, toTag, fromTag };
    }
  }
  let user: string | null = null;
  try {
    user = um[1] ? decodeURIComponent(um[1]) : null;
  } catch {
    user = um[1] ?? null;
  }
  return { uri, user, replaces };
}

/** RFC 4028 §4: no session interval below 90 s. */
const MIN_SE = 90;

export abstract class SipLeg extends EventEmitter<LegEvents> implements DialogUser {
  readonly id: string;
  protected current = LegState.Setup;
  dialog: Dialog | null = null;
  endReason: EndReason | null = null;
  readonly createdAt: number;
  answeredAt: number | null = null;
  endedAt: number | null = null;
  /** RFC 4028 session refresh watchdog / refresher timer. */
  private sessionTimer: TimerHandle | null = null;
  protected sessionExpires: number | null = null;
  protected weRefresh = false;
  /** CSeq of the peer's offerless re-INVITE we answered with an offer, until its ACK brings the answer. */
  private offerInReinviteAnswer: number | null = null;

  protected constructor(
    protected readonly stack: SipStack,
    protected readonly clock: Clock,
    protected readonly log: Logger,
    readonly media: LegMedia,
    readonly direction: 'inbound' | 'outbound',
  ) {
    super({ captureRejections: false });
    this.id = newTag();
    this.createdAt = Date.now();
  }

  get state(): LegState {
    return this.current;
  }

  get isEnded(): boolean {
    return this.current === LegState.Ended;
  }

  get isUp(): boolean {
    return this.current === LegState.Answered || this.current === LegState.Confirmed;
  }

  /** The peer's flow (see SipStack.flows). */
  abstract get flow(): Endpoint;

  /** Ends the leg whatever its state: BYE when answered, CANCEL or a final response before. Idempotent. */
  abstract hangup(status?: number): void;

  protected move(event: LegEvent): void {
    const from = this.current;
    this.current = nextLegState(from, event);
    if (this.current === LegState.Ended && from !== LegState.Ended) this.finish();
  }

  /** Safe emit: a listener's error is logged, never thrown into SIP processing. */
  protected fireEvent<K extends keyof LegEvents>(name: K, ...args: LegEvents[K]): void {
    try {
      (this.emit as (n: K, ...a: LegEvents[K]) => boolean)(name, ...args);
    } catch (err) {
      this.log.error({ err, event: name }, 'call leg listener failed');
    }
  }

  protected ended(reason: EndReason): void {
    if (this.current === LegState.Ended) return;
    this.endReason ??= reason;
    this.move(LegEvent.End);
  }

  private finish(): void {
    this.endedAt = Date.now();
    this.clock.clearTimeout(this.sessionTimer);
    this.sessionTimer = null;
    if (this.dialog) {
      this.stack.ua.unbindDialog(this.dialog);
      this.dialog.terminate();
    }
    void this.media.close().catch((err: unknown) => this.log.warn({ err }, 'media close failed'));
    this.fireEvent('ended', this.endReason ?? { by: 'local', cause: 'hangup' });
  }

  protected sendBye(): void {
    if (!this.dialog) return;
    const bye = this.dialog.createRequest('BYE');
    const tx = this.stack.sendInDialog(this.dialog, bye, {
      onFinal: () => this.ended(this.endReason ?? { by: 'local', cause: 'hangup' }),
      onTimeout: () => this.ended(this.endReason ?? { by: 'local', cause: 'hangup' }),
      onTransportError: () => this.ended(this.endReason ?? { by: 'local', cause: 'hangup' }),
    });
    if (!tx) this.ended(this.endReason ?? { by: 'local', cause: 'hangup' });
  }

  // ---- in-dialog requests from the peer (DialogUser) ----

  onRequest(request: IncomingRequest): void | Promise<void> {
    const { req } = request;
    switch (req.method) {
      case 'BYE':
        request.reply(200);
        this.endReason ??= { by: 'remote', cause: 'bye' };
        this.ended(this.endReason);
        return;
      case 'INVITE':
        return this.reinvite(request);
      case 'UPDATE':
        // RFC 4028 §9: an UPDATE without a body refreshes the session.
        this.sessionRefreshed(req);
        request.reply(200, { headers: this.sessionHeaders() });
        return;
      case 'INFO': {
        const ct = (req.contentType ?? '').toLowerCase();
        if (ct.startsWith('application/dtmf-relay') || ct.startsWith('application/dtmf')) {
          const body = req.body.toString('utf8');
          this.media.receiveInfoDtmf?.(body, ct);
          this.fireEvent('info-dtmf', body, ct);
          request.reply(200);
        } else {
          request.reply(415, { headers: [['Accept', 'application/dtmf-relay, application/dtmf']] });
        }
        return;
      }
      case 'OPTIONS':
        request.reply(200);
        return;
      case 'REFER': {
        // RFC 3515 §2.4.1: exactly one Refer-To; without a listener nobody can carry the transfer out.
        const targets = req.headers.getAll('Refer-To');
        if (targets.length !== 1) {
          request.reply(400, { reason: 'Bad Request (one Refer-To required)' });
          return;
        }
        if (this.listenerCount('refer') === 0 || !this.dialog) {
          request.reply(603, { reason: 'Decline (transfer not available)' });
          return;
        }
        const referTo = parseReferTo(targets[0]!);
        if (!referTo) {
          request.reply(400, { reason: 'Bad Request (unusable Refer-To)' });
          return;
        }
        request.reply(202);
        // §2.4.4: the implicit subscription gets an immediate NOTIFY; later ones report the outcome.
        const id = req.cseq.seq;
        this.notifyRefer(id, 100, 'Trying', false);
        this.fireEvent('refer', {
          ...referTo,
          referredBy: req.headers.get('Referred-By') ?? null,
          notify: (status, reason) => this.notifyRefer(id, status, reason, status >= 200),
        });
        return;
      }
      case 'NOTIFY':
        request.reply(200);
        return;
      default:
        request.reply(501);
    }
  }

  /**
   * RFC 3515 §2.4.4–2.4.5: NOTIFY with a message/sipfrag status line; a final status terminates the
   * implicit subscription. The event id is the REFER's CSeq so a second REFER's reports stay apart (§2.4.6).
   */
  notifyRefer(id: number, status: number, reason: string, final: boolean): void {
    if (!this.dialog || this.isEnded || this.current === LegState.Ending) return;
    const body = Buffer.from(`SIP/2.0 ${status} ${reason.replace(/[\r\n]/g, ' ')}\r\n`, 'utf8');
    let notify: SipRequest;
    try {
      notify = this.dialog.createRequest('NOTIFY', { contentType: 'message/sipfrag;version=2.0', body });
    } catch {
      return; // dialog terminated meanwhile
    }
    notify.headers.add('Event', `refer;id=${id}`);
    notify.headers.add('Subscription-State', final ? 'terminated;reason=noresource' : 'active;expires=60');
    notify.headers.set('Contact', this.localContact());
    this.stack.sendInDialog(this.dialog, notify, {});
  }

  /** A re-INVITE: hold, resume, codec change, or a session refresh (RFC 4028). */
  private async reinvite(request: IncomingRequest): Promise<void> {
    const { req } = request;
    this.sessionRefreshed(req);
    const offer = req.body.length > 0 ? req.body.toString('utf8') : null;
    const sdp = offer ? await this.media.answer(offer) : await this.media.createOffer();
    // RFC 3261 §14.2: a re-INVITE without an offer gets ours in the 2xx, and its ACK carries the answer.
    this.offerInReinviteAnswer = offer ? null : req.cseq.seq;
    const res = request.reply(200, {
      toTag: this.dialog?.id.localTag,
      headers: [['Contact', this.localContact()], ...this.sessionHeaders()],
      body: { contentType: 'application/sdp', data: sdp },
    });
    if (this.dialog) {
      const flow = this.flow;
      this.stack.dialogs.startAckWait(this.dialog, req.cseq.seq, () => this.stack.send(res, flow));
    }
    if (offer) this.fireEvent('updated', { held: /a=(sendonly|inactive)|c=IN IP4 0\.0\.0\.0/.test(offer) });
  }

  onAck(ack: SipRequest): void {
    if (this.current === LegState.Answered) {
      this.move(LegEvent.Ack);
      if (ack.body.length > 0) {
        void this.media
          .applyAnswer(ack.body.toString('utf8'))
          .catch((err: unknown) => this.log.warn({ err }, 'bad SDP answer in ACK'));
      }
      this.fireEvent('confirmed');
    } else if (this.offerInReinviteAnswer !== null && ack.cseq.seq === this.offerInReinviteAnswer) {
      this.offerInReinviteAnswer = null;
      if (ack.body.length === 0) {
        // RFC 3264 §5 wants an answer here; without one the old session stays as it was.
        this.log.warn({ leg: this.id }, 'ACK to our re-INVITE offer carried no SDP answer');
        return;
      }
      const answer = ack.body.toString('utf8');
      void this.media
        .applyAnswer(answer)
        .then(() => this.fireEvent('updated', { held: /a=(sendonly|inactive)|c=IN IP4 0\.0\.0\.0/.test(answer) }))
        .catch((err: unknown) => this.log.warn({ err }, 'bad SDP answer in ACK'));
    }
  }

  onAckTimeout(): void {
    // The dialog layer has already sent BYE (§13.3.1.4).
    this.ended({ by: 'remote', cause: 'ack-timeout' });
  }

  protected localContact(): string {
    return this.stack.contactFor(this.flow.transport);
  }

  // ---- RFC 4028 session timers ----

  protected sessionHeaders(): [string, string][] {
    if (this.sessionExpires === null) return [];
    const refresher = this.direction === 'inbound' ? (this.weRefresh ? 'uas' : 'uac') : this.weRefresh ? 'uac' : 'uas';
    return [
      ['Session-Expires', `${this.sessionExpires};refresher=${refresher}`],
      ['Require', 'timer'],
      ['Supported', 'timer'],
    ];
  }

  /** Starts or restarts the session timer after a (re)negotiation. */
  protected armSessionTimer(): void {
    this.clock.clearTimeout(this.sessionTimer);
    this.sessionTimer = null;
    if (this.sessionExpires === null || this.isEnded) return;
    const se = this.sessionExpires * 1000;
    if (this.weRefresh) {
      // §7.2: the refresher refreshes at half the interval.
      this.sessionTimer = this.clock.setTimeout(() => this.refreshSession(), se / 2);
    } else {
      // §10: without a refresh, BYE a little before the interval ends (min(32 s, SE/3) early).
      this.sessionTimer = this.clock.setTimeout(
        () => {
          this.log.info({ leg: this.id }, 'session expired without refresh (RFC 4028 §10)');
          this.endReason ??= { by: 'remote', cause: 'session-expired' };
          this.hangup();
        },
        se - Math.min(32_000, se / 3),
      );
    }
  }

  private sessionRefreshed(req: SipRequest): void {
    const se = parseSessionExpires(req.headers.get('Session-Expires'));
    if (se) {
      this.sessionExpires = Math.max(MIN_SE, se.seconds);
      // A refresh from the peer keeps the roles; whoever the header names refreshes next.
      const peerIsUac = this.direction === 'inbound';
      this.weRefresh = se.refresher ? (se.refresher === 'uac') !== peerIsUac : false;
    }
    this.armSessionTimer();
  }

  /** We are the refresher: an UPDATE without body (RFC 4028 §7.4, cheaper than re-INVITE). */
  private refreshSession(): void {
    if (!this.dialog || !this.isUp) return;
    const upd = this.dialog.createRequest('UPDATE');
    for (const [n, v] of this.sessionHeaders()) upd.headers.add(n, v);
    upd.headers.set('Contact', this.localContact());
    this.stack.sendInDialog(this.dialog, upd, {
      onFinal: (res) => {
        if (res.status >= 200 && res.status < 300) this.armSessionTimer();
        else if (res.status === 481 || res.status === 408)
          this.ended({ by: 'remote', cause: 'session-expired', status: res.status });
        else this.armSessionTimer(); // 501/405 for UPDATE: keep going; the peer's own timer will decide
      },
      onTimeout: () => this.ended({ by: 'remote', cause: 'timeout' }),
    });
  }
}

export function parseSessionExpires(
  v: string | undefined,
): { seconds: number; refresher: 'uac' | 'uas' | null } | null {
  if (!v) return null;
  const m = /^\s*(\d{1,10})\s*(.*)$/.exec(v);
  if (!m) return null;
  const r = /;\s*refresher\s*=\s*(uac|uas)/i.exec(m[2] ?? '');
  return { seconds: Number(m[1]), refresher: r ? (r[1]!.toLowerCase() as 'uac' | 'uas') : null };
}

/** The consumer's (or a seat's) INVITE to us. */
export class UasLeg extends SipLeg {
  private readonly toTag = newTag();
  private finalSent = false;
  readonly request: IncomingRequest;

  constructor(
    stack: SipStack,
    clock: Clock,
    log: Logger,
    media: LegMedia,
    request: IncomingRequest,
    /** The INVITE's SDP offer as call control already decoded and parsed it, if it did. */
    private readonly offer: { text: string; parsed: SessionDescription } | null = null,
  ) {
    super(stack, clock, log, media, 'inbound');
    this.request = request;
    const tx = request.tx;
    if ('cancelTarget' in tx) throw new Error('UasLeg needs an INVITE transaction');
    stack.ua.watchCancel(tx, () => {
      // §9.2: 200 to the CANCEL was sent by the UA core; the INVITE gets 487.
      if (this.finalSent) return;
      this.finalSent = true;
      this.request.reply(487, { toTag: this.toTag });
      this.endReason = { by: 'remote', cause: 'cancel' };
      this.ended(this.endReason);
    });
  }

  get flow(): Endpoint {
    return this.request.req.source!;
  }

  get req(): SipRequest {
    return this.request.req;
  }

  /** 180 Ringing (or 183 with early media when `earlySdp` is given). */
  ring(earlySdp?: string): void {
    if (this.finalSent || this.isEnded) return;
    this.request.reply(earlySdp ? 183 : 180, {
      toTag: this.toTag,
      headers: [['Contact', this.localContact()]],
      body: earlySdp ? { contentType: 'application/sdp', data: earlySdp } : undefined,
    });
    if (this.current === LegState.Setup || this.current === LegState.Ringing) this.move(LegEvent.Ring);
    this.fireEvent('ringing');
  }

  /**
   * 200 OK with our SDP: the answer to the INVITE's offer, or our offer when the INVITE had none
   * (the answer then comes in the ACK).
   */
  async answer(): Promise<boolean> {
    if (this.finalSent || this.isEnded) return false;
    const offer = this.offer?.text ?? (this.req.body.length > 0 ? this.req.body.toString('utf8') : null);
    const sdp = offer ? await this.media.answer(offer, this.offer?.parsed) : await this.media.createOffer();
    setupTrace.mark(this.req, SetupStage.SdpAnswer);
    if (this.finalSent || this.isEnded) return false;
    // RFC 4028: honour the UAC's session timer when it supports one; it refreshes.
    const se = parseSessionExpires(this.req.headers.get('Session-Expires'));
    const supportsTimer = /\btimer\b/i.test(this.req.headers.getAll('Supported').join(','));
    if (se && supportsTimer) {
      this.sessionExpires = Math.max(MIN_SE, se.seconds);
      this.weRefresh = se.refresher === 'uas';
    }
    this.finalSent = true;
    const res = this.request.reply(200, {
      toTag: this.toTag,
      headers: [
        ['Contact', this.localContact()],
        ['Allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY'],
        ...this.sessionHeaders(),
      ],
      body: { contentType: 'application/sdp', data: sdp },
    });
    setupTrace.mark(this.req, SetupStage.Sent);
    this.stack.ua.unwatchCancel(this.request.tx as never);
    const dialog = this.stack.dialogs.createUas(this.req, res, { localContact: this.localContact() });
    this.dialog = dialog;
    this.stack.setFlow(dialog, this.flow);
    this.stack.ua.bindDialog(dialog, this);
    const flow = this.flow;
    this.stack.dialogs.startAckWait(dialog, this.req.cseq.seq, () => this.stack.send(res, flow));
    this.answeredAt = Date.now();
    this.move(LegEvent.Answer);
    this.armSessionTimer();
    this.fireEvent('answered');
    return true;
  }

  /** A final error response before answer (486 busy, 480, 404, 603 ...). */
  reject(status: number, reason?: string): void {
    if (this.finalSent || this.isEnded) return;
    this.finalSent = true;
    this.stack.ua.unwatchCancel(this.request.tx as never);
    this.request.reply(status, { toTag: this.toTag, reason });
    this.endReason = { by: 'local', cause: 'rejected', status };
    this.ended(this.endReason);
  }

  hangup(status = 480): void {
    if (this.isEnded || this.current === LegState.Ending) return;
    if (!this.finalSent) {
      this.reject(status);
      return;
    }
    this.endReason ??= { by: 'local', cause: 'hangup' };
    this.move(LegEvent.Hangup);
    this.sendBye();
  }
}

export interface UacLegOptions {
  /** Where the callee is reached: its registration's flow, or a trunk. */
  flow: Endpoint;
  requestUri: SipUri;
  /** To header URI (the AOR). */
  to: string;
  from: { user: string; displayName?: string };
  extraHeaders?: [string, string][];
}

/** A call we place: to an agent's seat, a merchant station, or a consumer. */
export class UacLeg extends SipLeg {
  private invite: SipRequest | null = null;
  private tx: InviteClientTransaction | null = null;
  private cancelRequested = false;

  constructor(
    stack: SipStack,
    clock: Clock,
    log: Logger,
    media: LegMedia,
    private readonly o: UacLegOptions,
  ) {
    super(stack, clock, log, media, 'outbound');
  }

  get flow(): Endpoint {
    return this.o.flow;
  }

  /** Sends the INVITE with our SDP offer. */
  async start(): Promise<void> {
    const offer = await this.media.createOffer();
    if (this.cancelRequested || this.isEnded) {
      this.ended({ by: 'local', cause: 'cancel' });
      return;
    }
    const req = new SipRequest('INVITE', this.o.requestUri);
    const host = this.stack.transport.viaFor(this.o.flow.transport).host;
    const display = this.o.from.displayName ? `"${this.o.from.displayName.replace(/["\\]/g, '')}" ` : '';
    req.headers.add('From', `${display}<sip:${this.o.from.user}@${host}>;tag=${newTag()}`);
    req.headers.add('To', this.o.to);
    req.headers.add('Call-ID', newCallId(host));
    req.headers.add('CSeq', '1 INVITE');
    req.headers.add('Contact', this.localContact());
    req.headers.add('Allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY');
    req.headers.add('Supported', 'timer');
    for (const [n, v] of this.o.extraHeaders ?? []) req.headers.add(n, v);
    req.headers.add('Content-Type', 'application/sdp');
    req.body = Buffer.from(offer, 'utf8');
    this.invite = req;
    this.tx = this.stack.sendRequest(req, this.o.flow, {
      onProvisional: (res) => this.provisional(res),
      onFinal: (res) => void this.final(res),
      onTimeout: () => this.ended({ by: 'remote', cause: 'timeout', status: 408 }),
      onTransportError: () => this.ended({ by: 'remote', cause: 'rejected', status: 503 }),
    }) as InviteClientTransaction;
  }

  private provisional(res: SipResponse): void {
    if (this.isEnded || res.status === 100) return;
    if (res.status === 180 || res.status === 183) {
      if (this.current === LegState.Setup || this.current === LegState.Ringing) this.move(LegEvent.Ring);
      this.fireEvent('ringing');
    }
  }

  private async final(res: SipResponse): Promise<void> {
    const invite = this.invite!;
    if (res.status >= 300) {
      const cause = this.cancelRequested && res.status === 487 ? 'cancel' : 'rejected';
      this.ended(
        cause === 'cancel' ? { by: 'local', cause, status: res.status } : { by: 'remote', cause, status: res.status },
      );
      return;
    }
    if (res.status < 200) return;
    // A 2xx. Further 2xx from forks or retransmissions (RFC 6026): ACK them; extra dialogs get BYE.
    if (this.dialog) {
      if (res.toTag === this.dialog.id.remoteTag) {
        this.stack.sendAck(this.dialog, invite.cseq.seq);
      } else {
        this.byeStrayFork(invite, res);
      }
      return;
    }
    const dialog = this.stack.dialogs.createUac(invite, res, { localContact: this.localContact() });
    this.dialog = dialog;
    this.stack.setFlow(dialog, this.o.flow);
    this.stack.ua.bindDialog(dialog, this);
    this.stack.sendAck(dialog, invite.cseq.seq);
    if (this.cancelRequested || this.isEnded) {
      // The callee answered as we cancelled (§9.1 race): the session exists, so BYE it.
      if (this.isEnded) {
        this.stack.sendInDialog(dialog, dialog.createRequest('BYE'), { onFinal: () => dialog.terminate() });
        return;
      }
      if (this.current !== LegState.Ending) this.move(LegEvent.Hangup);
      this.move(LegEvent.Answer);
      this.sendBye();
      return;
    }
    this.answeredAt = Date.now();
    this.move(LegEvent.Answer);
    this.move(LegEvent.Ack);
    const se = parseSessionExpires(res.headers.get('Session-Expires'));
    if (se) {
      this.sessionExpires = Math.max(MIN_SE, se.seconds);
      this.weRefresh = se.refresher !== 'uas';
    }
    this.armSessionTimer();
    try {
      if (res.body.length > 0) await this.media.applyAnswer(res.body.toString('utf8'));
    } catch (err) {
      this.log.warn({ err }, 'unusable SDP answer: ending the leg');
      this.endReason = { by: 'local', cause: 'error', status: 488 };
      this.hangup();
      return;
    }
    this.fireEvent('answered');
    this.fireEvent('confirmed');
  }

  private byeStrayFork(invite: SipRequest, res: SipResponse): void {
    try {
      const d = this.stack.dialogs.createUac(invite, res, { localContact: this.localContact() });
      this.stack.setFlow(d, this.o.flow);
      this.stack.sendAck(d, invite.cseq.seq);
      this.stack.sendInDialog(d, d.createRequest('BYE'), {
        onFinal: () => d.terminate(),
        onTimeout: () => d.terminate(),
      });
    } catch (err) {
      this.log.warn({ err }, 'could not end a second forked 2xx');
    }
  }

  hangup(): void {
    if (this.isEnded || this.current === LegState.Ending) return;
    if (this.dialog && this.isUp) {
      this.endReason ??= { by: 'local', cause: 'hangup' };
      this.move(LegEvent.Hangup);
      this.sendBye();
      return;
    }
    this.cancelRequested = true;
    this.endReason ??= { by: 'local', cause: 'cancel' };
    if (!this.tx) {
      // start() has not sent the INVITE yet; it will notice.
      return;
    }
    this.move(LegEvent.Hangup);
    // §9.1: the CANCEL goes out once a provisional response has arrived; if nothing arrives the
    // INVITE transaction times out on its own (Timer B).
    this.tx.cancel({});
  }

  /** Target of the INVITE, for logs and CDRs (the device, never a consumer number in clear). */
  get target(): string {
    return formatUri(this.o.requestUri);
  }
}
