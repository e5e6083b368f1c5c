/**
 * A pool of agent seats that are real SIP endpoints, for load and soak runs: N seat devices and N agent
 * users are created, every seat registers (SIPp, REGISTER + digest) with one UDP port as its contact, and
 * one SIPp UAS bound there answers every INVITE to any of them (rings 300 ms, answers PCMU, echoes RTP,
 * waits for our BYE). Each agent is logged in at its seat and set ready.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HotlineServer } from '../../server/server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const scenario = (n: string) => path.join(ROOT, 'tests/sipp/scenarios', `${n}.xml`);

export interface SippSeats {
  /** Extensions registered (all of them unless registration failed). */
  readonly registered: string[];
  readonly agents: { id: number; username: string; role: 'agent'; displayName: string }[];
  /** Stops the UAS (SIGKILL: it holds no state worth a clean exit). Safe to call twice. */
  stop(): void;
}

export interface SippSeatOptions {
  count: number;
  /** First extension; seats are firstExt … firstExt + count − 1. */
  firstExt: number;
  /** The UDP port every seat registers from and the UAS answers on. */
  uasPort: number;
  /** RTP port of the UAS (echo). */
  mediaPort: number;
  /** A scratch directory for the CSV and SIPp's error files. */
  workDir: string;
  /**
   * Registration lifetime, s (default 3600). The UAS holds the seats' port, so nothing refreshes them: a run
   * longer than this needs the server started with SIP_MAX_EXPIRES at least this high.
   */
  expiresS?: number;
}

export async function startSippSeats(server: HotlineServer, sipTarget: string, o: SippSeatOptions): Promise<SippSeats> {
  const realm = server.config.realm;
  const users: string[] = [];
  const agents: SippSeats['agents'] = [];
  const exts = Array.from({ length: o.count }, (_, i) => String(o.firstExt + i));
  for (const ext of exts) {
    server.directory.devices.create({
      extension: ext,
      kind: 'seat',
      password: `pool${ext}`,
      realm,
      outboundPatterns: [],
    });
    users.push(`${ext};[authentication username=${ext} password=pool${ext}]`);
    const u = await server.directory.webUsers.create({
      username: `pool${ext}`,
      password: 'pool12315',
      role: 'agent',
      displayName: `pool${ext}`,
    });
    agents.push({ id: u.id, username: u.username, role: 'agent', displayName: u.username });
  }
  const csv = path.join(o.workDir, 'seats.csv');
  fs.writeFileSync(csv, `SEQUENTIAL\n${users.join('\n')}\n`);
  await exited(
    spawn(
      'sipp',
      [
        sipTarget,
        '-sf',
        scenario('bench_register'),
        '-key',
        'expires',
        String(o.expiresS ?? 3600),
        '-inf',
        csv,
        '-p',
        String(o.uasPort),
        '-r',
        '200',
        '-m',
        String(o.count),
        '-nostdin',
        '-timeout',
        '20s',
        '-trace_err',
        '-error_file',
        path.join(o.workDir, 'seats-reg-err.log'),
      ],
      { cwd: o.workDir, stdio: 'ignore' },
    ),
    30_000,
  );
  const registered = exts.filter((e) => server.registrar.lookup(e).length > 0);
  const uas = spawn(
    'sipp',
    [
      '-sf',
      scenario('uas_trunk_echo'),
      '-p',
      String(o.uasPort),
      '-i',
      '127.0.0.1',
      '-mp',
      String(o.mediaPort),
      '-rtp_echo',
      '-nostdin',
      '-trace_err',
      '-error_file',
      path.join(o.workDir, 'seats-uas-err.log'),
    ],
    { cwd: o.workDir, stdio: 'ignore' },
  );
  await new Promise((r) => setTimeout(r, 500));
  for (let i = 0; i < o.count; i++) {
    server.acd.login(agents[i]!, exts[i]!);
    server.acd.setState(agents[i]!, 'ready');
  }
  let stopped = false;
  return {
    registered,
    agents,
    stop() {
      if (stopped) return;
      stopped = true;
      uas.kill('SIGKILL');
    },
  };
}

/** Asynchronous on purpose: the server under test runs on this event loop. */
function exited(c: ChildProcess, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('close', (status) => {
      clearTimeout(t);
      resolve(status);
    });
  });
}
