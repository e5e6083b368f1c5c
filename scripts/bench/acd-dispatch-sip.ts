/**
 * ACD dispatch over real SIP: 100 agent seats are SIP endpoints (one SIPp UAS answering for all of
 * them: every seat registered with that UAS's address as its contact), a stream of real calls (the
 * shared sipload harness) goes to 12315, whose flow puts them straight into a queue. Measured per
 * call: queue entry (ACD `entry_joined`) → the INVITE to the agent's seat handed to the SIP stack
 * (it includes the media endpoint for the agent leg, which the engine makes first). Wrap-up is 0 so
 * agents come back at once; calls are held `HOLD_S`, so the load stays below 100 busy agents.
 *
 *   bash scripts/bench/acd-dispatch-sip.sh [cps=20] [seconds=20] [hold_s=2]
 * (runs this in a loopback-only network namespace with the server in-process)
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../server/config.js';
import { createHotlineServer } from '../../server/server.js';
import type { SipRequest } from '../../server/sip/message/message.js';

const CPS = Number(process.argv[2] ?? 20);
const SECONDS = Number(process.argv[3] ?? 20);
const HOLD_S = Number(process.argv[4] ?? 2);
const AGENTS = 100;
const SIP_PORT = 25060;
const UAS_PORT = 25070;
const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const SIPLOAD = process.env.SIPLOAD ?? path.resolve(repo, '../shared/bench/sipload/sipload.js');

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'acd-sip-'));
// Flows: the shipped ones plus one that queues at once (no menu, no prompt).
const flows = path.join(work, 'flows');
fs.mkdirSync(flows);
for (const f of fs.readdirSync(path.join(repo, 'ivr-flows'))) {
  const src = path.join(repo, 'ivr-flows', f);
  if (f.endsWith('.yaml')) fs.copyFileSync(src, path.join(flows, f));
  else fs.symlinkSync(src, path.join(flows, f));
}
fs.writeFileSync(
  path.join(flows, 'bench-queue.yaml'),
  `id: bench-queue\nlanguage: zh\ndescription: 压测流程：直接排队\nstart: q\nnodes:\n  q:\n    type: enqueue\n    queue: complaint\n    onFail: bye\n  bye:\n    type: hangup\n`,
);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};

async function main(): Promise<void> {
  const config = loadConfig({
    DATA_DIR: path.join(work, 'data'),
    SIP_HOST: '127.0.0.1',
    SIP_PORT: String(SIP_PORT),
    HTTP_PORT: '0',
    IVR_FLOW: 'bench-queue',
    IVR_FLOWS_DIR: flows,
    SIP_RATE_PER_SECOND: '60000',
    SIP_RATE_BURST: '60000',
    RTP_PORT_MIN: '20000',
    RTP_PORT_MAX: '29999',
    LOG_LEVEL: 'warn',
  });
  const server = await createHotlineServer(config, {
    scrypt: { N: 1024, r: 8, p: 1 },
    wallClock: () => new Date('2026-11-30T02:00:00Z'),
  });
  await server.start();
  const svc = server.acd;
  const admin = { id: 0, username: 'bench', role: 'admin' as const, displayName: 'bench' };
  svc.updateQueue(admin, 'complaint', { wrapUpMs: 0, strategy: 'longest_idle', maxSize: 5000 });

  // 100 seats 8101…8200, 100 agents b101…b200.
  const users: string[] = [];
  const agents = [];
  for (let i = 0; i < AGENTS; i++) {
    const ext = String(8101 + i);
    server.directory.devices.create({
      extension: ext,
      kind: 'seat',
      password: `bench${ext}`,
      realm: config.realm,
      outboundPatterns: [],
    });
    users.push(`${ext};[authentication username=${ext} password=bench${ext}]`);
    const u = await server.directory.webUsers.create({
      username: `b${ext}`,
      password: 'bench12315',
      role: 'agent',
      displayName: `b${ext}`,
    });
    agents.push({ id: u.id, username: u.username, role: 'agent' as const, displayName: u.username });
  }
  // Every seat registers from UAS_PORT, so INVITEs to any seat reach the one SIPp UAS bound there after.
  const csv = path.join(work, 'users.csv');
  fs.writeFileSync(csv, `SEQUENTIAL\n${users.join('\n')}\n`);
  const reg = await run(
    'sipp',
    [
      `127.0.0.1:${SIP_PORT}`,
      '-sf',
      path.join(repo, 'tests/sipp/scenarios/bench_register.xml'),
      '-inf',
      csv,
      '-p',
      String(UAS_PORT),
      '-r',
      '200',
      '-m',
      String(AGENTS),
      '-nostdin',
      '-timeout',
      '20s',
      '-trace_err',
      '-error_file',
      path.join(work, 'reg-err.log'),
    ],
    { cwd: work, timeoutMs: 30_000 },
  );
  const deadline = Date.now() + 20_000;
  while (server.registrar.lookup('8200').length === 0 && Date.now() < deadline) await sleep(200);
  await sleep(1000);
  if (server.registrar.lookup('8200').length === 0) {
    console.error('registration failed:', reg.stderr?.slice(-1500), reg.stdout?.slice(-500));
    try {
      console.error(fs.readFileSync(path.join(work, 'reg-err.log'), 'utf8').slice(0, 3000));
    } catch {
      /* no error file */
    }
  }
  const registered = Array.from({ length: AGENTS }, (_, i) => String(8101 + i)).filter(
    (e) => server.registrar.lookup(e).length > 0,
  ).length;
  const uas = spawn(
    'sipp',
    [
      '-sf',
      path.join(repo, 'tests/sipp/scenarios/uas_trunk_echo.xml'),
      '-p',
      String(UAS_PORT),
      '-i',
      '127.0.0.1',
      '-mp',
      '40000',
      '-nostdin',
      '-trace_err',
      '-error_file',
      path.join(work, 'uas-err.log'),
    ],
    { cwd: work, stdio: 'ignore' },
  );
  await sleep(1000);
  for (let i = 0; i < AGENTS; i++) {
    svc.login(agents[i]!, String(8101 + i));
    svc.setState(agents[i]!, 'ready');
  }

  const joined = new Map<string, bigint>();
  const latencies: number[] = [];
  svc.acd.on('entry_joined', (e: { callId: string }) => {
    joined.set(e.callId, process.hrtime.bigint());
  });
  const stack = server.sip as unknown as { sendRequest: (req: SipRequest, ...rest: unknown[]) => unknown };
  const orig = stack.sendRequest.bind(stack);
  stack.sendRequest = (req: SipRequest, ...rest: unknown[]) => {
    if (req.method === 'INVITE') {
      const id = req.headers.get('X-Call-Id');
      const t0 = id ? joined.get(id) : undefined;
      if (id && t0 !== undefined) {
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        joined.delete(id);
      }
    }
    return orig(req, ...rest);
  };

  const total = CPS * SECONDS;
  const load = await run(
    'node',
    [
      SIPLOAD,
      '--target',
      `127.0.0.1:${SIP_PORT}`,
      '--number',
      '12315',
      '--cps',
      String(CPS),
      '--total',
      String(total),
      '--hold',
      String(HOLD_S),
      '--quiet',
      '--pid',
      String(process.pid),
    ],
    { cwd: work, timeoutMs: (SECONDS + HOLD_S + 60) * 1000 },
  );
  await sleep(2000);
  console.log(
    JSON.stringify({
      cps: CPS,
      seconds: SECONDS,
      holdS: HOLD_S,
      agents: AGENTS,
      registered,
      calls: total,
      dispatched: latencies.length,
      neverDispatched: joined.size,
      p50: +pct(latencies, 50).toFixed(2),
      p90: +pct(latencies, 90).toFixed(2),
      p99: +pct(latencies, 99).toFixed(2),
      max: +pct(latencies, 100).toFixed(2),
      load: fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
      registerExit: reg.status,
      sipload: load.stdout.trim().split('\n').slice(-1)[0] ?? '',
    }),
  );
  uas.kill('SIGKILL');
  await server.close();
  fs.rmSync(work, { recursive: true, force: true });
}

/** Asynchronous on purpose: the server under test runs on this event loop. */
function run(
  cmd: string,
  args: string[],
  o: { cwd: string; timeoutMs: number },
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const t = setTimeout(() => c.kill('SIGKILL'), o.timeoutMs);
    c.on('close', (status) => {
      clearTimeout(t);
      resolve({ status, stdout, stderr });
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
