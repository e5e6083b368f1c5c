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
