import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { staticRoutes } from '../../../server/api/routes/static.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

const HTML = { accept: 'text/html,application/xhtml+xml' };

describe('static desktop routes', () => {
  let app: FastifyInstance | null = null;
  let dir: string | null = null;
  afterEach(async () => {
    await app?.close();
    app = null;
    if (dir) removeTempDir(dir);
    dir = null;
  });

  async function build(withDist = true): Promise<FastifyInstance> {
    dir = makeTempDir('desktop-dist');
    if (withDist) {
      mkdirSync(path.join(dir, 'assets'));
      writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>座席工作台</title>');
      writeFileSync(path.join(dir, 'assets', 'index-abc.js'), 'console.log(1)');
    }
    app = Fastify();
    await app.register(staticRoutes, { root: dir });
    app.get('/api/ping', async () => ({ pong: true }));
    await app.ready();
    return app;
  }

  it('serves index.html at / without caching, and hashed assets as immutable', async () => {
    const a = await build();
    const root = await a.inject({ url: '/', headers: HTML });
    expect(root.statusCode).toBe(200);
    expect(root.body).toContain('座席工作台');
    expect(root.headers['cache-control']).toBe('no-cache');
    const js = await a.inject({ url: '/assets/index-abc.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.headers['cache-control']).toContain('immutable');
  });

  it('falls back to index.html for client-side paths that want HTML', async () => {
    const a = await build();
    const r = await a.inject({ url: '/desk/calls?x=1', headers: HTML });
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain('座席工作台');
    expect(r.headers['cache-control']).toBe('no-cache');
  });

  it('never answers /api, /sip or /socket.io paths, missing assets or non-HTML requests with the page', async () => {
    const a = await build();
    for (const url of ['/api/nothing', '/sip/x', '/socket.io/', '/api']) {
      const r = await a.inject({ url, headers: HTML });
      expect(r.statusCode, url).toBe(404);
      expect(r.json()).toMatchObject({ error: 'not_found' });
    }
    expect((await a.inject({ url: '/assets/gone.js', headers: HTML })).statusCode).toBe(404);
    expect((await a.inject({ url: '/desk', headers: { accept: 'application/json' } })).statusCode).toBe(404);
    expect((await a.inject({ method: 'POST', url: '/desk', headers: HTML })).statusCode).toBe(404);
    // Routes of other plugins are untouched.
    expect((await a.inject({ url: '/api/ping' })).json()).toEqual({ pong: true });
  });

  it('says the desktop is not built instead of failing at startup', async () => {
    const a = await build(false);
    const r = await a.inject({ url: '/', headers: HTML });
    expect(r.statusCode).toBe(503);
    expect(r.body).toContain('build:desktop');
    expect((await a.inject({ url: '/api/x', headers: HTML })).statusCode).toBe(404);
  });
});
