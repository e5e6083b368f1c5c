import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthUser } from '../auth/plugin.js';
import { CaseError, CaseNotFoundError, CaseValidationError, VersionConflictError } from '../../cases/errors.js';
import type { FieldError } from '../../cases/model.js';
import type { Actor, CaseRepository, CaseScope } from '../../cases/repository.js';
import { MEDIATION_RESULTS, REMEDIES, type MediationInput, type MediationStore } from '../../cases/mediation.js';
import type { Directory } from '../../directory/directory.js';
import { merchantCaseSummary, type MerchantCallBoard } from '../../merchants/calls.js';
import { isOpenAt, type Station, type StationInput } from '../../merchants/model.js';
import type { MerchantRepository } from '../../merchants/repository.js';
import { createLogger } from '../../util/log.js';

/**
 * 维权站 (issue 7) over HTTP. Staff side /api/merchants: leads and admins keep the directory, agents
 * read and search it (the respondent's own station first) and announce a three-way call to a station.
 * Merchant side /api/merchant: the portal of a station's web user (its own station, SIP credentials of
 * its device, the call it is in with a masked case summary, and the mediation outcome form).
 */

export interface MerchantRoutesOptions {
  merchants: MerchantRepository;
  board: MerchantCallBoard;
  cases: CaseRepository;
  mediation: MediationStore;
  directory: Directory;
  realm: string;
  /** Queues an agent works: their cases are visible to the agent (same rule as /api/cases). */
  queuesOf?: (userId: number) => readonly string[];
  wallNow?: () => Date;
}

const log = createLogger('api.merchants');
const STAFF = ['agent', 'lead', 'admin'] as const;
const KEEPERS = ['lead', 'admin'] as const;

const str = (max: number) => ({ type: 'string', maxLength: max }) as const;
const nullableStr = (max: number) => ({ type: ['string', 'null'], maxLength: max }) as const;

const openingRule = {
  type: 'object',
  required: ['days', 'from', 'to'],
  additionalProperties: false,
  properties: {
    days: { type: 'array', minItems: 1, maxItems: 7, items: { type: 'integer', minimum: 1, maximum: 7 } },
    from: str(5),
    to: str(5),
  },
} as const;

const stationBody = {
  type: 'object',
  required: ['name', 'area'],
  additionalProperties: false,
  properties: {
    name: str(100),
    creditCode: str(40),
    address: str(200),
    area: str(6),
    contactName: str(50),
    contactPhone: str(40),
    extension: nullableStr(10),
    externalNumber: nullableStr(24),
    trunk: nullableStr(64),
    openingHours: { type: 'array', maxItems: 14, items: openingRule },
    categories: { type: 'array', maxItems: 50, items: str(32) },
    enabled: { type: 'boolean' },
  },
} as const;

const stationSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    creditCode: { type: 'string' },
    address: { type: 'string' },
    area: { type: 'string' },
    areaName: { type: 'string' },
    contactName: { type: 'string' },
    contactPhone: { type: 'string' },
    extension: { type: ['string', 'null'] },
    externalNumber: { type: ['string', 'null'] },
    trunk: { type: ['string', 'null'] },
    openingHours: { type: 'array', items: openingRule },
    categories: { type: 'array', items: { type: 'string' } },
    enabled: { type: 'boolean' },
    openNow: { type: 'boolean' },
    respondentMatch: { type: ['integer', 'null'] },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
  },
} as const;

const errorSchema = {
  type: 'object',
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
    fieldErrors: {
      type: 'array',
      items: {
        type: 'object',
        properties: { field: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
} as const;

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1 } },
} as const;

const caseSummarySchema = {
  type: ['object', 'null'],
  properties: {
    caseId: { type: 'integer' },
    number: { type: 'string' },
    type: { type: 'string' },
    typeLabel: { type: 'string' },
    status: { type: 'string' },
    statusLabel: { type: 'string' },
    version: { type: 'integer' },
    consumer: { type: 'object', properties: { name: { type: 'string' }, phone: { type: 'string' } } },
    respondentName: { type: 'string' },
    areaName: { type: 'string' },
    category: { type: 'string' },
    amount: { type: ['number', 'null'] },
    request: { type: 'string' },
    description: { type: 'string' },
  },
} as const;

const outcomeSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    caseId: { type: 'integer' },
    result: { type: 'string' },
    remedy: { type: ['string', 'null'] },
    amount: { type: ['number', 'null'] },
    deadline: { type: ['string', 'null'] },
    notes: { type: 'string' },
    callId: { type: ['string', 'null'] },
    stationId: { type: ['integer', 'null'] },
    recordedBy: { type: ['integer', 'null'] },
    recordedAt: { type: 'string' },
    caseStatus: { type: 'string' },
    applied: { type: 'boolean' },
  },
} as const;

const outcomeBody = {
  type: 'object',
  required: ['result'],
  additionalProperties: false,
  properties: {
    result: { type: 'string', enum: MEDIATION_RESULTS },
    remedy: { type: ['string', 'null'], enum: [...REMEDIES, null] },
    amount: { type: ['number', 'null'] },
    deadline: { type: ['string', 'null'], maxLength: 10 },
    notes: str(1000),
    callId: nullableStr(200),
  },
} as const;

/** `/openingHours/0/from` or a missing property → `openingHours.0.from`. */
function fieldOf(v: { instancePath?: string; params?: Record<string, unknown> }): string {
  const base = (v.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
  const extra = (v.params?.missingProperty ?? v.params?.additionalProperty) as string | undefined;
  return extra ? (base ? `${base}.${extra}` : extra) : base || '(body)';
}

export const merchantRoutes: FastifyPluginAsync<MerchantRoutesOptions> = async (app, opts) => {
  if (typeof app.requireRole !== 'function') throw new Error('merchantRoutes needs the auth plugin registered first');
  const { merchants, board, cases, mediation } = opts;
  const queuesOf = opts.queuesOf ?? (() => []);
  const wallNow = opts.wallNow ?? (() => new Date());

  const userOf = (req: FastifyRequest): AuthUser => req.user!;
  const actorOf = (req: FastifyRequest): Actor => ({ id: userOf(req).id, role: userOf(req).role });
  const scopeOf = (req: FastifyRequest): CaseScope => {
    const u = userOf(req);
    if (u.role === 'lead' || u.role === 'admin') return { kind: 'all' };
    if (u.role === 'agent') return { kind: 'agent', userId: u.id, queues: queuesOf(u.id) };
    return { kind: 'merchant', userId: u.id };
  };
  /** The merchant's own station, or null (a merchant account not linked to a station in the directory). */
  const ownStation = (req: FastifyRequest): Station | null => {
    const ext = userOf(req).stationExtension;
    return ext ? merchants.byExtension(ext) : null;
  };
  const view = (s: Station) => ({ ...s, openNow: isOpenAt(s.openingHours, wallNow()) });
  const notFound = (id: number) => new CaseNotFoundError(`维权站 ${id}`);

  app.setErrorHandler((err: FastifyError | CaseError, req: FastifyRequest, reply: FastifyReply) => {
    if ('validation' in err && err.validation) {
      const fieldErrors: FieldError[] = err.validation.map((v) => ({
        field: fieldOf(v as never),
        code: 'invalid',
        message: v.message ?? 'invalid',
      }));
      return reply.code(400).send({ error: 'validation', message: '输入有误', fieldErrors });
    }
    if (err instanceof CaseValidationError) {
      return reply.code(400).send({ error: err.code, message: '输入有误', fieldErrors: err.fieldErrors });
    }
    if (err instanceof VersionConflictError) return reply.code(409).send({ error: err.code, message: err.message });
    if (err instanceof CaseError) return reply.code(err.status).send({ error: err.code, message: err.message });
    log.error({ err, url: req.routeOptions.url }, 'merchant route failed');
    return reply.code(500).send({ error: 'internal', message: '服务器内部错误' });
  });

  // --- directory -------------------------------------------------------------------------------

  app.get<{ Querystring: { area?: string; includeDisabled?: boolean } }>(
    '/api/merchants',
    {
      preHandler: app.requireRole(...STAFF, 'merchant'),
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { area: { type: 'string', pattern: '^\\d{6}$' }, includeDisabled: { type: 'boolean' } },
        },
        response: {
          200: { type: 'object', properties: { items: { type: 'array', items: stationSchema } } },
          400: errorSchema,
        },
      },
    },
    async (req) => {
      if (userOf(req).role === 'merchant') {
        const own = ownStation(req);
        return { items: own ? [view(own)] : [] };
      }
      const includeDisabled = req.query.includeDisabled ?? userOf(req).role !== 'agent';
      return { items: merchants.list({ area: req.query.area, includeDisabled }).map(view) };
    },
  );

  app.get<{ Querystring: { q?: string; area?: string; caseId?: number; limit?: number } }>(
    '/api/merchants/search',
    {
      preHandler: app.requireRole(...STAFF),
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            q: str(100),
            area: { type: 'string', pattern: '^\\d{6}$' },
            caseId: { type: 'integer', minimum: 1 },
            limit: { type: 'integer', minimum: 1, maximum: 200 },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              items: { type: 'array', items: stationSchema },
              respondent: {
                type: ['object', 'null'],
                properties: { name: { type: 'string' }, creditCode: { type: 'string' } },
              },
            },
          },
          400: errorSchema,
          404: errorSchema,
        },
      },
    },
    async (req) => {
      const { q, area, caseId, limit } = req.query;
      const respondent =
        caseId === undefined
          ? null
          : (({ name, creditCode }) => ({ name, creditCode }))(cases.get(caseId, scopeOf(req)).respondent);
      const items = merchants.search({ q, area, limit: limit ?? 20, ...(respondent ? { respondent } : {}) });
      return { items: items.map(view), respondent };
    },
  );

  app.get<{ Params: { id: number } }>(
    '/api/merchants/:id',
    {
      preHandler: app.requireRole(...STAFF, 'merchant'),
      schema: { params: idParams, response: { 200: stationSchema, 404: errorSchema } },
    },
    async (req) => {
      const s = merchants.get(req.params.id);
      // A station's account sees only its own entry; any other id looks absent, so ids cannot be probed.
      if (!s || (userOf(req).role === 'merchant' && ownStation(req)?.id !== s.id)) throw notFound(req.params.id);
      return view(s);
    },
  );

  app.post<{ Body: StationInput }>(
    '/api/merchants',
    {
      preHandler: app.requireRole(...KEEPERS),
      schema: { body: stationBody, response: { 201: stationSchema, 400: errorSchema } },
    },
    async (req, reply) => {
      const s = merchants.create(req.body);
      log.info({ stationId: s.id, by: userOf(req).username }, 'station added to the directory');
      return reply.code(201).send(view(s));
    },
  );

  app.put<{ Params: { id: number }; Body: StationInput }>(
    '/api/merchants/:id',
    {
      preHandler: app.requireRole(...KEEPERS),
      schema: {
        params: idParams,
        body: stationBody,
        response: { 200: stationSchema, 400: errorSchema, 404: errorSchema },
      },
    },
    async (req) => view(merchants.update(req.params.id, req.body)),
  );

  app.delete<{ Params: { id: number } }>(
    '/api/merchants/:id',
    { preHandler: app.requireRole(...KEEPERS), schema: { params: idParams, response: { 404: errorSchema } } },
    async (req, reply) => {
      if (!merchants.remove(req.params.id)) throw notFound(req.params.id);
      log.info({ stationId: req.params.id, by: userOf(req).username }, 'station removed from the directory');
      return reply.code(204).send();
    },
  );

  // --- three-way announcements (staff → station) ---------------------------------------------------

  app.post<{ Params: { id: number }; Body: { callId: string; caseId?: number | null } }>(
    '/api/merchants/:id/calls',
    {
      preHandler: app.requireRole(...STAFF),
      schema: {
        params: idParams,
        body: {
          type: 'object',
          required: ['callId'],
          additionalProperties: false,
          properties: {
            callId: { type: 'string', minLength: 1, maxLength: 200 },
            caseId: { type: ['integer', 'null'], minimum: 1 },
          },
        },
        response: { 400: errorSchema, 404: errorSchema },
      },
    },
    async (req, reply) => {
      const s = merchants.get(req.params.id);
      if (!s || !s.enabled) throw notFound(req.params.id);
      const caseId = req.body.caseId ?? null;
      if (caseId !== null) {
        cases.get(caseId, scopeOf(req)); // 404 for a case the agent may not see
        // The station mediates this case: its accounts may read it from now on (phone masked).
        const accounts = opts.directory.webUsers
          .list('merchant')
          .filter((u) => u.stationExtension !== null && u.stationExtension === s.extension);
        for (const u of accounts) cases.share(caseId, u.id, actorOf(req));
      }
      const call = board.offer(s.id, { callId: req.body.callId, caseId, offeredBy: userOf(req).id });
      log.info({ stationId: s.id, callId: call.callId, caseId }, 'three-way call announced to station');
      return reply.code(201).send(call);
    },
  );

  app.post<{ Params: { id: number; callId: string } }>(
    '/api/merchants/:id/calls/:callId/end',
    {
      preHandler: app.requireRole(...STAFF),
      schema: {
        params: {
          type: 'object',
          required: ['id', 'callId'],
          properties: { id: { type: 'integer', minimum: 1 }, callId: str(200) },
        },
      },
    },
    async (req) => ({ ended: board.ended(req.params.callId) }),
  );

  // --- merchant portal ---------------------------------------------------------------------------

  const requireStation = (req: FastifyRequest): Station => {
    const s = ownStation(req);
    if (!s) throw new CaseError(404, 'no_station', '此账号未关联维权站');
    return s;
  };

  app.get(
    '/api/merchant/me',
    { preHandler: app.requireRole('merchant'), schema: { response: { 200: stationSchema, 404: errorSchema } } },
    async (req) => view(requireStation(req)),
  );

  app.get(
    '/api/merchant/sip-credentials',
    {
      preHandler: app.requireRole('merchant'),
      schema: {
        response: {
          200: {
            type: 'object',
            required: ['extension', 'realm', 'ha1', 'wsPath'],
            properties: {
              extension: { type: 'string' },
              realm: { type: 'string' },
              ha1: { type: 'string' },
              wsPath: { type: 'string' },
            },
          },
          404: errorSchema,
        },
      },
    },
    async (req) => {
      // Same rule as the seat credentials: the stored MD5 HA1 of the account's own device, never a password.
      const ext = userOf(req).stationExtension;
      const ha1 = ext ? opts.directory.devices.lookupHa1(ext, 'MD5', opts.realm) : null;
      if (!ext || !ha1) throw new CaseError(404, 'no_station', '此账号未关联维权站分机');
      return { extension: ext, realm: opts.realm, ha1, wsPath: '/sip' };
    },
  );

  app.get(
    '/api/merchant/calls/current',
    {
      preHandler: app.requireRole('merchant'),
      schema: {
        response: {
          200: {
            type: 'object',
            properties: {
              call: {
                type: ['object', 'null'],
                properties: {
                  callId: { type: 'string' },
                  caseId: { type: ['integer', 'null'] },
                  offeredAt: { type: 'string' },
                  ended: { type: 'boolean' },
                  summary: caseSummarySchema,
                  outcomes: { type: 'array', items: outcomeSchema },
                },
              },
            },
          },
          404: errorSchema,
        },
      },
    },
    async (req) => {
      const s = requireStation(req);
      const call = board.current(s.id);
      if (!call) return { call: null };
      let summary = null;
      if (call.caseId !== null) {
        try {
          summary = merchantCaseSummary(cases.get(call.caseId, scopeOf(req)));
        } catch (err) {
          if (!(err instanceof CaseNotFoundError)) throw err;
        }
      }
      return {
        call: {
          callId: call.callId,
          caseId: summary ? call.caseId : null,
          offeredAt: call.offeredAt,
          ended: call.ended,
          summary,
          outcomes: summary ? mediation.list(summary.caseId) : [],
        },
      };
    },
  );

  app.post(
    '/api/merchant/calls/current/dismiss',
    { preHandler: app.requireRole('merchant'), schema: { response: { 404: errorSchema } } },
    async (req) => ({ dismissed: board.clear(requireStation(req).id) }),
  );

  app.post<{ Params: { caseId: number }; Body: Partial<MediationInput> & { result: MediationInput['result'] } }>(
    '/api/merchant/cases/:caseId/outcome',
    {
      preHandler: app.requireRole('merchant', 'lead', 'admin'),
      schema: {
        params: {
          type: 'object',
          required: ['caseId'],
          properties: { caseId: { type: 'integer', minimum: 1 } },
        },
        body: outcomeBody,
        response: {
          201: {
            type: 'object',
            properties: {
              outcome: outcomeSchema,
              case: {
                type: 'object',
                properties: {
                  id: { type: 'integer' },
                  status: { type: 'string' },
                  statusLabel: { type: 'string' },
                  statusReason: { type: 'string' },
                  version: { type: 'integer' },
                },
              },
            },
          },
          400: errorSchema,
          404: errorSchema,
          409: errorSchema,
        },
      },
    },
    async (req, reply) => {
      const station = userOf(req).role === 'merchant' ? requireStation(req) : null;
      const b = req.body;
      const input: MediationInput = {
        result: b.result,
        remedy: b.remedy ?? null,
        amount: b.amount ?? null,
        deadline: b.deadline ? b.deadline : null,
        notes: b.notes ?? '',
        callId: b.callId ?? null,
        stationId: station?.id ?? null,
      };
      const { outcome, case: c } = mediation.record(req.params.caseId, input, actorOf(req), scopeOf(req));
      if (station && board.current(station.id)?.caseId === c.id) board.clear(station.id);
      return reply.code(201).send({
        outcome,
        case: {
          id: c.id,
          status: c.status,
          statusLabel: c.statusLabel,
          statusReason: c.statusReason,
          version: c.version,
        },
      });
    },
  );

  app.get<{ Params: { id: number } }>(
    '/api/cases/:id/mediation',
    {
      preHandler: app.requireRole(...STAFF, 'merchant'),
      schema: {
        params: idParams,
        response: {
          200: { type: 'object', properties: { items: { type: 'array', items: outcomeSchema } } },
          404: errorSchema,
        },
      },
    },
    async (req) => {
      cases.get(req.params.id, scopeOf(req));
      return { items: mediation.list(req.params.id) };
    },
  );
};
