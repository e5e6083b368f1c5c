/**
 * Digest authentication of requests from devices (RFC 3261 §22.2, RFC 8760). Every REGISTER and
 * every INVITE from a seat or station passes here. Answers are uniform on purpose: an unknown user
 * and a wrong password both get a fresh 401 challenge, so extensions cannot be enumerated.
 */
import type { Logger } from 'pino';
import type { DigestAuthenticator, Ha1Lookup } from '../auth/digest.js';
import { formatUri } from '../message/grammar.js';
import type { IncomingRequest } from './user-agent-core.js';

export interface AuthFailureListener {
  /** A request carried credentials that did not verify (bad password, unknown user, replay). */
  (sourceAddress: string, user: string | undefined, reason: string): void;
}

export class RequestAuthenticator {
  constructor(
    private readonly digest: DigestAuthenticator,
    private readonly lookupHa1: Ha1Lookup,
    private readonly log: Logger,
    private readonly onFailure?: AuthFailureListener,
  ) {}

  /**
   * Returns the authenticated user name, or answers the request (401 with a challenge, 400 for
   * malformed credentials) and returns null.
   */
  authenticate(request: IncomingRequest): string | null {
    const { req } = request;
    const creds = req.headers.getAll('Authorization');
    const result = this.digest.verify({ method: req.method, requestUri: formatUri(req.uri) }, creds, this.lookupHa1);
    if (result.ok) return result.user;
    if (result.reason === 'malformed' || result.reason === 'uri-mismatch') {
      request.reply(400, {
        reason: `Bad Request (${result.reason === 'malformed' ? 'malformed credentials' : 'digest uri does not match Request-URI'})`,
      });
      this.fail(request, result.user, result.reason);
      return null;
    }
    if (result.reason !== 'missing' && !result.stale) this.fail(request, result.user, result.reason);
    request.reply(401, {
      headers: this.digest.challenge(result.stale).map((v) => ['WWW-Authenticate', v] as const),
    });
    return null;
  }

  private fail(request: IncomingRequest, user: string | undefined, reason: string): void {
    const source = request.req.source?.address ?? 'unknown';
    this.log.info({ source, user, reason, method: request.req.method }, 'SIP authentication failed');
    this.onFailure?.(source, user, reason);
  }
}
