import type { FastifyPluginAsync } from 'fastify';
import type { LiveCallInfo } from '../../calls/call-manager.js';

export interface CallsRoutesOptions {
  listCalls(): LiveCallInfo[];
}

const liveCall = {
  type: 'object',
  required: ['id', 'state', 'caller', 'dialled', 'ivrPath', 'queue', 'startedAt', 'answeredAt', 'waitingSeconds'],
  properties: {
    id: { type: 'string' },
    state: { type: 'string' },
    /** Masked for consumers (138****5678). */
    caller: { type: 'string' },
    dialled: { type: 'string' },
    ivrPath: { type: 'string' },
    queue: { type: ['string', 'null'] },
    startedAt: { type: 'number' },
    answeredAt: { type: ['number', 'null'] },
    waitingSeconds: { type: ['number', 'null'] },
  },
} as const;

/** Live calls for shift leads and admins (issue 4: state, IVR path, queue, waiting time). */
export const callsRoutes: FastifyPluginAsync<CallsRoutesOptions> = async (app, opts) => {
  app.get(
    '/api/calls',
    {
      preHandler: app.requireRole('lead', 'admin'),
      schema: {
        response: {
          200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: liveCall } } },
        },
      },
    },
    async () => ({ items: opts.listCalls() }),
  );
};

/** What the call-control routes drive (server/calls: transfer.ts, three-way.ts, supervisor.ts). */
export interface CallControlApi {
  actor(user: { id: number; username: string; role: string }): {
    username: string;
    role: 'agent' | 'lead' | 'admin' | 'merchant';
    agentId: string | null;
  };
  transfer(
    id: string,
    actor: unknown,
    target: { kind: 'agent' | 'queue' | 'number'; value: string },
    mode: 'cold' | 'warm',
  ): Promise<object>;
  transferComplete(id: string, actor: unknown): Promise<object>;
  transferCancel(id: string, actor: unknown): Promise<object>;
  threeWay(id: string, actor: unknown, station: string): Promise<object>;
  threeWayJoin(id: string, actor: unknown): Promise<object>;
  leave(id: string, actor: unknown): Promise<object>;
  rejoin(id: string, actor: unknown): Promise<object>;
  end(id: string, actor: unknown): Promise<object>;
  monitor(id: string, actor: unknown, mode: 'listen' | 'whisper' | 'barge', seat?: string): Promise<object>;
  monitorStop(id: string, actor: unknown): Promise<object>;
  /** An error with `status` (400/403/404/409), `code` and a Chinese message, or null for anything else. */
  errorOf(err: unknown): { status: number; code: string; message: string } | null;
}

const errorBody = {
  type: 'object',
  required: ['error', 'message'],
  properties: { error: { type: 'string' }, message: { type: 'string' } },
} as const;
const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;
const anyState = { type: 'object', additionalProperties: true } as const;
const controlResponses = { 202: anyState, 400: errorBody, 403: errorBody, 404: errorBody, 409: errorBody } as const;

/** Transfers, three-way calls and supervisor monitoring (issues 4, 7, 8). Answers 202 with the new state. */
export const callControlRoutes: FastifyPluginAsync<{ control: CallControlApi }> = async (app, opts) => {
  const c = opts.control;
  const onCall = app.requireRole('agent', 'lead', 'admin');
  const lead = app.requireRole('lead', 'admin');
  app.setErrorHandler((err, _req, reply) => {
    const e = c.errorOf(err);
    if (e) return reply.code(e.status).send({ error: e.code, message: e.message });
    throw err;
  });
  type Req = { params: { id: string }; user: { id: number; username: string; role: string } | null; body?: unknown };
  const run =
    (fn: (id: string, actor: unknown, body: Record<string, unknown>) => Promise<object>) =>
    async (req: Req, reply: { code(n: number): unknown }) => {
      const out = await fn(req.params.id, c.actor(req.user!), (req.body ?? {}) as Record<string, unknown>);
      reply.code(202);
      return out;
    };
  const post = (
    url: string,
    preHandler: ReturnType<typeof app.requireRole>,
    body: object | null,
    fn: (id: string, actor: unknown, b: Record<string, unknown>) => Promise<object>,
  ) =>
    app.post(
      url,
      { preHandler, schema: { params: idParams, ...(body ? { body } : {}), response: controlResponses } },
      run(fn) as never,
    );

  post(
    '/api/calls/:id/transfer',
    onCall,
    {
      type: 'object',
      required: ['target'],
      additionalProperties: false,
      properties: {
        target: {
          type: 'object',
          required: ['kind', 'value'],
          additionalProperties: false,
          properties: {
            kind: { type: 'string', enum: ['agent', 'queue', 'number'] },
            value: { type: 'string', minLength: 1, maxLength: 32 },
          },
        },
        mode: { type: 'string', enum: ['cold', 'warm'], default: 'cold' },
      },
    },
    (id, a, b) =>
      c.transfer(id, a, b.target as { kind: 'agent' | 'queue' | 'number'; value: string }, b.mode as 'cold' | 'warm'),
  );
  post('/api/calls/:id/transfer/complete', onCall, null, (id, a) => c.transferComplete(id, a));
  post('/api/calls/:id/transfer/cancel', onCall, null, (id, a) => c.transferCancel(id, a));
  post(
    '/api/calls/:id/three-way',
    onCall,
    {
      type: 'object',
      required: ['station'],
      additionalProperties: false,
      properties: { station: { type: 'string', minLength: 1, maxLength: 64 } },
    },
    (id, a, b) => c.threeWay(id, a, b.station as string),
  );
  post('/api/calls/:id/three-way/join', onCall, null, (id, a) => c.threeWayJoin(id, a));
  post('/api/calls/:id/leave', onCall, null, (id, a) => c.leave(id, a));
  post('/api/calls/:id/rejoin', onCall, null, (id, a) => c.rejoin(id, a));
  post('/api/calls/:id/end', onCall, null, (id, a) => c.end(id, a));
  post(
    '/api/calls/:id/monitor',
    lead,
    {
      type: 'object',
      required: ['mode'],
      additionalProperties: false,
      properties: {
        mode: { type: 'string', enum: ['listen', 'whisper', 'barge'] },
        seat: { type: 'string', pattern: '^[0-9]{2,15}$' },
      },
    },
    (id, a, b) => c.monitor(id, a, b.mode as 'listen' | 'whisper' | 'barge', b.seat as string | undefined),
  );
  post('/api/calls/:id/monitor/stop', lead, null, (id, a) => c.monitorStop(id, a));
};
