/**
 * Media engine pacing benchmark: N endpoints play a looped prompt to N receiving sockets in a separate process
 * (so the receiver's own work does not share a thread with the engine), optionally reflecting every packet
 * back (inbound RTP load like a real caller). The receiver measures |arrival interval − 20 ms| for consecutive
 * sequence numbers (the /work/shared/bench/sipload pacing metric) and loss from sequence numbers.
 *
 *   unshare -n bash -c 'ip link set lo up; npx tsx scripts/bench/media-pacing.ts --n 200,400,600 --seconds 8'
 *
 * Options: --n LIST, --threads inline,worker, --seconds S (measured, after 2 s warm-up), --phases P,
 * --receivers R (receiver processes, default 2), --pacing self|ticker (worker clock, see index.ts), --reflect (send every packet back: inbound load),
 * --control-ms X: block the main thread X ms every 50 ms (SIP parsing / SQLite bursts stand-in).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createMediaEngine } from '../../server/media/engine/index.js';

const RX_SRC = String.raw`
const dgram = require('node:dgram');
const { performance } = require('node:perf_hooks');
const n = Number(process.argv[1]);
const reflect = process.argv[2] === '1';
const BIN_US = 10, MAXMS = 200, NB = MAXMS * 1000 / BIN_US;
const hist = new Uint32Array(NB + 1);
let measuring = false, count = 0, over2 = 0, over5 = 0, max = 0, rx = 0, expected = 0, lost = 0;
const socks = [];
const st = [];
let bound = 0;
for (let i = 0; i < n; i++) {
  const s = dgram.createSocket('udp4');
  const me = { last: -1, seq: -1, first: -1, high: -1, got: 0 };
  st.push(me);
  s.on('message', (buf, ri) => {
    const t = performance.now();
    if ((buf[1] & 0x7f) !== 0) return; // RTCP of a neighbour's port pair, or DTMF
    if (reflect) s.send(buf, ri.port, ri.address); // inbound load for the engine
    if (!measuring) return;
    const seq = (buf[2] << 8) | buf[3];
    rx++;
    me.got++;
    if (me.first < 0) me.first = seq;
    let ext = seq;
    if (me.high >= 0) { while (ext < me.high - 30000) ext += 65536; }
    if (ext > me.high) me.high = ext;
    if (me.seq >= 0 && seq === ((me.seq + 1) & 0xffff)) {
      const d = Math.abs(t - me.last - 20);
      let b = Math.floor(d * 1000 / BIN_US); if (b > NB) b = NB;
      hist[b]++; count++;
      if (d > 2) over2++;
      if (d > 5) over5++;
      if (d > max) max = d;
    }
    me.seq = seq; me.last = t;
  });
  s.bind(0, '127.0.0.1', () => { if (++bound === n) process.stdout.write(JSON.stringify({ ports: socks.map((x) => x.address().port) }) + '\n'); });
  socks.push(s);
}
function q(p) { if (!count) return null; const r = Math.ceil(p * count); let a = 0; for (let i = 0; i <= NB; i++) { a += hist[i]; if (a >= r) return (i + 1) * BIN_US / 1000; } return MAXMS; }
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  if (d.includes('measure')) measuring = true;
  if (d.includes('stop')) {
    measuring = false;
    for (const me of st) if (me.first >= 0) { const e = me.high - me.first + 1; expected += e; lost += Math.max(0, e - me.got); }
    process.stdout.write(JSON.stringify({ count, p50: q(0.5), p99: q(0.99), p999: q(0.999), max, over2: over2 / Math.max(1, count), over5: over5 / Math.max(1, count), rx, expected, lost }) + '\n');
    for (const s of socks) s.close();
    process.exit(0);
  }
});
`;

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function offer(port: number): string {
  return `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n`;
}

const live = new Set<ReturnType<typeof spawn>>();
process.once('exit', () => {
  for (const c of live) c.kill();
});

interface RxResult {
  count: number;
  p50: number | null;
  p99: number | null;
  p999: number | null;
  max: number;
  over2: number;
  expected: number;
  lost: number;
}

interface RunResult {
  thread: string;
  n: number;
  controlMs: number;
  p50: number | null;
  p99: number | null;
  p999: number | null;
  max: number;
  over2: number;
  lossPct: number;
  clockLateP99: number;
  overruns: number;
  skipped: number;
  cpuPct: number;
  load: string;
}

async function run(
  thread: 'inline' | 'worker',
  n: number,
  seconds: number,
  phases: number,
  controlMs: number,
): Promise<RunResult> {
  // Receivers in separate processes (the measuring side must not be the bottleneck: at 600 streams one JS
  // thread receiving 30 k packets/s starts delaying its own timestamps).
  const per = Math.ceil(n / receivers);
  const children = [];
  for (let r = 0; r < receivers; r++) {
    const child = spawn(process.execPath, ['-e', RX_SRC, String(Math.min(per, n - r * per)), reflect ? '1' : '0'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    live.add(child);
    const it = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    children.push({ child, it });
  }
  const ports: number[] = [];
  for (const c of children)
    ports.push(...(JSON.parse((await c.it.next()).value as string) as { ports: number[] }).ports);
  const engine = await createMediaEngine({
    thread,
    bindAddress: '127.0.0.1',
    phases,
    portMin: 20000, // below the ephemeral range the receiver's sockets come from
    portMax: 20000 + 2 * n + 100,
    pacing,
  });
  const eps = [];
  for (const p of ports) {
    const ep = await engine.createRtpEndpoint();
    await ep.answer(offer(p));
    void ep.play(
      [
        { toneHz: 440, ms: 1000 },
        { toneHz: 880, ms: 1000 },
      ],
      { loop: true },
    );
    eps.push(ep);
  }
  let blocker: NodeJS.Timeout | null = null;
  if (controlMs > 0) {
    blocker = setInterval(() => {
      const end = performance.now() + controlMs;
      while (performance.now() < end);
    }, 50);
  }
  await sleep(2000);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const c of children) c.child.stdin!.write('measure\n');
  await sleep(seconds * 1000);
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  const stats = await engine.stats();
  const parts: RxResult[] = [];
  for (const c of children) {
    c.child.stdin!.write('stop\n');
    parts.push(JSON.parse((await c.it.next()).value as string) as RxResult);
  }
  // Quantiles of the whole population: the worst receiver's quantile is an upper bound, which is what we report.
  const res = {
    p50: Math.max(...parts.map((p) => p.p50 ?? 0)),
    p99: Math.max(...parts.map((p) => p.p99 ?? 0)),
    p999: Math.max(...parts.map((p) => p.p999 ?? 0)),
    max: Math.max(...parts.map((p) => p.max)),
    over2:
      parts.reduce((a, p) => a + p.over2 * p.count, 0) /
      Math.max(
        1,
        parts.reduce((a, p) => a + p.count, 0),
      ),
    expected: parts.reduce((a, p) => a + p.expected, 0),
    lost: parts.reduce((a, p) => a + p.lost, 0),
  };
  if (blocker) clearInterval(blocker);
  await engine.close();
  for (const c of children) live.delete(c.child);
  return {
    thread,
    n,
    controlMs,
    p50: res.p50,
    p99: res.p99,
    p999: res.p999,
    max: Math.round(res.max * 100) / 100,
    over2: Math.round(res.over2 * 10000) / 100,
    lossPct: res.expected ? Math.round((res.lost / res.expected) * 100000) / 1000 : 100,
    clockLateP99: Math.round(stats.clock.lateP99Ms * 100) / 100,
    overruns: stats.clock.overruns,
    skipped: stats.clock.skipped,
    cpuPct: Math.round(((cpu.user + cpu.system) / 1000 / wall) * 100),
    load: readFileSync('/proc/loadavg', 'utf8').split(' ')[0]!,
  };
}

const ns = arg('n', '200,400,600').split(',').map(Number);
const threads = arg('threads', 'inline,worker').split(',') as ('inline' | 'worker')[];
const seconds = Number(arg('seconds', '8'));
const phases = Number(arg('phases', '4'));
const controls = arg('control-ms', '0').split(',').map(Number);
const receivers = Number(arg('receivers', '2'));
const pacing = arg('pacing', 'ticker') as 'self' | 'ticker';
const reflect = process.argv.includes('--reflect');
console.log(
  '| thread | N | control ms/50ms | pacing p50 | p99 | p99.9 | max | >2ms % | loss % | tick late p99 | overruns | skipped | engine-process CPU % | loadavg 1m |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const controlMs of controls)
  for (const n of ns)
    for (const t of threads) {
      const r = await run(t, n, seconds, phases, controlMs);
      console.log(
        `| ${r.thread}${t === 'worker' ? `/${pacing}` : ''} | ${r.n} | ${r.controlMs} | ${r.p50} | ${r.p99} | ${r.p999} | ${r.max} | ${r.over2} | ${r.lossPct} | ${r.clockLateP99} | ${r.overruns} | ${r.skipped} | ${r.cpuPct} | ${r.load} |`,
      );
      await sleep(1000);
    }
process.exit(0);
