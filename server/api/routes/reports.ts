import type { FastifyPluginAsync } from 'fastify';
import type { MetricsService } from '../../metrics/service.js';
import { badPeriod, CALL_KPI_PROPS, parsePeriod, periodQuery } from './metrics.js';

export interface ReportRoutesOptions {
  metrics: MetricsService;
}

const num = { type: 'number' } as const;
const numOrNull = { type: ['number', 'null'] } as const;
const errorSchema = { type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' } } } as const;
const hotSpot = {
  type: 'object',
  properties: { key: { type: 'string' }, count: num, creditCode: { type: 'string' } },
} as const;

type PeriodQ = { from?: string; to?: string };

/** Historical reports, exports and the 12315 KPIs for leads and admins. Contract: docs/metrics.md. */
export const reportRoutes: FastifyPluginAsync<ReportRoutesOptions> = async (app, opts) => {
  const m = opts.metrics;
  const lead = app.requireRole('lead', 'admin');

  app.get(
    '/api/reports/calls',
    {
      preHandler: lead,
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...periodQuery,
            granularity: { type: 'string', enum: ['15m', 'hour', 'day'], default: 'hour' },
            by: { type: 'string', enum: ['queue', 'agent'], default: 'queue' },
            queue: { type: 'string', maxLength: 32 },
            format: { type: 'string', enum: ['json', 'csv'], default: 'json' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              from: num,
              to: num,
              granularity: { type: 'string' },
              by: { type: 'string' },
              rows: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    bucket: num,
                    key: { type: 'string' },
                    occupancy: numOrNull,
                    agentAnswerRate: numOrNull,
                    pauseMs: num,
                    ...CALL_KPI_PROPS,
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
      const q = req.query as PeriodQ & {
        granularity: '15m' | 'hour' | 'day';
        by: 'queue' | 'agent';
        queue?: string;
        format: 'json' | 'csv';
      };
      let p: { from: number; to: number };
      try {
        p = parsePeriod(q, m.now());
      } catch (err) {
        return badPeriod(reply, err);
      }
      if (q.granularity === '15m' && p.to - p.from > 31 * 86_400_000)
        return reply.code(400).send({ error: 'bad_period', message: '15 分钟粒度的报表最长 31 天' });
      const rows = m.report(p.from, p.to, q.granularity, q.by, q.queue);
      if (q.format === 'csv') {
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="calls-${q.by}-${q.granularity}.csv"`)
          .send(m.reportCsv(rows, q.by));
      }
      return { ...p, granularity: q.granularity, by: q.by, rows };
    },
  );

  app.get(
    '/api/reports/daily',
    {
      preHandler: lead,
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { date: { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' } },
        },
      },
    },
    async (req, reply) => {
      const d = (req.query as { date?: string }).date;
      const at = d ? Date.parse(`${d}T12:00:00+08:00`) : m.now();
      if (!Number.isFinite(at)) return reply.code(400).send({ error: 'bad_period', message: '日期无效' });
      return reply.type('text/html; charset=utf-8').send(m.dailyHtml(at));
    },
  );

  app.get(
    '/api/reports/hotspots',
    {
      preHandler: lead,
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...periodQuery,
            top: { type: 'integer', minimum: 1, maximum: 100, default: 10 },
            threshold: { type: 'integer', minimum: 1, maximum: 100_000, default: 10 },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              from: num,
              to: num,
              threshold: num,
              categories: { type: 'array', items: hotSpot },
              businesses: { type: 'array', items: hotSpot },
              interviewList: { type: 'array', items: hotSpot },
            },
          },
          400: errorSchema,
        },
      },
    },
    async (req, reply) => {
      const q = req.query as PeriodQ & { top: number; threshold: number };
      try {
        const p = parsePeriod(q, m.now());
        return { ...p, ...m.hotSpots(p.from, p.to, { top: q.top, threshold: q.threshold }) };
      } catch (err) {
        return badPeriod(reply, err);
      }
    },
  );

  const rate = numOrNull;
  app.get(
    '/api/reports/kpi12315',
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
              resolutionRate: rate,
              onTimeRate: rate,
              mediationSuccessRate: rate,
              reportVerifiedRate: rate,
              complaintToCaseRate: rate,
              satisfactionRate: rate,
              followUpRate: rate,
              counts: { type: 'object', additionalProperties: num },
            },
          },
          400: errorSchema,
        },
      },
    },
    async (req, reply) => {
      try {
        const p = parsePeriod(req.query as PeriodQ, m.now());
        const k = m.caseKpis(p.from, p.to);
        const {
          resolutionRate,
          onTimeRate,
          mediationSuccessRate,
          reportVerifiedRate,
          complaintToCaseRate,
          satisfactionRate,
          followUpRate,
          ...counts
        } = k;
        return {
          ...p,
          resolutionRate,
          onTimeRate,
          mediationSuccessRate,
          reportVerifiedRate,
          complaintToCaseRate,
          satisfactionRate,
          followUpRate,
          counts,
        };
      } catch (err) {
        return badPeriod(reply, err);
      }
    },
  );

  app.get(
    '/api/reports/queue_log',
    {
      preHandler: lead,
      schema: { querystring: { type: 'object', additionalProperties: false, properties: periodQuery } },
    },
    async (req, reply) => {
      try {
        const p = parsePeriod(req.query as PeriodQ, m.now());
        return reply.type('text/plain; charset=utf-8').send(m.queueLog(p.from, p.to));
      } catch (err) {
        return badPeriod(reply, err);
      }
    },
  );

  app.get(
    '/api/reports/cdr.csv',
    {
      preHandler: lead,
      schema: { querystring: { type: 'object', additionalProperties: false, properties: periodQuery } },
    },
    async (req, reply) => {
      try {
        const p = parsePeriod(req.query as PeriodQ, m.now());
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="cdr.csv"')
          .send(m.cdrCsv(p.from, p.to, req.user!.role === 'admin'));
      } catch (err) {
        return badPeriod(reply, err);
      }
    },
  );
};
