import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashToken } from '../../server/api/auth/sessions.js';
import { authFixture, bearer, buildApp, login, PASSWORD, type AuthFixture } from './helpers.js';

let f: AuthFixture;
let app: FastifyInstance;

beforeEach(async () => {
  f = await authFixture({ lockout: { userMaxFailures: 3, ipMaxFailures: 5, windowMs: 60_000, lockMs: 120_000 } });
  app = await buildApp(f);
});
afterEach(async () => {
  await app.close();
  f.close();
});

async function withLeadRoute(): Promise<FastifyInstance> {
  await app.close();
  const { buildHttpApp } = await import('../../server/api/app.js');
  const a = await buildHttpApp({ health: { startedAt: 0, transports: () => [] }, auth: f.auth });
  a.get('/api/lead-only', { preHandler: a.requireRole('lead', 'admin') }, async (req) => ({ who: req.user!.username }));
  a.get('/api/any', async (req) => ({ who: req.user?.username ?? null }));
  a.get('/static/app.js', async () => 'ok');
  await a.ready();
  return a;
}

describe('login', () => {
  it('returns a random token and the user, and the token authenticates', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'agent01', password: PASSWORD },
    });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body.user).toEqual({
      username: 'agent01',
      role: 'agent',
      displayName: '用户agent01',
      stationExtension: null,
    });
    expect(Buffer.from(body.token, 'base64url').length).toBeGreaterThanOrEqual(16);
    const t2 = await login(app, 'agent01');
    expect(t2).not.toBe(body.token);
    const me = await app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(body.token) });
    expect(me.statusCode).toBe(200);
    expect(me.json().user.username).toBe('agent01');
  });

  it('stores only the hash of the token', async () => {
    const token = await login(app, 'lead01');
    const rows = f.db.sqlite.prepare('SELECT token_hash FROM web_sessions').pluck().all() as string[];
    expect(rows).toContain(hashToken(token));
    expect(rows).not.toContain(token);
  });

  it('answers the same 401 for unknown user and wrong password', async () => {
    const a = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'nobody', password: 'x' },
    });
    const b = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'agent01', password: 'x' },
    });
    expect(a.statusCode).toBe(401);
    expect(b.statusCode).toBe(401);
    expect(a.json()).toEqual(b.json());
  });

  it('rejects a body without password (schema)', async () => {
    const r = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'agent01' } });
    expect(r.statusCode).toBe(400);
  });

  it('refuses a disabled account and ends its live sessions', async () => {
    const token = await login(app, 'agent02');
    f.directory.webUsers.update('agent02', { enabled: false });
    expect((await app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(token) })).statusCode).toBe(401);
    const r = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'agent02', password: PASSWORD },
    });
    expect(r.statusCode).toBe(401);
  });
});

describe('logout and expiry', () => {
  it('logout revokes the token', async () => {
    const token = await login(app, 'agent01');
    const r = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(token) });
    expect(r.statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(token) })).statusCode).toBe(401);
  });

  it('expires after 12 h idle, but slides while used', async () => {
    const token = await login(app, 'agent01');
    const me = () => app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(token) });
    f.clock.t += 11 * 3600_000;
    expect((await me()).statusCode).toBe(200);
    f.clock.t += 11 * 3600_000; // 22 h after login, 11 h after last use
    expect((await me()).statusCode).toBe(200);
    f.clock.t += 12 * 3600_000 + 1;
    expect((await me()).statusCode).toBe(401);
  });

  it('has an absolute cap of 24 h however active', async () => {
    const token = await login(app, 'agent01');
    const me = () => app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(token) });
    for (let h = 0; h < 23; h++) {
      f.clock.t += 3600_000;
      expect((await me()).statusCode).toBe(200);
    }
    f.clock.t += 3600_000;
    expect((await me()).statusCode).toBe(401);
  });
});

describe('lockout', () => {
  it('locks the account (423) after repeated failures, even for the right password, then lets it in later', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: 'agent01', password: 'bad' },
      });
      expect(r.statusCode).toBe(401);
    }
    const locked = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'AGENT01', password: PASSWORD },
    });
    expect(locked.statusCode).toBe(423);
    expect(locked.json().message).toMatch(/锁定/);
    expect(Number(locked.headers['retry-after'])).toBe(120);
    // Another account from the same address is still fine (IP limit not reached yet).
    await login(app, 'agent02');
    f.clock.t += 120_001;
    await login(app, 'agent01');
  });

  it('limits one address spraying many accounts (429)', async () => {
    for (let i = 0; i < 5; i++) {
      await app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: `guess${i}`, password: 'bad' },
        remoteAddress: '10.0.0.9',
      });
    }
    const r = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'lead01', password: PASSWORD },
      remoteAddress: '10.0.0.9',
    });
    expect(r.statusCode).toBe(429);
    expect(r.json().message).toMatch(/次数过多/);
    // A different address is not affected.
    const ok = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'lead01', password: PASSWORD },
      remoteAddress: '10.0.0.10',
    });
    expect(ok.statusCode).toBe(200);
  });

  it('failures outside the window do not add up', async () => {
    for (let i = 0; i < 2; i++) {
      await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'agent01', password: 'bad' } });
    }
    f.clock.t += 61_000;
    await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'agent01', password: 'bad' } });
    await login(app, 'agent01');
  });
});

describe('route protection', () => {
  it('denies by default under /api/, allows health, login and non-API paths', async () => {
    const a = await withLeadRoute();
    try {
      expect((await a.inject({ method: 'GET', url: '/api/any' })).statusCode).toBe(401);
      expect(
        (await a.inject({ method: 'GET', url: '/api/any?x=1', headers: bearer('garbage-token-xxxxxxxxxxxx') }))
          .statusCode,
      ).toBe(401);
      // Percent-encoded paths reach the same route and must not slip past the check.
      for (const url of ['/%61pi/any', '/api/%61ny']) {
        expect((await a.inject({ method: 'GET', url })).statusCode).toBe(401);
      }
      expect((await a.inject({ method: 'GET', url: '/api//any' })).statusCode).toBe(404);
      expect((await a.inject({ method: 'GET', url: '/api/health' })).statusCode).toBe(200);
      expect((await a.inject({ method: 'GET', url: '/static/app.js' })).statusCode).toBe(200);
      const t = await login(a, 'agent01');
      const r = await a.inject({ method: 'GET', url: '/api/any', headers: bearer(t) });
      expect(r.json()).toEqual({ who: 'agent01' });
    } finally {
      await a.close();
    }
  });

  it('requireRole answers 403 for the wrong role and passes the right ones', async () => {
    const a = await withLeadRoute();
    try {
      const agent = await login(a, 'agent01');
      const lead = await login(a, 'lead01');
      const admin = await login(a, 'admin');
      const merchant = await login(a, 'm3001');
      expect((await a.inject({ method: 'GET', url: '/api/lead-only', headers: bearer(agent) })).statusCode).toBe(403);
      expect((await a.inject({ method: 'GET', url: '/api/lead-only', headers: bearer(merchant) })).statusCode).toBe(
        403,
      );
      expect((await a.inject({ method: 'GET', url: '/api/lead-only', headers: bearer(lead) })).json()).toEqual({
        who: 'lead01',
      });
      expect((await a.inject({ method: 'GET', url: '/api/lead-only', headers: bearer(admin) })).statusCode).toBe(200);
      // A role change takes effect on the next request, not at the next login.
      f.directory.webUsers.update('lead01', { role: 'agent' });
      expect((await a.inject({ method: 'GET', url: '/api/lead-only', headers: bearer(lead) })).statusCode).toBe(403);
    } finally {
      await a.close();
    }
  });
});
