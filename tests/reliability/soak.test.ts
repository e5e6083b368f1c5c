/**
 * Soak (issue 9). CI runs the short version; `scripts/soak/run.sh` the hour at half capacity.
 *
 * A hotline's steady state, not idle held calls: callers arrive evenly (sipload rate mode) and each hangs
 * up after SOAK_HOLD s; the flow queues them at once; SOAK_AGENTS seats (≈ 60 % of the concurrent callers)
 * are real SIP endpoints (SIPp answering, RTP echoed), so some callers talk to an agent and some wait
 * with queue music, and agents cycle ringing → on call → ready all the time.
 *
 * Asserted: every call set up, the server never hung a caller up, RSS growth < 5 % from the first quarter
 * to the end, no call and no agent left in a stuck state, and the ACD's consistency check repairs nothing.
 * Reported: calls answered by agents, event-loop delay p99.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestFlowsDir } from '../helpers/ivr-flows.js';
import { freeUdpPort, rtpPortRange } from '../helpers/ports.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startSippSeats, type SippSeats } from '../helpers/sipp-seats.js';
import { makeTempDir, removeTempDir, sleep, waitUntil } from '../helpers/tmp.js';

const run = promisify(execFile);
// The shared load harness sits beside the project (../shared); a worktree elsewhere falls back to /work/shared.
const SIPLOAD = [
  path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../shared/bench/sipload/sipload.js'),
  '/work/shared/bench/sipload/sipload.js',
].find((p) => fs.existsSync(p))!;
const SECONDS = Number(process.env.SOAK_SECONDS ?? 45);
/** Concurrent callers in the steady state. */
const CALLS = Number(process.env.SOAK_CALLS ?? 20);
const HOLD = Number(process.env.SOAK_HOLD ?? 10);
const AGENTS = Number(process.env.SOAK_AGENTS ?? Math.ceil(CALLS * 0.6));
const CPS = CALLS / HOLD;
const TOTAL = Math.round(CPS * SECONDS);
const REGISTER_S = Math.max(3600, SECONDS + HOLD + 600);

let ts: TestServer;
let flows: string;
let work: string;
let seats: SippSeats | undefined;

beforeAll(async () => {
  flows = makeTestFlowsDir(['soak-queue.yaml']);
  work = makeTempDir('soak-');
  // The SIPp seats cannot refresh their registrations (the UAS holds their port): register them for the run.
  ts = await startTestServer({
    SIP_MAX_EXPIRES: String(REGISTER_S),
    IVR_FLOWS_DIR: flows,
    IVR_FLOW: 'soak-queue',
    SIP_RATE_PER_SECOND: '60000',
    SIP_RATE_BURST: '60000',
  });
  const admin = { id: 0, username: 'soak', role: 'admin' as const, displayName: 'soak' };
  ts.server.acd.updateQueue(admin, 'complaint', { wrapUpMs: 0, maxSize: 5000 });
  seats = await startSippSeats(ts.server, ts.sipTarget, {
    count: AGENTS,
    firstExt: 8101,
    uasPort: await freeUdpPort(),
    mediaPort: (await rtpPortRange(4)).start,
    workDir: work,
    expiresS: REGISTER_S,
  });
}, 60_000);
afterAll(async () => {
  seats?.stop();
  await ts?.stop();
  removeTempDir(flows);
  removeTempDir(work);
});

describe('soak', () => {
  it(
    `${CALLS} concurrent callers (${CPS.toFixed(1)} calls/s, ${HOLD} s each) for ${SECONDS} s with ${AGENTS} SIP seats: nothing lost, stuck or leaking`,
    async () => {
      expect(seats!.registered).toHaveLength(AGENTS);
      const answeredBefore = ts.server.acd.acd.counters.answered ?? 0;
      const hist = monitorEventLoopDelay({ resolution: 10 });
      hist.enable();
      const rss: number[] = [];
      const sampler = setInterval(() => rss.push(process.memoryUsage().rss), 1000);
      const json = path.join(work, 'soak.json');
      const r = await run(
        process.execPath,
        [
          SIPLOAD,
          '--target',
          ts.sipTarget,
          '--number',
          '12315',
          '--cps',
          String(CPS),
          '--total',
          String(TOTAL),
          '--hold',
          String(HOLD),
          '--json',
          json,
          '--quiet',
          '--sip-port',
          String(15070 + (process.pid % 1000) * 2),
        ],
        { timeout: (SECONDS + HOLD + 90) * 1000 },
      ).catch((e: { stdout?: string; stderr?: string }) => ({ stdout: e.stdout ?? '', stderr: e.stderr ?? '' }));
      clearInterval(sampler);
      hist.disable();
      if (!fs.existsSync(json)) throw new Error(`sipload wrote no result: ${r.stderr.slice(-2000)}`);
      const result = JSON.parse(fs.readFileSync(json, 'utf8').trim().split('\n').at(-1)!) as {
        calls: { attempted: number; established: number; failed: number; remoteBye: number; maxActive: number };
      };
      const calls = result.calls;
      await waitUntil(() => ts.server.calls.calls.size === 0, 15_000, 'every call to end on the server');
      const q = Math.floor(rss.length / 4);
      const base = Math.max(...rss.slice(q, q + 3));
      const end = Math.max(...rss.slice(-3));
      const growth = (end - base) / base;
      const lagP99 = Math.max(0, hist.percentile(99) / 1e6 - 10);
      const answered = (ts.server.acd.acd.counters.answered ?? 0) - answeredBefore;
      await sleep(500);
      const stuck = ts.server.acd
        .agents()
        .filter((a) => a.agentId && a.seat && Number(a.seat) >= 8101 && a.state !== 'ready');
      const repairs = ts.server.acd.acd.reconcile();
      const c = ts.server.acd.acd.counters;
      const repairCounters = Object.entries(ts.server.acd.acd.counters).filter(
        ([k, v]) => k.startsWith('repair') && v > 0,
      );
      console.log(
        `soak: ${calls.established}/${calls.attempted} established, ${calls.failed} failed, ${calls.remoteBye} hung up by us, ` +
          `at most ${calls.maxActive} at once; ${answered} answered by ${AGENTS} seats; RSS ${(base / 1048576).toFixed(0)} → ` +
          `${(end / 1048576).toFixed(0)} MiB (${(growth * 100).toFixed(1)} %); event-loop delay p99 ${lagP99.toFixed(1)} ms; ` +
          `ACD repairs ${repairs.length + repairCounters.length}; agents not ready at the end ${stuck.length}; ` +
          `rings not answered ${c.rona ?? 0}, refused ${c.rejected ?? 0}, failed ${c.ring_errors ?? 0}`,
      );
      expect(r.stderr ?? '').not.toMatch(/Error/);
      expect(calls.failed).toBe(0);
      expect(calls.established).toBe(TOTAL);
      expect(calls.remoteBye).toBe(0);
      // Agents really worked: most callers reached one (the rest abandoned in the queue at their hang-up time).
      expect(answered).toBeGreaterThan(TOTAL * 0.3);
      expect(growth).toBeLessThan(0.05);
      // The not-ready reason says which ring outcome left a seat out (未接听 = no answer, 拒接 = refused).
      expect(stuck.map((a) => `${a.agentId}:${a.state}:${a.reason ?? ''}`)).toEqual([]);
      expect(repairs).toEqual([]);
      expect(repairCounters).toEqual([]);
    },
    (SECONDS + HOLD + 150) * 1000,
  );
});
