/**
 * Who may call what (the toll-fraud guard). Pure: given who the caller is and what was dialled,
 * says where the call goes or how it is refused. No outbound call ever leaves except from an
 * authenticated seat to a number its dial patterns allow.
 */
import type { SipDevice } from '../directory/devices.js';
import type { Trunk } from '../directory/trunks.js';

export type Caller = { kind: 'trunk'; trunk: Trunk } | { kind: 'device'; device: SipDevice };

export type CallTarget =
  /** A hotline access number (12315): the IVR. */
  | { kind: 'access'; number: string }
  /** A seat or merchant station extension. */
  | { kind: 'device'; device: SipDevice }
  /** A built-in service number (9196 echo test, 7000 benchmark flow). */
  | { kind: 'service'; number: string }
  /** A consumer's or merchant's phone number, out through a trunk. */
  | { kind: 'external'; number: string };

export type Admission = { ok: true; target: CallTarget } | { ok: false; status: 403 | 404; reason: string };

export interface AdmissionContext {
  accessNumbers: readonly string[];
  serviceNumbers: readonly string[];
  device(extension: string): SipDevice | null;
  accessNumberForTrunk(trunk: Trunk, did: string): string | null;
  mayDial(device: SipDevice, number: string): boolean;
}

/** Digits and a leading +, as dialled; anything else is not a number we route. */
export function normaliseDialled(user: string | null): string | null {
  if (!user) return null;
  const s = decodeURIComponent(user).replace(/[-.() ]/g, '');
  return /^\+?[0-9*#]{1,32}$/.test(s) ? s : null;
}

export function admit(caller: Caller, dialled: string, ctx: AdmissionContext): Admission {
  if (caller.kind === 'trunk') {
    // A trunk reaches only the hotline: its DIDs, or an access number sent as is.
    const access =
      ctx.accessNumberForTrunk(caller.trunk, dialled) ?? (ctx.accessNumbers.includes(dialled) ? dialled : null);
    if (access) return { ok: true, target: { kind: 'access', number: access } };
    if (ctx.serviceNumbers.includes(dialled)) return { ok: true, target: { kind: 'service', number: dialled } };
    return { ok: false, status: 404, reason: 'Not Found' };
  }
  const device = caller.device;
  if (ctx.accessNumbers.includes(dialled)) return { ok: true, target: { kind: 'access', number: dialled } };
  if (ctx.serviceNumbers.includes(dialled)) return { ok: true, target: { kind: 'service', number: dialled } };
  const callee = ctx.device(dialled);
  if (callee && callee.enabled) {
    if (!ctx.mayDial(device, dialled))
      return { ok: false, status: 403, reason: 'Forbidden (not allowed to call this number)' };
    return { ok: true, target: { kind: 'device', device: callee } };
  }
  if (ctx.mayDial(device, dialled) && dialled.length >= 7)
    return { ok: true, target: { kind: 'external', number: dialled } };
  // Internal-looking numbers that match nobody are 404; anything else the patterns refuse is 403.
  return dialled.length < 7
    ? { ok: false, status: 404, reason: 'Not Found' }
    : { ok: false, status: 403, reason: 'Forbidden (number not allowed)' };
}
