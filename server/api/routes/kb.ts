import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { KB_KINDS, KbError, type KbInput, type KbKind, type KbRepository } from '../../kb/index.js';
import { createLogger } from '../../util/log.js';

/** /api/kb: search for everyone logged in; create, edit and delete for leads and admins. */

export interface KbRoutesOptions {
  kb: KbRepository;
}

const log = createLogger('api.kb');

const articleSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    key: { type: ['string', 'null'] },
    kind: { type: 'string' },
    title: { type: 'string' },
    body: { type: 'string' },
    source: { type: 'string' },
    tags: { type: 'array', items: { type: 'string' } },
    version: { type: 'integer' },
    updatedBy: { type: ['integer', 'null'] },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
  },
} as const;

const inputProps = {
  key: { type: ['string', 'null'], maxLength: 64 },
  kind: { type: 'string', enum: KB_KINDS },
  title: { type: 'string', minLength: 1, maxLength: 200 },
  body: { type: 'string', minLength: 1, maxLength: 50_000 },
  source: { type: 'string', maxLength: 300 },
  tags: { type: 'array', maxItems: 20, items: { type: 'string', minLength: 1, maxLength: 20 } },
} as const;

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } } as const;
const EDITORS = ['lead', 'admin'] as const;

export const kbRoutes: FastifyPluginAsync<KbRoutesOptions> = async (app, opts) => {
  if (typeof app.requireRole !== 'function') throw new Error('kbRoutes needs the auth plugin registered first');
  const kb = opts.kb;

  app.setErrorHandler((err: FastifyError | KbError, req: FastifyRequest, reply: FastifyReply) => {
    if ('validation' in err && err.validation) {
      const fieldErrors = err.validation.map((v) => ({
        field:
          (v.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.') ||
          String((v.params as { missingProperty?: string })?.missingProperty ?? '(body)'),
        code: 'invalid',
        message: v.message ?? 'invalid',
      }));
      return reply.code(400).send({ error: 'validation', message: '输入有误', fieldErrors });
    }
    if (err instanceof KbError) {
      return reply.code(err.status).send({
        error: err.code,
        message: err.message,
        ...(err.fieldErrors.length ? { fieldErrors: err.fieldErrors } : {}),
        ...(err.currentVersion !== undefined ? { currentVersion: err.currentVersion } : {}),
      });
    }
    log.error({ err, url: req.routeOptions.url }, 'kb route failed');
    return reply.code(500).send({ error: 'internal', message: '服务器内部错误' });
  });

  app.get<{ Querystring: { q: string; kind?: KbKind; limit?: number } }>(
    '/api/kb/search',
    {
      preHandler: app.authenticate,
      schema: {
        querystring: {
          type: 'object',
          required: ['q'],
          additionalProperties: false,
          properties: {
            q: { type: 'string', minLength: 1, maxLength: 100 },
            kind: { type: 'string', enum: KB_KINDS },
            limit: { type: 'integer', minimum: 1, maximum: 100 },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'integer' },
                    kind: { type: 'string' },
                    title: { type: 'string' },
                    source: { type: 'string' },
                    tags: { type: 'array', items: { type: 'string' } },
                    snippet: { type: 'string' },
                    terms: { type: 'array', items: { type: 'string' } },
                  },
                },
              },
            },
          },
        },
      },
    },
    async (req) => ({ items: kb.search(req.query.q, { kind: req.query.kind, limit: req.query.limit }) }),
  );

  app.get<{ Querystring: { kind?: KbKind } }>(
    '/api/kb/articles',
    {
      preHandler: app.authenticate,
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { kind: { type: 'string', enum: KB_KINDS } },
        },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: articleSchema } } } },
      },
    },
    async (req) => ({ items: kb.list(req.query.kind) }),
  );

  app.get<{ Params: { id: number } }>(
    '/api/kb/articles/:id',
    { preHandler: app.authenticate, schema: { params: idParams, response: { 200: articleSchema } } },
    async (req) => kb.get(req.params.id),
  );

  app.post<{ Body: KbInput }>(
    '/api/kb/articles',
    {
      preHandler: app.requireRole(...EDITORS),
      schema: {
        body: {
          type: 'object',
          required: ['kind', 'title', 'body'],
          additionalProperties: false,
          properties: inputProps,
        },
        response: { 201: articleSchema },
      },
    },
    async (req, reply) => reply.code(201).send(kb.create(req.body, req.user!.id)),
  );

  app.put<{ Params: { id: number }; Body: KbInput & { version: number } }>(
    '/api/kb/articles/:id',
    {
      preHandler: app.requireRole(...EDITORS),
      schema: {
        params: idParams,
        body: {
          type: 'object',
          required: ['version', 'kind', 'title', 'body'],
          additionalProperties: false,
          properties: { ...inputProps, version: { type: 'integer', minimum: 1 } },
        },
        response: { 200: articleSchema },
      },
    },
    async (req) => {
      const { version, ...a } = req.body;
      return kb.update(req.params.id, version, a, req.user!.id);
    },
  );

  app.delete<{ Params: { id: number }; Querystring: { version: number } }>(
    '/api/kb/articles/:id',
    {
      preHandler: app.requireRole(...EDITORS),
      schema: {
        params: idParams,
        querystring: {
          type: 'object',
          required: ['version'],
          properties: { version: { type: 'integer', minimum: 1 } },
        },
      },
    },
    async (req, reply) => {
      kb.remove(req.params.id, req.query.version, req.user!.id);
      return reply.code(204).send();
    },
  );
};
