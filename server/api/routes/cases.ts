import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthUser } from '../auth/plugin.js';
import {
  ALL_STATUSES,
  areaChildren,
  CASE_TYPE_LABELS,
  CASE_TYPES,
  CaseError,
  CaseStatus,
  CaseValidationError,
  LINK_KINDS,
  STATUS_LABELS,
  TRANSITIONS,
  VersionConflictError,
  type Actor,
  type CaseFilter,
  type CasePatch,
  type CaseRepository,
  type CaseScope,
  type CaseType,
  type CommitTrace,
  type FieldError,
  type LinkKind,
  type NewCase,
} from '../../cases/index.js';
import { createLogger, guardListener } from '../../util/log.js';

/**
 * /api/cases: the 12315 case store over HTTP. Every route is behind the auth plugin's preHandlers;
 * what a user sees is narrowed by `scopeOf` (agents: own cases and their queues'; merchants: shared
 * ones; leads and admins: all). A case outside the scope answers 404, so ids cannot be probed.
 */

export interface CaseRoutesOptions {
  cases: CaseRepository;
  /** Queues an agent works (from the ACD); their cases are visible to the agent. */
  queuesOf?: (userId: number) => readonly string[];
}

const log = createLogger('api.cases');

const str = (max: number) => ({ type: 'string', maxLength: max }) as const;

const consumerSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { name: str(50), phone: str(40), address: str(200) },
} as const;

const respondentSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { name: str(100), creditCode: str(40), address: str(200), area: str(6) },
} as const;

const contentProps = {
  type: { type: 'string', enum: CASE_TYPES },
  consumer: consumerSchema,
  respondent: respondentSchema,
  area: str(6),
  category: str(32),
  problemType: str(32),
  amount: { type: ['number', 'null'] },
  request: str(2000),
  description: str(5000),
  reply: str(5000),
} as const;

const createBody = {
  type: 'object',
  required: ['type'],
  additionalProperties: false,
  properties: { ...contentProps, callId: str(200), queue: str(64), draft: { type: 'boolean' } },
} as const;

const patchBody = {
  type: 'object',
  required: ['version'],
  additionalProperties: false,
  properties: { ...contentProps, complaintToCase: { type: 'boolean' }, version: { type: 'integer', minimum: 1 } },
} as const;

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1 } },
} as const;

const deadlineSchema = {
  type: ['object', 'null'],
  properties: {
    kind: { type: 'string' },
    due: { type: 'string' },
    overdue: { type: 'boolean' },
    dueSoon: { type: 'boolean' },
    calendarCovered: { type: 'boolean' },
  },
} as const;

const unitRef = {
  type: ['object', 'null'],
  properties: { id: { type: 'integer' }, name: { type: 'string' } },
} as const;

const caseSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    number: { type: 'string' },
    type: { type: 'string' },
    status: { type: 'string' },
    statusLabel: { type: 'string' },
    version: { type: 'integer' },
    consumer: {
      type: 'object',
      properties: { name: { type: 'string' }, phone: { type: 'string' }, address: { type: 'string' } },
    },
    respondent: {
      type: 'object',
      properties: {
        name: { type: 'string' },
        creditCode: { type: 'string' },
        address: { type: 'string' },
        area: { type: 'string' },
      },
    },
    area: { type: 'string' },
    category: { type: 'string' },
    problemType: { type: 'string' },
    amount: { type: ['number', 'null'] },
    request: { type: 'string' },
    description: { type: 'string' },
    reply: { type: 'string' },
    complaintToCase: { type: 'boolean' },
    channel: { type: 'string' },
    queue: { type: 'string' },
    agentId: { type: ['integer', 'null'] },
    ivrPath: { type: 'string' },
    parentId: { type: ['integer', 'null'] },
    unit: unitRef,
    heldSince: { type: ['string', 'null'] },
    statusReason: { type: 'string' },
    receivedDate: { type: 'string' },
    acceptedDate: { type: ['string', 'null'] },
    closedAt: { type: ['string', 'null'] },
    deadline: deadlineSchema,
    followUp: {
      type: ['object', 'null'],
      properties: { satisfaction: { type: 'integer' }, note: { type: 'string' }, at: { type: 'string' } },
    },
    createdBy: { type: ['integer', 'null'] },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
    links: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'integer' },
          kind: { type: 'string' },
          ref: { type: 'string' },
          note: { type: 'string' },
          createdAt: { type: 'string' },
        },
      },
    },
  },
} as const;

const summarySchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    number: { type: 'string' },
    type: { type: 'string' },
    status: { type: 'string' },
    statusLabel: { type: 'string' },
    version: { type: 'integer' },
    consumerName: { type: 'string' },
    consumerPhone: { type: 'string' },
    respondentName: { type: 'string' },
    area: { type: 'string' },
    areaName: { type: ['string', 'null'] },
    category: { type: 'string' },
    agentId: { type: ['integer', 'null'] },
    queue: { type: 'string' },
    unit: unitRef,
    deadline: deadlineSchema,
    createdAt: { type: 'string' },
    heldSince: { type: 'string' },
    urges: { type: 'integer' },
    lastUrgedAt: { type: ['string', 'null'] },
  },
} as const;

const pageSchema = {
  type: 'object',
  properties: {
    items: { type: 'array', items: summarySchema },
    page: { type: 'integer' },
    pageSize: { type: 'integer' },
    total: {
      type: 'integer',
      description: 'Matches counted up to 1000; when totalCapped is true the UI shows "1000+" (共 1000+ 条).',
    },
    totalCapped: {
      type: 'boolean',
      description: 'More than 1000 cases match: total is the cap, not the exact number.',
    },
    partial: {
      type: 'boolean',
      description: 'Free text of 1–2 characters was matched only in the newest 100,000 cases.',
    },
  },
} as const;

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: { type: 'string', pattern: '^[a-z_]+(,[a-z_]+)*$', maxLength: 300 },
    type: { type: 'string', enum: CASE_TYPES },
    deadline: { type: 'string', enum: ['overdue', 'dueSoon', 'running'] },
    area: { type: 'string', pattern: '^\\d{6}$' },
    category: str(32),
    respondent: { type: 'string', minLength: 1, maxLength: 100 },
    agent: { type: 'integer', minimum: 1 },
    unit: { type: 'integer', minimum: 1 },
    phone: str(40),
    number: str(20),
    q: { type: 'string', minLength: 1, maxLength: 100 },
    includeDrafts: { type: 'boolean' },
    page: { type: 'integer', minimum: 1, maximum: 100000, default: 1 },
    pageSize: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
  },
} as const;

const STAFF = ['agent', 'lead', 'admin'] as const;
const SUPERVISORS = ['lead', 'admin'] as const;
/** Moves an agent may make alone; acceptance, dispatch and decisions belong to leads. */
const AGENT_MOVES = new Set<CaseStatus>([CaseStatus.Registered, CaseStatus.Discarded]);

/** `/consumer/phone` or a missing property → `consumer.phone`. */
function fieldOf(v: { instancePath?: string; params?: Record<string, unknown> }): string {
  const base = (v.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
  const extra = (v.params?.missingProperty ?? v.params?.additionalProperty) as string | undefined;
  return extra ? (base ? `${base}.${extra}` : extra) : base || '(body)';
}

export const caseRoutes: FastifyPluginAsync<CaseRoutesOptions> = async (app, opts) => {
  if (typeof app.requireRole !== 'function') throw new Error('caseRoutes needs the auth plugin registered first');
  const repo = opts.cases;
  const queuesOf = opts.queuesOf ?? (() => []);

  const userOf = (req: FastifyRequest): AuthUser => req.user!;
  const actorOf = (req: FastifyRequest): Actor => ({ id: userOf(req).id, role: userOf(req).role });
  const scopeOf = (req: FastifyRequest): CaseScope => {
    const u = userOf(req);
    if (u.role === 'lead' || u.role === 'admin') return { kind: 'all' };
    if (u.role === 'agent') return { kind: 'agent', userId: u.id, queues: queuesOf(u.id) };
    return { kind: 'merchant', userId: u.id };
  };

  app.setErrorHandler((err: FastifyError | CaseError, req: FastifyRequest, reply: FastifyReply) => {
    if ('validation' in err && err.validation) {
      const fieldErrors: FieldError[] = err.validation.map((v) => ({
        field: fieldOf(v as never),
        code: 'invalid',
        message: v.message ?? 'invalid',
      }));
      return reply.code(400).send({ error: 'validation', message: '输入有误', fieldErrors });
    }
    if (err instanceof VersionConflictError) {
      return reply.code(409).send({
        error: err.code,
        message: err.message,
        yourVersion: err.yourVersion,
        currentVersion: err.currentVersion,
        changes: err.since,
      });
    }
    if (err instanceof CaseValidationError) {
      return reply.code(400).send({ error: err.code, message: '输入有误', fieldErrors: err.fieldErrors });
    }
    if (err instanceof CaseError) return reply.code(err.status).send({ error: err.code, message: err.message });
    log.error({ err, url: req.routeOptions.url }, 'case route failed');
    return reply.code(500).send({ error: 'internal', message: '服务器内部错误' });
  });

  app.post<{ Body: NewCase }>(
    '/api/cases',
    { preHandler: app.requireRole(...STAFF), schema: { body: createBody, response: { 201: caseSchema } } },
    async (req, reply) => {
      const body = { ...req.body };
      if (userOf(req).role === 'agent') body.agentId = userOf(req).id;
      const actor = actorOf(req);
      return reply.code(201).send(await repo.grouped(() => repo.create(body, actor)));
    },
  );

  app.get<{ Querystring: Record<string, string | number | boolean | undefined> }>(
    '/api/cases',
    { preHandler: app.authenticate, schema: { querystring: listQuery, response: { 200: pageSchema } } },
    async (req) => {
      const q = req.query;
      const status = typeof q.status === 'string' ? q.status.split(',') : undefined;
      const unknown = status?.filter((s) => !(ALL_STATUSES as readonly string[]).includes(s));
      if (unknown?.length) {
        throw new CaseValidationError([{ field: 'status', code: 'unknown', message: `未知状态 ${unknown.join(',')}` }]);
      }
      const filter: CaseFilter = {
        status: status as CaseStatus[] | undefined,
        type: q.type as CaseType | undefined,
        deadline: q.deadline as CaseFilter['deadline'],
        area: q.area as string | undefined,
        category: q.category as string | undefined,
        respondent: q.respondent as string | undefined,
        agentId: q.agent as number | undefined,
        unitId: q.unit as number | undefined,
        phone: q.phone as string | undefined,
        number: q.number as string | undefined,
        q: q.q as string | undefined,
        includeDrafts: q.includeDrafts as boolean | undefined,
      };
      return repo.list(filter, scopeOf(req), q.page as number, q.pageSize as number);
    },
  );

  app.get<{ Params: { id: number } }>(
    '/api/cases/:id',
    { preHandler: app.authenticate, schema: { params: idParams, response: { 200: caseSchema } } },
    async (req) => repo.get(req.params.id, scopeOf(req)),
  );

  app.get<{ Params: { callId: string } }>(
    '/api/cases/by-call/:callId',
    {
      preHandler: app.requireRole(...STAFF),
      schema: {
        params: {
          type: 'object',
          required: ['callId'],
          properties: { callId: { type: 'string', minLength: 1, maxLength: 200 } },
        },
        response: { 200: caseSchema },
      },
    },
    async (req) => repo.getByCall(req.params.callId, scopeOf(req)),
  );

  app.get<{ Querystring: { parent?: string } }>(
    '/api/case-areas',
    {
      preHandler: app.authenticate,
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { parent: { type: 'string', pattern: '^(\\d{6})?$' } },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              items: {
                type: 'array',
                items: { type: 'object', properties: { code: { type: 'string' }, name: { type: 'string' } } },
              },
            },
          },
        },
      },
    },
    async (req) => ({ items: areaChildren(req.query.parent ?? '') }),
  );

  app.get<{ Params: { number: string } }>(
    '/api/cases/by-number/:number',
    {
      preHandler: app.authenticate,
      schema: {
        params: { type: 'object', required: ['number'], properties: { number: str(20) } },
        response: { 200: caseSchema },
      },
    },
    async (req) => repo.getByNumber(req.params.number, scopeOf(req)),
  );

  app.patch<{ Params: { id: number }; Body: CasePatch & { version: number } }>(
    '/api/cases/:id',
    {
      preHandler: app.requireRole(...STAFF),
      schema: { params: idParams, body: patchBody, response: { 200: caseSchema } },
    },
    async (req) => {
      const { version, ...patch } = req.body;
      const actor = actorOf(req);
      const scope = scopeOf(req);
      // Autosave path: many agents' saves share one fsync (group commit).
      return repo.grouped(() => repo.update(req.params.id, version, patch, actor, scope));
    },
  );

  app.get<{ Params: { id: number } }>(
    '/api/cases/:id/wrap-up',
    {
      preHandler: app.requireRole(...STAFF),
      schema: {
        params: idParams,
        response: {
          200: {
            type: 'object',
            properties: {
              complete: { type: 'boolean' },
              fieldErrors: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { field: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } },
                },
              },
            },
          },
        },
      },
    },
    async (req) => {
      const fieldErrors = repo.wrapUpErrors(req.params.id, scopeOf(req));
      return { complete: fieldErrors.length === 0, fieldErrors };
    },
  );

  app.post<{
    Params: { id: number };
    Body: { version: number; to: CaseStatus; reason?: string; unitId?: number; note?: string };
  }>(
    '/api/cases/:id/transitions',
    {
      preHandler: app.requireRole(...STAFF),
      schema: {
        params: idParams,
        body: {
          type: 'object',
          required: ['version', 'to'],
          additionalProperties: false,
          properties: {
            version: { type: 'integer', minimum: 1 },
            to: { type: 'string', enum: ALL_STATUSES },
            reason: str(1000),
            unitId: { type: 'integer', minimum: 1 },
            note: str(1000),
          },
        },
        response: { 200: caseSchema },
      },
    },
    async (req, reply) => {
      const { version, ...t } = req.body;
      if (userOf(req).role === 'agent') {
        const c = repo.get(req.params.id, scopeOf(req));
        const answered = t.to === CaseStatus.Closed && (c.type === 'consultation' || c.type === 'suggestion');
        if (!AGENT_MOVES.has(t.to) && !answered) {
          return reply.code(403).send({ error: 'forbidden', message: '该操作需要班长或管理员权限' });
        }
      }
      return repo.transition(req.params.id, version, t, actorOf(req), scopeOf(req));
    },
  );

  app.post<{ Params: { id: number }; Body: { version: number; unitId: number; note?: string } }>(
    '/api/cases/:id/dispatch',
    {
      preHandler: app.requireRole(...SUPERVISORS),
      schema: {
        params: idParams,
        body: {
          type: 'object',
          required: ['version', 'unitId'],
          additionalProperties: false,
          properties: {
            version: { type: 'integer', minimum: 1 },
            unitId: { type: 'integer', minimum: 1 },
            note: str(1000),
          },
        },
        response: { 200: caseSchema },
      },
    },
    async (req) => repo.dispatch(req.params.id, req.body.version, req.body.unitId, req.body.note ?? '', actorOf(req)),
  );

  app.post<{ Params: { id: number }; Body: NewCase & { version: number } }>(
    '/api/cases/:id/split',
    {
      preHandler: app.requireRole(...STAFF),
      schema: {
        params: idParams,
        body: {
          type: 'object',
          required: ['version', 'type'],
          additionalProperties: false,
          properties: { ...contentProps, version: { type: 'integer', minimum: 1 }, draft: { type: 'boolean' } },
        },
        response: {
          201: { type: 'object', properties: { original: caseSchema, created: caseSchema } },
        },
      },
    },
    async (req, reply) => {
      const { version, ...input } = req.body;
      return reply.code(201).send(repo.split(req.params.id, version, input, actorOf(req), scopeOf(req)));
    },
  );

  app.post<{ Params: { id: number }; Body: { kind: LinkKind; ref: string; note?: string } }>(
    '/api/cases/:id/links',
    {
      preHandler: app.requireRole(...STAFF),
      schema: {
        params: idParams,
        body: {
          type: 'object',
          required: ['kind', 'ref'],
          additionalProperties: false,
          properties: { kind: { type: 'string', enum: LINK_KINDS }, ref: str(500), note: str(500) },
        },
        response: { 200: caseSchema },
      },
    },
    async (req) => repo.addLink(req.params.id, req.body, actorOf(req), scopeOf(req)),
  );

  app.post<{ Params: { id: number }; Body: { version: number; satisfaction: number; note?: string } }>(
    '/api/cases/:id/follow-up',
    {
      preHandler: app.requireRole(...STAFF),
      schema: {
        params: idParams,
        body: {
          type: 'object',
          required: ['version', 'satisfaction'],
          additionalProperties: false,
          properties: {
            version: { type: 'integer', minimum: 1 },
            satisfaction: { type: 'integer', minimum: 1, maximum: 5 },
            note: str(1000),
          },
        },
        response: { 200: caseSchema },
      },
    },
    async (req) => {
      repo.get(req.params.id, scopeOf(req));
      return repo.followUp(req.params.id, req.body.version, req.body, actorOf(req));
    },
  );

  app.post<{ Params: { id: number }; Body: { note: string } }>(
    '/api/cases/:id/urge',
    {
      preHandler: app.requireRole(...SUPERVISORS),
      schema: {
        params: idParams,
        body: { type: 'object', required: ['note'], additionalProperties: false, properties: { note: str(1000) } },
        response: { 200: caseSchema },
      },
    },
    async (req) => repo.urge(req.params.id, req.body.note, actorOf(req)),
  );

  app.post<{ Params: { id: number }; Body: { userId: number } }>(
    '/api/cases/:id/shares',
    {
      preHandler: app.requireRole(...SUPERVISORS),
      schema: {
        params: idParams,
        body: {
          type: 'object',
          required: ['userId'],
          additionalProperties: false,
          properties: { userId: { type: 'integer', minimum: 1 } },
        },
      },
    },
    async (req, reply) => {
      repo.share(req.params.id, req.body.userId, actorOf(req));
      return reply.code(204).send();
    },
  );

  app.get<{ Params: { id: number } }>(
    '/api/cases/:id/audit',
    {
      preHandler: app.requireRole(...STAFF),
      schema: {
        params: idParams,
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
                    version: { type: 'integer' },
                    at: { type: 'string' },
                    actorId: { type: ['integer', 'null'] },
                    action: { type: 'string' },
                    changes: { type: 'object', additionalProperties: true },
                  },
                },
              },
              holdings: { type: 'array', items: { type: 'object', additionalProperties: true } },
            },
          },
        },
      },
    },
    async (req) => ({ items: repo.audit(req.params.id, scopeOf(req)), holdings: repo.holdings(req.params.id) }),
  );

  app.get<{ Querystring: { phone: string; callId?: string } }>(
    '/api/cases/screen-pop',
    {
      preHandler: app.requireRole(...STAFF),
      schema: {
        querystring: {
          type: 'object',
          required: ['phone'],
          additionalProperties: false,
          properties: { phone: { type: 'string', minLength: 1, maxLength: 40 }, callId: str(200) },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              callerNumber: { type: 'string' },
              cases: { type: 'array', items: summarySchema },
              calls: { type: 'array', items: { type: 'object', additionalProperties: true } },
              repeatCaller: { type: 'boolean' },
              openCases: { type: 'integer' },
            },
          },
        },
      },
    },
    async (req) => repo.screenPop(req.query.phone, { exceptCallId: req.query.callId }),
  );

  app.get(
    '/api/cases/supervision',
    {
      preHandler: app.requireRole(...SUPERVISORS),
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { unit: { type: 'integer', minimum: 1 }, overdue: { type: 'boolean' } },
        },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: summarySchema } } } },
      },
    },
    async (req) => {
      const q = req.query as { unit?: number; overdue?: boolean };
      return { items: repo.supervision({ unitId: q.unit, overdueOnly: q.overdue }) };
    },
  );

  const unitSchema = {
    type: 'object',
    properties: {
      id: { type: 'integer' },
      code: { type: 'string' },
      name: { type: 'string' },
      kind: { type: 'string' },
      area: { type: 'string' },
      enabled: { type: 'boolean' },
    },
  } as const;

  app.get(
    '/api/case-units',
    {
      preHandler: app.requireRole(...STAFF),
      schema: { response: { 200: { type: 'object', properties: { items: { type: 'array', items: unitSchema } } } } },
    },
    async () => ({ items: repo.listUnits() }),
  );

  app.post<{ Body: { code: string; name: string; kind: 'center' | 'bureau' | 'station' | 'other'; area?: string } }>(
    '/api/case-units',
    {
      preHandler: app.requireRole('admin'),
      schema: {
        body: {
          type: 'object',
          required: ['code', 'name', 'kind'],
          additionalProperties: false,
          properties: {
            code: str(32),
            name: str(100),
            kind: { type: 'string', enum: ['center', 'bureau', 'station', 'other'] },
            area: str(6),
          },
        },
        response: { 201: unitSchema },
      },
    },
    async (req, reply) => reply.code(201).send(repo.createUnit(req.body)),
  );

  /** Labels and trees the desktop needs to render forms (Chinese first). */
  app.get(
    '/api/case-meta',
    { preHandler: app.authenticate, schema: { response: { 200: { type: 'object', additionalProperties: true } } } },
    async () => ({
      types: CASE_TYPES.map((t) => ({ code: t, name: CASE_TYPE_LABELS[t] })),
      statuses: ALL_STATUSES.map((s) => ({ code: s, name: STATUS_LABELS[s] })),
      transitions: TRANSITIONS,
      categories: repo.categories.config.categories,
      problemTypes: repo.categories.config.problemTypes,
      linkKinds: LINK_KINDS,
    }),
  );
};

// ------------------------------------------------------------------ socket.io: live case editing

/** Namespace of the case form's socket; it shares the desktop's connection (socket.io multiplexing). */
export const CASE_SOCKET_NAMESPACE = '/cases';

/**
 * Events on `/cases` (acknowledged, `{ok: true, data}` or `{ok: false, error, message, …}`):
 * - `case:get {id}` → case; `case:by_call {callId}` → the case the call produced (draft at offer);
 * - `case:save {id, version, changes}` → saved case, acked only once the commit is durable; a stale
 *   version answers `error: 'version_conflict'` with `currentVersion` and the `changes` since;
 * - `case:watch {id}` joins the case's room: every save is pushed as `case:saved {id, version, by}`
 *   to the other watchers, so a second editor learns at once that their copy is stale.
 * Every event re-checks the session and the role, and reads through the same scope as REST.
 */
export interface CaseSocketDeps {
  auth: {
    resolve(token: string | null | undefined): { user: AuthUser } | null;
  };
  cases: CaseRepository;
  queuesOf?: (userId: number) => readonly string[];
  /** Keep a CommitTrace of every save in `saveTraces` (the autosave bench). */
  traceSaves?: boolean;
}

/** One save's stamps (performance.now()): receipt, the group commit's phases, ack sent. */
export interface SaveTrace extends CommitTrace {
  received: number;
  acked?: number;
}

export interface CaseSocket {
  /** Server handling time of `case:save` (receipt → ack sent), last 10 000, ms. */
  readonly saveMs: number[];
  /** With `traceSaves`: the saves' traces, last 10 000. */
  readonly saveTraces: SaveTrace[];
  close(): void;
}

interface MinimalSocket {
  data: Record<string, unknown>;
  handshake: { auth: unknown };
  id: string;
  on(event: string, fn: (...a: unknown[]) => void): void;
  join(room: string): unknown;
  to(room: string): { emit(event: string, p: unknown): unknown };
  disconnect(close?: boolean): unknown;
}
interface MinimalNamespace {
  use(fn: (socket: MinimalSocket, next: (err?: Error) => void) => void): unknown;
  on(event: 'connection', fn: (socket: MinimalSocket) => void): unknown;
  disconnectSockets(close?: boolean): void;
  removeAllListeners(event?: string): unknown;
}

type SocketAck = { ok: true; data: unknown } | { ok: false; error: string; message: string; [k: string]: unknown };

export function attachCaseSocket(
  io: { of(nsp: string): unknown },
  deps: CaseSocketDeps,
  slog = createLogger('socket.cases'),
): CaseSocket {
  const nsp = io.of(CASE_SOCKET_NAMESPACE) as MinimalNamespace;
  const repo = deps.cases;
  const queuesOf = deps.queuesOf ?? (() => []);
  const saveMs: number[] = [];
  const scopeFor = (u: AuthUser): CaseScope =>
    u.role === 'lead' || u.role === 'admin'
      ? { kind: 'all' }
      : u.role === 'agent'
        ? { kind: 'agent', userId: u.id, queues: queuesOf(u.id) }
        : { kind: 'merchant', userId: u.id };

  nsp.use((socket, next) => {
    const a = socket.handshake.auth as { token?: unknown } | undefined;
    const token = typeof a?.token === 'string' ? a.token : null;
    if (!deps.auth.resolve(token)) return next(new Error('unauthorized'));
    socket.data.token = token;
    next();
  });

  nsp.on('connection', (socket) => {
    const on = (
      event: string,
      roles: readonly string[],
      fn: (p: Record<string, unknown>, u: AuthUser, socket: MinimalSocket, trace?: SaveTrace) => unknown,
    ) =>
      socket.on(
        event,
        guardListener(`socket.${event}`, slog, (payload: unknown, ack: unknown) => {
          const t0 = performance.now();
          const trace: SaveTrace | undefined = deps.traceSaves && event === 'case:save' ? { received: t0 } : undefined;
          const reply = (r: SocketAck) => {
            if (typeof ack === 'function') (ack as (r: SocketAck) => void)(r);
          };
          const r = deps.auth.resolve(socket.data.token as string);
          if (!r) {
            reply({ ok: false, error: 'unauthorized', message: '登录已过期，请重新登录' });
            socket.disconnect(true);
            return;
          }
          if (!roles.includes(r.user.role)) {
            reply({ ok: false, error: 'forbidden', message: '没有权限执行此操作' });
            return;
          }
          if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
            reply({ ok: false, error: 'bad_request', message: '请求格式错误' });
            return;
          }
          const fail = (err: unknown) => {
            if (err instanceof VersionConflictError) {
              reply({
                ok: false,
                error: err.code,
                message: err.message,
                yourVersion: err.yourVersion,
                currentVersion: err.currentVersion,
                changes: err.since,
              });
            } else if (err instanceof CaseValidationError) {
              reply({ ok: false, error: err.code, message: '输入有误', fieldErrors: err.fieldErrors });
            } else if (err instanceof CaseError) reply({ ok: false, error: err.code, message: err.message });
            else {
              slog.error({ err, event }, 'case socket event failed');
              reply({ ok: false, error: 'internal', message: '服务器内部错误' });
            }
          };
          try {
            const out = fn(payload as Record<string, unknown>, r.user, socket, trace);
            if (out instanceof Promise) {
              out.then((data) => {
                reply({ ok: true, data });
                if (event === 'case:save') record(performance.now() - t0, trace);
              }, fail);
            } else reply({ ok: true, data: out });
          } catch (err) {
            fail(err);
          }
        }),
      );

    const idOf = (p: Record<string, unknown>): number => {
      const id = p.id;
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 1) {
        throw new CaseValidationError([{ field: 'id', code: 'invalid', message: '案件编号无效' }]);
      }
      return id;
    };

    on('case:get', ['agent', 'lead', 'admin', 'merchant'], (p, u) => repo.get(idOf(p), scopeFor(u)));
    on('case:by_call', STAFF, (p, u) => {
      if (typeof p.callId !== 'string' || p.callId.length < 1 || p.callId.length > 200) {
        throw new CaseValidationError([{ field: 'callId', code: 'invalid', message: '呼叫标识格式不正确' }]);
      }
      return repo.getByCall(p.callId, scopeFor(u));
    });
    on('case:watch', ['agent', 'lead', 'admin', 'merchant'], (p, u, s) => {
      const c = repo.get(idOf(p), scopeFor(u));
      void s.join(`case:${c.id}`);
      return { id: c.id, version: c.version };
    });
    on('case:save', STAFF, async (p, u, s, trace) => {
      const id = idOf(p);
      const version = p.version;
      if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
        throw new CaseValidationError([{ field: 'version', code: 'invalid', message: '版本号无效' }]);
      }
      const changes = p.changes;
      if (changes === null || typeof changes !== 'object' || Array.isArray(changes)) {
        throw new CaseValidationError([{ field: 'changes', code: 'invalid', message: '修改内容格式错误' }]);
      }
      const scope = scopeFor(u);
      const actor: Actor = { id: u.id, role: u.role };
      const saved = await repo.grouped(() => repo.update(id, version, changes as CasePatch, actor, scope), trace);
      s.to(`case:${id}`).emit('case:saved', { id, version: saved.version, by: u.displayName || u.username });
      return saved;
    });
  });

  const saveTraces: SaveTrace[] = [];
  function record(ms: number, trace: SaveTrace | undefined): void {
    if (saveMs.length >= 10_000) saveMs.splice(0, 5_000);
    saveMs.push(ms);
    if (trace) {
      trace.acked = trace.received + ms;
      if (saveTraces.length >= 10_000) saveTraces.splice(0, 5_000);
      saveTraces.push(trace);
    }
  }

  let closed = false;
  return {
    saveMs,
    saveTraces,
    close() {
      if (closed) return;
      closed = true;
      nsp.disconnectSockets(true);
      nsp.removeAllListeners('connection');
    },
  };
}
