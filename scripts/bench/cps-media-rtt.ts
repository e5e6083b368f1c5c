/**
 * The media worker round trips of call setup, alone: at RATE per second, create an RTP endpoint, answer a
 * PCMU offer on it (the two commands an INVITE to 7000 waits for before its 200 OK), close it HOLD ms later.
 * No SIP, no RTP from a peer: what is left is the thread hop and the core's own work. Compare with the setup
 * trace's "call-manager → media endpoint" and "ivr start → sdp answer" gaps from a full run.
 *   unshare -n bash -c 'ip link set lo up; npx tsx scripts/bench/cps-media-rtt.ts [rate=400] [seconds=5] [hold=1000]'
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createMediaEngine } from '../../server/media/engine/index.js';

const RATE = Number(process.argv[2] ?? 400);
const SECONDS = Number(process.argv[3] ?? 5);
const HOLD = Number(process.argv[4] ?? 1000);
const offer = (port: number) =>
  [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP 0 101`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=sendrecv',
    '',
  ].join('\r\n');

const pct = (a: number[], q: number) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]! : 0;
};
const show = (name: string, a: number[]) =>
  console.log(
    `${name.padEnd(16)} n ${a.length}  p50 ${pct(a, 0.5).toFixed(3)}  p90 ${pct(a, 0.9).toFixed(3)}  p99 ${pct(a, 0.99).toFixed(3)}  max ${pct(a, 1).toFixed(3)} ms`,
  );

const engine = await createMediaEngine({ bindAddress: '127.0.0.1', portMin: 40000, portMax: 49999 });
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const create: number[] = [];
const answer: number[] = [];
const stats: number[] = [];
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const total = RATE * SECONDS;
const closing: Promise<void>[] = [];
let started = 0;
await new Promise<void>((done) => {
  let finished = 0;
  const one = async (i: number) => {
    const a = performance.now();
    const ep = await engine.createRtpEndpoint({ label: 'rtt' });
    const b = performance.now();
    await ep.answer(offer(30000 + 2 * (i % 4000)));
    const c = performance.now();
    create.push(b - a);
    answer.push(c - b);
    setTimeout(() => closing.push(ep.close()), HOLD);
    if (++finished === total) done();
  };
  const tick = () => {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * RATE));
    while (started < due) void one(started++);
    if (started < total) setTimeout(tick, 1);
  };
  tick();
});
// An idle round trip for comparison, after the run.
for (let i = 0; i < 200; i++) {
  const a = performance.now();
  await engine.stats();
  stats.push(performance.now() - a);
}
const cpu = process.cpuUsage(cpu0);
const wall = performance.now() - t0;
console.log(`media worker round trips: ${total} endpoints at ${RATE}/s, each closed after ${HOLD} ms`);
show('createEndpoint', create);
show('answer', answer);
show('stats (idle)', stats);
console.log(
  `process CPU ${(((cpu.user + cpu.system) / 1000 / wall) * 100).toFixed(1)} % of one core; main loop delay p99 ${(loop.percentile(99) / 1e6).toFixed(2)} max ${(loop.max / 1e6).toFixed(2)} ms`,
);
await new Promise((r) => setTimeout(r, HOLD + 100));
await Promise.all(closing);
await engine.close();
