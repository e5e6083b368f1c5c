import Fastify, { type FastifyInstance } from 'fastify';
import { healthRoutes, type HealthInfo } from './routes/health.js';

export interface HttpAppDeps {
  health: HealthInfo;
  logger?: boolean;
}

/** The HTTP side: one Fastify plugin per domain, JSON schemas as each route's contract. */
export async function buildHttpApp(deps: HttpAppDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: deps.logger ?? false, bodyLimit: 1024 * 1024 });
  await app.register(healthRoutes, { health: deps.health });
  return app;
}
