/**
 * Summarises a sampling heap profile (scripts/bench/heap-sampling.mjs): bytes allocated by function (self), by the
 * nearest frame in the server's own bundle (dist/server), and, with --callers NAME, who called NAME.
 *   node scripts/bench/heap-profile-summary.mjs /tmp/hotline.heapprofile [--top 25] [--callers parseVia]
 */
import fs from 'node:fs';

const argv = process.argv.slice(2);
const opt = (name, dflt) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : dflt);
const top = Number(opt('top', 25));
const callersOf = opt('callers', null);
const profile = JSON.parse(fs.readFileSync(argv[0], 'utf8'));

const frame = (f) =>
  `${f.functionName || '(anonymous)'} ${f.url.replace(/.*\/(dist|node_modules)\//, '$1/')}:${f.lineNumber}`;
const short = (f) => `${f.functionName || '(anonymous)'}:${f.lineNumber}`;
const self = new Map();
const ours = new Map();
const callers = new Map();
let total = 0;
const add = (m, k, v) => m.set(k, (m.get(k) ?? 0) + v);
const subtree = (n) => n.selfSize + n.children.reduce((a, c) => a + subtree(c), 0);

function walk(n, stack) {
  const here = [...stack, n.callFrame];
  total += n.selfSize;
  add(self, frame(n.callFrame), n.selfSize);
  if (n.selfSize) {
    const own = [...here].reverse().find((f) => f.url.includes('dist/server')) ?? n.callFrame;
    add(ours, frame(own), n.selfSize);
  }
  if (callersOf && n.callFrame.functionName === callersOf) {
    add(callers, stack.slice(-3).reverse().map(short).join(' < '), subtree(n));
    return;
  }
  for (const c of n.children) walk(c, here);
}
walk(profile.head, []);

const print = (title, m) => {
  console.log(`--- ${title}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${(v / 1e6).toFixed(2).padStart(8)} MB ${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`);
};
console.log(`sampled allocations: ${(total / 1e6).toFixed(1)} MB`);
print('by function (self)', self);
print('by nearest server frame', ours);
if (callersOf) print(`callers of ${callersOf} (3 frames up, with what it allocated below it)`, callers);
