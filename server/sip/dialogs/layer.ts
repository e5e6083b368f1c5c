/**
 * Dialog registry (RFC 3261 §12.2.2: find the dialog of an incoming request by Call-ID, To tag as
 * local tag and From tag as remote tag) and the owner of the per-dialog 2xx retransmission
 * (§13.3.1.4), which ends an unacknowledged session with a BYE.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../util/clock.js';
import { guardListener } from '../../util/log.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import { timerConfig, type TimerConfig } from '../transactions/timers.js';
import { AckWait } from './ack-wait.js';
import { Dialog, DialogState, dialogKey, type DialogId, type DialogOptions } from './dialog.js';

export interface DialogLayerOptions {
  clock: Clock;
  log: Logger;
  timers?: Partial<TimerConfig>;
  /** Sends an in-dialog request built here (the BYE after an ACK timeout). Adds Via, picks the
   * destination and starts the client transaction. */
  sendRequest?(req: SipRequest, dialog: Dialog): void;
  /** Told when a dialog gave up waiting for the ACK of its 2xx (after the BYE was handed on). */
  onAckTimeout?(dialog: Dialog): void;
}

export class DialogLayer {
  readonly timers: TimerConfig;
  private readonly dialogs = new Map<string, Dialog>();
  private readonly waits = new Map<string, { wait: AckWait; seq: number }>();
  private readonly onAckTimeout: (dialog: Dialog) => void;
  private closed = false;

  constructor(private readonly opts: DialogLayerOptions) {
    this.timers = timerConfig(opts.timers);
    this.onAckTimeout = guardListener('sip.dialog.onAckTimeout', opts.log, (d: Dialog) => opts.onAckTimeout?.(d));
  }

  /** §12.1.1: registers the UAS side of a dialog created by `res` to `req`. */
  createUas(req: SipRequest, res: SipResponse, o?: DialogOptions): Dialog {
    return this.add(Dialog.asUas(req, res, o));
  }

  /** §12.1.2: registers the UAC side of a dialog created by `res` to `req`. */
  createUac(req: SipRequest, res: SipResponse, o?: DialogOptions): Dialog {
    return this.add(Dialog.asUac(req, res, o));
  }

  add(d: Dialog): Dialog {
    if (this.closed) throw new Error('dialog layer closed');
    if (d.state === DialogState.Terminated) throw new Error('cannot register a terminated dialog');
    if (this.dialogs.has(d.key)) throw new Error('dialog already exists');
    this.dialogs.set(d.key, d);
    d.onTerminated = () => this.forget(d);
    return d;
  }

  get(id: DialogId): Dialog | undefined {
    return this.dialogs.get(dialogKey(id));
  }

  /** §12.2.2: incoming request → local tag = To tag, remote tag = From tag. */
  findForRequest(req: SipRequest): Dialog | undefined {
    const localTag = req.toTag;
    if (!localTag) return undefined;
    return this.dialogs.get(dialogKey({ callId: req.callId, localTag, remoteTag: req.fromTag ?? '' }));
  }

  /** A response to our request → local tag = From tag, remote tag = To tag. */
  findForResponse(res: SipResponse): Dialog | undefined {
    const remoteTag = res.toTag;
    const localTag = res.fromTag;
    if (!remoteTag || !localTag) return undefined;
    return this.dialogs.get(dialogKey({ callId: res.callId, localTag, remoteTag }));
  }

  /**
   * §13.3.1.4: starts retransmitting a 2xx (first copy already sent) until `receiveAck`. After
   * 64·T1 the dialog sends BYE (through `sendRequest`) and terminates.
   */
  startAckWait(d: Dialog, inviteSeq: number, retransmit: () => void): AckWait {
    this.waits.get(d.key)?.wait.close();
    const wait = new AckWait({
      clock: this.opts.clock,
      timers: this.timers,
      retransmit: guardListener('sip.dialog.retransmit2xx', this.opts.log, retransmit),
      onTimeout: () => this.ackTimedOut(d),
    });
    this.waits.set(d.key, { wait, seq: inviteSeq });
    return wait;
  }

  /**
   * An ACK that no transaction absorbed (the ACK for a 2xx). Stops the 2xx retransmission when it
   * is for the INVITE being answered. Returns the dialog, or undefined when none matches.
   */
  receiveAck(ack: SipRequest): Dialog | undefined {
    const d = this.findForRequest(ack);
    if (!d) return undefined;
    const w = this.waits.get(d.key);
    if (w && w.seq === ack.cseq.seq) {
      w.wait.ack();
      this.waits.delete(d.key);
    }
    return d;
  }

  get size(): number {
    return this.dialogs.size;
  }

  /** Number of dialogs still retransmitting a 2xx. */
  get waitingForAck(): number {
    return this.waits.size;
  }

  /** Stops every 2xx retransmission and forgets all dialogs (without BYE). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waits.values()) w.wait.close();
    this.waits.clear();
    this.dialogs.clear();
  }

  private ackTimedOut(d: Dialog): void {
    this.waits.delete(d.key);
    if (d.state !== DialogState.Terminated) {
      if (this.opts.sendRequest) {
        try {
          // §13.3.1.4: "the session SHOULD be terminated ... accomplished with a BYE".
          this.opts.sendRequest(d.createRequest('BYE'), d);
        } catch (err) {
          this.opts.log.warn({ err }, 'BYE after ACK timeout failed');
        }
      }
      d.terminate();
    }
    this.onAckTimeout(d);
  }

  private forget(d: Dialog): void {
    if (this.dialogs.get(d.key) === d) this.dialogs.delete(d.key);
    const w = this.waits.get(d.key);
    if (w) {
      w.wait.close();
      this.waits.delete(d.key);
    }
  }
}
