/**
 * The real server as a child process (`node --import tsx server/main.ts`), for crash tests: it can be
 * killed with SIGKILL and started again on the same DATA_DIR. Ready = GET /api/health answers 200.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort, freeSipPort, retryLostPortRace } from './ports.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface SpawnedServer {
  child: ChildProcess;
  pid: number;
  sipPort: number;
  httpPort: number;
  httpUrl: string;
  /** ms from spawn to the first 200 from /api/health. */
  readyMs: number;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

type SpawnOptions = { sipPort?: number; httpPort?: number; timeoutMs?: number };

/**
 * Ports picked by bind-0-then-close can be bound by a peer of a test file running beside this one before
 * the server binds them; the server then exits at start with EADDRINUSE, and is started again on fresh
 * ports. Ports the caller chose (a restart on the same ports) are never swapped.
 */
export function spawnServer(env: Record<string, string>, o: SpawnOptions = {}): Promise<SpawnedServer> {
  const portsPicked = o.sipPort === undefined && o.httpPort === undefined;
  return retryLostPortRace(
    () => spawnServerOnce(env, o),
    (err) => portsPicked && err instanceof ServerExitedError && err.lostPortRace,
  );
}

class ServerExitedError extends Error {
  readonly lostPortRace: boolean;
  constructor(code: number | null, output: string) {
    super(`server exited (${code}) before ready:\n${output}`);
    this.lostPortRace = output.includes('EADDRINUSE');
  }
}

async function spawnServerOnce(env: Record<string, string>, o: SpawnOptions): Promise<SpawnedServer> {
  const sipPort = o.sipPort ?? (await freeSipPort());
  const httpPort = o.httpPort ?? (await freePort('tcp'));
  let out = '';
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'server/main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      SIP_HOST: '127.0.0.1',
      SIP_PORT: String(sipPort),
      HTTP_PORT: String(httpPort),
      SIP_RATE_PER_SECOND: '5000',
      SIP_RATE_BURST: '10000',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const deadline = t0 + (o.timeoutMs ?? 30_000);
  let readyMs = -1;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new ServerExitedError(child.exitCode, out);
    try {
      const r = await fetch(`${httpUrl}/api/health`);
      if (r.status === 200) {
        readyMs = performance.now() - t0;
        break;
      }
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  if (readyMs < 0) {
    child.kill('SIGKILL');
    throw new Error(`server not ready in time:\n${out}`);
  }
  return {
    child,
    pid: child.pid!,
    sipPort,
    httpPort,
    httpUrl,
    readyMs,
    output: () => out,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
