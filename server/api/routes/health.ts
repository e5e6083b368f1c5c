import type { FastifyPluginAsync } from 'fastify';

export interface HealthInfo {
  transports(): { transport: string; address: string; port: number }[];
  startedAt: number;
}

const listenerSchema = {
  type: 'object',
  required: ['transport', 'address', 'port'],
  properties: { transport: { type: 'string' }, address: { type: 'string' }, port: { type: 'integer' } },
} as const;

/** GET /api/health: no authentication; load balancers and the README's smoke check use it. */
export const healthRoutes: FastifyPluginAsync<{ health: HealthInfo }> = async (app, opts) => {
  app.get(
    '/api/health',
    {
      schema: {
        response: {
          200: {
            type: 'object',
            required: ['status', 'uptimeSeconds', 'sip'],
            properties: {
              status: { type: 'string', enum: ['ok'] },
              uptimeSeconds: { type: 'number' },
              sip: { type: 'array', items: listenerSchema },
            },
          },
        },
      },
    },
    async () => ({
      status: 'ok' as const,
      uptimeSeconds: Math.round((Date.now() - opts.health.startedAt) / 1000),
      sip: opts.health.transports(),
    }),
  );
};
