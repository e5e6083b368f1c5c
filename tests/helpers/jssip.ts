/**
 * JsSIP in the test browser. npm's jssip ships only CommonJS, so it is bundled once per checkout into a
 * browser IIFE (global `JsSIP`) under dist/ (gitignored; scripts/build-jssip.mjs does the same by hand).
 * `Softphone` wraps the test page's window.softphoneTest: UA, register, call, answer, DTMF, stats and
 * capture of the decoded remote audio, so an end-to-end test reads like the agent's actions.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import type { TestBrowser } from './browser.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const JSSIP_ENTRY = path.join(ROOT, 'node_modules/jssip/lib/JsSIP.js');
export const JSSIP_BUNDLE = path.join(ROOT, 'dist/vendor/jssip.iife.js');
/** Where the page loads it from (served by the browser helper's route). */
export const JSSIP_URL_PATH = '/vendor/jssip.js';

let building: Promise<string> | null = null;

/** Builds dist/vendor/jssip.iife.js unless it is newer than jssip's package.json. */
export function ensureJssipBundle(): Promise<string> {
  building ??= (async () => {
    const pkg = path.join(ROOT, 'node_modules/jssip/package.json');
    if (existsSync(JSSIP_BUNDLE) && statSync(JSSIP_BUNDLE).mtimeMs >= statSync(pkg).mtimeMs) return JSSIP_BUNDLE;
    mkdirSync(path.dirname(JSSIP_BUNDLE), { recursive: true });
    await build({
      entryPoints: [JSSIP_ENTRY],
      bundle: true,
      format: 'iife',
      globalName: 'JsSIP',
      platform: 'browser',
      target: 'chrome100',
      outfile: JSSIP_BUNDLE,
      logLevel: 'silent',
    });
    return JSSIP_BUNDLE;
  })();
  return building;
}

/** `files` entry for launchChromium so pages can load the bundle. */
export async function jssipFiles(): Promise<Record<string, string>> {
  return { [JSSIP_URL_PATH]: await ensureJssipBundle() };
}

export interface PageRtpStats {
  connectionState: string;
  packetsReceived: number;
  packetsLost: number;
  audioLevel: number;
  totalSamplesReceived: number;
  packetsSent: number;
  inboundCodec: string | null;
  outboundCodec: string | null;
}

export interface CapturedAudio {
  sampleRate: number;
  samples: Int16Array;
}

/** Milliseconds measured in the page for an outgoing call. */
export interface CallSetup {
  /** ua.call() → JsSIP 'confirmed'. */
  setupMs: number;
  /** ua.call() → INVITE sent: getUserMedia and ICE gathering in Chromium. */
  inviteAfterMs: number;
  /** INVITE sent → 2xx received: the server's work (media endpoint, werift answer) plus signalling. */
  answerAfterInviteMs: number;
}

export interface UaOptions {
  /** ws://127.0.0.1:port of our SIP WebSocket transport. */
  wsUrl: string;
  /** sip:8001@domain */
  uri: string;
  password: string;
  authorizationUser?: string;
  displayName?: string;
  register?: boolean;
  sessionTimers?: boolean;
  /** JsSIP debug output to the page console (TestBrowser.consoleLines). */
  debug?: boolean;
  timeoutMs?: number;
}

/** The test page's softphone, driven from Node. */
export class Softphone {
  private constructor(readonly page: Page) {}

  /** Opens the softphone test page and loads JsSIP into it (the browser needs `files: await jssipFiles()`). */
  static async open(browser: TestBrowser, o: { jssip?: boolean } = {}): Promise<Softphone> {
    const page = await browser.openSoftphonePage();
    if (o.jssip !== false) {
      await page.addScriptTag({ url: JSSIP_URL_PATH });
      await page.waitForFunction(() => 'JsSIP' in globalThis);
    }
    return new Softphone(page);
  }

  /** Starts the UA; resolves once registered (or WebSocket-connected with register: false). */
  async start(o: UaOptions): Promise<void> {
    await this.page.evaluate((opts) => (globalThis as unknown as PageWindow).softphoneTest.uaStart(opts), o);
  }

  /** Places a call with raw (unprocessed) microphone audio by default; resolves on JsSIP `confirmed`. */
  call(target: string, o: { raw?: boolean; extraHeaders?: string[] } = {}): Promise<CallSetup> {
    return this.page.evaluate(([t, opts]) => (globalThis as unknown as PageWindow).softphoneTest.call(t, opts), [
      target,
      o,
    ] as const);
  }

  /** Answers the next incoming INVITE; resolves on `confirmed`. */
  answer(o: { raw?: boolean; timeoutMs?: number } = {}): Promise<{ setupMs: number }> {
    return this.page.evaluate((opts) => (globalThis as unknown as PageWindow).softphoneTest.answer(opts), o);
  }

  /** JsSIP's default DTMF transport is SIP INFO; 'RFC2833' sends RFC 4733 events in RTP. */
  async sendDtmf(digits: string, o: { transport?: 'INFO' | 'RFC2833'; duration?: number; gap?: number } = {}) {
    await this.page.evaluate(([d, opts]) => (globalThis as unknown as PageWindow).softphoneTest.sendDtmf(d, opts), [
      digits,
      o,
    ] as const);
  }

  /** Holds the current call (JsSIP re-INVITE, a=sendonly); it becomes the call referReplaces() transfers. */
  async holdCurrent(): Promise<void> {
    await this.page.evaluate(() => (globalThis as unknown as PageWindow).softphoneTest.holdCurrent());
  }

  /** Attended transfer: REFER on the held call with Replaces naming the current one; the final NOTIFY's outcome. */
  referReplaces(target: string): Promise<string> {
    return this.page.evaluate((t) => (globalThis as unknown as PageWindow).softphoneTest.referReplaces(t), target);
  }

  /** 'none' | 'progress' | 'established' | 'ended' of the current and the held call. */
  sessionStates(): Promise<{ current: string; held: string }> {
    return this.page.evaluate(() => {
      const p = (globalThis as unknown as PageWindow).softphoneTest;
      return { current: p.sessionState(), held: p.heldState() };
    });
  }

  async hangup(): Promise<void> {
    await this.page.evaluate(() => (globalThis as unknown as PageWindow).softphoneTest.hangup());
  }

  async stop(): Promise<void> {
    await this.page.evaluate(() => (globalThis as unknown as PageWindow).softphoneTest.uaStop());
  }

  sessionState(): Promise<string> {
    return this.page.evaluate(() => (globalThis as unknown as PageWindow).softphoneTest.sessionState());
  }

  /** Inbound/outbound audio RTP counters from the active RTCPeerConnection's getStats(). */
  stats(): Promise<PageRtpStats> {
    return this.page.evaluate(() => (globalThis as unknown as PageWindow).softphoneTest.stats());
  }

  // Plain RTCPeerConnection (no SIP), for endpoint-level tests.
  pcOffer(o: { raw?: boolean } = {}): Promise<string> {
    return this.page.evaluate((opts) => (globalThis as unknown as PageWindow).softphoneTest.pcOffer(opts), o);
  }
  async pcApplyAnswer(sdp: string): Promise<void> {
    await this.page.evaluate((s) => (globalThis as unknown as PageWindow).softphoneTest.pcApplyAnswer(s), sdp);
  }
  pcAnswer(offerSdp: string, o: { raw?: boolean } = {}): Promise<string> {
    return this.page.evaluate(([s, opts]) => (globalThis as unknown as PageWindow).softphoneTest.pcAnswer(s, opts), [
      offerSdp,
      o,
    ] as const);
  }
  async pcInsertDtmf(tones: string, duration = 100, gap = 70): Promise<void> {
    await this.page.evaluate(([t, d, g]) => (globalThis as unknown as PageWindow).softphoneTest.pcInsertDtmf(t, d, g), [
      tones,
      duration,
      gap,
    ] as const);
  }
  async pcClose(): Promise<void> {
    await this.page.evaluate(() => (globalThis as unknown as PageWindow).softphoneTest.pcClose());
  }

  /** Records the decoded remote audio for `ms` milliseconds (needs a remote track). */
  async capture(ms: number): Promise<CapturedAudio> {
    await this.page.evaluate(() => (globalThis as unknown as PageWindow).softphoneTest.startCapture());
    await new Promise((r) => setTimeout(r, ms));
    const r = await this.page.evaluate(() => (globalThis as unknown as PageWindow).softphoneTest.stopCapture());
    const bytes = Buffer.from(r.base64, 'base64');
    const samples = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length >> 1);
    return { sampleRate: r.sampleRate, samples: Int16Array.from(samples) };
  }

  /** The page's event log (ua-registered, session-confirmed, dtmf-local ...), for assertions and failures. */
  log(): Promise<{ t: number; what: string; detail: string | null }[]> {
    return this.page.evaluate(() => (globalThis as unknown as PageWindow).softphoneTest.log());
  }

  async close(): Promise<void> {
    if (!this.page.isClosed()) await this.page.close();
  }
}

/** Waits until the page's getStats shows `check` true, polling every 100 ms. */
export async function waitStats(
  phone: Softphone,
  check: (s: PageRtpStats) => boolean,
  timeoutMs: number,
  what: string,
): Promise<PageRtpStats> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = await phone.stats();
    if (check(s)) return s;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface SoftphoneTestApi {
  uaStart(o: UaOptions): Promise<boolean>;
  call(target: string, o: { raw?: boolean; extraHeaders?: string[] }): Promise<CallSetup>;
  answer(o: { raw?: boolean; timeoutMs?: number }): Promise<{ setupMs: number }>;
  sendDtmf(digits: string, o: { transport?: string; duration?: number; gap?: number }): boolean;
  hangup(): boolean;
  holdCurrent(): Promise<boolean>;
  referReplaces(target: string): Promise<string>;
  uaStop(): boolean;
  sessionState(): string;
  heldState(): string;
  stats(): Promise<PageRtpStats>;
  pcOffer(o: { raw?: boolean }): Promise<string>;
  pcApplyAnswer(sdp: string): Promise<void>;
  pcAnswer(sdp: string, o: { raw?: boolean }): Promise<string>;
  pcClose(): void;
  pcInsertDtmf(tones: string, duration: number, gap: number): boolean;
  startCapture(): boolean;
  stopCapture(): Promise<{ sampleRate: number; base64: string }>;
  log(): { t: number; what: string; detail: string | null }[];
}

/** The page's global, as seen inside page.evaluate callbacks (they run in Chromium, not here). */
interface PageWindow {
  softphoneTest: SoftphoneTestApi;
}
