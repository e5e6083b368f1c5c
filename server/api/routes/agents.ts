import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AcdError, type AcdService, type Actor } from '../../acd/service.js';
import { AGENT_STATES } from '../../acd/agent-state.js';

/** Agent desktop (own state) and leads' seat/skill/shift management. */

const levelMap = { type: 'object', additionalProperties: { type: 'integer', minimum: 1, maximum: 5 } } as const;
const priorityMap = { type: 'object', additionalProperties: { type: 'integer', minimum: 1, maximum: 9 } } as const;

export const agentViewSchema = {
  type: 'object',
  required: ['agentId', 'state', 'seat', 'callId'],
  properties: {
    agentId: { type: 'string' },
    displayName: { type: 'string' },
    state: { type: 'string', enum: AGENT_STATES },
    reason: { type: ['string', 'null'] },
    since: { type: 'number' },
    callId: { type: ['string', 'null'] },
    pendingNotReady: { type: ['string', 'null'] },
    wrapUpUntil: { type: ['number', 'null'] },
    seat: { type: ['string', 'null'] },
    queues: priorityMap,
    skills: levelMap,
    callsHandled: { type: 'integer' },
    callQueueId: { type: ['string', 'null'] },
  },
} as const;

const shiftSchema = {
  type: 'object',
  required: ['id', 'workNo', 'startsAt', 'endsAt', 'note'],
  properties: {
    id: { type: 'integer' },
    workNo: { type: 'string' },
    startsAt: { type: 'string' },
    endsAt: { type: 'string' },
    note: { type: 'string' },
  },
} as const;

const errorSchema = {
  type: 'object',
  required: ['error', 'message'],
  properties: { error: { type: 'string' }, message: { type: 'string' } },
} as const;
const errors = { 400: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema } as const;
const workNoParams = {
  type: 'object',
  required: ['workNo'],
  properties: { workNo: { type: 'string', minLength: 1, maxLength: 32 } },
} as const;

/** AcdError → its status and a Chinese message; everything else to Fastify's default handling. */
export function acdErrorHandler(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  if (err instanceof AcdError) {
    void reply.code(err.status).send({ error: err.code, message: err.message });
    return;
  }
  throw err;
}

const actor = (req: FastifyRequest): Actor => req.user!;

export const agentRoutes: FastifyPluginAsync<{ acd: AcdService }> = async (app: FastifyInstance, opts) => {
  const svc = opts.acd;
  app.setErrorHandler(acdErrorHandler);
  const callTaker = app.requireRole('agent', 'lead');
  const lead = app.requireRole('lead', 'admin');
  const view = { 200: agentViewSchema, ...errors };

  // currentCallId: the call the agent is on now (transfer, three-way and end act on it); null when idle.
  const meView = {
    ...view,
    200: {
      ...agentViewSchema,
      required: [...agentViewSchema.required, 'currentCallId'],
      properties: { ...agentViewSchema.properties, currentCallId: { type: ['string', 'null'] } },
    },
  };
  app.get('/api/agents/me', { preHandler: callTaker, schema: { response: meView } }, async (req) => {
    const me = svc.me(actor(req));
    return { ...me, currentCallId: me.state === 'on_call' ? me.callId : null };
  });

  app.post(
    '/api/agents/me/login',
    {
      preHandler: callTaker,
      schema: {
        body: {
          type: 'object',
          required: ['seat'],
          additionalProperties: false,
          properties: { seat: { type: 'string', pattern: '^[0-9]{2,15}$' } },
        },
        response: view,
      },
    },
    async (req) => svc.login(actor(req), (req.body as { seat: string }).seat),
  );

  app.post('/api/agents/me/logout', { preHandler: callTaker, schema: { response: view } }, async (req) =>
    svc.logout(actor(req)),
  );

  app.put(
    '/api/agents/me/state',
    {
      preHandler: callTaker,
      schema: {
        body: {
          type: 'object',
          required: ['state'],
          additionalProperties: false,
          properties: {
            state: { type: 'string', enum: ['ready', 'not_ready'] },
            reason: { type: 'string', minLength: 1, maxLength: 32 },
          },
        },
        response: view,
      },
    },
    async (req) => {
      const b = req.body as { state: 'ready' | 'not_ready'; reason?: string };
      return svc.setState(actor(req), b.state, b.reason);
    },
  );

  app.post(
    '/api/agents/me/wrap-up/extend',
    {
      preHandler: callTaker,
      schema: {
        body: {
          type: 'object',
          required: ['seconds'],
          additionalProperties: false,
          properties: { seconds: { type: 'integer', minimum: 1, maximum: 600 } },
        },
        response: view,
      },
    },
    async (req) => svc.extendWrapUp(actor(req), (req.body as { seconds: number }).seconds),
  );

  // ---- leads

  app.get(
    '/api/agents',
    {
      preHandler: lead,
      schema: {
        response: {
          200: {
            type: 'object',
            required: ['agents'],
            properties: {
              agents: {
                type: 'array',
                items: {
                  ...agentViewSchema,
                  properties: {
                    ...agentViewSchema.properties,
                    enabled: { type: 'boolean' },
                    webUserId: { type: ['integer', 'null'] },
                    shifts: { type: 'array', items: shiftSchema },
                  },
                },
              },
            },
          },
        },
      },
    },
    async () => ({ agents: svc.agents() }),
  );

  const recordSchema = {
    type: 'object',
    required: ['workNo', 'skills', 'queues'],
    properties: { workNo: { type: 'string' }, displayName: { type: 'string' }, skills: levelMap, queues: priorityMap },
  } as const;

  app.post(
    '/api/agents',
    {
      preHandler: lead,
      schema: {
        body: {
          type: 'object',
          required: ['workNo'],
          additionalProperties: false,
          properties: {
            workNo: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,32}$' },
            username: { type: 'string', minLength: 2, maxLength: 64 },
            displayName: { type: 'string', maxLength: 64 },
            skills: levelMap,
            queues: priorityMap,
          },
        },
        response: { 200: recordSchema, ...errors },
      },
    },
    async (req) => svc.createAgent(actor(req), req.body as { workNo: string }),
  );

  app.put(
    '/api/agents/:workNo/skills',
    {
      preHandler: lead,
      schema: {
        params: workNoParams,
        body: {
          type: 'object',
          required: ['skills'],
          additionalProperties: false,
          properties: { skills: { ...levelMap, propertyNames: { pattern: '^[a-z][a-z0-9_]{0,31}$' } } },
        },
        response: { 200: recordSchema, ...errors },
      },
    },
    async (req) =>
      svc.setSkills(
        actor(req),
        (req.params as { workNo: string }).workNo,
        (req.body as { skills: Record<string, number> }).skills,
      ),
  );

  app.put(
    '/api/agents/:workNo/queues',
    {
      preHandler: lead,
      schema: {
        params: workNoParams,
        body: {
          type: 'object',
          required: ['queues'],
          additionalProperties: false,
          properties: { queues: priorityMap },
        },
        response: { 200: recordSchema, ...errors },
      },
    },
    async (req) =>
      svc.setQueues(
        actor(req),
        (req.params as { workNo: string }).workNo,
        (req.body as { queues: Record<string, number> }).queues,
      ),
  );

  app.put(
    '/api/agents/:workNo/state',
    {
      preHandler: lead,
      schema: {
        params: workNoParams,
        body: {
          type: 'object',
          required: ['state'],
          additionalProperties: false,
          properties: {
            state: { type: 'string', enum: ['ready', 'not_ready', 'offline'] },
            reason: { type: 'string', minLength: 1, maxLength: 32 },
          },
        },
        response: view,
      },
    },
    async (req) => {
      const b = req.body as { state: 'ready' | 'not_ready' | 'offline'; reason?: string };
      return svc.forceState(actor(req), (req.params as { workNo: string }).workNo, b.state, b.reason);
    },
  );

  app.post(
    '/api/agents/:workNo/logout',
    { preHandler: lead, schema: { params: workNoParams, response: view } },
    async (req) => svc.forceState(actor(req), (req.params as { workNo: string }).workNo, 'offline'),
  );

  app.post(
    '/api/agents/:workNo/shifts',
    {
      preHandler: lead,
      schema: {
        params: workNoParams,
        body: {
          type: 'object',
          required: ['startsAt', 'endsAt'],
          additionalProperties: false,
          properties: {
            startsAt: { type: 'string', format: 'date-time' },
            endsAt: { type: 'string', format: 'date-time' },
            note: { type: 'string', maxLength: 200 },
          },
        },
        response: { 200: shiftSchema, ...errors },
      },
    },
    async (req) => {
      const b = req.body as { startsAt: string; endsAt: string; note?: string };
      return svc.addShift(actor(req), {
        workNo: (req.params as { workNo: string }).workNo,
        startsAt: new Date(b.startsAt).toISOString(),
        endsAt: new Date(b.endsAt).toISOString(),
        note: b.note ?? '',
      });
    },
  );

  app.delete(
    '/api/agents/shifts/:id',
    {
      preHandler: lead,
      schema: {
        params: { type: 'object', required: ['id'], properties: { id: { type: 'integer' } } },
        response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } }, ...errors },
      },
    },
    async (req) => {
      svc.removeShift(actor(req), (req.params as { id: number }).id);
      return { ok: true };
    },
  );

  app.get(
    '/api/agents/audit',
    {
      preHandler: lead,
      schema: {
        querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 1000 } } },
        response: {
          200: {
            type: 'object',
            properties: {
              entries: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'integer' },
                    at: { type: 'string' },
                    actor: { type: 'string' },
                    action: { type: 'string' },
                    target: { type: 'string' },
                    detail: { type: 'object', additionalProperties: true },
                  },
                },
              },
            },
          },
        },
      },
    },
    async (req) => ({ entries: svc.auditLog((req.query as { limit?: number }).limit) }),
  );
};
