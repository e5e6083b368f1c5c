/**
 * The credentials / challenge syntax of WWW-Authenticate, Authorization, Proxy-Authenticate and
 * Proxy-Authorization (RFC 3261 §25.1 `challenge`/`credentials`, RFC 7235 §2.1, RFC 7616 §3.3–3.4):
 *
 *   auth-scheme LWS auth-param *(COMMA auth-param)      auth-param = token EQUAL ( token / quoted-string )
 *
 * Parameter names are case-insensitive (RFC 7616 §3.3) and kept lower-cased here; values are returned
 * with quotes removed and backslash escapes resolved, because the digest computation (RFC 7616 §3.4.1)
 * uses the unquoted value.
 */

export interface AuthCredentials {
  /** As sent, e.g. "Digest". Compare case-insensitively. */
  scheme: string;
  params: Map<string, string>;
}

export class AuthParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthParseError';
  }
}

const TOKEN = /[A-Za-z0-9\-.!%*_+`'~]/;

export function parseAuthHeader(value: string): AuthCredentials {
  let i = 0;
  const s = value;
  const ws = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\r' || s[i] === '\n')) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < s.length && TOKEN.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  ws();
  const scheme = token();
  if (!scheme) throw new AuthParseError('missing auth scheme');
  if (i < s.length && !/\s/.test(s[i]!)) throw new AuthParseError(`bad character after auth scheme at ${i}`);
  const params = new Map<string, string>();
  ws();
  // RFC 7235 §7 list rule: empty elements (",,") are tolerated.
  while (i < s.length) {
    if (s[i] === ',') {
      i++;
      ws();
      continue;
    }
    const name = token().toLowerCase();
    if (!name) throw new AuthParseError(`expected a parameter name at ${i}`);
    ws();
    if (s[i] !== '=') throw new AuthParseError(`expected "=" after ${name}`);
    i++;
    ws();
    let val: string;
    if (s[i] === '"') {
      i++;
      let out = '';
      for (;;) {
        if (i >= s.length) throw new AuthParseError(`unterminated quoted string in ${name}`);
        const c = s[i]!;
        if (c === '"') {
          i++;
          break;
        }
        if (c === '\\') {
          if (i + 1 >= s.length) throw new AuthParseError(`dangling escape in ${name}`);
          out += s[i + 1];
          i += 2;
          continue;
        }
        out += c;
        i++;
      }
      val = out;
    } else {
      val = token();
      if (!val) throw new AuthParseError(`empty value for ${name}`);
    }
    // A repeated parameter makes the credentials ambiguous (which nonce? which response?).
    if (params.has(name)) throw new AuthParseError(`duplicate parameter ${name}`);
    params.set(name, val);
    ws();
    if (i < s.length) {
      if (s[i] !== ',') throw new AuthParseError(`expected "," after ${name}`);
      i++;
      ws();
    }
  }
  return { scheme, params };
}

export function quoteString(v: string): string {
  return '"' + v.replace(/[\\"]/g, (c) => '\\' + c) + '"';
}

/**
 * Formats `scheme name=value, ...`. A value is written bare only when the caller says so (e.g. qop in
 * Authorization, algorithm, stale, nc), because RFC 7616 §3.3–3.4 fixes which parameters are quoted and
 * some peers reject the other form.
 */
export function formatAuthHeader(scheme: string, params: ReadonlyArray<[string, string, 'quoted' | 'token']>): string {
  const parts = params.map(([n, v, how]) => {
    if (how === 'token' && !/^[A-Za-z0-9\-.!%*_+`'~]+$/.test(v)) throw new Error(`${n} is not a token: ${v}`);
    return `${n}=${how === 'quoted' ? quoteString(v) : v}`;
  });
  return `${scheme} ${parts.join(', ')}`;
}
