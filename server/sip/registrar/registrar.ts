import type { Logger } from 'pino';
import { systemClock, type Clock, type TimerHandle } from '../../util/clock.js';
import { createLogger, guardListener } from '../../util/log.js';
import type { Database } from '../../storage/database.js';
import { formatUri, parseTokenList, parseUnsigned, parseUri, unescapeUriPart } from '../message/grammar.js';
import type { SipRequest } from '../message/message.js';
import type { HeaderField, NameAddr } from '../message/types.js';
import { LocationStore, type Binding, type NewBinding } from './location.js';
import { sipUriEquivalent } from './uri-equal.js';

/**
 * REGISTER processing (RFC 3261 §10.3) over the SQLite location service. The caller has already
 * authenticated the request (step 3, digest in ../auth) and passes the authenticated device; this
 * module returns a response description that the UA layer turns into a SipResponse.
 */

export interface RegistrarOptions {
  db: Database;
  /** Domain of the canonical AORs (`sip:8001@<domain>`), normally the digest realm. */
  domain: string;
  /** For the expiry timer. */
  clock?: Clock;
  /** Current time in ms for expiry arithmetic; wall-clock epoch so that persisted bindings survive a restart. */
  now?: () => number;
  /** Seconds, when neither the Contact nor the Expires header says (§10.3 step 7: locally configured default). */
  defaultExpires?: number;
  /** Seconds; shorter non-zero requests get 423 (§10.3 step 7). At most 3600, as the RFC only allows 423 below one hour. */
  minExpires?: number;
  /** Seconds; longer requests are shortened (§10.3 step 7: the registrar MAY shorten). */
  maxExpires?: number;
  /** Oldest bindings beyond this are dropped, so a phone that reboots often cannot grow its fork set. */
  maxBindingsPerAor?: number;
  /** Step 1: is the Request-URI host a domain we serve? Default: any (phones often register to our IP). */
  isLocalDomain?: (host: string) => boolean;
  /** Option tags we support (step 2). */
  supportedExtensions?: readonly string[];
  /** Keep bindings tied to a TCP/TLS/WS connection found at start-up (default false: they are unreachable). */
  keepConnectionBindings?: boolean;
  logger?: Logger;
}

/** The authenticated device (step 3). */
export interface RegisterIdentity {
  extension: string;
}

export interface RegisterOutcome {
  status: number;
  reason: string;
  /** Headers to add to the response built from the request (createResponse copies Via/From/To/Call-ID/CSeq). */
  headers: HeaderField[];
}

export type BindingChangeReason = 'register' | 'unregister' | 'expired' | 'connection-closed';

export interface BindingChange {
  aor: string;
  extension: string;
  reason: BindingChangeReason;
  /** Live bindings after the change, best first. */
  bindings: Binding[];
  online: boolean;
}

const MAX_DELTA = 2 ** 32 - 1; // §20.19 delta-seconds upper bound
const MAX_TIMER_MS = 3_600_000;

class AbortRegister extends Error {}

interface PlannedContact {
  na: NameAddr;
  text: string;
  expires: number;
  q: number | null;
  instanceId: string | null;
  regId: number | null;
}

export class Registrar {
  readonly store: LocationStore;
  private readonly domain: string;
  private readonly clock: Clock;
  private readonly nowFn: () => number;
  private readonly defaultExpires: number;
  private readonly minExpires: number;
  private readonly maxExpires: number;
  private readonly maxBindings: number;
  private readonly isLocalDomain: ((host: string) => boolean) | null;
  private readonly supported: Set<string>;
  private readonly log: Logger;
  private readonly listeners = new Set<(c: BindingChange) => void>();
  private timer: TimerHandle | null = null;
  private closed = false;

  constructor(opts: RegistrarOptions) {
    this.store = new LocationStore(opts.db);
    this.domain = opts.domain.toLowerCase();
    this.clock = opts.clock ?? systemClock;
    this.nowFn = opts.now ?? Date.now;
    this.defaultExpires = opts.defaultExpires ?? 3600;
    this.minExpires = opts.minExpires ?? 60;
    this.maxExpires = opts.maxExpires ?? 3600;
    this.maxBindings = opts.maxBindingsPerAor ?? 10;
    this.isLocalDomain = opts.isLocalDomain ?? null;
    this.supported = new Set((opts.supportedExtensions ?? []).map((t) => t.toLowerCase()));
    this.log = opts.logger ?? createLogger('registrar');
    if (this.minExpires > 3600 || this.minExpires < 0) throw new Error('minExpires must be within 0..3600');
    if (this.maxExpires < this.minExpires || this.defaultExpires < this.minExpires) {
      throw new Error('defaultExpires and maxExpires must not be below minExpires');
    }
    if (!opts.keepConnectionBindings) {
      const n = this.store.removeAllConnectionBindings();
      if (n) this.log.info({ removed: n }, 'dropped connection-bound registrations from a previous run');
    }
    this.scheduleExpiry();
  }

  aorFor(extension: string): string {
    return `sip:${extension}@${this.domain}`;
  }

  /** Live contacts of an AOR (or bare extension), highest q first. */
  lookup(aorOrExtension: string, now = this.nowFn()): Binding[] {
    const aor = aorOrExtension.includes(':') ? aorOrExtension : this.aorFor(aorOrExtension);
    return this.store.live(aor, now);
  }

  isRegistered(extension: string, now = this.nowFn()): boolean {
    return this.lookup(extension, now).length > 0;
  }

  /** Called for every change of an AOR's bindings (the ACD learns that a seat came online or left). */
  onChange(listener: (change: BindingChange) => void): () => void {
    const guarded = guardListener('registrar.onChange', this.log, listener);
    this.listeners.add(guarded);
    return () => this.listeners.delete(guarded);
  }

  handleRegister(req: SipRequest, identity: RegisterIdentity, now = this.nowFn()): RegisterOutcome {
    if (this.closed) throw new Error('registrar is closed');
    if (req.method !== 'REGISTER') throw new Error(`not a REGISTER: ${req.method}`);

    // Step 1: the Request-URI names the domain whose bindings are being changed.
    if (this.isLocalDomain && !this.isLocalDomain(req.uri.host)) return reply(404, 'Domain Not Served');

    // Step 2: Require option tags we do not understand → 420 listing them in Unsupported (§8.2.2.3).
    let required: string[];
    try {
      required = req.headers.getAll('Require').flatMap(parseTokenList);
    } catch {
      return reply(400, 'Bad Require Header');
    }
    const unsupported = required.filter((t) => !this.supported.has(t.toLowerCase()));
    if (unsupported.length)
      return reply(420, 'Bad Extension', [{ name: 'Unsupported', value: unsupported.join(', ') }]);

    // Steps 4–5: the To header holds the AOR; a device may change only its own bindings.
    let to: NameAddr;
    let callId: string;
    let cseq: number;
    let contacts: NameAddr[];
    let expiresHeader: number | null = null;
    try {
      to = req.to;
      callId = req.callId;
      cseq = req.cseq.seq;
      contacts = req.contacts;
      const e = req.headers.get('Expires');
      if (e !== undefined) expiresHeader = parseUnsigned(e, Number.MAX_SAFE_INTEGER, 'Expires');
    } catch (err) {
      return reply(400, err instanceof Error ? truncate(err.message) : 'Bad Request');
    }
    if (!callId) return reply(400, 'Missing Call-ID');
    if (to.uri.scheme !== 'sip' && to.uri.scheme !== 'sips') return reply(404, 'Not Found');
    const user = to.uri.user === null ? null : unescapeUriPart(to.uri.user);
    if (user !== identity.extension) return reply(403, 'Forbidden');
    const aor = this.aorFor(user);

    // Step 6: Contact: * (only alone, and only with Expires: 0) removes every binding.
    const wildcard = contacts.some((c) => c.wildcard);
    if (wildcard && (contacts.length !== 1 || expiresHeader !== 0)) return reply(400, 'Invalid Wildcard Contact');

    let planned: PlannedContact[] = [];
    if (!wildcard) {
      const r = this.plan(contacts, expiresHeader);
      if ('status' in r) return r;
      planned = r;
    }

    const source = req.source ?? null;
    const userAgent = req.headers.get('User-Agent') ?? null;
    let changed = false;
    let removedAll = false;
    try {
      this.store.db.transaction(() => {
        // Expired bindings no longer exist for the Call-ID/CSeq rules.
        for (const b of this.store.all(aor)) {
          if (b.expiresAt <= now) this.store.remove(b.id);
        }
        const existing = this.store.all(aor);
        if (wildcard) {
          for (const b of existing) {
            // Step 6: same Call-ID needs a higher CSeq, otherwise the whole update is aborted.
            if (b.callId === callId && b.cseq >= cseq) throw new AbortRegister();
          }
          for (const b of existing) this.store.remove(b.id);
          changed = removedAll = existing.length > 0;
          return;
        }
        const touched = new Set<number>();
        const parsed = new Map(existing.map((b) => [b.id, safeParseUri(b.contact)]));
        for (const c of planned) {
          const match = existing.find((b) => {
            const u = parsed.get(b.id);
            if (u && sipUriEquivalent(u, c.na.uri)) return true;
            // A UA identified by +sip.instance (and reg-id) replaces its own older binding even when its
            // Contact changed, as after a reconnect with a new port or a fresh WebSocket (RFC 5626 §6).
            return c.instanceId !== null && b.instanceId === c.instanceId && b.regId === c.regId;
          });
          const row: NewBinding = {
            aor,
            contact: c.text,
            expiresAt: now + c.expires * 1000,
            q: c.q,
            callId,
            cseq,
            source,
            userAgent,
            instanceId: c.instanceId,
            regId: c.regId,
          };
          if (match) {
            // Step 7: the same Call-ID with a CSeq not higher is out of order: the update fails as a whole.
            if (!touched.has(match.id) && match.callId === callId && match.cseq >= cseq) throw new AbortRegister();
            if (c.expires === 0) {
              this.store.remove(match.id);
              existing.splice(existing.indexOf(match), 1);
            } else {
              this.store.update(match.id, row, now);
              touched.add(match.id);
            }
            changed = true;
          } else if (c.expires > 0) {
            const added = this.store.get(this.store.insert(row, now))!;
            existing.push(added);
            parsed.set(added.id, c.na.uri);
            touched.add(added.id);
            changed = true;
          }
        }
        const live = this.store.live(aor, now);
        if (live.length > this.maxBindings) {
          const oldest = [...live].sort((a, b) => a.updatedAt - b.updatedAt || a.id - b.id);
          for (const b of oldest.slice(0, live.length - this.maxBindings)) this.store.remove(b.id);
        }
      });
    } catch (err) {
      if (err instanceof AbortRegister) {
        // §10.3: binding updates are committed only if all succeed; otherwise 500 and nothing changes.
        return reply(500, 'Out Of Order Registration');
      }
      throw err;
    }

    const bindings = this.store.live(aor, now);
    if (changed) {
      this.scheduleExpiry();
      this.emit({
        aor,
        extension: user,
        reason: removedAll || bindings.length === 0 ? 'unregister' : 'register',
        bindings,
        online: bindings.length > 0,
      });
    }
    // Step 8: 200 listing every current binding with its remaining time.
    const headers: HeaderField[] = bindings.map((b) => ({
      name: 'Contact',
      value: `<${b.contact}>;expires=${Math.max(0, Math.ceil((b.expiresAt - now) / 1000))}${b.q !== null ? `;q=${formatQ(b.q)}` : ''}`,
    }));
    headers.push({ name: 'Date', value: new Date(now).toUTCString() });
    return { status: 200, reason: 'OK', headers };
  }

  /** Drops the bindings reachable only over a connection that closed (WebSocket tab closed, TCP reset). */
  connectionClosed(connectionId: string, now = this.nowFn()): void {
    if (this.closed) return;
    const aors = this.store.removeByConnection(connectionId);
    for (const aor of aors) this.emitFor(aor, 'connection-closed', now);
    if (aors.length) this.scheduleExpiry();
  }

  /** Removes expired bindings and reports the AORs that lost one. Also runs from the expiry timer. */
  purgeExpired(now = this.nowFn()): void {
    if (this.closed) return;
    const aors = this.store.purgeExpired(now);
    for (const aor of aors) this.emitFor(aor, 'expired', now);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.listeners.clear();
  }

  private plan(contacts: NameAddr[], expiresHeader: number | null): PlannedContact[] | RegisterOutcome {
    const out: PlannedContact[] = [];
    for (const na of contacts) {
      let expires: number;
      const p = na.params.get('expires');
      if (p !== undefined && p !== null) {
        // §10.2.1.1 / §20.19: a malformed expires is treated as the default of 3600.
        expires = /^\d+$/.test(p) ? Math.min(Number(p), MAX_DELTA) : 3600;
      } else if (expiresHeader !== null) expires = Math.min(expiresHeader, MAX_DELTA);
      else expires = this.defaultExpires;
      // Step 7: 423 only for 0 < expires < min (min is at most one hour, as the RFC requires).
      if (expires > 0 && expires < this.minExpires) {
        return reply(423, 'Interval Too Brief', [{ name: 'Min-Expires', value: String(this.minExpires) }]);
      }
      expires = Math.min(expires, this.maxExpires);
      let q: number | null = null;
      const qv = na.params.get('q');
      if (qv !== undefined) {
        // §20.10 qvalue: "0" [ "." 0*3DIGIT ] / "1" [ "." 0*3("0") ]
        if (qv === null || !/^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(qv)) return reply(400, 'Bad q Value');
        q = Number(qv);
      }
      const inst = na.params.get('+sip.instance');
      const instanceId = inst ? inst.replace(/^"(.*)"$/, '$1').replace(/^<(.*)>$/, '$1') : null;
      const rid = na.params.get('reg-id');
      const regId = rid && /^\d{1,9}$/.test(rid) ? Number(rid) : null;
      out.push({ na, text: formatUri(na.uri), expires, q, instanceId, regId });
    }
    return out;
  }

  private emitFor(aor: string, reason: BindingChangeReason, now: number): void {
    const bindings = this.store.live(aor, now);
    this.emit({ aor, extension: extensionOf(aor), reason, bindings, online: bindings.length > 0 });
  }

  private emit(change: BindingChange): void {
    for (const l of [...this.listeners]) l(change);
  }

  private scheduleExpiry(): void {
    if (this.closed) return;
    this.clock.clearTimeout(this.timer);
    this.timer = null;
    const next = this.store.earliestExpiry();
    if (next === null) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, next - this.nowFn()));
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      try {
        this.purgeExpired();
      } catch (err) {
        this.log.error({ err }, 'expiry purge failed');
      }
      this.scheduleExpiry();
    }, delay);
  }
}

function reply(status: number, reason: string, headers: HeaderField[] = []): RegisterOutcome {
  return { status, reason, headers };
}

function truncate(s: string): string {
  return s.replace(/[\r\n]/g, ' ').slice(0, 100);
}

function formatQ(q: number): string {
  return String(Math.round(q * 1000) / 1000);
}

function extensionOf(aor: string): string {
  const m = /^sips?:([^@]*)@/.exec(aor);
  return m ? m[1]! : aor;
}

function safeParseUri(text: string) {
  try {
    return parseUri(text);
  } catch {
    return null;
  }
}
