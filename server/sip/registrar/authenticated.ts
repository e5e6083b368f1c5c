import type { Logger } from 'pino';
import { decideAuth } from '../auth/decide.js';
import type { DigestAuthenticator, Ha1Lookup } from '../auth/digest.js';
import { formatUri } from '../message/grammar.js';
import type { SipRequest } from '../message/message.js';
import type { RegisterOutcome, Registrar } from './registrar.js';

/**
 * REGISTER with §10.3 step 3 included: digest-authenticate (§22.4, RFC 8760), then process.
 */
export function authenticateAndRegister(
  req: SipRequest,
  deps: { authenticator: DigestAuthenticator; lookupHa1: Ha1Lookup; registrar: Registrar; logger?: Logger },
  now?: number,
): RegisterOutcome {
  const d = decideAuth(
    { method: req.method, requestUri: formatUri(req.uri), authorization: req.headers.getAll('Authorization') },
    deps.authenticator,
    deps.lookupHa1,
  );
  if (d.ok) return deps.registrar.handleRegister(req, { extension: d.user }, now);
  if (d.failure) {
    // Extensions and source addresses only: no consumer number can appear in a REGISTER.
    deps.logger?.warn(
      { reason: d.failure, user: d.user, source: req.source?.address },
      'REGISTER authentication failed',
    );
  }
  return { status: d.status, reason: d.reason, headers: d.headers.map(([name, value]) => ({ name, value })) };
}
