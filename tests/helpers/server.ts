/**
 * Starts the real server in-process for integration tests: SQLite file in a temp dir, SIP on one
 * free loopback port for UDP and TCP, HTTP on an ephemeral port, fast scrypt for the demo seed.
 */
import { loadConfig, type ServerConfig } from '../../server/config.js';
import { createHotlineServer, type HotlineServer, type HotlineServerOverrides } from '../../server/server.js';
import { freeSipPort, retryLostPortRace } from './ports.js';
import { makeTempDir, removeTempDir } from './tmp.js';

export interface TestServer {
  server: HotlineServer;
  config: ServerConfig;
  /** 'host:port' of SIP over UDP and TCP. */
  sipTarget: string;
  sipPort: number;
  httpUrl: string;
  dataDir: string;
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

export const TEST_SCRYPT = { N: 1024, r: 8, p: 1 };

export async function startTestServer(
  env: Record<string, string> = {},
  overrides: HotlineServerOverrides = {},
): Promise<TestServer> {
  const dataDir = env.DATA_DIR ?? makeTempDir('hotline-data-');
  // The SIP port comes from bind-0-then-close unless the test chose one (its own business).
  const { server, config, sipPort } = await retryLostPortRace(
    async () => {
      const sipPort = env.SIP_PORT ? Number(env.SIP_PORT) : await freeSipPort();
      const config = loadConfig({
        DATA_DIR: dataDir,
        SIP_HOST: '127.0.0.1',
        SIP_PORT: String(sipPort),
        HTTP_PORT: '0',
        SIP_RATE_PER_SECOND: '5000',
        SIP_RATE_BURST: '10000',
        ...env,
      });
      const server = await createHotlineServer(config, { scrypt: TEST_SCRYPT, ...overrides });
      try {
        await server.start();
      } catch (err) {
        await server.close();
        throw err;
      }
      return { server, config, sipPort };
    },
    (err) => !env.SIP_PORT && (err as NodeJS.ErrnoException).code === 'EADDRINUSE',
  );
  const http = server.listening().http!;
  return {
    server,
    config,
    sipPort,
    sipTarget: `127.0.0.1:${sipPort}`,
    httpUrl: `http://127.0.0.1:${http.port}`,
    dataDir,
    async stop(o = {}) {
      await server.close();
      if (!o.keepData && !env.DATA_DIR) removeTempDir(dataDir);
    },
  };
}
