import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { healthRoutes, type HealthInfo } from './routes/health.js';
// --- auth / ACD (issue 5) ---
import { authPlugin, type AuthService } from './auth/plugin.js';
import { authRoutes } from './routes/auth.js';
import type { AcdService } from '../acd/service.js';
import { agentRoutes } from './routes/agents.js';
import { queueRoutes } from './routes/queues.js';
import { recordRoutes } from '../ops/route-table.js';
import { registerOpenApi } from './openapi.js';
import { LazySchemas } from './plugins/lazy-schemas.js';
import { createLogger } from '../util/log.js';

const log = createLogger('http');

export interface HttpAppDeps {
  health: HealthInfo;
  logger?: boolean;
  /** Web login; when given, every /api/ route except login and health requires a session. */
  auth?: AuthService;
  /** ACD seats, states and queues (needs `auth`). */
  acd?: AcdService;
  /** HTTPS (and so WSS for SIP over WebSocket) with this certificate and key. */
  https?: { cert: Buffer; key: Buffer };
}

const lazySchemasOfApp = new WeakMap<FastifyInstance, LazySchemas>();

/** The app's deferred schema compilers (tests compile them all to find a broken schema). */
export function lazySchemasOf(app: FastifyInstance): LazySchemas | undefined {
  return lazySchemasOfApp.get(app);
}

/** The HTTP side: one Fastify plugin per domain, JSON schemas as each route's contract. */
export async function buildHttpApp(deps: HttpAppDeps): Promise<FastifyInstance> {
  // Restart after kill -9 (issue 9): route schemas compile on first use and in the background after
  // listening, not before it (plugins/lazy-schemas.ts).
  const schemas = new LazySchemas();
  const schemaController = {
    compilersFactory: schemas.factory(),
  } as unknown as FastifyServerOptions['schemaController'];
  const app = deps.https
    ? (Fastify({
        logger: deps.logger ?? false,
        bodyLimit: 1024 * 1024,
        https: deps.https,
        schemaController,
      }) as unknown as FastifyInstance)
    : Fastify({ logger: deps.logger ?? false, bodyLimit: 1024 * 1024, schemaController });
  lazySchemasOfApp.set(app, schemas);
  app.addHook('onListen', (done) => {
    schemas.warm((err) => log.error({ err }, 'route schema does not compile'));
    done();
  });
  app.addHook('onClose', (_app, done) => {
    schemas.close();
    done();
  });
  // --- ops (issue 9): the route table for the route × role audit test ---
  recordRoutes(app);
  // --- cases (issue 6): OpenAPI at /docs, collected from every route registered after this ---
  await registerOpenApi(app, deps.auth);
  // --- auth / ACD (issue 5): first, so its deny-by-default hook covers every later route ---
  if (deps.auth) {
    await app.register(authPlugin, { auth: deps.auth });
    await app.register(authRoutes, { auth: deps.auth });
    if (deps.acd) {
      await app.register(agentRoutes, { acd: deps.acd });
      await app.register(queueRoutes, { acd: deps.acd });
    }
  }
  await app.register(healthRoutes, { health: deps.health });
  return app;
}
