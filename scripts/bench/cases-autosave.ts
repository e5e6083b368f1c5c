/**
 * Autosave latency with many agents typing into their case forms at once.
 *   npx tsx scripts/bench/cases-autosave.ts [--agents 200] [--interval 1000] [--seconds 20]
 * Each agent logs in, opens a draft (POST /api/cases) and then PATCHes it with its version every
 * `interval` ms (± 50 % jitter), like a desktop that autosaves a second after the last keystroke.
 * Requests go through the whole Fastify stack with the real auth plugin (session lookup per request)
 * via app.inject, i.e. no TCP. The database is a file with WAL and synchronous=FULL: one fsync per save.
 * Open loop: latency is measured from the moment a save was due, so a backlog shows up in the numbers.
 * A second phase has every agent save back to back for a few seconds to find the ceiling.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildHttpApp } from '../../server/api/app.js';
import { AuthService } from '../../server/api/auth/plugin.js';
import { caseRoutes } from '../../server/api/routes/cases.js';
import { CaseRepository } from '../../server/cases/index.js';
import { Directory } from '../../server/directory/directory.js';
import { openDatabase } from '../../server/storage/database.js';

const argv = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const AGENTS = arg('agents', 200);
const INTERVAL = arg('interval', 1000);
const SECONDS = arg('seconds', 20);
const BURST_SECONDS = arg('burst', 5);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cases-autosave-'));
const db = openDatabase(path.join(dir, 'hotline.sqlite'));
const directory = new Directory(db, { scrypt: { N: 1024, r: 8, p: 1 } });
const repo = new CaseRepository(db);
const auth = AuthService.create(directory.webUsers, db);
const app = await buildHttpApp({ health: { startedAt: Date.now(), transports: () => [] }, auth });
await app.register(caseRoutes, { cases: repo });
await app.ready();

interface Agent {
  token: string;
  caseId: number;
  version: number;
  text: string;
}
const agents: Agent[] = [];
const phrase = '消费者称购买的冰箱三天后不制冷，商家拒绝退换，要求退货退款。';
for (let i = 0; i < AGENTS; i++) {
  const username = `bench${String(i).padStart(3, '0')}`;
  await directory.webUsers.create({ username, password: 'bench-password', role: 'agent' });
  const login = await app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { username, password: 'bench-password' },
  });
  const token = (login.json() as { token: string }).token;
  const c = await app.inject({
    method: 'POST',
    url: '/api/cases',
    headers: { authorization: `Bearer ${token}` },
    payload: { type: 'complaint', draft: true, consumer: { phone: `138${String(i).padStart(8, '0')}` } },
  });
  if (c.statusCode !== 201) throw new Error(`create: ${c.statusCode} ${c.body}`);
  agents.push({ token, caseId: c.json().id, version: 1, text: '' });
}

let conflicts = 0;
let errors = 0;
async function save(a: Agent): Promise<void> {
  a.text = (a.text + phrase.slice(0, 4 + Math.floor(Math.random() * 8))).slice(-4000);
  const r = await app.inject({
    method: 'PATCH',
    url: `/api/cases/${a.caseId}`,
    headers: { authorization: `Bearer ${a.token}` },
    payload: { version: a.version, description: a.text, amount: Math.floor(Math.random() * 10000) },
  });
  if (r.statusCode === 200) a.version = (r.json() as { version: number }).version;
  else if (r.statusCode === 409) conflicts++;
  else errors++;
}

function stats(lat: number[]): string {
  lat.sort((x, y) => x - y);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!.toFixed(1);
  return `n=${lat.length} p50=${q(0.5)} p90=${q(0.9)} p99=${q(0.99)} max=${q(1)} ms`;
}

// Phase 1: open loop at the typing rate.
const lat: number[] = [];
const t0 = performance.now();
const end = t0 + SECONDS * 1000;
await Promise.all(
  agents.map(async (a) => {
    let due = t0 + Math.random() * INTERVAL;
    while (due < end) {
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await save(a);
      lat.push(performance.now() - due);
      due += INTERVAL * (0.5 + Math.random());
    }
  }),
);
const elapsed = (performance.now() - t0) / 1000;
console.log(
  `${AGENTS} agents, autosave every ~${INTERVAL} ms for ${SECONDS} s (WAL, synchronous=FULL, app.inject + auth)`,
);
console.log(`  ${(lat.length / elapsed).toFixed(0)} saves/s  ${stats(lat)}  conflicts=${conflicts} errors=${errors}`);

// Phase 2: closed loop, every agent saving back to back.
const lat2: number[] = [];
const t1 = performance.now();
const end2 = t1 + BURST_SECONDS * 1000;
await Promise.all(
  agents.map(async (a) => {
    while (performance.now() < end2) {
      const s = performance.now();
      await save(a);
      lat2.push(performance.now() - s);
    }
  }),
);
const el2 = (performance.now() - t1) / 1000;
console.log(`  ceiling (back to back, ${BURST_SECONDS} s): ${(lat2.length / el2).toFixed(0)} saves/s  ${stats(lat2)}`);
const audit = (db.sqlite.prepare('SELECT count(*) AS n FROM case_audit').get() as { n: number }).n;
console.log(`  audit rows: ${audit}; conflicts=${conflicts} errors=${errors}`);

await app.close();
db.close();
fs.rmSync(dir, { recursive: true, force: true });
