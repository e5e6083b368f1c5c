/**
 * Restart after kill -9 (issue 9): how long until a new server process serves again.
 *
 * Run through restart.sh (it enters a loopback-only network namespace). Builds nothing: it starts
 * `node <entry>` (default dist/server/main.js of the tree it runs in) on a fresh DATA_DIR, waits for
 * /api/health, puts a little state in (an agent at a seat, a saved case, a few digest REGISTERs, optional
 * SIPp calls held up), kills it with SIGKILL and starts it again on the same DATA_DIR and ports, N times.
 * Per restart, from spawn: the first 200 to a SIP OPTIONS (UDP), the first 200 from /api/health, and an
 * agent's socket.io client connected with its old session token and answered `agent:me`.
 *
 *   bash scripts/bench/restart.sh [--reps N] [--calls K] [--entry dist/server/main.js] [--cpu-prof DIR]
 *
 * CPU of "other processes" (everything but the server and this harness) is from /proc/stat over each
 * restart window, in % of one core: the machine is shared, and a figure means little without it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestSocket } from '../../tests/api/socket-client.js';

interface Args {
  reps: number;
  calls: number;
  entry: string;
  cpuProf: string | null;
  nodeArgs: string[];
}

function parseArgs(argv: string[]): Args {
  const a: Args = { reps: 5, calls: 0, entry: 'dist/server/main.js', cpuProf: null, nodeArgs: [] };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${k} needs a value`);
      return x;
    };
    if (k === '--reps') a.reps = Number(v());
    else if (k === '--calls') a.calls = Number(v());
    else if (k === '--entry') a.entry = v();
    else if (k === '--cpu-prof') a.cpuProf = path.resolve(v());
    else if (k === '--node-arg') a.nodeArgs.push(v());
    else throw new Error(`restart bench: unknown option ${k}`);
  }
  return a;
}

const args = parseArgs(process.argv.slice(2));
const ROOT = path.resolve(import.meta.dirname, '../..');
const SIP_PORT = 25160;
const HTTP_PORT = 28160;
const REALM = '12315.local';
const HZ = 100; // USER_HZ on Linux

// --- CPU accounting --------------------------------------------------------------------------------

function busyTicks(): number {
  const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy = all but idle and iowait
  return cpu.reduce((s, x, i) => (i === 3 || i === 4 ? s : s + x), 0);
}
function procTicks(pid: number): number {
  try {
    const f = fs
      .readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /, '')
      .split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}
function selfTicks(): number {
  const u = process.cpuUsage();
  return ((u.user + u.system) / 1e6) * HZ;
}

// --- server process --------------------------------------------------------------------------------

interface Server {
  child: ChildProcess;
  out: () => string;
  exited: Promise<void>;
}

function startServer(dataDir: string, profile: boolean): Server {
  let out = '';
  const prof = profile && args.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${args.cpuProf}`] : [];
  const child = spawn(process.execPath, [...args.nodeArgs, ...prof, path.resolve(ROOT, args.entry)], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      SIP_HOST: '127.0.0.1',
      SIP_PORT: String(SIP_PORT),
      HTTP_PORT: String(HTTP_PORT),
      SIP_RATE_PER_SECOND: '5000',
      SIP_RATE_BURST: '10000',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { child, out: () => out, exited };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function healthOk(): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${HTTP_PORT}/api/health`)).status === 200;
  } catch {
    return false;
  }
}

// --- a tiny SIP UDP client: OPTIONS probes and digest REGISTER --------------------------------------

class SipProbe {
  private readonly sock = dgram.createSocket('udp4');
  private readonly waiters = new Map<string, (msg: string) => void>();
  private port = 0;

  async open(): Promise<void> {
    await new Promise<void>((r) => this.sock.bind(0, '127.0.0.1', r));
    this.port = this.sock.address().port;
    this.sock.on('message', (b) => {
      const msg = b.toString();
      const callId = /^Call-ID:\s*(.+)$/im.exec(msg)?.[1]?.trim();
      if (callId) this.waiters.get(callId)?.(msg);
    });
  }

  close(): void {
    this.sock.close();
  }

  /** Sends one request, resolves with the first final response (or null after timeoutMs). */
  private request(build: (callId: string) => string, callId: string, timeoutMs: number): Promise<string | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(callId);
        resolve(null);
      }, timeoutMs);
      this.waiters.set(callId, (msg) => {
        if (/^SIP\/2\.0 1\d\d/.test(msg)) return;
        clearTimeout(timer);
        this.waiters.delete(callId);
        resolve(msg);
      });
      this.sock.send(build(callId), SIP_PORT, '127.0.0.1');
    });
  }

  private head(method: string, uri: string, from: string, callId: string, cseq: number): string[] {
    return [
      `${method} ${uri} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${this.port};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`,
      `From: <sip:${from}@${REALM}>;tag=${randomBytes(4).toString('hex')}`,
      `To: <sip:${from}@${REALM}>`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} ${method}`,
      'Max-Forwards: 70',
    ];
  }

  /** true when the server answered 200 within timeoutMs. */
  async options(timeoutMs: number): Promise<boolean> {
    const callId = `opt-${randomBytes(6).toString('hex')}`;
    const res = await this.request(
      (id) => [...this.head('OPTIONS', `sip:${REALM}`, 'probe', id, 1), 'Content-Length: 0', '', ''].join('\r\n'),
      callId,
      timeoutMs,
    );
    return res !== null && res.startsWith('SIP/2.0 200');
  }

  /** REGISTER with digest (RFC 7616 MD5, qop=auth); resolves with the final status. */
  async register(ext: string, password: string): Promise<number> {
    const callId = `reg-${randomBytes(6).toString('hex')}`;
    const uri = `sip:${REALM}`;
    const base = (id: string, cseq: number, auth: string | null) =>
      [
        ...this.head('REGISTER', uri, ext, id, cseq),
        `Contact: <sip:${ext}@127.0.0.1:${this.port}>`,
        'Expires: 600',
        ...(auth ? [`Authorization: ${auth}`] : []),
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
    const first = await this.request((id) => base(id, 1, null), callId, 3000);
    if (!first) return 0;
    const status = Number(first.slice(8, 11));
    if (status !== 401) return status;
    const ch = /^WWW-Authenticate:\s*Digest (.+)$/im.exec(first)?.[1] ?? '';
    const p = (k: string) => new RegExp(`${k}="([^"]*)"`).exec(ch)?.[1] ?? '';
    const md5 = (s: string) => createHash('md5').update(s).digest('hex');
    const nonce = p('nonce');
    const cnonce = randomBytes(8).toString('hex');
    const nc = '00000001';
    const ha1 = md5(`${ext}:${REALM}:${password}`);
    const ha2 = md5(`REGISTER:${uri}`);
    const response = md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
    const auth =
      `Digest username="${ext}", realm="${REALM}", nonce="${nonce}", uri="${uri}", response="${response}", ` +
      `algorithm=MD5, qop=auth, nc=${nc}, cnonce="${cnonce}"` +
      (p('opaque') ? `, opaque="${p('opaque')}"` : '');
    const second = await this.request((id) => base(id, 2, auth), callId, 3000);
    return second ? Number(second.slice(8, 11)) : 0;
  }
}

// --- HTTP helpers ----------------------------------------------------------------------------------

async function api(method: string, url: string, token: string | null, body?: unknown) {
  const r = await fetch(`http://127.0.0.1:${HTTP_PORT}${url}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, body: (await r.json().catch(() => null)) as Record<string, unknown> | null };
}

async function waitHealth(s: Server, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (s.child.exitCode !== null) throw new Error(`server exited:\n${s.out()}`);
    if (await healthOk()) return;
    await sleep(50);
  }
  throw new Error(`server not healthy in ${timeoutMs} ms:\n${s.out()}`);
}

/** The state a hotline has when it crashes: a case saved, phones registered, an agent at a seat, calls up. */
async function putState(token: string, sip: SipProbe, rep: number): Promise<ChildProcess | null> {
  const saved = await api('POST', '/api/cases', token, {
    type: 'consultation',
    draft: true,
    description: `重启测试 ${rep}`,
  });
  if (saved.status !== 201) throw new Error(`case not saved: ${saved.status} ${JSON.stringify(saved.body)}`);
  for (const ext of ['8002', '8003', '8004', '8005']) {
    const st = await sip.register(ext, `demo${ext}`);
    if (st !== 200) throw new Error(`REGISTER ${ext}: ${st}`);
  }
  if (args.calls <= 0) return null;
  const sipp = spawn(
    'sipp',
    [
      `127.0.0.1:${SIP_PORT}`,
      ...['-sf', path.join(ROOT, 'tests/reliability/scenarios/uac_wait_bye.xml')],
      ...['-s', '9196', '-m', String(args.calls), '-r', '50', '-l', String(args.calls)],
      ...['-i', '127.0.0.1', '-mi', '127.0.0.1', '-nostdin'],
      ...['-timeout', '60s'],
    ],
    { cwd: os.tmpdir(), stdio: 'ignore' },
  );
  // wait until the calls are up (the lead's /api/calls lists them)
  let up = 0;
  for (let i = 0; i < 200 && up < args.calls; i++) {
    await sleep(50);
    up = ((await api('GET', '/api/calls', leadToken)).body?.items as unknown[] | undefined)?.length ?? 0;
  }
  if (up < args.calls) console.log(`warning: only ${up} of ${args.calls} calls up at the kill`);
  return sipp;
}

let leadToken: string | null = null;

interface Sample {
  options: number;
  health: number;
  socket: number;
  /** CPU the server process (all its threads) had used when /api/health first answered 200. */
  cpuAtHealth: number;
  othersPct: number;
}

/** Polls from spawn until each target answers; all three run side by side. */
async function measureRestart(s: Server, t0: number, sip: SipProbe, token: string): Promise<Omit<Sample, 'othersPct'>> {
  const deadline = t0 + 60_000;
  const optionsAt = (async () => {
    while (performance.now() < deadline) {
      if (await sip.options(50)) return performance.now() - t0;
    }
    return NaN;
  })();
  let cpuAtHealth = NaN;
  const healthAt = (async () => {
    while (performance.now() < deadline) {
      if (await healthOk()) {
        cpuAtHealth = (procTicks(s.child.pid!) / HZ) * 1000;
        return performance.now() - t0;
      }
      await sleep(10);
    }
    return NaN;
  })();
  const socketAt = (async () => {
    while (performance.now() < deadline) {
      try {
        const sock = await TestSocket.connect(HTTP_PORT, { token });
        const me = await sock.request<{ ok: boolean }>('agent:me', {});
        sock.close();
        if (me.ok) return performance.now() - t0;
      } catch {
        /* not up yet */
      }
      await sleep(10);
    }
    return NaN;
  })();
  const [options, health, socket] = await Promise.all([optionsAt, healthAt, socketAt]);
  if (s.child.exitCode !== null) throw new Error(`server exited:\n${s.out()}`);
  return { options, health, socket, cpuAtHealth };
}

function stats(xs: number[]): string {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return 'n/a';
  const med = v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
  return `min ${v[0]!.toFixed(0)}  median ${med.toFixed(0)}  max ${v.at(-1)!.toFixed(0)} ms`;
}

async function main(): Promise<void> {
  const entry = path.resolve(ROOT, args.entry);
  if (!fs.existsSync(entry)) throw new Error(`${args.entry} missing: build first (npm run build)`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'restart-bench-'));
  const sip = new SipProbe();
  await sip.open();
  let server = startServer(dataDir, false);
  const samples: Sample[] = [];
  try {
    const t0 = performance.now();
    await waitHealth(server, 120_000);
    console.log(`first start (fresh DATA_DIR, demo seed with real scrypt): ${(performance.now() - t0).toFixed(0)} ms`);
    const login = async (u: string, p: string) => {
      const r = await api('POST', '/api/auth/login', null, { username: u, password: p });
      if (r.status !== 200) throw new Error(`login ${u}: ${r.status}`);
      return r.body!.token as string;
    };
    const token = await login('agent01', 'agent12315');
    leadToken = await login('lead01', 'lead12315');
    const seat = await api('POST', '/api/agents/me/login', token, { seat: '8001' });
    if (seat.status !== 200) throw new Error(`seat login: ${seat.status} ${JSON.stringify(seat.body)}`);

    for (let rep = 1; rep <= args.reps; rep++) {
      const sipp = await putState(token, sip, rep);
      await sleep(300); // let the case's commit and the CDR batch settle as they would in service
      server.child.kill('SIGKILL');
      await server.exited;
      const busy0 = busyTicks();
      const self0 = selfTicks();
      const t0 = performance.now();
      server = startServer(dataDir, true);
      const m = await measureRestart(server, t0, sip, token);
      const wallS = (performance.now() - t0) / 1000;
      const others =
        busyTicks() - busy0 - procTicks(server.child.pid!) - (selfTicks() - self0) - (sipp ? procTicks(sipp.pid!) : 0);
      const othersPct = Math.max(0, (others / HZ / wallS) * 100);
      samples.push({ ...m, othersPct });
      console.log(
        `restart ${rep}: OPTIONS 200 ${m.options.toFixed(0)} ms, health 200 ${m.health.toFixed(0)} ms, ` +
          `agent socket ${m.socket.toFixed(0)} ms, server CPU at health ${m.cpuAtHealth.toFixed(0)} ms  (other processes ${othersPct.toFixed(0)}% of a core, ` +
          `load ${os.loadavg()[0]!.toFixed(1)})`,
      );
      sipp?.kill('SIGKILL');
      if (args.cpuProf) {
        // A profile is written at a clean exit only: stop this one gracefully and crash the next one.
        server.child.kill('SIGTERM');
        await server.exited;
        server = startServer(dataDir, false);
        await waitHealth(server, 60_000);
      }
    }
    console.log(`\n${args.reps} restarts after kill -9 (${args.entry}, ${args.calls} calls up at the kill):`);
    console.log(`  spawn → first OPTIONS 200 : ${stats(samples.map((s) => s.options))}`);
    console.log(`  spawn → /api/health 200   : ${stats(samples.map((s) => s.health))}`);
    console.log(`  spawn → agent socket back : ${stats(samples.map((s) => s.socket))}`);
    console.log(`  server CPU at health 200  : ${stats(samples.map((s) => s.cpuAtHealth))}`);
    console.log(
      `  other processes          : ${stats(samples.map((s) => s.othersPct)).replace(/ ms/, ' % of a core')}`,
    );
    if (args.cpuProf) console.log(`  CPU profiles of the restarted servers in ${args.cpuProf}`);
  } finally {
    sip.close();
    server.child.kill('SIGTERM');
    await Promise.race([server.exited, sleep(5000)]);
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
