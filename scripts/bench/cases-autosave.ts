/**
 * Autosave latency with many agents typing into their case forms at once, over socket.io as the
 * desktop does it.
 *   npx tsx scripts/bench/cases-autosave.ts [--agents 200] [--interval 1000] [--seconds 20] [--burst 5]
 * The server runs in this process: give it the young generation `npm start` gives it (scripts/serve.sh),
 *   NODE_OPTIONS=--max-semi-space-size=2 npx tsx scripts/bench/cases-autosave.ts …
 * (the agents' process inherits it too); without it V8's default 16 MB semi-spaces apply.
 *
 * The server (Fastify + auth + socket.io with the /cases namespace, file database in WAL mode, the
 * case group commit) runs in this process and listens on 127.0.0.1. The 200 agents run in a child
 * process (socket.io-client, one connection each) so their JSON and timers do not share the server's
 * event loop. Each agent emits `case:save` with its version every `interval` ms (± 50 % jitter), like a
 * desktop that saves a second after the last keystroke; open loop: latency counts from when the save
 * was due. Reported separately:
 *   - client: due → ack received (what the agent feels; includes both processes' scheduling);
 *   - server: event received → ack sent (includes waiting for the durable WAL fsync);
 *   - server event-loop delay while the load ran.
 * A second phase has every agent save back to back for a few seconds to find the ceiling.
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Server } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';
import type { SaveTrace } from '../../server/api/routes/cases.js';

const argv = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const AGENTS = arg('agents', 200);
const INTERVAL = arg('interval', 1000);
const SECONDS = arg('seconds', 20);
const BURST_SECONDS = arg('burst', 5);

interface Seat {
  token: string;
  caseId: number;
}
interface ClientResult {
  open: number[];
  burst: number[];
  burstSeconds: number;
  openSeconds: number;
  conflicts: number;
  errors: number;
}

type Trace = SaveTrace;
const PHASES = [
  ['handler', 'received', 'queued'],
  ['wait for batch', 'queued', 'commitStart'],
  ['commit', 'commitStart', 'commitEnd'],
  ['wait for sync', 'commitEnd', 'syncStart'],
  ['fdatasync', 'syncStart', 'syncEnd'],
  ['sync → ack', 'syncEnd', 'acked'],
] as const;

/**
 * Where the slowest 1 % of saves spent their time, next to the median save: each phase's mean, how
 * many slow saves it dominated, and how many overlapped a GC pause.
 */
function breakdown(traces: Trace[], gcs: { start: number; end: number; kind: number }[]): string[] {
  const done = traces.filter((t) => t.acked !== undefined && t.syncEnd !== undefined);
  if (done.length < 100) return [`    (${done.length} traced saves)`];
  const total = (t: Trace) => t.acked! - t.received;
  const sorted = [...done].sort((a, b) => total(a) - total(b));
  const slow = sorted.slice(Math.floor(sorted.length * 0.99));
  const mid = sorted.slice(Math.floor(sorted.length * 0.45), Math.floor(sorted.length * 0.55));
  const ph = (t: Trace, a: keyof Trace, b: keyof Trace) => (t[b] ?? 0) - (t[a] ?? 0);
  const mean = (xs: Trace[], a: keyof Trace, b: keyof Trace) => xs.reduce((n, t) => n + ph(t, a, b), 0) / xs.length;
  const out = [
    `    phases, mean ms: ${PHASES.map(([n]) => n).join(' | ')}`,
    `      median saves (n=${mid.length}): ${PHASES.map(([, a, b]) => mean(mid, a, b).toFixed(2)).join(' | ')}`,
    `      slowest 1 % (n=${slow.length}, ≥ ${total(slow[0]!).toFixed(1)} ms): ${PHASES.map(([, a, b]) => mean(slow, a, b).toFixed(2)).join(' | ')}`,
  ];
  const dom = new Map<string, number>();
  for (const t of slow) {
    let best: string = PHASES[0][0];
    let bestMs = -1;
    for (const [n, a, b] of PHASES) {
      if (ph(t, a, b) > bestMs) [best, bestMs] = [n, ph(t, a, b)];
    }
    dom.set(best, (dom.get(best) ?? 0) + 1);
  }
  out.push(`      dominant phase of each slow save: ${[...dom].map(([n, c]) => `${n} ${c}`).join(', ')}`);
  const withGc = slow.filter((t) => gcs.some((g) => g.end > t.received && g.start < t.acked!));
  const gcMs = gcs.reduce((n, g) => n + g.end - g.start, 0);
  // perf_hooks gc kinds: 1 minor (scavenge), 2 major (mark-compact), 4 incremental marking, 8 weak callbacks.
  const byKind = new Map<number, { n: number; ms: number; max: number }>();
  for (const g of gcs) {
    const k = byKind.get(g.kind) ?? { n: 0, ms: 0, max: 0 };
    k.n++;
    k.ms += g.end - g.start;
    k.max = Math.max(k.max, g.end - g.start);
    byKind.set(g.kind, k);
  }
  out.push(
    `      GC by kind: ${[...byKind]
      .map(
        ([kind, k]) =>
          `${({ 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weak' } as Record<number, string>)[kind] ?? kind} ${k.n}× ${k.ms.toFixed(0)} ms (max ${k.max.toFixed(1)})`,
      )
      .join(
        ', ',
      )}; slow saves overlapping a major: ${slow.filter((t) => gcs.some((g) => g.kind === 2 && g.end > t.received && g.start < t.acked!)).length}`,
  );
  out.push(
    `      GC: ${gcs.length} pauses, ${gcMs.toFixed(0)} ms in all, max ${Math.max(0, ...gcs.map((g) => g.end - g.start)).toFixed(1)} ms; slow saves overlapping one: ${withGc.length}/${slow.length}`,
  );
  const slowBatch = slow.reduce((n, t) => n + (t.batch ?? 0), 0) / slow.length;
  const midBatch = mid.reduce((n, t) => n + (t.batch ?? 0), 0) / mid.length;
  out.push(`      mean batch size: median saves ${midBatch.toFixed(1)}, slow saves ${slowBatch.toFixed(1)}`);
  return out;
}

function stats(lat: number[]): string {
  if (lat.length === 0) return 'n=0';
  const s = [...lat].sort((x, y) => x - y);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(1);
  return `n=${s.length} p50=${q(0.5)} p90=${q(0.9)} p99=${q(0.99)} max=${q(1)} ms`;
}

if (argv.includes('--client')) {
  // ------------------------------------------------------------------ client process
  const phrase = '消费者称购买的冰箱三天后不制冷，商家拒绝退换，要求退货退款。';
  process.once('message', async (m: { port: number; seats: Seat[] }) => {
    const socks: Socket[] = await Promise.all(
      m.seats.map(
        (s) =>
          new Promise<Socket>((resolve, reject) => {
            const sock = connect(`http://127.0.0.1:${m.port}/cases`, {
              path: '/socket.io',
              auth: { token: s.token },
              transports: ['websocket'],
              forceNew: true,
              reconnection: false,
            });
            sock.once('connect', () => resolve(sock));
            sock.once('connect_error', reject);
          }),
      ),
    );
    // Connected: the server starts its meters now, so handshakes are not counted as save load.
    process.send!({ phase: 'connected' });
    await new Promise((r) => process.once('message', r));
    let conflicts = 0;
    let errors = 0;
    const state = m.seats.map(() => ({ version: 1, text: '' }));
    const save = (i: number) =>
      new Promise<void>((resolve) => {
        const st = state[i]!;
        st.text = (st.text + phrase.slice(0, 4 + Math.floor(Math.random() * 8))).slice(-4000);
        socks[i]!.emit(
          'case:save',
          {
            id: m.seats[i]!.caseId,
            version: st.version,
            changes: { description: st.text, amount: Math.floor(Math.random() * 10000) },
          },
          (r: { ok: boolean; data?: { version: number }; error?: string }) => {
            if (r.ok) st.version = r.data!.version;
            else if (r.error === 'version_conflict') conflicts++;
            else errors++;
            resolve();
          },
        );
      });
    const open: number[] = [];
    const t0 = performance.now();
    const end = t0 + SECONDS * 1000;
    await Promise.all(
      m.seats.map(async (_s, i) => {
        let due = t0 + Math.random() * INTERVAL;
        while (due < end) {
          const wait = due - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          await save(i);
          open.push(performance.now() - due);
          due += INTERVAL * (0.5 + Math.random());
        }
      }),
    );
    const openSeconds = (performance.now() - t0) / 1000;
    process.send!({ phase: 'open' });
    await new Promise((r) => process.once('message', r));
    const burst: number[] = [];
    const t1 = performance.now();
    const end2 = t1 + BURST_SECONDS * 1000;
    await Promise.all(
      m.seats.map(async (_s, i) => {
        while (performance.now() < end2) {
          const s = performance.now();
          await save(i);
          burst.push(performance.now() - s);
        }
      }),
    );
    const burstSeconds = (performance.now() - t1) / 1000;
    for (const s of socks) s.close();
    const res: ClientResult = { open, burst, burstSeconds, openSeconds, conflicts, errors };
    process.send!(res, () => process.exit(0));
  });
} else {
  // ------------------------------------------------------------------ server process
  const { buildHttpApp } = await import('../../server/api/app.js');
  const { AuthService } = await import('../../server/api/auth/plugin.js');
  const { attachCaseSocket, caseRoutes } = await import('../../server/api/routes/cases.js');
  const { CaseRepository } = await import('../../server/cases/index.js');
  const { Directory } = await import('../../server/directory/directory.js');
  const { openDatabase } = await import('../../server/storage/database.js');

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cases-autosave-'));
  const db = openDatabase(path.join(dir, 'hotline.sqlite'));
  const directory = new Directory(db, { scrypt: { N: 1024, r: 8, p: 1 } });
  // --checkpoint sqlite: SQLite's automatic checkpoint inside the commits (before session 3), for A/B.
  const sqliteCheckpoint = argv[argv.indexOf('--checkpoint') + 1] === 'sqlite' && argv.includes('--checkpoint');
  const repo = new CaseRepository(db, { groupCommit: { checkpoint: sqliteCheckpoint ? false : {} } });
  const auth = AuthService.create(directory.webUsers, db);
  const app = await buildHttpApp({ health: { startedAt: Date.now(), transports: () => [] }, auth });
  await app.register(caseRoutes, { cases: repo });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const io = new Server(app.server, { path: '/socket.io', serveClient: false });
  const caseSocket = attachCaseSocket(io, { auth, cases: repo, traceSaves: true });
  const gcs: { start: number; end: number; kind: number }[] = [];
  const gcObs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcs.push({
        start: e.startTime,
        end: e.startTime + e.duration,
        kind: (e as unknown as { detail: { kind: number } }).detail.kind,
      });
    }
  });
  const port = (app.server.address() as { port: number }).port;

  const seats: Seat[] = [];
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
    seats.push({ token, caseId: (c.json() as { id: number }).id });
  }

  const child = fork(fileURLToPath(import.meta.url), [...argv, '--client'], {
    execArgv: process.execArgv,
    stdio: 'inherit',
  });
  const loop = monitorEventLoopDelay({ resolution: 1 });
  child.send({ port, seats });
  await new Promise((r) => child.once('message', r));
  const gc0 = { ...repo.groupCommitStats };
  caseSocket.saveTraces.splice(0);
  gcObs.observe({ entryTypes: ['gc'] });
  loop.enable();
  const openFrom = Date.now() / 1000;
  child.send({ go: true });
  await new Promise((r) => child.once('message', r));
  const openTo = Date.now() / 1000;
  loop.disable();
  const serverOpen = caseSocket.saveMs.splice(0);
  const tracesOpen = caseSocket.saveTraces.splice(0);
  gcObs.disconnect();
  const gc1 = { ...repo.groupCommitStats };
  const loopOpen = { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 };
  child.send({ go: true });
  const res = await new Promise<ClientResult>((r) => child.once('message', (m) => r(m as ClientResult)));
  const serverBurst = caseSocket.saveMs.splice(0);
  const gc2 = { ...repo.groupCommitStats };

  console.log(
    `${AGENTS} agents over socket.io (client process separate), case:save every ~${INTERVAL} ms for ${SECONDS} s; WAL, ack after fdatasync; checkpoints ${sqliteCheckpoint ? 'by SQLite in the commit' : 'on a worker'}; load average ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}; young generation: ${semiSpace()}`,
  );
  console.log(
    `  open loop: ${(res.open.length / res.openSeconds).toFixed(0)} saves/s  conflicts=${res.conflicts} errors=${res.errors}`,
  );
  console.log(`    client due→ack   ${stats(res.open)}`);
  console.log(`    server recv→ack  ${stats(serverOpen)}`);
  console.log(
    `    event-loop delay p99=${loopOpen.p99.toFixed(1)} max=${loopOpen.max.toFixed(1)} ms; batches=${gc1.batches - gc0.batches} fsyncs=${gc1.syncs - gc0.syncs} mean fsync=${((gc1.syncMsTotal - gc0.syncMsTotal) / Math.max(1, gc1.syncs - gc0.syncs)).toFixed(1)} ms; commit on loop mean=${((gc1.commitMsTotal - gc0.commitMsTotal) / Math.max(1, gc1.batches - gc0.batches)).toFixed(2)} max=${gc1.commitMsMax.toFixed(1)} ms`,
  );
  for (const l of breakdown(tracesOpen, gcs)) console.log(l);
  // For matching a system-call trace (strace -ttt -f) to the open-loop phase.
  if (process.env.BENCH_MARKS) console.log(`    open phase (epoch s): ${openFrom.toFixed(3)} ${openTo.toFixed(3)}`);
  const ck = repo.checkpointStats;
  if (ck) {
    console.log(
      `    checkpoint worker: ${ck.checkpoints} checkpoints, mean ${(ck.msTotal / Math.max(1, ck.checkpoints)).toFixed(1)} ms, max ${ck.msMax.toFixed(1)} ms (off the event loop), errors ${ck.errors}; WAL long → SQLite's checkpoint in a commit: ${ck.restarts}`,
    );
  }
  console.log(
    `  ceiling (back to back, ${BURST_SECONDS} s): ${(res.burst.length / res.burstSeconds).toFixed(0)} saves/s`,
  );
  console.log(`    client send→ack  ${stats(res.burst)}`);
  console.log(`    server recv→ack  ${stats(serverBurst)}`);
  console.log(
    `    batches=${gc2.batches - gc1.batches} fsyncs=${gc2.syncs - gc1.syncs} largest batch=${gc2.largestBatch}`,
  );
  const audit = (db.sqlite.prepare('SELECT count(*) AS n FROM case_audit').get() as { n: number }).n;
  console.log(`  audit rows: ${audit}`);

  caseSocket.close();
  io.close();
  await app.close().catch(() => undefined);
  repo.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

function semiSpace(): string {
  const flag = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].find((a) =>
    a.startsWith('--max-semi-space-size='),
  );
  return flag ? `${flag.split('=')[1]} MB semi-spaces` : "V8's default";
}
