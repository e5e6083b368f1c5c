import { timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { dayStart } from '../../metrics/kpi.js';
import type { MetricsService } from '../../metrics/service.js';
import { bearerToken } from '../auth/plugin.js';

export interface MetricsRoutesOptions {
  metrics: MetricsService;
  /** Bearer token a Prometheus server may use for GET /metrics (METRICS_TOKEN); admins' sessions work too. */
  scrapeToken?: string | null;
}

const num = { type: 'number' } as const;
const numOrNull = { type: ['number', 'null'] } as const;

export const CALL_KPI_PROPS = {
  offered: num,
  answered: num,
  abandoned: num,
  shortAbandoned: num,
  timedOut: num,
  callbacks: num,
  exitKey: num,
  refused: num,
  leaveEmpty: num,
  other: num,
  transferredOut: num,
  inProgress: num,
  answerRate: numOrNull,
  abandonRate: numOrNull,
  serviceLevel: numOrNull,
  answeredWithinSl: num,
  abandonedWithinSl: num,
  asteriskSl1: numOrNull,
  asteriskSl2: numOrNull,
  asaMs: numOrNull,
  avgAbandonMs: numOrNull,
  longestWaitMs: num,
  ahtMs: numOrNull,
  avgTalkMs: numOrNull,
  avgHoldMs: numOrNull,
  avgAcwMs: numOrNull,
  handled: num,
} as const;

const thresholdsSchema = {
  type: 'object',
  properties: { shortAbandonMs: num, serviceLevelMs: num },
} as const;

/** from/to: epoch ms or an ISO 8601 time; default today (Beijing) until now. */
export const periodQuery = {
  from: { type: 'string', pattern: '^([0-9]{10,14}|[0-9]{4}-[0-9]{2}-[0-9]{2}.*)$', maxLength: 40 },
  to: { type: 'string', pattern: '^([0-9]{10,14}|[0-9]{4}-[0-9]{2}-[0-9]{2}.*)$', maxLength: 40 },
} as const;

export class PeriodError extends Error {}

export function parsePeriod(q: { from?: string; to?: string }, now: number): { from: number; to: number } {
  const parse = (s: string | undefined, dflt: number) => {
    if (s === undefined) return dflt;
    const t = /^[0-9]+$/.test(s) ? Number(s) : Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00+08:00` : s);
    if (!Number.isFinite(t)) throw new PeriodError(`时间无效：${s}`);
    return t;
  };
  const from = parse(q.from, dayStart(now));
  const to = parse(q.to, now + 1);
  if (!(to > from)) throw new PeriodError('结束时间必须晚于开始时间');
  if (to - from > 400 * 86_400_000) throw new PeriodError('时间范围不能超过 400 天');
  return { from, to };
}

export const badPeriod = (reply: FastifyReply, err: unknown) => {
  if (err instanceof PeriodError) return reply.code(400).send({ error: 'bad_period', message: err.message });
  throw err;
};

const errorSchema = { type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' } } } as const;

/**
 * Live and summary figures for leads (GET /api/metrics/…), and Prometheus at GET /metrics.
 * Contract: docs/metrics.md.
 */
export const metricsRoutes: FastifyPluginAsync<MetricsRoutesOptions> = async (app, opts) => {
  const m = opts.metrics;
  const lead = app.requireRole('lead', 'admin');

  app.get(
    '/api/metrics/summary',
    {
      preHandler: lead,
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { ...periodQuery, queue: { type: 'string', maxLength: 32 } },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              from: num,
              to: num,
              queue: { type: ['string', 'null'] },
              occupancy: numOrNull,
              thresholds: { ...thresholdsSchema, type: ['object', 'null'] },
              ...CALL_KPI_PROPS,
            },
          },
          400: errorSchema,
        },
      },
    },
    async (req, reply) => {
      const q = req.query as { from?: string; to?: string; queue?: string };
      try {
        const p = parsePeriod(q, m.now());
        return m.summary(p.from, p.to, q.queue);
      } catch (err) {
        return badPeriod(reply, err);
      }
    },
  );

  app.get(
    '/api/metrics/agents',
    {
      preHandler: lead,
      schema: {
        querystring: { type: 'object', additionalProperties: false, properties: periodQuery },
        response: {
          200: {
            type: 'object',
            properties: {
              from: num,
              to: num,
              agents: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    agentId: { type: 'string' },
                    loggedInMs: num,
                    stateMs: { type: 'object', additionalProperties: num },
                    pauseByReason: { type: 'object', additionalProperties: num },
                    occupancy: numOrNull,
                    ringAttempts: num,
                    ringsAnswered: num,
                    ringsNoAnswer: num,
                    ringsRejected: num,
                    answerRate: numOrNull,
                    callsAnswered: num,
                    ahtMs: numOrNull,
                  },
                },
              },
            },
          },
          400: errorSchema,
        },
      },
    },
    async (req, reply) => {
      try {
        const p = parsePeriod(req.query as { from?: string; to?: string }, m.now());
        return { ...p, agents: m.agents(p.from, p.to) };
      } catch (err) {
        return badPeriod(reply, err);
      }
    },
  );

  // The same picture the socket pushes as wallboard:update, for a board's first paint.
  app.get(
    '/api/metrics/wallboard',
    { preHandler: lead, schema: { response: { 200: { type: 'object', additionalProperties: true } } } },
    async () => m.wallboard(),
  );

  app.get(
    '/api/metrics/thresholds/:queue',
    {
      preHandler: lead,
      schema: {
        params: { type: 'object', required: ['queue'], properties: { queue: { type: 'string', maxLength: 32 } } },
        response: { 200: thresholdsSchema },
      },
    },
    async (req) => m.thresholds((req.params as { queue: string }).queue),
  );

  app.put(
    '/api/metrics/thresholds/:queue',
    {
      preHandler: lead,
      schema: {
        params: { type: 'object', required: ['queue'], properties: { queue: { type: 'string', maxLength: 32 } } },
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            shortAbandonMs: { type: 'integer', minimum: 0, maximum: 120_000 },
            serviceLevelMs: { type: 'integer', minimum: 1000, maximum: 3_600_000 },
          },
        },
        response: { 200: thresholdsSchema },
      },
    },
    async (req) => m.setThresholds((req.params as { queue: string }).queue, req.body as object),
  );

  const scrapeToken = opts.scrapeToken ? Buffer.from(opts.scrapeToken) : null;
  const scrapeAllowed = (req: FastifyRequest): boolean => {
    const t = bearerToken(req);
    if (!t) return false;
    if (scrapeToken) {
      const b = Buffer.from(t);
      if (b.length === scrapeToken.length && timingSafeEqual(b, scrapeToken)) return true;
    }
    return app.auth.resolve(t)?.user.role === 'admin';
  };
  app.get('/metrics', async (req, reply) => {
    if (!scrapeAllowed(req)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="metrics"')
        .send({ error: 'unauthorized', message: '需要 METRICS_TOKEN 或管理员令牌' });
    }
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(await m.prometheusWithMedia());
  });
};
