import type { FastifyPluginAsync } from 'fastify';
import { AGENT_STATES } from '../../acd/agent-state.js';
import { STRATEGIES } from '../../acd/queue.js';
import type { AcdService } from '../../acd/service.js';
import { acdErrorHandler } from './agents.js';

// One object schema rather than oneOf: Fastify's Ajv strips additional properties while trying each
// oneOf branch, which would eat queueId. The service checks that kind 'queue' names a queue.
const overflowSchema = {
  type: ['object', 'null'],
  required: ['kind'],
  additionalProperties: false,
  properties: {
    kind: { type: 'string', enum: ['queue', 'callback', 'voicemail'] },
    queueId: { type: 'string', maxLength: 32 },
  },
} as const;

const configProps = {
  name: { type: 'string', minLength: 1, maxLength: 32 },
  strategy: { type: 'string', enum: STRATEGIES },
  weight: { type: 'number', minimum: 0.1, maximum: 10 },
  maxWaitMs: { type: 'integer', minimum: 0 },
  overflow: overflowSchema,
  maxSize: { type: 'integer', minimum: 0 },
  joinEmpty: { type: 'string', enum: ['always', 'unless_none_logged_in', 'unless_none_ready'] },
  leaveEmpty: { type: 'boolean' },
  wrapUpMs: { type: 'integer', minimum: 0, maximum: 3_600_000 },
  ringTimeoutMs: { type: 'integer', minimum: 5000, maximum: 120_000 },
  skillRelax: {
    type: 'array',
    maxItems: 10,
    items: {
      type: 'object',
      required: ['afterMs', 'drop'],
      additionalProperties: false,
      properties: { afterMs: { type: 'integer', minimum: 0 }, drop: { type: 'integer', minimum: 1 } },
    },
  },
  enabled: { type: 'boolean' },
} as const;

const queueSchema = {
  type: 'object',
  required: ['queueId', 'name', 'waiting', 'longestWaitMs', 'agents'],
  properties: {
    queueId: { type: 'string' },
    name: { type: 'string' },
    waiting: { type: 'integer' },
    callbacks: { type: 'integer' },
    longestWaitMs: { type: 'number' },
    meanHandleMs: { type: 'number' },
    agents: {
      type: 'object',
      properties: Object.fromEntries(AGENT_STATES.map((s) => [s, { type: 'integer' }])),
    },
    config: { type: 'object', properties: { id: { type: 'string' }, ...configProps } },
  },
} as const;

/** GET /api/queues (desktop and wallboard), PUT /api/queues/:id (leads; applied live). */
export const queueRoutes: FastifyPluginAsync<{ acd: AcdService }> = async (app, opts) => {
  const svc = opts.acd;
  app.setErrorHandler(acdErrorHandler);

  app.get(
    '/api/queues',
    {
      preHandler: app.requireRole('agent', 'lead', 'admin'),
      schema: {
        response: {
          200: { type: 'object', required: ['queues'], properties: { queues: { type: 'array', items: queueSchema } } },
        },
      },
    },
    async () => ({ queues: svc.queues() }),
  );

  app.put(
    '/api/queues/:id',
    {
      preHandler: app.requireRole('lead', 'admin'),
      schema: {
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 32 } } },
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: configProps },
        response: {
          200: { type: 'object', properties: { id: { type: 'string' }, ...configProps } },
          400: { type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' } } },
          404: { type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' } } },
        },
      },
    },
    async (req) => svc.updateQueue(req.user!, (req.params as { id: string }).id, req.body as object),
  );
};
