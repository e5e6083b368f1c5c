/**
 * The server the desktop e2e tests talk to: the real server in-process (tests/helpers/server.ts), which
 * serves the desktop build at /, REST and socket.io, and SIP over WebSocket at /sip, all on one origin.
 */
import type { HotlineServer } from '../../server/server.js';
import { startTestServer } from '../helpers/server.js';

export { DESKTOP_DIR, DESKTOP_DIST, ensureDesktopBuild } from '../helpers/desktop-build.js';

export interface DesktopServer {
  server: HotlineServer;
  /** http://127.0.0.1:port — the desktop, REST, socket.io and /sip. */
  url: string;
  /** Idempotent. */
  close(): Promise<void>;
}

export async function startDesktopServer(env: Record<string, string> = {}): Promise<DesktopServer> {
  const ts = await startTestServer(env);
  const root = await fetch(`${ts.httpUrl}/`, { headers: { accept: 'text/html' } });
  if (!root.ok || !(root.headers.get('content-type') ?? '').includes('text/html')) {
    await ts.stop();
    throw new Error(`the server does not serve the desktop at / (${root.status}): is agent-desktop/dist built?`);
  }
  let closed: Promise<void> | null = null;
  return {
    server: ts.server,
    url: ts.httpUrl,
    close() {
      closed ??= ts.stop();
      return closed;
    },
  };
}
