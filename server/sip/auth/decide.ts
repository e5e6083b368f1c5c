import type { DigestAuthenticator, Ha1Lookup, VerifyFailure } from './digest.js';

/**
 * What to do with a request's credentials (RFC 3261 §22.2, RFC 7616 §3.4.6), shared by REGISTER and
 * INVITE. Malformed credentials or a digest `uri` naming another resource get 400; everything else
 * that fails gets a fresh 401 challenge (stale=true when only the nonce was old), so that an unknown
 * user and a wrong password look the same.
 */
export type AuthDecision =
  | { ok: true; user: string }
  | {
      ok: false;
      status: 400 | 401;
      reason: string;
      headers: [string, string][];
      /** Set when credentials were present and wrong: worth logging and counting (brute force). */
      failure: VerifyFailure | null;
      user?: string;
    };

export function decideAuth(
  request: { method: string; requestUri: string; authorization: readonly string[] },
  digest: DigestAuthenticator,
  lookupHa1: Ha1Lookup,
): AuthDecision {
  const r = digest.verify({ method: request.method, requestUri: request.requestUri }, request.authorization, lookupHa1);
  if (r.ok) return { ok: true, user: r.user };
  if (r.reason === 'malformed' || r.reason === 'uri-mismatch') {
    return {
      ok: false,
      status: 400,
      reason:
        r.reason === 'malformed'
          ? 'Bad Request (malformed credentials)'
          : 'Bad Request (digest uri does not match Request-URI)',
      headers: [],
      failure: r.reason,
      user: r.user,
    };
  }
  return {
    ok: false,
    status: 401,
    reason: 'Unauthorized',
    headers: digest.challenge(r.stale).map((v) => ['WWW-Authenticate', v]),
    failure: r.reason === 'missing' || r.stale ? null : r.reason,
    user: r.user,
  };
}
