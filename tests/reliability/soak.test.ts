/**
 * Soak, short CI version (scripts/soak/run.sh is the hour-long one): sipload holds SOAK_CALLS calls
 * (default 20) to the hotline (IVR → queue → hold music) for SOAK_SECONDS (default 45) while an agent
 * is logged in. Reported: RSS growth after warm-up, event-loop delay p99. Asserted: no failed call,
 * RSS growth < 5 % from the first quarter to the end, and the ACD's consistency check repairs nothing.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

const run = promisify(execFile);
const SIPLOAD = '/work/shared/bench/sipload/sipload.js';
const CALLS = Number(process.env.SOAK_CALLS ?? 20);
const SECONDS = Number(process.env.SOAK_SECONDS ?? 45);
let ts: TestServer;

beforeAll(async () => {
  ts = await startTestServer({}, {});
}, 30_000);
afterAll(async () => {
  await ts?.stop();
});

describe('soak (short)', () => {
  it(
    `${CALLS} calls held ${SECONDS} s: no failures, RSS flat, no ACD repairs`,
    async () => {
      const login = await ts.server.http.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: 'agent01', password: 'agent12315' },
      });
      const token = (login.json() as { token: string }).token;
      const seat = await ts.server.http.inject({
        method: 'POST',
        url: '/api/agents/me/login',
        headers: { authorization: `Bearer ${token}` },
        payload: { seat: '8001' },
      });
      expect(seat.statusCode).toBe(200);

      const hist = monitorEventLoopDelay({ resolution: 10 });
      hist.enable();
      const rss: number[] = [];
      const sampler = setInterval(() => rss.push(process.memoryUsage().rss), 1000);
      const json = path.join(ts.dataDir, 'soak.json');
      const r = await run(
        process.execPath,
        [
          SIPLOAD,
          '--target',
          ts.sipTarget,
          '--number',
          '12315',
          '--calls',
          String(CALLS),
          '--ramp',
          '10',
          '--hold',
          String(SECONDS),
          '--json',
          json,
          '--quiet',
          '--sip-port',
          String(15070 + (process.pid % 1000) * 2),
        ],
        { timeout: (SECONDS + 90) * 1000 },
      ).catch((e: { stdout?: string; stderr?: string }) => ({ stdout: e.stdout ?? '', stderr: e.stderr ?? '' }));
      clearInterval(sampler);
      hist.disable();
      const result = JSON.parse(fs.readFileSync(json, 'utf8').trim().split('\n').at(-1)!) as Record<string, unknown>;
      const calls = result.calls as { attempted: number; established: number; failed: number };
      const q = Math.floor(rss.length / 4);
      const base = Math.max(...rss.slice(q, q + 3));
      const end = Math.max(...rss.slice(-3));
      const growth = (end - base) / base;
      const lagP99 = Math.max(0, hist.percentile(99) / 1e6 - 10);
      const repairs = ts.server.acd.acd.reconcile();
      const repairCounters = Object.entries(ts.server.acd.acd.counters).filter(
        ([k, v]) => k.startsWith('repair') && v > 0,
      );
      console.log(
        `soak: ${calls.established}/${calls.attempted} established, ${calls.failed} failed; RSS ${(base / 1048576).toFixed(0)} → ${(end / 1048576).toFixed(0)} MiB (${(growth * 100).toFixed(1)} %); event-loop delay p99 ${lagP99.toFixed(1)} ms; ACD repairs ${repairs.length + repairCounters.length}`,
      );
      expect(r.stderr ?? '').not.toMatch(/Error/);
      expect(calls.failed).toBe(0);
      expect(calls.established).toBe(CALLS);
      expect(growth).toBeLessThan(0.05);
      expect(repairs).toEqual([]);
      expect(repairCounters).toEqual([]);
    },
    (SECONDS + 150) * 1000,
  );
});
