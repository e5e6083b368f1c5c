import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildHttpApp } from '../../server/api/app.js';
import { kbRoutes } from '../../server/api/routes/kb.js';
import { KbRepository } from '../../server/kb/index.js';
import { authFixture, bearer, login, type AuthFixture } from '../api/helpers.js';

let f: AuthFixture;
let app: FastifyInstance;
let kb: KbRepository;
const t: Record<string, string> = {};

beforeEach(async () => {
  f = await authFixture();
  kb = new KbRepository(f.db);
  kb.seed();
  app = await buildHttpApp({ health: { startedAt: 0, transports: () => [] }, auth: f.auth });
  await app.register(kbRoutes, { kb });
  await app.ready();
  for (const u of ['agent01', 'lead01', 'm3001']) t[u] = await login(app, u);
});
afterEach(async () => {
  await app.close();
  f.close();
});

describe('/api/kb', () => {
  it('GET /api/kb/search?q= returns {items}', async () => {
    const r = await app.inject({
      method: 'GET',
      url: `/api/kb/search?q=${encodeURIComponent('无理由退货')}`,
      headers: bearer(t.agent01!),
    });
    expect(r.statusCode).toBe(200);
    const { items } = r.json();
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ kind: 'law', terms: ['无理由退货'] });
    expect(items[0].title).toContain('第二十五条');
  });

  it('400 without q, 401 without a session', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/kb/search', headers: bearer(t.agent01!) })).statusCode).toBe(
      400,
    );
    expect((await app.inject({ method: 'GET', url: '/api/kb/search?q=x' })).statusCode).toBe(401);
  });

  it('leads create and edit with version; agents may not; stale version 409', async () => {
    const body = {
      kind: 'faq',
      title: '快递丢件谁负责？',
      body: '先找寄件时的快递公司协商赔偿。',
      tags: ['快递', '丢件'],
    };
    expect(
      (await app.inject({ method: 'POST', url: '/api/kb/articles', payload: body, headers: bearer(t.agent01!) }))
        .statusCode,
    ).toBe(403);
    const c = await app.inject({ method: 'POST', url: '/api/kb/articles', payload: body, headers: bearer(t.lead01!) });
    expect(c.statusCode).toBe(201);
    const id = c.json().id;
    const bad = await app.inject({
      method: 'POST',
      url: '/api/kb/articles',
      payload: { ...body, kind: 'poem', title: '' },
      headers: bearer(t.lead01!),
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().fieldErrors.length).toBeGreaterThan(0);
    const put = await app.inject({
      method: 'PUT',
      url: `/api/kb/articles/${id}`,
      payload: { ...body, body: '由寄件快递公司先行赔偿。', version: 1 },
      headers: bearer(t.lead01!),
    });
    expect(put.json().version).toBe(2);
    const stale = await app.inject({
      method: 'PUT',
      url: `/api/kb/articles/${id}`,
      payload: { ...body, version: 1 },
      headers: bearer(t.lead01!),
    });
    expect(stale.statusCode).toBe(409);
    expect(stale.json()).toMatchObject({ error: 'version_conflict', currentVersion: 2 });
    const s = await app.inject({
      method: 'GET',
      url: `/api/kb/search?q=${encodeURIComponent('先行赔偿')}`,
      headers: bearer(t.m3001!),
    });
    expect(s.json().items.map((i: { id: number }) => i.id)).toContain(id);
    expect(
      (await app.inject({ method: 'DELETE', url: `/api/kb/articles/${id}?version=2`, headers: bearer(t.lead01!) }))
        .statusCode,
    ).toBe(204);
    expect(
      (await app.inject({ method: 'GET', url: `/api/kb/articles/${id}`, headers: bearer(t.agent01!) })).statusCode,
    ).toBe(404);
  });
});
