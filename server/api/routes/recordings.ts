/**
 * GET /api/recordings/{callId}: a call's recording (WAV), for shift leads and admins, and for the
 * agent who took that call. Every request – served, denied or not found – is written to the audit.
 * A denied agent gets the same 404 as a missing recording, so call ids cannot be probed for existence.
 */
import fs from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';

export interface RecordingsRoutesOptions {
  /** The recording file of a call (CDR), or null when the call is unknown or was not recorded. */
  recordingOf(callId: string): string | null;
  /** Web user id of the agent who took the call (its case), or null. */
  agentOf(callId: string): number | null;
  audit(e: {
    userId: number;
    username: string;
    role: string;
    callId: string;
    outcome: 'served' | 'denied' | 'not_found';
    ip: string | null;
  }): void;
}

const errorSchema = {
  type: 'object',
  required: ['error', 'message'],
  properties: { error: { type: 'string' }, message: { type: 'string' } },
} as const;

export const recordingsRoutes: FastifyPluginAsync<RecordingsRoutesOptions> = async (app, opts) => {
  if (typeof app.requireRole !== 'function') throw new Error('recordingsRoutes needs the auth plugin registered first');
  app.get<{ Params: { callId: string } }>(
    '/api/recordings/:callId',
    {
      preHandler: app.requireRole('agent', 'lead', 'admin'),
      schema: {
        params: {
          type: 'object',
          required: ['callId'],
          properties: { callId: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._@-]+$' } },
        },
        response: { 404: errorSchema },
      },
    },
    async (req, reply) => {
      const u = req.user!;
      const { callId } = req.params;
      const entry = { userId: u.id, username: u.username, role: u.role, callId, ip: req.ip ?? null };
      const notFound = { error: 'not_found', message: '没有找到该通话的录音' };
      if (u.role === 'agent' && opts.agentOf(callId) !== u.id) {
        opts.audit({ ...entry, outcome: 'denied' });
        return reply.code(404).send(notFound);
      }
      const file = opts.recordingOf(callId);
      if (!file || !fs.existsSync(file)) {
        opts.audit({ ...entry, outcome: 'not_found' });
        return reply.code(404).send(notFound);
      }
      opts.audit({ ...entry, outcome: 'served' });
      return reply
        .header('content-type', 'audio/wav')
        .header('cache-control', 'no-store')
        .header('content-disposition', `attachment; filename="${callId}.wav"`)
        .send(fs.createReadStream(file));
    },
  );
};
