/**
 * ACD dispatch over real SIP: 100 agent seats are SIP endpoints (one SIPp UAS answering for all of
 * them: tests/helpers/sipp-seats.ts), a stream of real calls (the
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
import { startSippSeats } from '../../tests/helpers/sipp-seats.js';

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

  // 100 seats 8101…8200, each an agent logged in and ready; one SIPp UAS answers for all of them.
  const seats = await startSippSeats(server, `127.0.0.1:${SIP_PORT}`, {
    count: AGENTS,
    firstExt: 8101,
    uasPort: UAS_PORT,
    mediaPort: 40000,
    workDir: work,
  });
  const registered = seats.registered.length;

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
      sipload: load.stdout.trim().split('\n').slice(-1)[0] ?? '',
    }),
  );
  seats.stop();
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
