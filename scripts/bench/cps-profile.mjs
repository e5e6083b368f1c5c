#!/usr/bin/env node
// Summarises V8 CPU profiles (node --cpu-prof, e.g. from `CPU_PROF=dir scripts/bench/cps-trace.sh`): per profile,
// busy share of the wall time, self time by area of the code (SIP parser, transactions, calls, CDR/SQLite, media
// core, GC ...) and the top functions by self time, so that per-call CPU can be split by area.
//
//   node scripts/bench/cps-profile.mjs /tmp/prof/300/*.cpuprofile [--top 25] [--calls N]
//
// --calls N divides the busy time by N (the calls made during the profile) to print µs per call.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
let top = 25;
let calls = 0;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--top') top = Number(args[++i]);
  else if (args[i] === '--calls') calls = Number(args[++i]);
  else files.push(args[i]);
}

// First match wins; the URL (path) and function name of a node decide its area.
const AREAS = [
  ['(garbage collector)', (u, f) => f === '(garbage collector)'],
  ['(idle)', (u, f) => f === '(idle)' || f === '(program)'],
  ['sip/parser+message', (u) => /\/sip\/(parser|message)\//.test(u)],
  ['sip/transport', (u) => /\/sip\/transport\//.test(u)],
  ['sip/transactions', (u) => /\/sip\/transactions\//.test(u)],
  ['sip/dialogs', (u) => /\/sip\/dialogs\//.test(u)],
  ['sip/ua+auth+stack', (u) => /\/sip\/(ua|auth|stack|registrar)/.test(u)],
  ['calls (leg, call, manager)', (u) => /\/calls\/(?!cdr)/.test(u)],
  ['calls/cdr', (u) => /\/calls\/cdr/.test(u)],
  ['ivr', (u) => /\/ivr\//.test(u)],
  ['acd+metrics+api', (u) => /\/(acd|metrics|api|cases)\//.test(u)],
  ['ops (admission, lag)', (u) => /\/ops\//.test(u)],
  ['media/sdp', (u) => /\/media\/sdp\//.test(u)],
  ['media/engine client+channels', (u) => /\/media\/engine\/(client|channels)/.test(u)],
  ['media/engine core+worker', (u) => /\/media\/engine\/(core|worker|ticker|ports|fifo|realtime)/.test(u)],
  ['media/rtp+codecs+dtmf+mixer', (u) => /\/media\/(rtp|codecs|dtmf|mixer)\//.test(u)],
  ['util (log, clock, fsm)', (u) => /\/server\/util\//.test(u)],
  ['better-sqlite3', (u) => /better-sqlite3/.test(u)],
  ['pino/logging', (u) => /node_modules\/(pino|sonic-boom|thread-stream)/.test(u)],
  ['socket.io/ws/fastify', (u) => /node_modules\/(socket\.io|engine\.io|ws|fastify|@fastify)/.test(u)],
  ['node: dgram/net', (u) => /^node:(dgram|net|internal\/dgram)/.test(u)],
  ['node: worker messaging', (u) => /^node:internal\/(worker|per_context\/messageport)/.test(u)],
  ['node: timers/promises/other', (u) => /^node:/.test(u)],
  ['native (no url)', (u) => u === ''],
  ['other', () => true],
];

for (const file of files) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const deltas = p.timeDeltas;
  // Only the load: from the first to the last sample in the SIP parser or the media core's send path (start-up
  // module loading and the idle tail would otherwise dilute the per-call figures).
  const t = new Array(p.samples.length);
  let now = p.startTime;
  for (let i = 0; i < p.samples.length; i++) t[i] = now += deltas[i] ?? 0;
  const marker = (n) => /^(parseHead|tickEndpoint)$/.test(n.callFrame.functionName);
  let from = -1;
  let to = -1;
  for (let i = 0; i < p.samples.length; i++) {
    if (!marker(byId.get(p.samples[i]))) continue;
    if (from < 0) from = i;
    to = i;
  }
  if (from < 0) [from, to] = [0, p.samples.length - 1];
  for (let i = from; i <= to; i++) {
    const id = p.samples[i];
    self.set(id, (self.get(id) ?? 0) + (deltas[i + 1] ?? 0));
  }
  const windowS = (t[to] - t[from]) / 1e6;
  const area = new Map();
  const fn = new Map();
  const fnByArea = new Map();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const n = byId.get(id);
    const u = n.callFrame.url ?? '';
    const f = n.callFrame.functionName || '(anonymous)';
    const a = AREAS.find(([, m]) => m(u, f))[0];
    total += us;
    if (a === '(idle)') {
      idle += us;
      continue;
    }
    area.set(a, (area.get(a) ?? 0) + us);
    const short = u.replace(/^.*\/(server|node_modules)\//, '$1/').replace(/^file:\/\//, '');
    const key = `${f} ${short}:${n.callFrame.lineNumber + 1}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    let m = fnByArea.get(a);
    if (!m) fnByArea.set(a, (m = new Map()));
    m.set(key, (m.get(key) ?? 0) + us);
  }
  const busy = total - idle;
  console.log(`\n== ${file}`);
  console.log(
    `window ${windowS.toFixed(1)} s, sampled ${(total / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(2)} s (${((100 * busy) / total).toFixed(1)} %)` +
      (calls > 0 ? `, ${(busy / calls).toFixed(0)} µs busy per call over ${calls} calls` : ''),
  );
  const pct = (us) => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
  const perCall = (us) => (calls > 0 ? `  ${(us / calls).toFixed(1).padStart(7)} µs/call` : '');
  console.log('-- by area (share of busy time)');
  for (const [a, us] of [...area].sort((x, y) => y[1] - x[1])) {
    const inside = [...fnByArea.get(a)]
      .sort((x, y) => y[1] - x[1])
      .slice(0, 3)
      .map(([k, v]) => `${k.split(' ')[0]} ${((100 * v) / busy).toFixed(1)}`);
    console.log(`${pct(us)}${perCall(us)}  ${a.padEnd(30)} ${inside.join(', ')}`);
  }
  console.log(`-- top ${top} functions by self time`);
  for (const [k, us] of [...fn].sort((x, y) => y[1] - x[1]).slice(0, top)) console.log(`${pct(us)}  ${k}`);
}
