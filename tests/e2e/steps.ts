/**
 * The steps the browser e2e tests share: a flows dir that queues every caller, the browser for a desktop
 * server, console capture, REST calls beside the UI, signing in on the desktop, and a consumer baresip
 * that dials 12315. Each step waits exactly as the tests did by hand, so a test reads as its scenario.
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { apiFor } from '../helpers/api.js';
import { makeToneWav, startBaresip, type Baresip } from '../helpers/baresip.js';
import type { TestBrowser } from '../helpers/browser.js';
import { makeTestFlowsDir } from '../helpers/ivr-flows.js';
import { removeTempDir, sleep } from '../helpers/tmp.js';
import type { DesktopServer } from './desktop-server.js';

/** The desktop's screenshots for the lead. */
export const SHOTS = path.resolve('.test-results/e2e');

/**
 * Server env for a test flow (ivr-flows/tests/<flow>.yaml) in a flows dir of its own; remove `dir` in
 * afterAll. `e2e-queue` queues every caller for 投诉 at once; `e2e-menu-queue` plays the welcome and
 * offers 1 = 投诉 first.
 */
export function testFlowEnv(flow: 'e2e-queue' | 'e2e-menu-queue'): {
  dir: string;
  env: { IVR_FLOWS_DIR: string; IVR_FLOW: string };
} {
  const dir = makeTestFlowsDir([`${flow}.yaml`]);
  return { dir, env: { IVR_FLOWS_DIR: dir, IVR_FLOW: flow } };
}

/**
 * The page's console and uncaught errors into `tb.consoleLines`: `[type] text` and `[pageerror] message`,
 * or `[tag type]` / `[tag pageerror]` when several pages share the browser.
 */
export function captureConsole(page: Page, tb: TestBrowser, tag?: string): void {
  const pre = tag ? `${tag} ` : '';
  page.on('console', (m) => tb.consoleLines.push(`[${pre}${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => tb.consoleLines.push(`[${pre}pageerror] ${e.message}`));
}

/** tests/helpers/api.ts's client with full URLs: the e2e steps know the server's address, not a server handle. */
const absoluteApi = apiFor({ httpUrl: '' });

/** A JSON request beside the UI: status and parsed body, whatever the status. */
export async function rest<T>(
  url: string,
  method: string,
  token: string | null,
  body?: unknown,
): Promise<{ status: number; data: T }> {
  const r = await absoluteApi<T>(method, url, token, body);
  return { status: r.status, data: r.body };
}
/** As rest(), for requests that must succeed: the body, or an error naming the request and the answer. */
export async function restOk<T>(url: string, method: string, token: string | null, body?: unknown): Promise<T> {
  const r = await rest<T>(url, method, token, body);
  if (r.status < 200 || r.status > 299) throw new Error(`${method} ${url} → ${r.status} ${JSON.stringify(r.data)}`);
  return r.data;
}

/** A session token for `username` over REST (a second session beside the browser's). */
export async function loginToken(url: string, username: string, password: string): Promise<string> {
  return (await restOk<{ token: string }>(`${url}/api/auth/login`, 'POST', null, { username, password })).token;
}

/**
 * Opens `url + at` and logs in through the form (用户名 / 密码); done when the socket is connected
 * (`socketTimeoutMs`, else Playwright's default).
 */
export async function logIn(
  page: Page,
  url: string,
  user: string,
  password: string,
  o: { at?: string; socketTimeoutMs?: number } = {},
): Promise<void> {
  await page.goto(`${url}${o.at ?? '/'}`);
  await page.getByLabel('用户名').fill(user);
  await page.getByLabel('密码', { exact: true }).fill(password);
  await page.getByTestId('login-submit').click();
  await page
    .locator('[data-testid="socket-status"].socket-connected')
    .waitFor(o.socketTimeoutMs === undefined ? undefined : { timeout: o.socketTimeoutMs });
}

/** The seat form (座席分机 + SIP password); done when JsSIP has registered. */
export async function signInSeat(page: Page, extension: string, sipPassword: string): Promise<void> {
  await page.getByLabel('座席分机').fill(extension);
  await page.getByLabel('分机 SIP 密码').fill(sipPassword);
  await page.getByTestId('seat-submit').click();
  await page.locator('[data-testid="phone-status"].reg-registered').waitFor({ timeout: 15_000 });
}

/** Clicks 就绪; done when the desktop shows the ready state. */
export async function goReady(page: Page): Promise<void> {
  await page.getByTestId('go-ready').click();
  await page.locator('[data-testid="agent-state"][data-state="ready"]').waitFor();
}

export interface AgentSignIn {
  user: string;
  password: string;
  extension: string;
  sipPassword: string;
  /** Page path to open, default `/`. */
  at?: string;
  socketTimeoutMs?: number;
}

/** The demo agent at seat 8001. */
export const AGENT01: AgentSignIn = {
  user: 'agent01',
  password: 'agent12315',
  extension: '8001',
  sipPassword: 'demo8001',
};

/** Log in, sign in to the seat, go ready: an agent waiting for calls. */
export async function signInAgent(page: Page, url: string, a: AgentSignIn = AGENT01): Promise<void> {
  await logIn(page, url, a.user, a.password, { at: a.at, socketTimeoutMs: a.socketTimeoutMs });
  await signInSeat(page, a.extension, a.sipPassword);
  await goReady(page);
}

/** The server's UDP SIP port. */
export function udpSipPort(srv: DesktopServer): number {
  return srv.server.listening().sip.find((s) => s.transport === 'UDP')!.port;
}

export interface DialConsumerOptions {
  /** The consumer sends this tone (60 s, made as `<dir>/caller-<hz>.wav`); silence when absent. */
  tone?: { dir: string; hz: number };
  /** Keys pressed 1.5 s after the IVR answered (the menu's welcome is playing). */
  press?: string;
}

/**
 * A consumer (13812345678, auto answer) that dials 12315 on `sipPort` over UDP. With `press`, waits for the
 * IVR to answer (10 s) and sends the keys. The baresip is stopped when any of this fails.
 */
export async function dialConsumer(sipPort: number, o: DialConsumerOptions = {}): Promise<Baresip> {
  const caller = await startBaresip({
    name: 'consumer',
    account: { user: '13812345678', transport: 'udp', answermode: 'auto' },
    ...(o.tone ? { audioSourceWav: makeToneWav(path.join(o.tone.dir, `caller-${o.tone.hz}.wav`), o.tone.hz, 60) } : {}),
  });
  try {
    await caller.dial(`sip:12315@127.0.0.1:${sipPort}`);
    if (o.press !== undefined) {
      await caller.waitEvent('CALL_ESTABLISHED', undefined, 10_000);
      await sleep(1500);
      await caller.sendDtmf(o.press);
    }
    return caller;
  } catch (err) {
    await caller.stop();
    throw err;
  }
}

/**
 * The afterAll of an e2e suite: with E2E_DEBUG set the browser's console lines first, then the SIP peers,
 * the browser, the server and the temp dirs, each only if beforeAll got as far as making it.
 */
export async function tearDown(o: {
  tb?: TestBrowser;
  srv?: { close(): Promise<void> };
  peers?: (Baresip | null | undefined)[];
  dirs?: (string | undefined)[];
}): Promise<void> {
  if (process.env.E2E_DEBUG) console.log(o.tb?.consoleLines.join('\n'));
  for (const p of o.peers ?? []) await p?.stop();
  await o.tb?.close();
  await o.srv?.close();
  for (const d of o.dirs ?? []) if (d) removeTempDir(d);
}
