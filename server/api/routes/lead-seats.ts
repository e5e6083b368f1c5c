import type { FastifyPluginAsync } from 'fastify';
import { AgentState } from '../../acd/agent-state.js';
import { AcdError, type AcdService } from '../../acd/service.js';
import type { Directory } from '../../directory/index.js';
import { acdErrorHandler, agentViewSchema } from './agents.js';

/**
 * 座席分配 to seats (issue 8): a lead signs an agent in at a seat (分机). The agent's desktop then finds
 * the seat in its state on (re)connect and registers that phone. Only an agent who is signed out may be
 * placed (moving a signed-in agent would drop a call in progress: force the logout first). Audited like
 * every lead action in server/acd/service.ts.
 */
export interface LeadSeatRoutesOptions {
  acd: AcdService;
  directory: Directory;
}

const errorSchema = {
  type: 'object',
  required: ['error', 'message'],
  properties: { error: { type: 'string' }, message: { type: 'string' } },
} as const;

export const leadSeatRoutes: FastifyPluginAsync<LeadSeatRoutesOptions> = async (app, opts) => {
  const svc = opts.acd;
  app.setErrorHandler(acdErrorHandler);
  app.put(
    '/api/lead/agents/:workNo/seat',
    {
      preHandler: app.requireRole('lead', 'admin'),
      schema: {
        params: {
          type: 'object',
          required: ['workNo'],
          properties: { workNo: { type: 'string', minLength: 1, maxLength: 32 } },
        },
        body: {
          type: 'object',
          required: ['seat'],
          additionalProperties: false,
          properties: { seat: { type: 'string', pattern: '^[0-9]{2,15}$' } },
        },
        response: { 200: agentViewSchema, 400: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema },
      },
    },
    async (req) => {
      const { workNo } = req.params as { workNo: string };
      const { seat } = req.body as { seat: string };
      const rec = svc.store.agent(workNo);
      if (!rec) throw new AcdError(404, 'no_agent', `工号 ${workNo} 不存在`);
      if (!rec.enabled) throw new AcdError(409, 'agent_disabled', `工号 ${workNo} 已停用`);
      const dev = opts.directory.devices.get(seat);
      if (!dev || dev.kind !== 'seat' || !dev.enabled)
        throw new AcdError(400, 'bad_seat', `分机 ${seat} 不是可用的座席分机`);
      const now = svc.acd.agent(workNo);
      if (now && now.state !== AgentState.Offline)
        throw new AcdError(409, 'signed_in', `工号 ${workNo} 已在分机 ${now.seat ?? '—'} 签入，请先强制签出`);
      const other = svc.acd.agentAtSeat(seat);
      if (other !== null && other !== workNo)
        throw new AcdError(409, 'seat_taken', `分机 ${seat} 已被工号 ${other} 占用`);
      const v = svc.acd.login(workNo, seat);
      svc.store.seatLogin(seat, workNo);
      svc.store.audit(req.user!.username, 'assign_seat', workNo, { seat });
      return v;
    },
  );
};
