import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken, type AuthService } from './auth/plugin.js';

/**
 * OpenAPI for the REST API, generated from the routes' JSON schemas (@fastify/swagger), browsable at
 * /docs (@fastify/swagger-ui).
 *
 * Access (issue 9: nothing but login, health and the static desktop without a session): the Swagger
 * UI page and its assets are static files like the desktop and carry no data, so they are public; the
 * specification itself (/docs/json, /docs/yaml) needs a lead or admin session. The page is opened in
 * the tab where the desktop is logged in: a small script adds that tab's session token (the desktop's
 * sessionStorage entry) to the page's same-origin requests, so "Try it out" works with the same rights.
 * Without a server-side auth service (unit apps) nothing is guarded.
 *
 * Must be registered before the routes it documents (it collects them in onRoute).
 */
export const DOCS_PREFIX = '/docs';
const SPEC_PATHS = new Set([`${DOCS_PREFIX}/json`, `${DOCS_PREFIX}/yaml`]);
const DOC_ROLES = new Set(['lead', 'admin']);

/** Runs in the Swagger UI page: adds the desktop's bearer token to same-origin fetches. */
const ADD_TOKEN_JS = `(() => {
  const token = () => {
    try { return JSON.parse(sessionStorage.getItem('hotline12315.desktop.session') || 'null')?.token || null; }
    catch { return null; }
  };
  const orig = window.fetch.bind(window);
  window.fetch = (input, init = {}) => {
    const url = new URL(typeof input === 'string' ? input : input.url, location.href);
    const t = token();
    if (t && url.origin === location.origin) {
      const headers = new Headers(init.headers || (typeof input === 'string' ? undefined : input.headers));
      if (!headers.has('authorization')) headers.set('authorization', 'Bearer ' + t);
      init = { ...init, headers };
    }
    return orig(input, init);
  };
})();`;

export async function registerOpenApi(app: FastifyInstance, auth?: AuthService): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: '12315 热线联络中心 API',
        description:
          '全国12315消费者投诉举报热线联络中心的 REST 接口。除登录与健康检查外均需 `Authorization: Bearer <token>`（POST /api/auth/login 获取）。',
        version: '1.0.0',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  // The spec routes get a role gate as a preHandler (as every /api route has), so the route × role
  // audit sees it; the UI's static routes get none.
  const guard = async (req: FastifyRequest, reply: FastifyReply) => {
    const user = req.user ?? auth?.resolve(bearerToken(req))?.user;
    if (!user) return reply.code(401).send({ error: 'unauthorized', message: '请先登录' });
    if (!DOC_ROLES.has(user.role)) return reply.code(403).send({ error: 'forbidden', message: '没有权限执行此操作' });
  };
  if (auth) {
    app.addHook('onRoute', (route) => {
      if (!SPEC_PATHS.has(route.url)) return;
      const pre =
        route.preHandler === undefined ? [] : Array.isArray(route.preHandler) ? route.preHandler : [route.preHandler];
      route.preHandler = [guard, ...pre];
    });
  }
  await app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    uiConfig: { docExpansion: 'list', deepLinking: false },
    theme: { js: [{ filename: 'add-token.js', content: ADD_TOKEN_JS }] },
  });
}
