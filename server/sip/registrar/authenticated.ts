import type { Logger } from 'pino';
import type { DigestAuthenticator, Ha1Lookup } from '../auth/digest.js';
import { formatUri } from '../message/grammar.js';
import type { SipRequest } from '../message/message.js';
import type { RegisterOutcome, Registrar } from './registrar.js';

/**
 * REGISTER with §10.3 step 3 included: digest-authenticate (§22.4, RFC 8760), then process. A request
 * without valid credentials gets 401 with a fresh challenge (stale=true when only the nonce was the
 * problem, so the UA retries without asking its user); a malformed or mismatched Authorization gets
 * 400 (RFC 7616 §3.4.6).
 */
export function authenticateAndRegister(
  req: SipRequest,
  deps: { authenticator: DigestAuthenticator; lookupHa1: Ha1Lookup; registrar: Registrar; logger?: Logger },
  now?: number,
): RegisterOutcome {
  const result = deps.authenticator.verify(
    { method: req.method, requestUri: formatUri(req.uri) },
    req.headers.getAll('Authorization'),
    deps.lookupHa1,
  );
  if (result.ok) return deps.registrar.handleRegister(req, { extension: result.user }, now);
  if (result.reason !== 'missing') {
    // Extensions and source addresses only: no consumer number can appear in a REGISTER.
    deps.logger?.warn(
      { reason: result.reason, user: result.user, source: req.source?.address },
      'REGISTER authentication failed',
    );
  }
  if (result.reason === 'malformed' || result.reason === 'uri-mismatch') {
    return { status: 400, reason: 'Bad Authorization Header', headers: [] };
  }
  return {
    status: 401,
    reason: 'Unauthorized',
    headers: deps.authenticator.challenge(result.stale).map((value) => ({ name: 'WWW-Authenticate', value })),
  };
}
