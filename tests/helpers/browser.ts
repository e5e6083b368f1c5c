/**
 * Headless Debian Chromium for WebRTC tests, launched the way /work/shared/research/webrtc-jssip-werift.md
 * found to work on this machine: playwright-core over a debugging pipe with *our* flags only
 * (ignoreDefaultArgs: Playwright's own list adds --mute-audio and refuses --user-data-dir), a fresh profile
 * per launch, fake media (optionally a WAV as the microphone) and loopback ICE candidates allowed (without
 * that flag Chromium gathers nothing when only `lo` exists and JsSIP never sends its INVITE).
 *
 * Pages are served from agent-desktop/softphone-test through request interception on http://localhost, which
 * is a secure context (getUserMedia needs one) without any HTTP server.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { makeTempDir, removeTempDir } from './tmp.js';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SOFTPHONE_DIR = path.join(ROOT, 'agent-desktop/softphone-test');
export const SOFTPHONE_ORIGIN = 'http://localhost';
export const SOFTPHONE_URL = `${SOFTPHONE_ORIGIN}/softphone-test/index.html`;

export interface LaunchOptions {
  /** Absolute path of a WAV played as the fake microphone (a steady tone; the default fake mic beeps). */
  fakeAudioWav?: string;
  /** Extra switches, appended after ours. */
  extraArgs?: string[];
  /** Extra files served under http://localhost/ (URL path → absolute file path), e.g. the JsSIP bundle. */
  files?: Record<string, string>;
}

export interface TestBrowser {
  browser: Browser;
  context: BrowserContext;
  userDataDir: string;
  /** Opens the softphone test page (window.softphoneTest ready); console lines go to `consoleLines`. */
  openSoftphonePage(): Promise<Page>;
  consoleLines: string[];
  /** Milliseconds from spawn to a usable browser. */
  launchMs: number;
  /** Idempotent. */
  close(): Promise<void>;
}

export function chromiumArgs(userDataDir: string, fakeAudioWav?: string): string[] {
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    '--allow-loopback-in-peer-connection',
    // Remote audio must play for Chromium to decode it; no user gesture exists in a test.
    '--autoplay-policy=no-user-gesture-required',
    // The test page comes from request interception, so Chromium 156 cannot place its origin in the loopback
    // address space and blocks its ws://127.0.0.1 SIP socket (net::ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS).
    // The real agent desktop is served by the same server as /sip and is not affected.
    '--disable-features=LocalNetworkAccessChecks',
    `--user-data-dir=${userDataDir}`,
    '--remote-debugging-pipe',
  ];
  if (fakeAudioWav) {
    if (!path.isAbsolute(fakeAudioWav) || !existsSync(fakeAudioWav))
      throw new Error(`fake audio WAV must be an existing absolute path: ${fakeAudioWav}`);
    args.push(`--use-file-for-fake-audio-capture=${fakeAudioWav}`);
  }
  return args;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};

export async function launchChromium(o: LaunchOptions = {}): Promise<TestBrowser> {
  const userDataDir = makeTempDir('chromium-profile');
  const t0 = performance.now();
  let browser: Browser;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      ignoreDefaultArgs: true,
      headless: true,
      args: [...chromiumArgs(userDataDir, o.fakeAudioWav), ...(o.extraArgs ?? [])],
      timeout: 30_000,
    });
  } catch (err) {
    removeTempDir(userDataDir);
    throw err;
  }
  const context = await browser.newContext();
  const launchMs = Math.round(performance.now() - t0);
  const consoleLines: string[] = [];
  const files: Record<string, string> = { ...o.files };
  await context.route(`${SOFTPHONE_ORIGIN}/**`, async (route) => {
    const url = new URL(route.request().url());
    let file = files[url.pathname];
    if (!file && url.pathname.startsWith('/softphone-test/')) {
      const rel = path.normalize(url.pathname.slice('/softphone-test/'.length));
      if (!rel.startsWith('..')) file = path.join(SOFTPHONE_DIR, rel);
    }
    if (!file || !existsSync(file)) {
      await route.fulfill({ status: 404, body: 'not found' });
      return;
    }
    await route.fulfill({
      status: 200,
      contentType: CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
      body: readFileSync(file),
    });
  });
  let closed: Promise<void> | null = null;
  return {
    browser,
    context,
    userDataDir,
    consoleLines,
    launchMs,
    async openSoftphonePage() {
      const page = await context.newPage();
      page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
      page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`));
      await page.goto(SOFTPHONE_URL);
      await page.waitForFunction(() => 'softphoneTest' in globalThis);
      return page;
    },
    close() {
      closed ??= (async () => {
        try {
          await browser.close();
        } finally {
          removeTempDir(userDataDir);
        }
      })();
      return closed;
    },
  };
}
