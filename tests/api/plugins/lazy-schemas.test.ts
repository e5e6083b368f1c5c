/**
 * Route schemas compiled on first use (restart after kill -9, issue 9): the app must answer exactly as
 * with Fastify's eager default compilers (validation errors, coercion, response serialization), compile
 * nothing before the first request, compile the rest in the background once listening, and every route
 * of the real server must have schemas that compile (a broken one no longer stops the start).
 */
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { buildHttpApp, lazySchemasOf } from '../../../server/api/app.js';
import { loadConfig } from '../../../server/config.js';
import { createHotlineServer } from '../../../server/server.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

const probeRoutes: FastifyPluginAsync = async (app) => {
  app.post(
    '/probe/:id',
    {
      schema: {
        params: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] },
        querystring: { type: 'object', properties: { n: { type: 'integer', default: 7 } } },
        body: {
          type: 'object',
          properties: { name: { type: 'string', minLength: 2 }, tags: { type: 'array', items: { type: 'string' } } },
          required: ['name'],
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: { id: { type: 'integer' }, name: { type: 'string' }, n: { type: 'integer' } },
          },
        },
      },
    },
    async (req) => {
      const p = req.params as { id: number };
      const q = req.query as { n: number };
      const b = req.body as { name: string };
      // `secret` is not in the response schema: the serializer must drop it
      return { id: p.id, name: b.name, n: q.n, secret: 'x', idType: typeof p.id };
    },
  );
};

const requests = [
  { method: 'POST', url: '/probe/12?n=3', payload: { name: '张三' } },
  { method: 'POST', url: '/probe/12', payload: { name: '张三', tags: ['a'] } },
  { method: 'POST', url: '/probe/abc', payload: { name: '张三' } },
  { method: 'POST', url: '/probe/12', payload: { name: 'x' } },
  { method: 'POST', url: '/probe/12', payload: {} },
  { method: 'POST', url: '/probe/12', payload: { name: '张三', extra: 1 } },
  { method: 'POST', url: '/probe/12?n=notanumber', payload: { name: '张三' } },
] as const;

async function answers(app: FastifyInstance) {
  const out: Array<{ status: number; body: string }> = [];
  for (const r of requests) {
    const res = await app.inject({ method: r.method, url: r.url, payload: r.payload });
    out.push({ status: res.statusCode, body: res.body });
  }
  return out;
}

describe('lazy route schemas', () => {
  it('answer exactly as Fastify with its eager default compilers, compiling on first use', async () => {
    const eager = Fastify();
    await eager.register(probeRoutes);
    const lazy = await buildHttpApp({ health: { startedAt: Date.now(), transports: () => [] } });
    await lazy.register(probeRoutes);
    await lazy.ready();
    const schemas = lazySchemasOf(lazy)!;
    const before = schemas.stats();
    expect(before.deferred).toBeGreaterThanOrEqual(4); // params, querystring, body, response of /probe
    expect(before.compiled).toBe(0);

    const want = await answers(eager);
    const got = await answers(lazy);
    expect(got).toEqual(want);
    // and the answers are the meaningful ones, not two identical failures (Fastify's ajv removes
    // additional properties rather than refusing them)
    expect(want.map((a) => a.status)).toEqual([200, 200, 400, 400, 400, 200, 400]);
    expect(JSON.parse(want[0]!.body)).toEqual({ id: 12, name: '张三', n: 3 });
    expect(JSON.parse(want[1]!.body)).toEqual({ id: 12, name: '张三', n: 7 });
    expect(schemas.stats().compiled).toBeGreaterThanOrEqual(4);
    expect(schemas.stats().compiled).toBeLessThan(schemas.stats().deferred);
    await eager.close();
    await lazy.close();
  });

  it('compiles the rest in the background once listening', async () => {
    const app = await buildHttpApp({ health: { startedAt: Date.now(), transports: () => [] } });
    await app.register(probeRoutes);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const schemas = lazySchemasOf(app)!;
    for (let i = 0; i < 500 && schemas.stats().compiled < schemas.stats().deferred; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(schemas.stats().deferred).toBeGreaterThan(0);
    expect(schemas.stats().compiled).toBe(schemas.stats().deferred);
    await app.close();
  });

  it('a schema that does not compile fails its route, and compileAll reports it', async () => {
    const app = await buildHttpApp({ health: { startedAt: Date.now(), transports: () => [] } });
    app.post('/broken', { schema: { body: { type: 'object', properties: { a: { type: 'nonsense' } } } } }, () => 'ok');
    await app.ready();
    const res = await app.inject({ method: 'POST', url: '/broken', payload: { a: 1 } });
    expect(res.statusCode).toBe(500);
    const app2 = await buildHttpApp({ health: { startedAt: Date.now(), transports: () => [] } });
    app2.post('/broken', { schema: { body: { type: 'object', properties: { a: { type: 'nonsense' } } } } }, () => 'ok');
    await app2.ready();
    expect(lazySchemasOf(app2)!.compileAll().length).toBe(1);
    await app.close();
    await app2.close();
  });

  const dataDir = makeTempDir('lazy-schemas-');
  afterAll(() => removeTempDir(dataDir));
  it('every route of the real server has schemas that compile', async () => {
    const config = loadConfig({ DATA_DIR: dataDir, SIP_HOST: '127.0.0.1', HTTP_PORT: '0' });
    const server = await createHotlineServer(config, { mediaThread: 'inline', scrypt: { N: 1024, r: 8, p: 1 } });
    try {
      await server.http.ready();
      const schemas = lazySchemasOf(server.http)!;
      expect(schemas.stats().deferred).toBeGreaterThan(50);
      expect(schemas.compileAll()).toEqual([]);
      expect(schemas.stats().compiled).toBe(schemas.stats().deferred);
    } finally {
      await server.close();
    }
  }, 60_000);
});
