import type { FastifyPluginAsync } from 'fastify';
import { createLogger } from '../../util/log.js';
import { toAuthUser, type AuthService } from '../auth/plugin.js';

const log = createLogger('auth');

const userSchema = {
  type: 'object',
  required: ['username', 'role', 'displayName'],
  properties: {
    username: { type: 'string' },
    role: { type: 'string', enum: ['agent', 'lead', 'merchant', 'admin'] },
    displayName: { type: 'string' },
    stationExtension: { type: ['string', 'null'] },
  },
} as const;

const errorSchema = {
  type: 'object',
  required: ['error', 'message'],
  properties: { error: { type: 'string' }, message: { type: 'string' }, retryAfterSeconds: { type: 'integer' } },
} as const;

/** POST /api/auth/login, POST /api/auth/logout, GET /api/auth/me. */
export const authRoutes: FastifyPluginAsync<{ auth: AuthService }> = async (app, opts) => {
  const { webUsers, sessions, throttle } = opts.auth.deps;

  app.post(
    '/api/auth/login',
    {
      schema: {
        body: {
          type: 'object',
          required: ['username', 'password'],
          additionalProperties: false,
          properties: {
            username: { type: 'string', minLength: 1, maxLength: 64 },
            password: { type: 'string', minLength: 1, maxLength: 256 },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['token', 'expiresAt', 'user'],
            properties: { token: { type: 'string' }, expiresAt: { type: 'string' }, user: userSchema },
          },
          401: errorSchema,
          423: errorSchema,
          429: errorSchema,
        },
      },
    },
    async (req, reply) => {
      const { username, password } = req.body as { username: string; password: string };
      const verdict = throttle.check(username, req.ip);
      if (!verdict.ok) {
        log.warn({ username, ip: req.ip, scope: verdict.scope }, 'login refused: locked');
        void reply.header('retry-after', String(verdict.retryAfterSeconds));
        return reply.code(verdict.status).send({
          error: verdict.status === 423 ? 'locked' : 'too_many_attempts',
          message: verdict.message,
          retryAfterSeconds: verdict.retryAfterSeconds,
        });
      }
      const user = await webUsers.authenticate(username, password);
      if (!user) {
        throttle.fail(username, req.ip);
        log.info({ username, ip: req.ip }, 'login failed');
        // One message for unknown user, wrong password and disabled account: no account enumeration.
        return reply.code(401).send({ error: 'bad_credentials', message: '用户名或密码错误' });
      }
      throttle.succeed(username);
      // Housekeeping on the (rare) login path rather than a timer: expired rows are also refused on use.
      sessions.purgeExpired();
      const { token, session } = sessions.create(user.id, req.ip);
      log.info({ username: user.username, role: user.role }, 'login');
      return { token, expiresAt: new Date(session.expiresAt).toISOString(), user: toAuthUser(user) };
    },
  );

  app.post(
    '/api/auth/logout',
    {
      preHandler: app.authenticate,
      schema: {
        response: { 200: { type: 'object', required: ['ok'], properties: { ok: { type: 'boolean' } } } },
      },
    },
    async (req) => {
      sessions.revoke(req.sessionId!);
      log.info({ username: req.user!.username }, 'logout');
      return { ok: true };
    },
  );

  app.get(
    '/api/auth/me',
    {
      preHandler: app.authenticate,
      schema: { response: { 200: { type: 'object', properties: { user: userSchema } } } },
    },
    async (req) => ({ user: req.user! }),
  );
};
