/**
 * kill -9 under load (issue 9): the server as a child process with live calls, an agent logged in
 * to a seat and a saved case; SIGKILL; a new process on the same DATA_DIR. Measured: time from spawn
 * to ready (the "restart"). Checked: calls that were live are `interrupted` in the CDR (none left
 * `live`), the case is intact, the old session token still works, and an agent's socket.io client
 * reconnects and gets its state back (`agent:me`) equal to the REST view. Finally SIGTERM exits 0.
 */
import BetterSqlite3 from 'better-sqlite3';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestSocket } from '../api/socket-client.js';
import { runSipp } from '../helpers/sipp.js';
import { spawnServer, type SpawnedServer } from '../helpers/spawn-server.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';

const scenario = (n: string) => new URL(`./scenarios/${n}.xml`, import.meta.url).pathname;
const dataDir = makeTempDir('crash-');
const live: SpawnedServer[] = [];
afterAll(async () => {
  for (const s of live) await s.kill('SIGKILL');
  removeTempDir(dataDir);
});

async function api(s: SpawnedServer, method: string, url: string, token: string | null, body?: unknown) {
  const r = await fetch(s.httpUrl + url, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, body: (await r.json().catch(() => null)) as Record<string, unknown> };
}

describe('kill -9 under load', () => {
  it('restarts, marks live calls interrupted, keeps cases and sessions, and agents resynchronise', async () => {
    const a = await spawnServer({ DATA_DIR: dataDir }, { timeoutMs: 90_000 }); // first start seeds the demo (real scrypt)
    live.push(a);
    const login = async (u: string, p: string) =>
      (await api(a, 'POST', '/api/auth/login', null, { username: u, password: p })).body.token as string;
    const agent = await login('agent01', 'agent12315');
    const lead = await login('lead01', 'lead12315');
    const seat = await api(a, 'POST', '/api/agents/me/login', agent, { seat: '8001' });
    expect(seat.status, JSON.stringify(seat.body)).toBe(200);
    const saved = await api(a, 'POST', '/api/cases', agent, {
      type: 'consultation',
      draft: true,
      description: '崩溃前保存的案件',
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(201);
    const caseId = saved.body.id as number;

    // load: five calls up (echo service), held until the server hangs up – which it never will
    const sipp = runSipp({
      scenario: scenario('uac_wait_bye'),
      target: `127.0.0.1:${a.sipPort}`,
      service: '9196',
      calls: 5,
      rate: 50,
      timeoutMs: 60_000,
    });
    for (let i = 0; i < 200; i++) {
      const calls = await api(a, 'GET', '/api/calls', lead);
      if ((calls.body.items as unknown[]).length === 5) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(((await api(a, 'GET', '/api/calls', lead)).body.items as unknown[]).length).toBe(5);
    // CDRs are written behind (server/calls/cdr.ts): a row is promised on disk as 'live' within the store's
    // flush interval (10 ms) of the call starting, so the kill comes after that promise is due, not before.
    await new Promise((r) => setTimeout(r, 100));

    await a.kill('SIGKILL');
    const b = await spawnServer({ DATA_DIR: dataDir }, { sipPort: a.sipPort, httpPort: a.httpPort, timeoutMs: 60_000 });
    live.push(b);
    console.log(`restart after kill -9: ready in ${b.readyMs.toFixed(0)} ms (first start ${a.readyMs.toFixed(0)} ms)`);
    // The goal is ≤ 2 s for the prebuilt bundle on a quiet machine (scripts/bench/restart.sh measures it;
    // docs/reliability.md has the figures). This child runs the sources under tsx, which compiles them
    // first, on cores every other suite shares: the bound is loose and scales with the 1-minute load per
    // core (20–22 s were measured at 9–13 per core), so it catches a start that hangs, not a slow one.
    const loadPerCore = os.loadavg()[0]! / os.cpus().length;
    const budgetMs = Math.max(20_000, 4_000 * loadPerCore);
    console.log(`restart budget ${budgetMs.toFixed(0)} ms at load ${loadPerCore.toFixed(1)} per core`);
    expect(b.readyMs).toBeLessThan(budgetMs);

    const db = new BetterSqlite3(path.join(dataDir, 'hotline.sqlite'), { readonly: true });
    const rows = db.prepare("SELECT disposition, ended_at FROM cdr WHERE dialled = '9196'").all() as Array<{
      disposition: string;
      ended_at: number | null;
    }>;
    db.close();
    expect(rows.length).toBe(5);
    expect(rows.every((r) => r.disposition === 'interrupted' && r.ended_at !== null)).toBe(true);

    const again = await api(b, 'GET', `/api/cases/${caseId}`, agent);
    expect(again.status).toBe(200);
    expect(again.body.number).toBe(saved.body.number);

    const rest = await api(b, 'GET', '/api/agents/me', agent);
    expect(rest.status).toBe(200);
    const sock = await TestSocket.connect(b.httpPort, { token: agent });
    const me = await sock.request<{ ok: boolean; data?: Record<string, unknown> }>('agent:me', {});
    expect(me.ok).toBe(true);
    expect(me.data?.state).toBe(rest.body.state);
    expect(me.data?.seat ?? null).toBe(rest.body.seat ?? null);
    sock.close();

    const r = await sipp; // the old calls' peer gave up or got nothing more: it must not hang the test
    expect(r.timedOut || r.failed >= 0).toBe(true);

    expect(await b.kill('SIGTERM')).toBe(0); // graceful path of server/main.ts
  }, 240_000);
});
