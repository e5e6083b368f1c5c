/**
 * Shared set-up for the call-control integration tests (transfer, three-way, supervisor): a consumer
 * behind the demo trunk reaches an agent's seat through 12315 → key 1 → complaint queue, with every
 * party a real baresip playing its own tone.
 */
import path from 'node:path';
import { expect } from 'vitest';
import { startBaresip, makeToneWav, type AnswerMode, type Baresip } from '../helpers/baresip.js';
import { readWav, toneShareOf } from '../helpers/audio.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeTempDir, removeTempDir, sleep, waitUntil } from '../helpers/tmp.js';
import { apiFor, type Api } from '../helpers/api.js';

export { apiFor, login, type Api } from '../helpers/api.js';

/**
 * Server overrides for these tests: the 2-core test box runs many suites at once, and admission
 * control would shed our calls for the box's load, which is not what these tests are about.
 */
export const CALM_ADMISSION = { admission: { maxLagMs: 60_000, maxCpuCores: 64 } };

/** Monday 10:00 Beijing: the 12315 flow is open and routes key 1 to the complaint queue. */
export const OPEN = new Date('2026-11-30T02:00:00Z');

/** A file's server (open hours, calm admission), its temp dir for tone WAVs and recordings, and its API client. */
export interface PeerServer {
  ts: TestServer;
  dir: string;
  api: Api;
}

export async function startPeerServer(dirPrefix: string): Promise<PeerServer> {
  const ts = await startTestServer({}, { wallClock: () => OPEN, ops: CALM_ADMISSION });
  return { ts, dir: makeTempDir(dirPrefix), api: apiFor(ts) };
}

/** Safe on a server that never started (its beforeAll failed). */
export async function stopPeerServer(p: Partial<PeerServer>): Promise<void> {
  await p.ts?.stop();
  if (p.dir) removeTempDir(p.dir);
}

/** A registered device (seat or station) playing `hz`. */
export async function device(
  ts: TestServer,
  dir: string,
  ext: string,
  hz: number,
  answermode: AnswerMode = 'auto',
): Promise<Baresip> {
  const b = await startBaresip({
    name: `dev${ext}`,
    account: { user: ext, password: `demo${ext}`, registrar: ts.sipTarget, transport: 'udp', answermode, regint: 300 },
    audioSourceWav: makeToneWav(path.join(dir, `tone-${ext}-${hz}.wav`), hz, 120),
  });
  await b.waitRegistered(10_000);
  return b;
}

/** A consumer phone behind the demo trunk (calls from 127.0.0.1, no registration). */
export async function consumer(dir: string, name: string, hz: number): Promise<Baresip> {
  return startBaresip({
    name,
    account: { user: '13800138000', transport: 'udp', answermode: 'manual' },
    audioSourceWav: makeToneWav(path.join(dir, `${name}.wav`), hz, 120),
  });
}

/** Logs the agent in at `seat`; ready or not. Returns the 工号. */
export async function agentAt(api: Api, token: string, seat: string, ready: boolean): Promise<string> {
  const r = await api<{ agentId: string }>('POST', '/api/agents/me/login', token, { seat });
  expect(r.status).toBe(200);
  if (ready) expect((await api('PUT', '/api/agents/me/state', token, { state: 'ready' })).status).toBe(200);
  return r.body.agentId;
}

/** Consumer → 12315 → key 1 → the ready agent's seat answers. Returns the call id and when the seat answered. */
export async function reachAgent(
  ts: TestServer,
  api: Api,
  agentToken: string,
  c: Baresip,
  seat: Baresip,
): Promise<{ callId: string }> {
  const since = seat.events.length;
  await c.dial(`sip:12315@${ts.sipTarget}`);
  await c.waitEvent('CALL_ESTABLISHED', undefined, 10_000).catch((err: unknown) => {
    const closed = c.events.find((e) => e.type === 'CALL_CLOSED');
    throw new Error(`${(err as Error).message}; closed: ${closed?.param ?? '-'}`);
  });
  await sleep(1500);
  await c.sendDtmf('1');
  await seat.waitEvent('CALL_ESTABLISHED', undefined, 20_000, since);
  let callId: string | null = null;
  await waitUntil(
    async () => {
      const me = await api<{ currentCallId: string | null }>('GET', '/api/agents/me', agentToken);
      callId = me.body.currentCallId;
      return callId !== null;
    },
    5000,
    'agent on the call',
  );
  return { callId: callId! };
}

/** Tone shares of a party's last received recording in 0.5 s windows: [{t, s: {hz: share}}]. */
export function timeline(
  b: Baresip,
  hzs: number[] = [600, 1000, 1400],
  /** Which call: -1 the last, -2 the one before. */
  nth = -1,
): Array<{ t: number; s: Record<number, number> }> {
  const w = readWav(b.recordings().dec.at(nth)!);
  const step = w.rate / 2;
  const out: Array<{ t: number; s: Record<number, number> }> = [];
  for (let i = 0; i + step <= w.samples.length; i += step) {
    const part = w.samples.subarray(i, i + step);
    out.push({ t: i / w.rate, s: Object.fromEntries(hzs.map((h) => [h, toneShareOf(part, w.rate, h)])) });
  }
  return out;
}

/**
 * The phases of a recording, found from the audio itself (wall-clock offsets drift on a loaded box):
 * `during` = the longest run of windows matching `inPhase` without its two edge windows; `before`/`after` = up to `n` windows just
 * outside it (one boundary window skipped each side).
 */
export function phases(
  tl: ReturnType<typeof timeline>,
  inPhase: (s: Record<number, number>) => boolean,
  n = 4,
): { during: typeof tl; before: typeof tl; after: typeof tl } {
  let best: [number, number] = [0, 0];
  for (let i = 0; i < tl.length;) {
    if (!inPhase(tl[i]!.s)) {
      i++;
      continue;
    }
    let j = i;
    while (j < tl.length && inPhase(tl[j]!.s)) j++;
    if (j - i > best[1] - best[0]) best = [i, j];
    i = j;
  }
  const [a, z] = best;
  return {
    // The run's first and last windows straddle the change: left out.
    during: tl.slice(a + 1, Math.max(a + 1, z - 1)),
    before: tl.slice(Math.max(0, a - 1 - n), Math.max(0, a - 1)),
    after: tl.slice(z + 1, z + 1 + n),
  };
}

export const maxOf = (ws: ReturnType<typeof timeline>, hz: number): number => Math.max(...ws.map((w) => w.s[hz]!));
export const minOf = (ws: ReturnType<typeof timeline>, hz: number): number => Math.min(...ws.map((w) => w.s[hz]!));
