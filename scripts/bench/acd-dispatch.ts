/**
 * ACD dispatch latency through the pure dispatcher (in-process, no SIP):
 *  A. enqueue → ringAgent, while agents are free (the common case: the match runs inside enqueue);
 *  B. agent becomes ready (call ended, no wrap-up) → ringAgent, while callers are queued (overload:
 *     the match has to sort the backlog), reported with the backlog size.
 * 100 agents in 2–3 of the 4 default queues (four different strategies, English by skill), simulated
 * time on a FakeClock, exponential handle times (mean 180 s), wall time measured with hrtime.
 *
 *   npx tsx scripts/bench/acd-dispatch.ts [calls=10000] [agents=100]
 */
import { Acd } from '../../server/acd/acd.js';
import type { CallControl, RingOutcome } from '../../server/acd/call-control.js';
import { DEFAULT_QUEUES } from '../../server/acd/queue.js';
import { FakeClock } from '../../server/util/clock.js';

const CALLS = Number(process.argv[2] ?? 10_000);
const AGENTS = Number(process.argv[3] ?? 100);
const MEAN_HANDLE_MS = 180_000;

let seed = 12315;
const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
const exp = (mean: number) => -Math.log(1 - rnd()) * mean;

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
const us = (ns: number) => (ns / 1000).toFixed(1);

async function run(label: string, load: number): Promise<void> {
  const clock = new FakeClock(0);
  let mark = 0n;
  let ringLatency: number[] | null = null;
  const immediate: number[] = [];
  const fromReady: Array<{ ns: number; backlog: number }> = [];
  const cc: CallControl = {
    ringAgent(): Promise<RingOutcome> {
      if (ringLatency && mark !== 0n) {
        ringLatency.push(Number(process.hrtime.bigint() - mark));
        mark = 0n;
      }
      return Promise.resolve('answered');
    },
    dialCallback: () => Promise.resolve('answered'),
    overflow: () => undefined,
    liveAgentCalls: () => [],
  };
  const acd = new Acd({ clock, callControl: cc, reconcileEveryMs: 0 });
  // Answered at once; the call ends after an exponential handle time from the answer, which frees the
  // agent (case B).
  acd.on('agent_state', (t) => {
    if (t.to !== 'on_call' || !t.callId) return;
    const callId = t.callId;
    clock.setTimeout(() => {
      const backlog = acd.entries().length;
      const sink: number[] = [];
      ringLatency = sink;
      mark = process.hrtime.bigint();
      acd.callEnded(callId);
      if (sink.length) fromReady.push({ ns: sink[0]!, backlog });
      mark = 0n;
      ringLatency = null;
    }, exp(MEAN_HANDLE_MS));
  });
  for (const q of DEFAULT_QUEUES) acd.upsertQueue({ ...q, wrapUpMs: 0, maxWaitMs: 0, maxSize: 0 });
  acd.upsertQueue({ ...acd.queueConfig('report')!, strategy: 'round_robin' });
  acd.upsertQueue({ ...acd.queueConfig('consultation')!, strategy: 'fewest_calls' });
  const queueIds = ['complaint', 'report', 'consultation', 'english'];
  for (let i = 0; i < AGENTS; i++) {
    const id = `A${String(i).padStart(3, '0')}`;
    const queues: Record<string, number> = {
      complaint: 1 + (i % 2),
      report: 1,
      consultation: 1 + (i % 3 === 0 ? 1 : 0),
    };
    const skills: Record<string, number> = {};
    if (i % 5 === 0) {
      queues.english = 1;
      skills.en = 1 + (Math.floor(i / 5) % 5);
    }
    acd.upsertAgent({ id, queues, skills });
    acd.login(id, String(8000 + i));
    acd.setReady(id);
  }

  const interArrival = MEAN_HANDLE_MS / (AGENTS * load);
  let queuedAtEnqueue = 0;
  for (let c = 0; c < CALLS; c++) {
    clock.advance(exp(interArrival)); // call-end timers fire in here
    const q = queueIds[c % 10 === 9 ? 3 : c % 3]!;
    const input = { callId: `c${c}`, queueId: q, skills: q === 'english' ? { en: 2 } : ({} as Record<string, number>) };
    ringLatency = immediate;
    mark = process.hrtime.bigint();
    const r = acd.enqueue(input);
    if (mark !== 0n) queuedAtEnqueue++; // nobody rang: the caller waits
    mark = 0n;
    ringLatency = null;
    if (!r.accepted) throw new Error('refused');
    await Promise.resolve();
    await Promise.resolve();
  }
  acd.close();
  const b = fromReady.map((x) => x.ns);
  const backlogs = fromReady.map((x) => x.backlog);
  console.log(
    `${label}: ${CALLS} calls, ${AGENTS} agents, offered load ${load}\n` +
      `  A enqueue→ringAgent (agent free, n=${immediate.length}): p50 ${us(pct(immediate, 50))} µs, p99 ${us(pct(immediate, 99))} µs, max ${us(Math.max(...immediate))} µs\n` +
      `  B ready→ringAgent (callers queued, n=${b.length}, backlog median ${pct(backlogs, 50)}, max ${Math.max(0, ...backlogs)}): ` +
      `p50 ${us(pct(b, 50))} µs, p99 ${us(pct(b, 99))} µs\n` +
      `  callers who had to wait: ${queuedAtEnqueue}`,
  );
}

await run('normal load', 0.8);
await run('overload', 1.15);
