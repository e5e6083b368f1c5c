/**
 * Real-time scheduling for the media clock's thread (opt-in: MEDIA_RT_PRIORITY / realtimePriority), and its CPU
 * affinity (opt-in: MEDIA_CPUS / cpus).
 *
 * Why: on a shared box the pacing error is mostly the wait for a CPU after each wake-up (measured: tick lateness
 * p99 of several ms with the engine itself nearly idle while other processes kept both cores busy). SCHED_FIFO
 * lets the thread preempt ordinary tasks the moment its timer fires; Asterisk does the same with `asterisk -p`.
 * The thread blocks between ticks, and the kernel's RT throttling (sched_rt_runtime_us) keeps 5 % for others.
 * Node has no thread-priority API, so the thread names itself via /proc/thread-self and asks chrt(1); that needs
 * root or CAP_SYS_NICE, and failure is reported, never fatal.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';

/** Puts the calling thread under SCHED_FIFO at `priority` (1–99). Returns null on success, else why not. */
export function raiseThisThread(priority: number): string | null {
  if (!Number.isInteger(priority) || priority < 1 || priority > 99) return `invalid priority ${priority}`;
  return runOnThisThread('chrt', ['-f', '-p', String(priority)]);
}

/** Keeps the calling thread on `cpus` (a taskset list such as "1" or "0,2-3"). Returns null on success, else why not. */
export function pinThisThread(cpus: string): string | null {
  if (!isCpuList(cpus)) return `invalid CPU list ${JSON.stringify(cpus)}`;
  return runOnThisThread('taskset', ['-p', '-c', cpus]);
}

/** taskset's list syntax: "1", "0,2", "2-3". */
export function isCpuList(s: string): boolean {
  return /^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(s);
}

/** "0,2-3" → [0, 2, 3] (a list that passed isCpuList). */
export function parseCpuList(s: string): number[] {
  const out: number[] = [];
  for (const part of s.split(',')) {
    const [lo, hi = lo] = part.split('-').map(Number) as [number, number?];
    for (let c = lo; c <= hi!; c++) out.push(c);
  }
  return out;
}

/** The CPUs a task may run on, from its /proc status file ("" if the file has no such line). */
export function cpuListOf(statusFile: string): string {
  return /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(statusFile, 'utf8'))?.[1] ?? '';
}

/** The CPUs of `allowed` that are not in `media`, as a taskset list ("" when none is left). */
export function cpusBeside(allowed: string, media: string): string {
  const taken = new Set(parseCpuList(media));
  return parseCpuList(allowed)
    .filter((c) => !taken.has(c))
    .join(',');
}

/**
 * Moves every thread of this process off the media CPUs, onto the others it may use. Called by the server's entry
 * before the media worker starts: threads made later (the media worker and ticker, which then pin themselves;
 * libuv's pool) inherit the rest. Returns null on success, else why not.
 */
export function keepProcessBesideMedia(mediaCpus: string): string | null {
  if (!isCpuList(mediaCpus)) return `invalid CPU list ${JSON.stringify(mediaCpus)}`;
  let allowed: string;
  try {
    allowed = cpuListOf('/proc/self/status');
  } catch (err) {
    return `no /proc/self/status: ${(err as Error).message}`;
  }
  if (!isCpuList(allowed)) return `unreadable CPU list ${JSON.stringify(allowed)}`;
  const rest = cpusBeside(allowed, mediaCpus);
  if (!rest) return `no CPU left beside ${mediaCpus} (this process may use ${allowed})`;
  return run('taskset', ['-a', '-p', '-c', rest, String(process.pid)]);
}

/** `cmd args… <this thread's id>` (chrt, taskset): null on success, else why not. */
function runOnThisThread(cmd: string, args: string[]): string | null {
  let tid: string;
  try {
    tid = readlinkSync('/proc/thread-self').split('/').pop()!;
  } catch (err) {
    return `no /proc/thread-self: ${(err as Error).message}`;
  }
  return run(cmd, [...args, tid]);
}

function run(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) return r.error.message;
  if (r.status !== 0) return (r.stderr || `${cmd} exited ${r.status}`).trim();
  return null;
}

/**
 * The same for a thread that runs plain JS from a string (the ticker): source of `raise(priority)` and `pin(cpus)`,
 * given already-checked arguments.
 */
export const RAISE_SRC = `function runOnThisThread(cmd, args) {
  try {
    const tid = require('node:fs').readlinkSync('/proc/thread-self').split('/').pop();
    const r = require('node:child_process').spawnSync(cmd, [...args, tid], { encoding: 'utf8' });
    return r.status === 0 ? null : (r.error ? r.error.message : String(r.stderr).trim());
  } catch (e) { return String(e && e.message); }
}
function raise(p) { return runOnThisThread('chrt', ['-f', '-p', String(p)]); }
function pin(cpus) { return runOnThisThread('taskset', ['-p', '-c', cpus]); }`;
