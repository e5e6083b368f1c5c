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
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';
import { cpSync, writeFileSync } from 'node:fs';
import { ensureDesktopBuild, routeDesktop, startDesktopServer, type DesktopServer } from './desktop-server.js';

describe('lead monitors a live call; the agent sees the coaching banner', () => {
  let srv: DesktopServer;
  let tb: TestBrowser;
  let agentPage: Page;
  let leadPage: Page;
  let dir: string;
  let caller: Baresip | null = null;
  let handset: Baresip | null = null;

  const login = async (page: Page, user: string, password: string) => {
    await page.goto(`${srv.url}/`);
    await page.getByLabel('用户名').fill(user);
    await page.getByLabel('密码', { exact: true }).fill(password);
    await page.getByTestId('login-submit').click();
    await page.locator('[data-testid="socket-status"].socket-connected').waitFor({ timeout: 10_000 });
  };

  beforeAll(async () => {
    dir = makeTempDir('lead-monitor');
    await ensureDesktopBuild();
    const flows = path.join(dir, 'ivr-flows');
    cpSync(path.resolve('ivr-flows'), flows, { recursive: true });
    writeFileSync(
      path.join(flows, '12315.yaml'),
      [
        "id: '12315'",
        'language: zh',
        'description: e2e — 直接进入投诉队列',
        'start: complaint_queue',
        'nodes:',
        '  complaint_queue:',
        '    type: enqueue',
        '    queue: complaint',
        '    onFail: bye',
        '  bye:',
        '    type: hangup',
        '',
      ].join('\n'),
    );
    srv = await startDesktopServer({ IVR_FLOWS_DIR: flows });
    expect(srv.composedByServer).toBe(true);
    tb = await launchChromium();
    if (!srv.servesDesktop) await routeDesktop(tb.context, srv.url);
    agentPage = await tb.context.newPage();
    leadPage = await tb.context.newPage();
    for (const p of [agentPage, leadPage]) {
      p.on('console', (m) => tb.consoleLines.push(`[${m.type()}] ${m.text()}`));
      p.on('pageerror', (e) => tb.consoleLines.push(`[pageerror] ${e.message}`));
    }
  }, 120_000);

  afterAll(async () => {
    if (process.env.E2E_DEBUG) console.log(tb?.consoleLines.join('\n'));
    await caller?.stop();
    await handset?.stop();
    await tb?.close();
    await srv?.close();
    if (dir) removeTempDir(dir);
  });

  it('listen and whisper show on the agent desktop; stop clears it', async () => {
    const sipPort = srv.server.listening().sip.find((s) => s.transport === 'UDP')!.port;
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

    await login(agentPage, 'agent01', 'agent12315');
    await agentPage.getByLabel('座席分机').fill('8001');
    await agentPage.getByLabel('分机 SIP 密码').fill('demo8001');
    await agentPage.getByTestId('seat-submit').click();
    await agentPage.locator('[data-testid="phone-status"].reg-registered').waitFor({ timeout: 15_000 });
    await agentPage.getByTestId('go-ready').click();
    await agentPage.locator('[data-testid="agent-state"][data-state="ready"]').waitFor();

    caller = await startBaresip({
      name: 'consumer',
      account: { user: '13812345678', transport: 'udp', answermode: 'auto' },
    });
    await caller.dial(`sip:12315@127.0.0.1:${sipPort}`);
    await agentPage.getByTestId('answer').waitFor({ timeout: 20_000 });
    await agentPage.getByTestId('answer').click();
    await agentPage.locator('[data-testid="call-panel"][data-phase="connected"]').waitFor({ timeout: 10_000 });
    expect(await agentPage.getByTestId('coaching').count()).toBe(0);

    await login(leadPage, 'lead01', 'lead12315');
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
