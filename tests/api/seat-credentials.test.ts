import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer();
});
afterAll(async () => {
  await ts?.stop();
});

async function call(method: string, url: string, token?: string, payload?: unknown) {
  const r = await ts.server.http.inject({
    method: method as 'GET',
    url,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    payload: payload as Record<string, unknown>,
  });
  return { status: r.statusCode, body: r.json() as Record<string, string> };
}

it('gives an agent the HA1 of the seat they signed in to, and nothing before that', async () => {
  const login = await call('POST', '/api/auth/login', undefined, { username: 'agent02', password: 'agent12315' });
  const token = login.body.token!;
  expect((await call('GET', '/api/agents/me/sip-credentials', token)).status).toBe(404);
  expect((await call('POST', '/api/agents/me/login', token, { seat: '8002' })).status).toBe(200);
  const r = await call('GET', '/api/agents/me/sip-credentials', token);
  expect(r.status).toBe(200);
  expect(r.body).toEqual({
    extension: '8002',
    realm: '12315.local',
    ha1: createHash('md5').update('8002:12315.local:demo8002').digest('hex'),
    wsPath: '/sip',
  });
  // Without a session there is nothing; a merchant account is not an agent.
  expect((await call('GET', '/api/agents/me/sip-credentials')).status).toBe(401);
  const m = await call('POST', '/api/auth/login', undefined, { username: 'm3001', password: 'merchant12315' });
  expect((await call('GET', '/api/agents/me/sip-credentials', m.body.token)).status).toBe(403);
});
