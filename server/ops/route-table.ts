/**
 * The route table as Fastify registered it, for the route-role audit (every route × every role).
 * Fastify has no public list of routes with their options; an `onRoute` hook added before the first
 * route is the documented way to see them all, including those of nested plugins.
 */
import type { FastifyInstance, RouteOptions } from 'fastify';

const tables = new WeakMap<FastifyInstance, RouteOptions[]>();

/** Call right after creating the instance, before any plugin registers a route. */
export function recordRoutes(app: FastifyInstance): void {
  if (tables.has(app)) return;
  const list: RouteOptions[] = [];
  tables.set(app, list);
  app.addHook('onRoute', (r) => {
    list.push(r);
  });
}

/** Every route registered so far (HEAD twins of GET routes included, as Fastify adds them). */
export function routesOf(app: FastifyInstance): readonly RouteOptions[] {
  return tables.get(app) ?? [];
}
