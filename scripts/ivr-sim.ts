/**
 * Text-mode IVR simulator.
 *
 *   npx tsx scripts/ivr-sim.ts ivr-flows/12315.yaml [--at 2026-11-30T10:00+08:00] [--caller 13800138000]
 *       [--holiday 2026-10-01]... [--workday 2026-10-10]... [--case 20261120000015:processing:2026-11-20]...
 *       [--queue connected|closed|full|timeout] [--survey] [--keys "1,,4,20261120000015#"]
 *
 * Each line you type is key presses (`4`, `20261120000015#`); an empty line is silence (the pending timeout
 * fires); `h` hangs up. `--keys` gives the lines up front, comma-separated, for scripted runs.
 */
import readline from 'node:readline';
import { IVR_CASE_STATUS_CODES, type IvrCaseStatus, type IvrCaseStatusCode } from '../server/ivr/port.js';
import { simulate } from '../server/ivr/sim.js';

const argv = process.argv.slice(2);
const all = (k: string) => argv.flatMap((a, i) => (a === k && argv[i + 1] !== undefined ? [argv[i + 1]!] : []));
const one = (k: string) => all(k)[0];
const VALUED = new Set(['--at', '--caller', '--holiday', '--workday', '--case', '--queue', '--keys']);
const flow = argv.find((a, i) => !a.startsWith('--') && !VALUED.has(argv[i - 1] ?? ''));
if (!flow) {
  process.stderr.write('usage: ivr-sim <flow.yaml> [--at ISO] [--keys "1,,4"] … (see scripts/ivr-sim.ts)\n');
  process.exit(2);
}

const cases: Record<string, IvrCaseStatus> = {
  '20261120000015': { caseId: 'C-2026-00015', status: 'processing', acceptedOn: '2026-11-20', updatedOn: '2026-11-25' },
};
for (const c of all('--case')) {
  const [num, status, date] = c.split(':');
  if (!num || !IVR_CASE_STATUS_CODES.includes(status as IvrCaseStatusCode)) {
    process.stderr.write(`--case NUMBER:STATUS[:YYYY-MM-DD], STATUS one of ${IVR_CASE_STATUS_CODES.join(', ')}\n`);
    process.exit(2);
  }
  const day = date ?? '2026-11-20';
  cases[num] = { caseId: `C-${num}`, status: status as IvrCaseStatusCode, acceptedOn: day, updatedOn: day };
}

const at = new Date(one('--at') ?? Date.now());
if (Number.isNaN(at.getTime())) {
  process.stderr.write('--at must be an ISO date-time, e.g. 2026-11-30T10:00+08:00\n');
  process.exit(2);
}

let input: () => Promise<string | null>;
const scripted = one('--keys');
let rl: readline.Interface | null = null;
if (scripted !== undefined) {
  const lines = scripted.split(',');
  input = async () => (lines.length > 0 ? lines.shift()! : null);
} else {
  rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  const queue: string[] = [];
  let waiting: ((l: string | null) => void) | null = null;
  let closed = false;
  rl.on('line', (l) => (waiting ? (waiting(l), (waiting = null)) : queue.push(l)));
  rl.on('close', () => {
    closed = true;
    waiting?.(null);
  });
  input = () =>
    queue.length > 0
      ? Promise.resolve(queue.shift()!)
      : closed
        ? Promise.resolve(null)
        : new Promise((resolve) => {
            process.stdout.write('按键 keys> ');
            waiting = resolve;
          });
}

const queueResult = (one('--queue') ?? 'connected') as 'connected' | 'closed' | 'full' | 'timeout';
simulate({
  flow,
  at,
  caller: one('--caller') ?? '13800138000',
  holidays: all('--holiday'),
  makeupWorkdays: all('--workday'),
  cases,
  queueResult,
  survey: argv.includes('--survey'),
  out: (l) => process.stdout.write(l + '\n'),
  input,
})
  .then((r) => {
    rl?.close();
    process.exit(r.outcome === 'error' ? 1 : 0);
  })
  .catch((e: Error) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  });
