/** REST calls to the same origin, with the session token; errors carry the server's Chinese message. */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface LoginResult {
  token: string;
  expiresAt: string;
  user: { username: string; role: 'agent' | 'lead' | 'merchant' | 'admin'; displayName: string };
}

/** What JsSIP needs to register a seat (GET /api/agents/me/sip-credentials, when the server has it). */
export interface SipCredentials {
  extension: string;
  realm: string;
  /** MD5 HA1 of extension:realm:password — JsSIP's `ha1` + `realm` options, no plain password needed. */
  ha1?: string;
  password?: string;
  /** Path of SIP over WebSocket on this origin, default /sip. */
  wsPath?: string;
}

export async function api<T>(method: string, path: string, token: string | null, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new ApiError(0, 'network', `网络错误：${(err as Error).message}`);
  }
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const e = (data ?? {}) as { error?: string; message?: string };
    throw new ApiError(res.status, e.error ?? `http_${res.status}`, e.message ?? `HTTP ${res.status}`);
  }
  return data as T;
}

export type TransferTarget = { kind: 'queue' | 'agent' | 'number'; value: string };
export type TransferMode = 'blind' | 'consult';
