import type { FastifyPluginAsync } from 'fastify';
import type { AcdService, Actor } from '../../acd/service.js';
import type { Directory } from '../../directory/directory.js';

export interface SeatCredentialsOptions {
  acd: AcdService;
  directory: Directory;
  realm: string;
}

/**
 * The desktop's softphone registers the seat its agent signed in to. JsSIP authenticates with
 * `ha1` + `realm`, so the desktop gets the stored MD5 HA1 of that seat only, never a password, and
 * only while the agent holds the seat.
 */
export const seatCredentialsRoutes: FastifyPluginAsync<SeatCredentialsOptions> = async (app, opts) => {
  app.get(
    '/api/agents/me/sip-credentials',
    {
      preHandler: app.requireRole('agent', 'lead'),
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
          404: {
            type: 'object',
            required: ['error', 'message'],
            properties: { error: { type: 'string' }, message: { type: 'string' } },
          },
        },
      },
    },
    async (req, reply) => {
      const seat = opts.acd.me(req.user! as Actor).seat;
      const ha1 = seat ? opts.directory.devices.lookupHa1(seat, 'MD5', opts.realm) : null;
      if (!seat || !ha1) {
        return reply.code(404).send({ error: 'no_seat', message: '尚未签入分机' });
      }
      return { extension: seat, realm: opts.realm, ha1, wsPath: '/sip' };
    },
  );
};
