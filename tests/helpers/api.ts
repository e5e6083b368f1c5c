/** The HTTP API of a test server as an agent, lead or admin uses it: JSON in, status and JSON out. */
import { expect } from 'vitest';

export interface Api {
  <T = Record<string, unknown>>(
    method: string,
    url: string,
    token: string | null,
    body?: unknown,
  ): Promise<{
    status: number;
    body: T;
  }>;
}

/** `server` is read at each request, so a suite can make its api before beforeAll starts the server. */
export function apiFor(server: { httpUrl: string } | (() => { httpUrl: string })): Api {
  return async (method, url, token, body) => {
    const base = typeof server === 'function' ? server().httpUrl : server.httpUrl;
    const res = await fetch(`${base}${url}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as never };
  };
}

/** Logs in and returns the session token; the login must succeed. */
export async function login(api: Api, username: string, password: string): Promise<string> {
  const r = await api<{ token: string }>('POST', '/api/auth/login', null, { username, password });
  expect(r.status).toBe(200);
  return r.body.token;
}
