import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

/** agent-desktop/dist, next to server/ both in the source tree and in dist/ (two and three levels up). */
export function defaultDesktopRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    path.resolve(here, '../../../agent-desktop/dist'),
    path.resolve(here, '../../../../agent-desktop/dist'),
  ];
  return candidates.find((p) => existsSync(path.join(p, 'index.html'))) ?? candidates[0]!;
}

export interface StaticRoutesOptions {
  /** Directory holding the built desktop (index.html, assets/). Default: agent-desktop/dist. */
  root?: string;
}

/** Paths that belong to the API, SIP over WebSocket and socket.io: never answered with the desktop. */
const NOT_SPA = /^\/(api|sip|socket\.io)(\/|$)/;
/** /merchant and below: the merchant station portal (merchant.html). */
const MERCHANT_PAGE = /^\/merchant(\/|$)/;

/**
 * Serves the agent desktop at / with a single-page-app fallback: any other GET that wants HTML gets
 * index.html, so a reload on a client-side path keeps working. Hashed assets are cached for a year,
 * index.html never (a new build must reach the desks at the next reload).
 */
export const staticRoutes: FastifyPluginAsync<StaticRoutesOptions> = async (app, opts) => {
  const root = opts.root ?? defaultDesktopRoot();
  const built = existsSync(path.join(root, 'index.html'));
  if (built) {
    await app.register(fastifyStatic, {
      root,
      prefix: '/',
      wildcard: true,
      index: ['index.html'],
      setHeaders(res, file) {
        if (file.endsWith('.html')) res.header('cache-control', 'no-cache');
        else if (file.includes(`${path.sep}assets${path.sep}`))
          res.header('cache-control', 'public, max-age=31536000, immutable');
      },
    });
  }

  app.setNotFoundHandler(async (req, reply) => {
    const urlPath = req.url.split('?', 1)[0]!;
    const wantsPage =
      (req.method === 'GET' || req.method === 'HEAD') &&
      !NOT_SPA.test(urlPath) &&
      // An asset that is missing stays a 404 rather than HTML the browser would try to run.
      path.extname(urlPath) === '' &&
      (req.headers.accept ?? '').includes('text/html');
    if (wantsPage && built) {
      // The merchant station portal is its own page (a second Vite entry) with its own client-side paths.
      const page =
        MERCHANT_PAGE.test(urlPath) && existsSync(path.join(root, 'merchant.html')) ? 'merchant.html' : 'index.html';
      return reply.header('cache-control', 'no-cache').sendFile(page, root, { cacheControl: false });
    }
    if (wantsPage) {
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('座席工作台尚未构建：请先运行 npm run build:desktop');
    }
    return reply.code(404).send({ error: 'not_found', message: `没有 ${req.method} ${urlPath}` });
  });
};
// Same effect as fastify-plugin: the not-found handler covers the whole app, not just this plugin's scope.
(staticRoutes as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
