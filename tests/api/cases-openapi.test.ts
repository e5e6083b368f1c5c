import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildHttpApp } from '../../server/api/app.js';
import { AuthService } from '../../server/api/auth/plugin.js';
import { caseRoutes } from '../../server/api/routes/cases.js';
import { kbRoutes } from '../../server/api/routes/kb.js';
import { CaseRepository } from '../../server/cases/index.js';
import { Directory } from '../../server/directory/directory.js';
import { KbRepository } from '../../server/kb/index.js';
import { openDatabase, type Database } from '../../server/storage/database.js';

describe('OpenAPI at /docs', () => {
  let app: FastifyInstance;
  let db: Database;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    db = openDatabase(':memory:');
    const directory = new Directory(db, { scrypt: { N: 1024, r: 8, p: 1 } });
    const auth = AuthService.create(directory.webUsers, db);
    app = await buildHttpApp({ health: { startedAt: Date.now(), transports: () => [] }, auth });
    await app.register(caseRoutes, { cases: new CaseRepository(db) });
    await app.register(kbRoutes, { kb: new KbRepository(db) });
    await app.ready();
    for (const role of ['agent', 'lead'] as const) {
      await directory.webUsers.create({ username: `${role}x`, password: 'password-123', role });
      const r = await app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: `${role}x`, password: 'password-123' },
      });
      tokens[role] = (r.json() as { token: string }).token;
    }
  });
  afterAll(async () => {
    await app.close();
    db.close();
  });

  it('serves the UI page without a session (static, no data)', async () => {
    const r = await app.inject({ method: 'GET', url: '/docs/' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toContain('text/html');
  });

  it('gives the specification only to leads and admins', async () => {
    expect((await app.inject({ method: 'GET', url: '/docs/json' })).statusCode).toBe(401);
    const agent = await app.inject({
      method: 'GET',
      url: '/docs/json',
      headers: { authorization: `Bearer ${tokens.agent}` },
    });
    expect(agent.statusCode).toBe(403);
    const lead = await app.inject({
      method: 'GET',
      url: '/docs/json',
      headers: { authorization: `Bearer ${tokens.lead}` },
    });
    expect(lead.statusCode).toBe(200);
    const spec = lead.json() as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(['/api/cases', '/api/cases/{id}', '/api/kb/search', '/api/case-areas']),
    );
    expect(spec.paths['/api/cases']).toHaveProperty('post');
    expect((await app.inject({ method: 'GET', url: '/docs/yaml' })).statusCode).toBe(401);
  });
});
