/**
 * New INVITEs (outside any dialog): identify the caller, admit the call, hand it to call control.
 *
 * Caller identity, in this order:
 *  - a request that carries credentials is a device and must verify (digest, §22);
 *  - a request from a trunk's source address is trunk traffic, which may reach only the hotline;
 *  - anything else is challenged (401) before any routing decision, so that a scanner cannot tell
 *    a known extension from an unknown one.
 * A trunk-sourced request for an internal extension is challenged too: desk phones in the same
 * office as the trunk gateway share its address, and they must authenticate to call seats.
 */
import type { Logger } from 'pino';
import type { Directory } from '../directory/directory.js';
import type { RequestAuthenticator } from '../sip/ua/authenticate.js';
import type { IncomingRequest } from '../sip/ua/user-agent-core.js';
import { setupTrace, SetupStage } from '../sip/message/setup-trace.js';
import { maskPhone } from '../util/log.js';
import { admit, normaliseDialled, type AdmissionContext, type Caller, type CallTarget } from './admission.js';

export interface CallHandler {
  /** An admitted INVITE. The handler owns the transaction from here: it must answer it. */
  offer(request: IncomingRequest, caller: Caller, target: CallTarget): void | Promise<void>;
}

export interface InboundCallsOptions {
  directory: Directory;
  authenticator: RequestAuthenticator;
  accessNumbers: readonly string[];
  serviceNumbers: readonly string[];
  handler: CallHandler;
  log: Logger;
  /** Admission control (issue 9): overload, channel limit, draining. Checked before anything else. */
  gate?: { admit(): { ok: true } | { ok: false; reason: string; retryAfterS: number } };
}

export class InboundCalls {
  readonly stats = { offered: 0, rejected: 0, shed: 0 };
  /** Built once: every INVITE used to allocate this context and its bound functions. */
  private readonly ctx: AdmissionContext;

  constructor(private readonly o: InboundCallsOptions) {
    const { devices, trunks } = o.directory;
    this.ctx = {
      accessNumbers: o.accessNumbers,
      serviceNumbers: o.serviceNumbers,
      device: (ext: string) => devices.get(ext),
      accessNumberForTrunk: (trunk, did) => trunks.accessNumberFor(trunk, did),
      mayDial: (device, number) => devices.mayDial(device, number),
    };
  }

  handle(request: IncomingRequest): void | Promise<void> {
    const { req } = request;
    // Shed first: refusing before digest and routing is what keeps the calls already up unaffected,
    // and a 503 says nothing about which extensions exist (§21.5.4, Retry-After §20.33).
    const verdict0 = this.o.gate?.admit();
    if (verdict0 && !verdict0.ok) {
      this.stats.shed++;
      request.reply(503, {
        reason: verdict0.reason === 'draining' ? 'Service Unavailable (shutting down)' : 'Service Unavailable',
        headers: [['Retry-After', String(verdict0.retryAfterS)]],
      });
      return;
    }
    setupTrace.mark(req, SetupStage.Admission);
    const dialled = normaliseDialled(req.uri.user);
    const ctx = this.ctx;

    let caller: Caller | null = null;
    const hasCredentials = req.headers.has('Authorization');
    const trunk = req.source ? this.o.directory.trunks.findBySource(req.source.address) : null;
    if (!hasCredentials && trunk) {
      // Access and service numbers are never extensions: no device lookup on the hotline's hot path.
      const internal =
        dialled !== null &&
        !ctx.accessNumbers.includes(dialled) &&
        !ctx.serviceNumbers.includes(dialled) &&
        this.o.directory.devices.get(dialled) !== null;
      if (!internal) caller = { kind: 'trunk', trunk };
    }
    if (!caller) {
      const user = this.o.authenticator.authenticate(request);
      if (user === null) return;
      const device = this.o.directory.devices.get(user);
      if (!device || !device.enabled) {
        request.reply(403, { reason: 'Forbidden (device disabled)' });
        return;
      }
      caller = { kind: 'device', device };
    }

    if (dialled === null) {
      this.stats.rejected++;
      request.reply(404, { reason: 'Not Found (not a dialable number)' });
      return;
    }
    const verdict = admit(caller, dialled, ctx);
    if (!verdict.ok) {
      this.stats.rejected++;
      if (this.o.log.isLevelEnabled('info'))
        this.o.log.info(
          {
            caller: caller.kind === 'trunk' ? `trunk:${caller.trunk.name}` : caller.device.extension,
            dialled: maskPhone(dialled),
            status: verdict.status,
          },
          'call refused',
        );
      request.reply(verdict.status, { reason: verdict.reason });
      return;
    }
    this.stats.offered++;
    setupTrace.mark(req, SetupStage.CallManager);
    return this.o.handler.offer(request, caller, verdict.target);
  }
}
