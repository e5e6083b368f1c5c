/**
 * Supervisor tools end to end: a baresip consumer is queued and answered on the agent desktop (Chromium,
 * JsSIP over /sip); the lead, in a second tab, sees the call in the live-call list (number masked) and
 * clicks 监听 / 耳语 with a baresip handset registered at seat 8009 (auto answer); the agent's desktop
 * shows the coaching banner for each mode ('call:coaching'), and 停止 removes it.
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaresip, type Baresip } from '../helpers/baresip.js';
import { launchChromium, type TestBrowser } from '../helpers/browser.js';
import { ensureDesktopBuild, startDesktopServer, type DesktopServer } from './desktop-server.js';
import {
  AGENT01,
  captureConsole,
  dialConsumer,
  logIn,
  signInAgent,
  testFlowEnv,
  udpSipPort,
  tearDown,
} from './steps.js';

describe('lead monitors a live call; the agent sees the coaching banner', () => {
  let srv: DesktopServer;
  let tb: TestBrowser;
  let agentPage: Page;
  let leadPage: Page;
  let dir: string;
  let caller: Baresip | null = null;
  let handset: Baresip | null = null;

  beforeAll(async () => {
    await ensureDesktopBuild();
    const flow = testFlowEnv('e2e-queue');
    dir = flow.dir;
    srv = await startDesktopServer(flow.env);
    tb = await launchChromium();
    agentPage = await tb.context.newPage();
    leadPage = await tb.context.newPage();
    for (const p of [agentPage, leadPage]) captureConsole(p, tb);
  }, 120_000);

  afterAll(async () => {
    await tearDown({ tb, srv, peers: [caller, handset], dirs: [dir] });
  });

  it('listen and whisper show on the agent desktop; stop clears it', async () => {
    const sipPort = udpSipPort(srv);
    handset = await startBaresip({
      name: 'lead-handset',
      account: {
        user: '8009',
        password: 'demo8009',
        registrar: `127.0.0.1:${sipPort}`,
        transport: 'udp',
        answermode: 'auto',
      },
    });
    await handset.waitRegistered(10_000);

    await signInAgent(agentPage, srv.url, { ...AGENT01, socketTimeoutMs: 10_000 });

    caller = await dialConsumer(sipPort);
    await agentPage.getByTestId('answer').waitFor({ timeout: 20_000 });
    await agentPage.getByTestId('answer').click();
    await agentPage.locator('[data-testid="call-panel"][data-phase="connected"]').waitFor({ timeout: 10_000 });
    expect(await agentPage.getByTestId('coaching').count()).toBe(0);

    await logIn(leadPage, srv.url, 'lead01', 'lead12315', { socketTimeoutMs: 10_000 });
    await leadPage.getByTestId('lead-nav-calls').click();
    const row = leadPage.locator('[data-testid^="call-"]').filter({ hasText: '138****5678' });
    await row.waitFor({ timeout: 5_000 });
    expect(await row.textContent()).not.toContain('13812345678');
    const callId = ((await row.getAttribute('data-testid')) ?? '').replace(/^call-/, '');
    await leadPage.getByTestId('monitor-seat').fill('8009');

    await leadPage.getByTestId(`call-${callId}-listen`).click();
    await leadPage.locator('[data-testid="monitoring"][data-phase="active"][data-mode="listen"]').waitFor({
      timeout: 10_000,
    });
    await agentPage.locator('[data-testid="coaching"][data-mode="listen"]').waitFor({ timeout: 3_000 });
    expect(await agentPage.getByTestId('coaching').textContent()).toBe('班长正在监听本通话');

    // A change of mode: the desk stops the listen and rings the handset again for whisper.
    await leadPage.getByTestId(`call-${callId}-whisper`).click();
    await leadPage.locator('[data-testid="monitoring"][data-phase="active"][data-mode="whisper"]').waitFor({
      timeout: 10_000,
    });
    await agentPage.locator('[data-testid="coaching"][data-mode="whisper"]').waitFor({ timeout: 3_000 });

    await leadPage.getByTestId(`call-${callId}-stop`).click();
    await leadPage.getByTestId('monitoring').waitFor({ state: 'detached', timeout: 5_000 });
    await agentPage.getByTestId('coaching').waitFor({ state: 'detached', timeout: 3_000 });
    await agentPage.screenshot({ path: path.resolve('.test-results/e2e/lead-monitor-agent.png') });
  });
});
