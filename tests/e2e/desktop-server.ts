/**
 * The server the desktop e2e tests talk to, with the desktop build served at / and SIP over WebSocket
 * at /sip on the same origin. When server/server.ts already composes the ACD, socket.io and the static
 * plugin, that server is used as it is; until then (the lead wires it in parallel) the same pieces are
 * composed here around the real HotlineServer's SIP stack, registrar and directory. The fallback's ACD
 * has a call control that cannot ring anyone, which is enough for login/state tests and no more.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { BrowserContext } from 'playwright-core';
import { Acd } from '../../server/acd/acd.js';
import type { CallControl } from '../../server/acd/call-control.js';
import { AcdService } from '../../server/acd/service.js';
import { buildHttpApp } from '../../server/api/app.js';
import { AuthService } from '../../server/api/auth/plugin.js';
import { staticRoutes } from '../../server/api/routes/static.js';
import { attachSocketServer, type SocketHub } from '../../server/api/socket/server.js';
import { loadConfig } from '../../server/config.js';
import { createHotlineServer, type HotlineServer } from '../../server/server.js';
import { systemClock } from '../../server/util/clock.js';
import { freeSipPort } from '../helpers/ports.js';
import { TEST_SCRYPT } from '../helpers/server.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';

import { DESKTOP_DIST } from '../helpers/desktop-build.js';

export { DESKTOP_DIR, DESKTOP_DIST, ensureDesktopBuild } from '../helpers/desktop-build.js';

export interface DesktopServer {
  server: HotlineServer;
  /** http://127.0.0.1:port — the desktop, REST, socket.io and /sip. */
  url: string;
  /** True when server/server.ts itself composes the ACD and socket.io (no fallback composition). */
  composedByServer: boolean;
  /** False when the server does not register staticRoutes yet: then use routeDesktop() in the browser. */
  servesDesktop: boolean;
  close(): Promise<void>;
}

const noCalls: CallControl = {
  ringAgent: async () => 'rejected',
  dialCallback: async () => 'failed',
  overflow: () => undefined,
  liveAgentCalls: () => [],
};

export async function startDesktopServer(env: Record<string, string> = {}): Promise<DesktopServer> {
  const dataDir = makeTempDir('desktop-e2e');
  const sipPort = await freeSipPort();
  const config = loadConfig({
    DATA_DIR: dataDir,
    SIP_HOST: '127.0.0.1',
    SIP_PORT: String(sipPort),
    HTTP_PORT: '0',
    SIP_RATE_PER_SECOND: '5000',
    SIP_RATE_BURST: '10000',
    ...env,
  });
  const server = await createHotlineServer(config, { scrypt: TEST_SCRYPT });
  const wired = 'acd' in server && (server as { acd?: unknown }).acd !== undefined;
  if (wired) {
    await server.start();
    const url = `http://127.0.0.1:${server.listening().http!.port}`;
    const root = await fetch(`${url}/`, { headers: { accept: 'text/html' } });
    return {
      server,
      url,
      composedByServer: true,
      servesDesktop: root.ok && (root.headers.get('content-type') ?? '').includes('text/html'),
      async close() {
        await server.close();
        removeTempDir(dataDir);
      },
    };
  }

  // Fallback: the same start() as server.ts, with our own HTTP app in place of the unwired one.
  const acd = new Acd({ clock: systemClock, callControl: noCalls });
  const acdService = new AcdService({ db: server.db, directory: server.directory, acd });
  const auth = AuthService.create(server.directory.webUsers, server.db);
  await server.sip.listen();
  const app: FastifyInstance = await buildHttpApp({
    health: { startedAt: Date.now(), transports: () => server.sip.transport.info() },
    auth,
    acd: acdService,
  });
  await app.register(staticRoutes, { root: DESKTOP_DIST });
  await app.listen({ host: '127.0.0.1', port: 0 });
  server.sip.attachWebSocket(app.server, '/sip', false);
  const hub: SocketHub = attachSocketServer(app.server, { auth, acd: acdService });
  const addr = app.server.address() as { port: number };
  let closed: Promise<void> | null = null;
  return {
    server,
    url: `http://127.0.0.1:${addr.port}`,
    composedByServer: false,
    servesDesktop: true,
    close() {
      closed ??= (async () => {
        await hub.close();
        acd.close();
        await app.close();
        await server.close();
        removeTempDir(dataDir);
      })();
      return closed;
    },
  };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
};

/**
 * For a server that does not serve the desktop yet: the browser gets agent-desktop/dist for page paths on
 * the server's own origin (same SPA rule as staticRoutes), while /api, /socket.io and /sip go to the server.
 */
export async function routeDesktop(context: BrowserContext, url: string): Promise<void> {
  await context.route(`${url}/**`, async (route) => {
    const p = new URL(route.request().url()).pathname;
    if (/^\/(api|sip|socket\.io)(\/|$)/.test(p)) {
      await route.continue();
      return;
    }
    const rel = path.normalize(p === '/' ? 'index.html' : p.slice(1));
    let file = path.join(DESKTOP_DIST, rel);
    if (rel.startsWith('..') || !existsSync(file) || !statSync(file).isFile()) {
      if (path.extname(p) !== '') {
        await route.fulfill({ status: 404, body: 'not found' });
        return;
      }
      file = path.join(DESKTOP_DIST, 'index.html');
    }
    await route.fulfill({
      status: 200,
      contentType: TYPES[path.extname(file)] ?? 'application/octet-stream',
      body: readFileSync(file),
    });
  });
}
