/**
 * Calls we place: to consumers through the outbound trunk (callbacks, agents dialling out) and to a
 * registered device without a caller attached (the agent's seat for a callback). Every call to the
 * outside passes the toll-fraud guard first (`admit`): it leaves on behalf of a seat and only to a
 * number that seat's dial patterns allow, exactly as if the seat had dialled it itself.
 */
import type { Logger } from 'pino';
import type { SipDevice } from '../directory/devices.js';
import type { Directory } from '../directory/directory.js';
import type { Trunk } from '../directory/trunks.js';
import type { MediaEngine, MediaEndpoint } from '../media/engine/api.js';
import { parseUri } from '../sip/message/grammar.js';
import type { Registrar } from '../sip/registrar/registrar.js';
import type { SipStack } from '../sip/stack.js';
import type { Clock } from '../util/clock.js';
import { maskPhone } from '../util/log.js';
import { admit, normaliseDialled } from './admission.js';
import type { CdrStore, Disposition } from './cdr.js';
import { UacLeg, type EndReason } from './sip-leg.js';

export type DialResult = 'answered' | 'no-answer' | 'busy' | 'failed' | 'cancelled';

export class OutboundRefused extends Error {
  constructor(
    readonly code: 'no-trunk' | 'forbidden' | 'not-a-number',
    message: string,
  ) {
    super(message);
  }
}

export interface DialOutOptions {
  /** The seat (device or extension) the call leaves for: its dial patterns decide whether it may. */
  onBehalfOf: SipDevice | string;
  displayName?: string;
  extraHeaders?: [string, string][];
}

export interface OutboundCallsOptions {
  stack: SipStack;
  engine: MediaEngine;
  registrar: Registrar;
  directory: Directory;
  clock: Clock;
  log: Logger;
  realm: string;
  /** Calls out get a CDR row (direction 'outbound') when given. */
  cdr?: CdrStore;
}

let seq = 0;

export class OutboundCalls {
  readonly stats = { dialled: 0, refused: 0, answered: 0 };

  constructor(private readonly o: OutboundCallsOptions) {}

  /** The trunk calls to consumers would leave by now, or null (the embedded default has none). */
  trunk(): Trunk | null {
    return this.o.directory.trunks.outboundTrunk();
  }

  /**
   * Places a call to `number` through the outbound trunk and returns its leg once the INVITE is on its
   * way; the caller follows the leg's events (or `awaitAnswer`). Throws `OutboundRefused` before anything
   * is sent when there is no trunk or the guard says no.
   */
  async dialOut(number: string, opts: DialOutOptions): Promise<UacLeg> {
    const dialled = normaliseDialled(number);
    if (dialled === null) {
      this.stats.refused++;
      throw new OutboundRefused('not-a-number', 'not a dialable number');
    }
    const dev = this.o.directory.devices;
    const seat = typeof opts.onBehalfOf === 'string' ? dev.get(opts.onBehalfOf) : opts.onBehalfOf;
    if (!seat || !seat.enabled) {
      this.stats.refused++;
      throw new OutboundRefused('forbidden', 'no such seat, or disabled');
    }
    const verdict = admit({ kind: 'device', device: seat }, dialled, {
      accessNumbers: [],
      serviceNumbers: [],
      device: (ext) => dev.get(ext),
      accessNumberForTrunk: () => null,
      mayDial: (d, n) => dev.mayDial(d, n),
    });
    if (!verdict.ok || verdict.target.kind !== 'external') {
      this.stats.refused++;
      this.o.log.warn({ seat: seat.extension, number: maskPhone(dialled) }, 'call out refused by the dial patterns');
      throw new OutboundRefused('forbidden', 'number not allowed for this seat');
    }
    const trunk = this.trunk();
    const out = trunk?.outbound;
    if (!trunk || !out) {
      this.stats.refused++;
      throw new OutboundRefused('no-trunk', 'no outbound trunk is configured');
    }
    const media = await this.o.engine.createRtpEndpoint({
      label: `out:trunk:${trunk.name}`,
      inbandDtmf: trunk.inbandDtmf,
    });
    const host = out.host.includes(':') ? `[${out.host}]` : out.host;
    const transportParam = out.transport === 'UDP' ? '' : `;transport=${out.transport.toLowerCase()}`;
    const user = `${out.prefix}${dialled.replace(/^\+/, '')}`;
    const leg = new UacLeg(this.o.stack, this.o.clock, this.o.log, media, {
      flow: { transport: out.transport, address: out.host, port: out.port },
      requestUri: parseUri(`sip:${user}@${host}:${out.port}${transportParam}`),
      to: `<sip:${user}@${host}>`,
      from: { user: out.callerId ?? seat.extension, displayName: opts.displayName },
      extraHeaders: opts.extraHeaders,
    });
    this.stats.dialled++;
    this.recordCdr(leg, seat.extension, dialled, trunk.name);
    leg.once('answered', () => this.stats.answered++);
    void leg.start().catch((err: unknown) => {
      this.o.log.warn({ err }, 'INVITE to the trunk failed');
      leg.hangup();
    });
    return leg;
  }

  /**
   * Rings every live registration of a device (first answer wins, the others are cancelled) with no
   * caller behind it: the agent's seat for a callback. Resolves with the answered leg or why not.
   */
  async dialDevice(
    extension: string,
    opts: { ringTimeoutMs: number; signal?: AbortSignal; displayName?: string; extraHeaders?: [string, string][] },
  ): Promise<{ result: DialResult | 'unavailable'; leg: UacLeg | null }> {
    const bindings = this.o.registrar.lookup(extension).filter((b) => b.source !== null);
    if (bindings.length === 0) return { result: 'unavailable', leg: null };
    const legs: UacLeg[] = [];
    for (const b of bindings) {
      const t = b.source!.transport;
      const media: MediaEndpoint =
        t === 'WS' || t === 'WSS'
          ? await this.o.engine.createEndpoint('webrtc', { label: `out:${extension}` })
          : await this.o.engine.createRtpEndpoint({ label: `out:${extension}` });
      legs.push(
        new UacLeg(this.o.stack, this.o.clock, this.o.log, media, {
          flow: b.source!,
          requestUri: parseUri(b.contact),
          to: `<sip:${extension}@${this.o.realm}>`,
          from: { user: '12315', displayName: opts.displayName },
          extraHeaders: opts.extraHeaders,
        }),
      );
    }
    for (const leg of legs) {
      void leg.start().catch((err: unknown) => {
        this.o.log.warn({ err }, 'INVITE to device failed');
        leg.hangup();
      });
    }
    return awaitAnswer(legs, { clock: this.o.clock, timeoutMs: opts.ringTimeoutMs, signal: opts.signal });
  }

  private recordCdr(leg: UacLeg, seat: string, dialled: string, trunkName: string): void {
    const cdr = this.o.cdr;
    if (!cdr) return;
    const id = `o${Date.now().toString(36)}${(seq++).toString(36)}`;
    const startedAt = Date.now();
    let answeredAt: number | null = null;
    cdr.insert({
      id,
      sipCallId: '',
      direction: 'outbound',
      caller: seat,
      callerKind: 'device',
      dialled,
      target: `trunk:${trunkName}`,
      startedAt,
      answeredAt: null,
      endedAt: null,
      hangupBy: null,
      disposition: 'live',
      ivrPath: null,
      queue: null,
      legs: [leg.id],
      recordingFile: null,
    });
    leg.once('answered', () => {
      answeredAt = Date.now();
    });
    leg.once('ended', (r: EndReason) => {
      cdr.update(id, {
        answeredAt,
        endedAt: Date.now(),
        hangupBy: r.by === 'remote' ? 'callee' : 'system',
        disposition: dispositionOf(answeredAt, r),
      });
    });
  }
}

function dispositionOf(answeredAt: number | null, r: EndReason): Disposition {
  if (answeredAt !== null) return 'answered';
  if (r.cause === 'cancel') return 'cancelled';
  if (r.status === 486 || r.status === 600 || r.status === 603) return 'busy';
  if (r.status === 480 || r.status === 408 || r.cause === 'timeout') return 'no-answer';
  return 'failed';
}

/**
 * Waits for the first of `legs` to answer; the others (and all of them on timeout or abort) are hung
 * up. 'busy' only when every leg failed and one said busy.
 */
export function awaitAnswer(
  legs: readonly UacLeg[],
  opts: { clock: Clock; timeoutMs: number; signal?: AbortSignal },
): Promise<{ result: DialResult; leg: UacLeg | null }> {
  return new Promise((resolve) => {
    let done = false;
    const failures: EndReason[] = [];
    const finish = (result: DialResult, winner: UacLeg | null = null) => {
      if (done) return;
      done = true;
      opts.clock.clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      for (const l of legs) if (l !== winner) l.hangup();
      resolve({ result, leg: winner });
    };
    const onAbort = () => finish('cancelled');
    const timer = opts.clock.setTimeout(() => finish('no-answer'), opts.timeoutMs);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) finish('cancelled');
    for (const leg of legs) {
      if (leg.isEnded) failures.push(leg.endReason ?? { by: 'local', cause: 'error' });
      leg.once('answered', () => {
        if (done) leg.hangup();
        else finish('answered', leg);
      });
      leg.once('ended', (reason) => {
        if (done) return;
        failures.push(reason);
        if (failures.length < legs.length) return;
        if (failures.some((f) => f.status === 486 || f.status === 600 || f.status === 603)) finish('busy');
        else if (failures.every((f) => f.status === 480 || f.status === 408 || f.cause === 'timeout'))
          finish('no-answer');
        else finish('failed');
      });
    }
  });
}
