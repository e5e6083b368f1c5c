/**
 * baresip 1.0 (Debian `baresip-core`) as a scripted, headless softphone for tests.
 *
 * Each instance gets its own temp config dir with a loopback-only config (net_interface and
 * dns_server on 127.0.0.1, so it can never send SIP or DNS off the box), plays a WAV through the
 * `aufile` source, sends what it receives to ALSA's null PCM, records every call with `sndfile`
 * (`rec/dump-<time>-enc.wav` = what it sent, `-dec.wav` = what it received), and is driven over
 * `ctrl_tcp` (netstring-framed JSON: `<len>:<json>,`).
 *
 * Known baresip 1.0 behaviour to design tests around (see shared/research/sip-test-peers.md §3):
 * - At the end of the aufile WAV it hangs up the call. The WAV must outlast the call.
 * - aufile does not resample: the WAV must be 8 kHz mono S16 for G.711 (helpers/sox.ts).
 * - sndfile names files by the second: use one instance per party, one call at a time.
 * - It also opens a TLS listener on sip_listen port + 1 (TCP), so that port must be free too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  freeSipPort,
  freeTcpPort,
  isPortBoundBy,
  portOtherThan,
  retryLostPortRace,
  rtpPortRange,
  LOOPBACK,
  type PortRange,
} from './ports.js';
import { makeSilenceWav, makeToneWav } from './sox.js';
import { makeTempDir, removeTempDir, sleep, trackChild, waitUntil } from './tmp.js';

export { makeToneWav, makeSilenceWav } from './sox.js';

export type AnswerMode = 'auto' | 'manual' | 'early';

export interface BaresipAccount {
  /** User part of the AOR (and digest user unless `authUser` is set). */
  user: string;
  password?: string;
  authUser?: string;
  /** 'host:port' of the registrar. Without it the AOR is the instance's own address and it does not register. */
  registrar?: string;
  transport: 'udp' | 'tcp';
  answermode: AnswerMode;
  /** Registration interval in seconds (`regint`); default 60 with a registrar, else 0 (no REGISTER). */
  regint?: number;
  /** e.g. 'pcmu' or 'pcma,pcmu'; default: every loaded codec (g711: PCMU, PCMA). */
  audioCodecs?: string;
}

export interface StartBaresipOptions {
  /** Short name, used in the temp dir name and error messages. */
  name: string;
  /** SIP listen port (UDP+TCP; port+1 is taken by TLS). A free one is picked when absent. */
  sipPort?: number;
  account: BaresipAccount;
  /** 8 kHz mono S16 WAV to send. Default: 180 s of silence made in the dir. */
  audioSourceWav?: string;
  rtpPorts?: PortRange;
  /** Config/recording dir. A temp dir (removed by stop() unless KEEP_PEER_DIRS=1) when absent. */
  dir?: string;
  /** Extra config lines, e.g. ['jitter_buffer_delay 1-5']. */
  extraConfig?: string[];
  startTimeoutMs?: number;
}

export interface BaresipEvent {
  type: string;
  class?: string;
  accountaor?: string;
  direction?: string;
  peeruri?: string;
  /** Call-ID of the call, for call events. */
  id?: string;
  param?: string;
  /** Date.now() when the event arrived. */
  at: number;
  raw: Record<string, unknown>;
}

export interface BaresipResponse {
  ok: boolean;
  data: string;
  token: string;
}

export interface Baresip {
  readonly name: string;
  readonly sipPort: number;
  readonly ctrlPort: number;
  readonly dir: string;
  readonly rtpPorts: PortRange;
  /** The AOR line's URI, e.g. `sip:8001@127.0.0.1:5060;transport=udp`. */
  readonly aor: string;
  /** A URI that reaches this instance directly: `sip:<user>@127.0.0.1:<sipPort>[;transport=tcp]`. */
  readonly uri: string;
  /** ms from spawn until ctrl_tcp answered, the SIP port was bound and the account existed. */
  readonly startupMs: number;
  /** Every event received so far, oldest first. */
  readonly events: readonly BaresipEvent[];
  command(cmd: string, params?: string, timeoutMs?: number): Promise<BaresipResponse>;
  /**
   * The first event of `type` (matching `predicate`) at index ≥ `since` in `events`; waits for it if
   * it has not arrived yet. Pass `since = b.events.length` before an action to ignore older events.
   */
  waitEvent(
    type: string,
    predicate?: (e: BaresipEvent) => boolean,
    timeoutMs?: number,
    since?: number,
  ): Promise<BaresipEvent>;
  dial(uri: string): Promise<BaresipResponse>;
  /** Answers the current incoming call (answermode manual). */
  accept(): Promise<BaresipResponse>;
  hangup(): Promise<BaresipResponse>;
  /** RFC 4733 telephone-events (`sndcode`). */
  sendDtmf(digits: string): Promise<BaresipResponse>;
  waitRegistered(timeoutMs?: number): Promise<BaresipEvent>;
  waitRegisterFailed(timeoutMs?: number): Promise<BaresipEvent>;
  /** Recorded WAVs, sorted by name (= call start time). enc = sent audio, dec = received audio. */
  recordings(): { enc: string[]; dec: string[] };
  /** baresip's stdout+stderr so far. */
  log(): string;
  /** `quit` over ctrl_tcp, SIGKILL after `graceMs`; removes a temp dir. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
}

/** Builds the account line (baresip 1.0 syntax: `<sip:user@domain;uri-params>;addr-params`). */
export function accountLine(a: BaresipAccount, sipPort: number): string {
  const domain = a.registrar ?? `${LOOPBACK}:${sipPort}`;
  const regint = a.regint ?? (a.registrar ? 60 : 0);
  const params = [`answermode=${a.answermode}`, `regint=${regint}`];
  if (a.password !== undefined) params.push(`auth_pass=${a.password}`);
  if (a.authUser !== undefined) params.push(`auth_user=${a.authUser}`);
  if (a.audioCodecs) params.push(`audio_codecs=${a.audioCodecs}`);
  return `<sip:${a.user}@${domain};transport=${a.transport}>;${params.join(';')}`;
}

export function configText(o: {
  sipPort: number;
  ctrlPort: number;
  rtpPorts: PortRange;
  audioSourceWav: string;
  recDir: string;
  extraConfig?: string[];
}): string {
  return [
    '# generated by tests/helpers/baresip.ts: loopback only, headless',
    'poll_method\tepoll',
    `sip_listen\t${LOOPBACK}:${o.sipPort}`,
    'call_local_timeout\t120',
    'call_max_calls\t4',
    'audio_player\talsa,null',
    'audio_alert\talsa,null',
    `audio_source\taufile,${o.audioSourceWav}`,
    'ausrc_format\ts16',
    'auplay_format\ts16',
    'audio_buffer\t20-160',
    `rtp_ports\t${o.rtpPorts.start}-${o.rtpPorts.end}`,
    'rtp_stats\tyes',
    'rtcp_mux\tno',
    'jitter_buffer_delay\t5-10',
    // resolv.conf points off the box: any DNS lookup must fail locally instead.
    `dns_server\t${LOOPBACK}:53`,
    // `net_interface lo` fails in a bare namespace ("could not get network address").
    `net_interface\t${LOOPBACK}`,
    'module_path\t/usr/lib/baresip/modules',
    'module\tg711.so',
    'module\talsa.so',
    'module\taufile.so',
    'module\tsndfile.so',
    'module_tmp\taccount.so',
    'module_app\tmenu.so',
    'module_app\tctrl_tcp.so',
    `ctrl_tcp_listen\t${LOOPBACK}:${o.ctrlPort}`,
    `snd_path\t${o.recDir}`,
    // Otherwise a status line floods stdout once a second during calls.
    'statmode_default\toff',
    ...(o.extraConfig ?? []),
    '',
  ].join('\n');
}

/** Splits a netstring stream (`<len>:<payload>,`); returns the payloads and the unconsumed rest. */
export function parseNetstrings(buf: Buffer): { messages: string[]; rest: Buffer } {
  const messages: string[] = [];
  let rest = buf;
  for (;;) {
    const colon = rest.indexOf(0x3a);
    if (colon < 0) break;
    const len = Number(rest.subarray(0, colon).toString('latin1'));
    if (!Number.isInteger(len) || len < 0)
      throw new Error(`bad netstring length: ${rest.subarray(0, colon).toString()}`);
    if (rest.length < colon + 2 + len) break;
    messages.push(rest.subarray(colon + 1, colon + 1 + len).toString('utf8'));
    rest = rest.subarray(colon + 2 + len);
  }
  return { messages, rest };
}

export function netstring(s: string): string {
  return `${Buffer.byteLength(s)}:${s},`;
}

interface Waiter {
  type: string;
  predicate?: (e: BaresipEvent) => boolean;
  resolve: (e: BaresipEvent) => void;
}

/**
 * Starts baresip and resolves once its control socket answers, its SIP port is bound and the account exists.
 * A SIP port picked by bind-0-then-close can be taken by another process before baresip binds it (test
 * files run side by side in one namespace; CI saw "SIP Transport failed: Address already in use"). baresip
 * then exits before it sends anything, so it is started again on fresh ports. Ports the caller chose are
 * never swapped.
 */
export function startBaresip(o: StartBaresipOptions): Promise<Baresip> {
  const portsPicked = o.sipPort === undefined && o.rtpPorts === undefined;
  return retryLostPortRace(
    () => startBaresipOnce(o),
    (err) => portsPicked && err instanceof BaresipStartError && err.lostPortRace,
  );
}

/** baresip's start-up log when one of its listeners could not bind. */
export function lostBaresipPortRace(log: string): boolean {
  return /Address already in use/.test(log);
}

export class BaresipStartError extends Error {
  constructor(
    message: string,
    readonly lostPortRace: boolean,
  ) {
    super(message);
  }
}

async function startBaresipOnce(o: StartBaresipOptions): Promise<Baresip> {
  const t0 = Date.now();
  const ownDir = o.dir === undefined;
  const dir = o.dir ?? makeTempDir(`baresip-${o.name}`);
  const recDir = path.join(dir, 'rec');
  mkdirSync(recDir, { recursive: true });
  const sipPort = o.sipPort ?? (await freeSipPort({ alsoNext: true }));
  // baresip also listens on sipPort (UDP and TCP) and on sipPort + 1 (TLS).
  const ctrlPort = await portOtherThan([sipPort, sipPort + 1], freeTcpPort);
  const rtpPorts = o.rtpPorts ?? (await rtpPortRange(40));
  const audioSourceWav = o.audioSourceWav ?? makeSilenceWav(path.join(dir, 'silence.wav'), 180);
  writeFileSync(
    path.join(dir, 'config'),
    configText({ sipPort, ctrlPort, rtpPorts, audioSourceWav, recDir, extraConfig: o.extraConfig }),
  );
  // The account is created over ctrl_tcp once we are connected (uanew), not from this file: baresip
  // registers as soon as the UA exists, and a REGISTER_OK sent before we connect would be lost.
  writeFileSync(path.join(dir, 'accounts'), '');
  // Without these files baresip writes templates into the dir on first start; empty is enough.
  writeFileSync(path.join(dir, 'contacts'), '');

  const child: ChildProcess = spawn('baresip', ['-f', dir], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  let output = '';
  const append = (d: Buffer) => {
    output = (output + d.toString('utf8')).slice(-500_000);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('close', () => {
      exited = true;
      resolve();
    });
    child.once('error', (err) => {
      output += `\nspawn error: ${err.message}`;
      exited = true;
      resolve();
    });
  });

  const events: BaresipEvent[] = [];
  const waiters = new Set<Waiter>();
  const pending = new Map<string, (r: BaresipResponse) => void>();
  let tokenSeq = 0;
  let sock: net.Socket | null = null;
  let buf: Buffer = Buffer.alloc(0);

  const onMessage = (text: string) => {
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(text) as Record<string, unknown>;
    } catch {
      output += `\n[helper] unparsable ctrl_tcp message: ${text}`;
      return;
    }
    if (m.event === true) {
      const e: BaresipEvent = {
        type: String(m.type ?? ''),
        class: m.class as string | undefined,
        accountaor: m.accountaor as string | undefined,
        direction: m.direction as string | undefined,
        peeruri: m.peeruri as string | undefined,
        id: m.id as string | undefined,
        param: m.param as string | undefined,
        at: Date.now(),
        raw: m,
      };
      events.push(e);
      for (const w of [...waiters]) {
        if (w.type === e.type && (!w.predicate || w.predicate(e))) {
          waiters.delete(w);
          w.resolve(e);
        }
      }
    } else if (m.response === true) {
      const token = String(m.token ?? '');
      const r: BaresipResponse = { ok: m.ok === true, data: String(m.data ?? ''), token };
      pending.get(token)?.(r);
      pending.delete(token);
    }
  };

  const connect = () =>
    new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(ctrlPort, LOOPBACK);
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });

  const fail = async (why: string): Promise<never> => {
    child.kill('SIGKILL');
    await exitPromise;
    const log = output;
    if (ownDir) removeTempDir(dir);
    throw new BaresipStartError(
      `baresip ${o.name}: ${why}\n--- log ---\n${log.slice(-4000)}`,
      lostBaresipPortRace(log),
    );
  };

  const startTimeout = o.startTimeoutMs ?? 10_000;
  const deadline = Date.now() + startTimeout;
  while (!sock) {
    if (exited) return fail('exited during start-up');
    // A control listener that could not bind is logged, and baresip stays up without it.
    if (lostBaresipPortRace(output)) return fail('a listener could not bind');
    if (Date.now() > deadline) return fail(`ctrl_tcp not up after ${startTimeout} ms`);
    // Connect only once baresip itself listens there: a port picked by bind-0-then-close can be
    // taken by another process meanwhile, and talking to that one would be a confusing failure.
    if (!isPortBoundBy(child.pid!, ctrlPort, 'tcp')) {
      await sleep(20);
      continue;
    }
    try {
      sock = await connect();
    } catch {
      await sleep(20);
    }
  }
  const s = sock;
  s.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    const r = parseNetstrings(buf);
    buf = r.rest;
    for (const m of r.messages) onMessage(m);
  });
  // A broken control socket must not crash the test process; the log says what happened.
  s.on('error', (err) => (output += `\n[helper] ctrl_tcp error: ${err.message}`));
  try {
    await waitUntil(async () => exited || isPortBoundBy(child.pid!, sipPort, 'udp'), deadline - Date.now(), 'SIP port');
  } catch {
    s.destroy();
    return fail(`SIP port ${sipPort} not bound`);
  }
  if (exited) return fail('exited during start-up');

  const command = (cmd: string, params?: string, timeoutMs = 5_000): Promise<BaresipResponse> => {
    const token = `t${++tokenSeq}`;
    const msg = JSON.stringify(params === undefined ? { command: cmd, token } : { command: cmd, params, token });
    return new Promise<BaresipResponse>((resolve, reject) => {
      if (exited || s.destroyed) {
        reject(new Error(`baresip ${o.name}: not running (command ${cmd})`));
        return;
      }
      const timer = setTimeout(() => {
        pending.delete(token);
        reject(new Error(`baresip ${o.name}: no response to "${cmd}" in ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(token, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      s.write(netstring(msg));
    });
  };

  const waitEvent = (
    type: string,
    predicate?: (e: BaresipEvent) => boolean,
    timeoutMs = 5_000,
    since = 0,
  ): Promise<BaresipEvent> => {
    const seen = events.slice(since).find((e) => e.type === type && (!predicate || predicate(e)));
    if (seen) return Promise.resolve(seen);
    return new Promise<BaresipEvent>((resolve, reject) => {
      const w: Waiter = {
        type,
        predicate,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(w);
        const got = events.map((e) => e.type).join(', ');
        reject(new Error(`baresip ${o.name}: no ${type} event in ${timeoutMs} ms (events so far: ${got})`));
      }, timeoutMs);
      waiters.add(w);
    });
  };

  const line = accountLine(o.account, sipPort);
  const created = await command('uanew', line).catch((err: Error) => ({ ok: false, data: err.message, token: '' }));
  if (!created.ok) {
    s.destroy();
    return fail(`uanew failed: ${created.data}`);
  }
  const startupMs = Date.now() - t0;

  const transportParam = o.account.transport === 'tcp' ? ';transport=tcp' : '';
  let stopping: Promise<void> | null = null;

  return {
    name: o.name,
    sipPort,
    ctrlPort,
    dir,
    rtpPorts,
    aor: line.slice(1).split('>')[0]!,
    uri: `sip:${o.account.user}@${LOOPBACK}:${sipPort}${transportParam}`,
    startupMs,
    events,
    command,
    waitEvent,
    dial: (uri) => command('dial', uri),
    accept: () => command('accept'),
    hangup: () => command('hangup'),
    sendDtmf: (digits) => command('sndcode', digits),
    waitRegistered: (timeoutMs = 5_000) => waitEvent('REGISTER_OK', undefined, timeoutMs),
    waitRegisterFailed: (timeoutMs = 5_000) => waitEvent('REGISTER_FAIL', undefined, timeoutMs),
    recordings() {
      const files = existsSync(recDir) ? readdirSync(recDir).sort() : [];
      return {
        enc: files.filter((f) => f.endsWith('-enc.wav')).map((f) => path.join(recDir, f)),
        dec: files.filter((f) => f.endsWith('-dec.wav')).map((f) => path.join(recDir, f)),
      };
    },
    log: () => output,
    stop(graceMs = 2_000) {
      if (!stopping) {
        stopping = (async () => {
          if (!exited) {
            // quit lets baresip un-register and close the sndfile recordings cleanly.
            if (!s.destroyed) s.write(netstring(JSON.stringify({ command: 'quit', token: 'quit' })));
            const killTimer = setTimeout(() => child.kill('SIGKILL'), graceMs);
            await exitPromise;
            clearTimeout(killTimer);
          }
          s.destroy();
          for (const [, resolve] of pending) resolve({ ok: false, data: 'stopped', token: '' });
          pending.clear();
          if (ownDir) removeTempDir(dir);
        })();
      }
      return stopping;
    },
  };
}

/**
 * A seeded demo seat (password `demo<ext>`) as a desk phone: registered over UDP before it is returned.
 * With `tone` it sends that sine (a WAV made in `tone.dir`), else silence.
 */
export async function startDemoSeat(o: {
  sipTarget: string;
  ext: string;
  name?: string;
  tone?: { hz: number; dir: string };
  answermode?: AnswerMode;
  extraConfig?: string[];
}): Promise<Baresip> {
  const b = await startBaresip({
    name: o.name ?? `seat${o.ext}`,
    account: {
      user: o.ext,
      password: `demo${o.ext}`,
      registrar: o.sipTarget,
      transport: 'udp',
      answermode: o.answermode ?? 'auto',
      regint: 300,
    },
    audioSourceWav: o.tone
      ? makeToneWav(path.join(o.tone.dir, `tone-${o.ext}-${o.tone.hz}.wav`), o.tone.hz, 60)
      : undefined,
    extraConfig: o.extraConfig,
  });
  try {
    await b.waitRegistered(10_000);
  } catch (err) {
    await b.stop();
    throw err;
  }
  return b;
}
