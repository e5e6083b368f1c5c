/**
 * Digest authentication of requests from devices (RFC 3261 §22.2, RFC 8760) for the UA core's
 * handlers: answers the request itself when it does not authenticate.
 */
import type { Logger } from 'pino';
import { decideAuth } from '../auth/decide.js';
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

  /** Returns the authenticated user name, or answers the request (401 / 400) and returns null. */
  authenticate(request: IncomingRequest): string | null {
    const { req } = request;
    const d = decideAuth(
      { method: req.method, requestUri: formatUri(req.uri), authorization: req.headers.getAll('Authorization') },
      this.digest,
      this.lookupHa1,
    );
    if (d.ok) return d.user;
    if (d.failure) {
      const source = req.source?.address ?? 'unknown';
      this.log.info({ source, user: d.user, reason: d.failure, method: req.method }, 'SIP authentication failed');
      this.onFailure?.(source, d.user, d.failure);
    }
    request.reply(d.status, { reason: d.reason, headers: d.headers });
    return null;
  }
}
