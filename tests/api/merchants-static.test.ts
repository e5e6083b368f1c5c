import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticRoutes } from '../../server/api/routes/static.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';

const HTML = { accept: 'text/html' };

describe('the merchant portal page', () => {
  const dir = makeTempDir('merchant-dist');
  const app = Fastify();
  beforeAll(async () => {
    writeFileSync(path.join(dir, 'index.html'), '<title>座席工作台</title>');
    writeFileSync(path.join(dir, 'merchant.html'), '<title>维权站工作台</title>');
    await app.register(staticRoutes, { root: dir });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    removeTempDir(dir);
  });

  it('/merchant and its client paths get merchant.html, uncached; other pages keep the desktop', async () => {
    for (const url of ['/merchant', '/merchant/', '/merchant/case/3']) {
      const r = await app.inject({ url, headers: HTML });
      expect(r.statusCode, url).toBe(200);
      expect(r.body).toContain('维权站工作台');
      expect(r.headers['cache-control']).toBe('no-cache');
    }
    for (const url of ['/', '/merchants', '/desk']) {
      expect((await app.inject({ url, headers: HTML })).body, url).toContain('座席工作台');
    }
    expect((await app.inject({ url: '/merchant.html' })).headers['cache-control']).toBe('no-cache');
  });
});
