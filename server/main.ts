/**
 * Process entry for `npm start`: the embedded default (SQLite under DATA_DIR, default IVR, demo seats).
 */
import { loadConfig } from './config.js';
import { createHotlineServer } from './server.js';
import { rootLogger } from './util/log.js';
import { acquirePidFile } from './ops/pidfile.js';
import { keepProcessBesideMedia } from './media/engine/realtime.js';

async function main(): Promise<void> {
  const config = loadConfig();
  // Who holds DATA_DIR: restore refuses while we live; a second server on the same data refuses to start.
  const pidFile = config.databaseFile === ':memory:' ? null : acquirePidFile(config.dataDir);
  process.on('exit', () => pidFile?.release());
  // MEDIA_CPUS gives the media worker CPUs of its own: everything else of the server moves to the others first.
  const mediaCpus = process.env.MEDIA_CPUS;
  if (mediaCpus) {
    const why = keepProcessBesideMedia(mediaCpus);
    if (why) rootLogger.warn({ mediaCpus, why }, 'the rest of the server may share the media CPUs');
  }
  const server = await createHotlineServer(config);
  await server.start();
  const demo = server.demoSeed;
  if (demo) {
    const lines = [
      '==================== DEMO ONLY / 仅供演示 ====================',
      'A new database was seeded with PUBLIC demo credentials. Change them before real use.',
      `SIP realm ${demo.realm}: seats ${demo.seats[0]?.extension}–${demo.seats.at(-1)?.extension} (password demo<ext>), merchant station ${demo.stations.map((s) => s.extension).join(', ')} (demo<ext>)`,
      `Trunks: ${demo.trunks.map((t) => `${t.name} from ${t.sources.join(', ')} DIDs ${t.dids.map((d) => d.did).join(', ')}`).join('; ')}`,
      `Web users: ${demo.webUsers.map((u) => `${u.username}/${u.password} (${u.role})`).join(', ')}`,
      '==============================================================',
    ];
    process.stdout.write(lines.join('\n') + '\n');
  }
  const listening = server.listening();
  rootLogger.info({ sip: listening.sip, http: listening.http }, '12315 hotline server started');

  // Issue 9: the first SIGTERM/SIGINT drains (new calls 503, live calls go on up to DRAIN_TIMEOUT_MS);
  // a second one stops at once (live calls are hung up by close()).
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      rootLogger.warn({ signal }, 'second signal: closing now');
      void server.close().finally(() => process.exit(0));
      return;
    }
    stopping = true;
    rootLogger.info({ signal }, 'shutting down');
    server
      .shutdown()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        rootLogger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  rootLogger.fatal({ err }, 'server failed to start');
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 100).unref();
});
