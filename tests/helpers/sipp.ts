/**
 * SIPp (3.6.1, Debian `sip-tester`) as a typed test peer.
 *
 * Every run is pinned to loopback (`-i 127.0.0.1 -mi 127.0.0.1`), runs without a TTY (`-nostdin`) in its
 * own temp working directory (traces land there under fixed names via -stf/-error_file/-message_file,
 * not the pid-based defaults), and is killed if it overruns `timeoutMs`.
 *
 * Exit codes (SIPp docs): 0 all calls OK, 1 at least one call failed, 97 internal exit,
 * 99 no call processed, 255/254 fatal or bind error.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  freeUdpPort,
  freeTcpPort,
  isPortBoundBy,
  PORT_RACE_ATTEMPTS,
  retryLostPortRace,
  rtpPortRange,
  LOOPBACK,
} from './ports.js';
import { makeTempDir, removeTempDir, trackChild, waitUntil } from './tmp.js';

export const SIPP_SCENARIOS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../sipp/scenarios');
/** Pcaps shipped with Debian's sip-tester (g711a.pcap, dtmf_2833_*.pcap). */
export const SIPP_PCAP_DIR = '/usr/share/sip-tester';

/** Absolute path of one of our scenarios in tests/sipp/scenarios (`'options'` or `'options.xml'`). */
export function scenarioPath(name: string): string {
  return path.join(SIPP_SCENARIOS_DIR, name.endsWith('.xml') ? name : `${name}.xml`);
}

export type SippTransport = 'u1' | 't1';

export interface SippCommon {
  /** A scenario file path (contains '/' or ends with .xml) or a SIPp built-in name (uac, uas, regexp …). */
  scenario: string;
  transport?: SippTransport;
  /** Local SIP port; a free one is picked when absent. */
  localPort?: number;
  /** Media base port (`-mp`); a free RTP range is reserved when absent. */
  mediaPort?: number;
  /** `-s`: user part of the request URI ([service]). */
  service?: string;
  /** Digest credentials for `[authentication]` (`-au`/`-ap`). */
  auth?: { user: string; password: string };
  /** `-inf` CSV (first line SEQUENTIAL/RANDOM/USER; fields as [field0] …). */
  injectionCsv?: string;
  /** Write the full SIP trace to messages.log (`-trace_msg`). */
  traceMsg?: boolean;
  extraArgs?: string[];
  /** Working directory (rtp_stream files are relative to it). A temp dir is made when absent. */
  cwd?: string;
}

export interface RunSippOptions extends SippCommon {
  /** 'host:port' of the peer. */
  target: string;
  /** `-m`: stop after this many calls. */
  calls?: number;
  /** `-r`: calls per second. */
  rate?: number;
  /** `-users`: keep this many calls in flight instead of a rate. */
  users?: number;
  /** Hard kill after this long. */
  timeoutMs: number;
}

export interface SippResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** True when SIPp was killed by our timeout. */
  timedOut: boolean;
  successful: number;
  failed: number;
  stdout: string;
  stderr: string;
  /** Final row of the -trace_stat CSV, by column name; null if SIPp wrote none. */
  stats: Record<string, string> | null;
  /** Every row of the -trace_stat CSV. */
  statRows: Array<Record<string, string>>;
  /**
   * Final row of the -trace_counts CSV: per scenario step `<index>_<msg>_<Sent|Recv|Retrans|Timeout|Unexp|Lost>`,
   * e.g. `6_200_Retrans` = retransmissions of the 200 received at step 6. Empty if none was written.
   */
  counts: Record<string, number>;
  /**
   * Contents of the -trace_err log (unexpected messages, retransmission failures …), '' if none. SIPp's reports of
   * its own starvation ("Overload warning: the minor watchdog timer … has been tripped", on a loaded test box) are
   * not errors of the peer under test: they are counted in `watchdogTrips` and left out here.
   */
  errors: string;
  /** How many times SIPp said its own main loop was late (the watchdog lines left out of `errors`). */
  watchdogTrips: number;
  /** -trace_msg log when `traceMsg` was set, else ''. */
  messages: string;
  /** Working dir (a temp dir made by the helper is removed afterwards unless KEEP_PEER_DIRS=1). */
  dir: string;
  localPort: number;
  mediaPort: number;
  args: string[];
}

/** Parses SIPp's `;`-separated -trace_stat CSV into rows keyed by column name. */
export function parseSippStatCsv(text: string): Array<Record<string, string>> {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = lines[0]?.split(';');
  if (!header) return [];
  return lines.slice(1).map((line) => {
    const cells = line.split(';');
    const row: Record<string, string> = {};
    header.forEach((h, i) => {
      if (h !== '') row[h] = cells[i] ?? '';
    });
    return row;
  });
}

/** Numeric value of a stat column (0 when absent). */
export function statNumber(stats: Record<string, string> | null, column: string): number {
  const v = Number(stats?.[column] ?? '0');
  return Number.isFinite(v) ? v : 0;
}

function scenarioArgs(scenario: string): string[] {
  return scenario.includes('/') || scenario.endsWith('.xml') ? ['-sf', scenario] : ['-sn', scenario];
}

let runCounter = 0;

interface Prepared {
  args: string[];
  dir: string;
  files: { stat: string; errors: string; messages: string };
  ownDir: boolean;
  localPort: number;
  mediaPort: number;
}

async function prepare(o: SippCommon, role: string): Promise<Prepared> {
  const transport = o.transport ?? 'u1';
  const localPort = o.localPort ?? (transport === 't1' ? await freeTcpPort() : await freeUdpPort());
  // SIPp uses mp, mp+2 (echo) and mp + 4·(call−1) for [auto_media_port]: reserve a range.
  const mediaPort = o.mediaPort ?? (await rtpPortRange(200)).start;
  const dir = o.cwd ?? makeTempDir(`sipp-${role}`);
  // Unique trace names, so a UAS and a UAC (or several runs) can share one cwd.
  const tag = `${role}-${process.pid}-${++runCounter}`;
  const files = {
    stat: path.join(dir, `${tag}-stat.csv`),
    errors: path.join(dir, `${tag}-errors.log`),
    messages: path.join(dir, `${tag}-messages.log`),
  };
  const args = [
    ...scenarioArgs(o.scenario),
    '-i',
    LOOPBACK,
    '-mi',
    LOOPBACK,
    '-p',
    String(localPort),
    '-mp',
    String(mediaPort),
    '-t',
    transport,
    '-nostdin',
    '-trace_stat',
    '-fd',
    '1',
    '-stf',
    files.stat,
    '-trace_err',
    '-error_file',
    files.errors,
    // No file-name option for counts in 3.6.1: it is <scenario>_<pid>_counts.csv in the cwd.
    '-trace_counts',
  ];
  if (o.traceMsg) args.push('-trace_msg', '-message_file', files.messages);
  if (o.service !== undefined) args.push('-s', o.service);
  if (o.auth) args.push('-au', o.auth.user, '-ap', o.auth.password);
  if (o.injectionCsv) args.push('-inf', o.injectionCsv);
  args.push(...(o.extraArgs ?? []));
  return { args, dir, files, ownDir: o.cwd === undefined, localPort, mediaPort };
}

const readIf = (f: string): string => (existsSync(f) ? readFileSync(f, 'utf8') : '');

interface Running {
  child: ChildProcess;
  done: Promise<SippResult>;
  timedOut: () => boolean;
  kill: (sig: NodeJS.Signals) => void;
}

function launch(p: Prepared, timeoutMs: number): Running {
  const child = spawn('sipp', p.args, { cwd: p.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout!.setEncoding('latin1').on('data', (d: string) => {
    // The periodic screen is rewritten every second; keep only the tail so a long run stays small.
    stdout = (stdout + d).slice(-200_000);
  });
  child.stderr!.setEncoding('latin1').on('data', (d: string) => (stderr = (stderr + d).slice(-200_000)));
  const kill = (sig: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    kill('SIGKILL');
  }, timeoutMs);
  const done = new Promise<SippResult>((resolve) => {
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      const statRows = parseSippStatCsv(readIf(p.files.stat));
      const stats = statRows.at(-1) ?? null;
      const countsFile = readdirSync(p.dir).find((f) => f.endsWith(`_${child.pid}_counts.csv`));
      const countRow = countsFile ? parseSippStatCsv(readIf(path.join(p.dir, countsFile))).at(-1) : undefined;
      const counts: Record<string, number> = {};
      for (const [k, v] of Object.entries(countRow ?? {})) if (/^\d+_/.test(k)) counts[k] = Number(v);
      resolve({
        exitCode,
        signal,
        timedOut,
        successful: statNumber(stats, 'SuccessfulCall(C)'),
        failed: statNumber(stats, 'FailedCall(C)'),
        stdout,
        stderr,
        stats,
        statRows,
        counts,
        ...splitWatchdog(readIf(p.files.errors)),
        messages: readIf(p.files.messages),
        dir: p.dir,
        localPort: p.localPort,
        mediaPort: p.mediaPort,
        args: p.args,
      });
    };
    child.once('error', (err) => {
      stderr += `\nspawn error: ${err.message}`;
      finish(null, null);
    });
    child.once('close', finish);
  });
  return { child, done, timedOut: () => timedOut, kill };
}

/** Runs a SIPp client to completion (or until `timeoutMs`, then SIGKILL) and collects its results. */
export async function runSipp(o: RunSippOptions): Promise<SippResult> {
  for (let attempt = 1; ; attempt++) {
    const p = await prepare(o, 'uac');
    p.args.splice(0, 0, o.target);
    p.args.push('-m', String(o.calls ?? 1));
    if (o.users !== undefined) p.args.push('-users', String(o.users));
    else p.args.push('-r', String(o.rate ?? 10));
    const res = await launch(p, o.timeoutMs).done;
    // Everything useful has been read into the result; the dir survives only with KEEP_PEER_DIRS=1.
    if (p.ownDir) removeTempDir(p.dir);
    if (attempt < PORT_RACE_ATTEMPTS && portsWerePicked(o) && lostPortRace(res)) continue;
    return res;
  }
}

/**
 * A port picked by bind-0-then-close can be taken by another process before SIPp binds it (test files
 * run side by side in one namespace). SIPp then exits at once, before sending anything, so starting it
 * again on fresh ports is safe. Ports the caller chose are never swapped.
 */
const portsWerePicked = (o: SippCommon): boolean => o.localPort === undefined && o.mediaPort === undefined;
export function lostPortRace(res: Pick<SippResult, 'exitCode' | 'stderr' | 'stdout'>): boolean {
  return res.exitCode !== 0 && /Unable to bind [^\n]*errno = 98/.test(res.stderr + res.stdout);
}

export interface StartSippUasOptions extends SippCommon {
  /** `-m`: exit by itself after this many calls. */
  calls?: number;
  /** `-rtp_echo`: echo RTP received on mediaPort (and +2). */
  rtpEcho?: boolean;
  /** Hard kill after this long (default 120 s) so a forgotten UAS cannot outlive the test run. */
  maxLifetimeMs?: number;
}

export interface SippUas {
  port: number;
  mediaPort: number;
  /** 'host:port' to give to a client. */
  target: string;
  dir: string;
  /** Resolves when SIPp exits (by itself with `calls`, or after stop()). */
  done: Promise<SippResult>;
  /** Soft stop (SIGUSR1: finish calls, write stats), SIGKILL after `graceMs`. Idempotent. */
  stop(graceMs?: number): Promise<SippResult>;
}

/** Starts a background SIPp server and resolves once its SIP port is bound. */
export function startSippUas(o: StartSippUasOptions): Promise<SippUas> {
  return retryLostPortRace(
    () => startSippUasOnce(o),
    (err) => portsWerePicked(o) && err instanceof SippStartError && lostPortRace(err.result),
  );
}

class SippStartError extends Error {
  constructor(readonly result: SippResult) {
    super(`sipp UAS exited at start (code ${result.exitCode}): ${result.stderr || result.stdout.slice(-2000)}`);
  }
}

async function startSippUasOnce(o: StartSippUasOptions): Promise<SippUas> {
  const p = await prepare(o, 'uas');
  if (o.calls !== undefined) p.args.push('-m', String(o.calls));
  if (o.rtpEcho) p.args.push('-rtp_echo');
  const r = launch(p, o.maxLifetimeMs ?? 120_000);
  let exited = false;
  void r.done.then(() => (exited = true));
  const proto = (o.transport ?? 'u1') === 't1' ? 'tcp' : 'udp';
  try {
    await waitUntil(
      async () => exited || isPortBoundBy(r.child.pid!, p.localPort, proto),
      5_000,
      `sipp UAS on ${p.localPort}`,
    );
  } catch (err) {
    r.kill('SIGKILL');
    throw err;
  }
  if (exited) {
    const res = await r.done;
    if (p.ownDir) removeTempDir(p.dir);
    throw new SippStartError(res);
  }
  let stopping: Promise<SippResult> | null = null;
  const cleanupDir = () => {
    if (p.ownDir) removeTempDir(p.dir);
  };
  return {
    port: p.localPort,
    mediaPort: p.mediaPort,
    target: `${LOOPBACK}:${p.localPort}`,
    dir: p.dir,
    done: r.done,
    stop(graceMs = 2_000) {
      if (!stopping) {
        r.kill('SIGUSR1');
        const t = setTimeout(() => r.kill('SIGKILL'), graceMs);
        stopping = r.done.then((res) => {
          clearTimeout(t);
          cleanupDir();
          return res;
        });
      }
      return stopping;
    },
  };
}

/** Splits SIPp's watchdog self-reports out of its error log; an error log of only those is ''. */
export function splitWatchdog(log: string): { errors: string; watchdogTrips: number } {
  const watchdog = /Overload warning: the (minor|major) watchdog timer/;
  const lines = log.split('\n');
  const trips = lines.filter((l) => watchdog.test(l)).length;
  const rest = lines.filter(
    (l) => !watchdog.test(l) && l.trim() !== '' && l.trim() !== 'The following events occurred:',
  );
  return { errors: rest.length === 0 ? '' : log, watchdogTrips: trips };
}
