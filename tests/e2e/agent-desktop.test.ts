/**
 * The agent desktop in headless Chromium against the real server: log in, sign in to a seat (JsSIP
 * registers over /sip), go ready and not ready, reload (the session resumes), switch language; the
 * server's GET /api/agents/me is the judge of every state. Screenshots for the lead go to
 * .test-results/e2e/.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type TestBrowser } from '../helpers/browser.js';
import { ensureDesktopBuild, startDesktopServer, type DesktopServer } from './desktop-server.js';
import { captureConsole, goReady, loginToken, rest, SHOTS, signInSeat, tearDown } from './steps.js';

describe('agent desktop e2e', () => {
  let srv: DesktopServer;
  let tb: TestBrowser;
  let page: Page;
  let apiToken: string;
  const me = async () =>
    (
      await rest<{ state: string; reason: string | null; seat: string | null }>(
        `${srv.url}/api/agents/me`,
        'GET',
        apiToken,
      )
    ).data;

  beforeAll(async () => {
    await ensureDesktopBuild();
    srv = await startDesktopServer();
    tb = await launchChromium();
    page = await tb.context.newPage();
    captureConsole(page, tb);
    // A second session of the same user, for checking what the server says.
    apiToken = await loginToken(srv.url, 'agent01', 'agent12315');
    mkdirSync(SHOTS, { recursive: true });
  }, 90_000);

  afterAll(async () => {
    await tearDown({ tb, srv });
  });

  it('is served at / and shows the Chinese login form', async () => {
    const res = await page.goto(`${srv.url}/`);
    expect(res?.status()).toBe(200);
    await page.getByRole('button', { name: '登录' }).waitFor();
    expect(await page.title()).toBe('12315 座席工作台');
  });

  it('a wrong password shows the server message', async () => {
    await page.getByLabel('用户名').fill('agent01');
    await page.getByLabel('密码', { exact: true }).fill('wrong');
    await page.getByTestId('login-submit').click();
    await expect.poll(() => page.getByTestId('notice').textContent()).toContain('用户名或密码错误');
  });

  it('logs in, signs in to seat 8001 (JsSIP registers), goes ready; the server agrees', async () => {
    await page.getByLabel('密码', { exact: true }).fill('agent12315');
    await page.getByTestId('login-submit').click();
    await page.locator('[data-testid="socket-status"].socket-connected').waitFor({ timeout: 10_000 });
    await signInSeat(page, '8001', 'demo8001');
    expect((await me()).seat).toBe('8001');
    expect(srv.server.registrar.isRegistered('8001')).toBe(true);

    await goReady(page);
    expect(await me()).toMatchObject({ state: 'ready', seat: '8001' });
    await page.screenshot({ path: path.join(SHOTS, 'agent-desktop-ready.png'), fullPage: true });
  });

  it('not ready with a reason code, then ready again', async () => {
    await page.getByTestId('reason').selectOption('用餐');
    await page.getByTestId('go-not-ready').click();
    await page.locator('[data-testid="agent-state"][data-state="not_ready"]').waitFor();
    expect(await page.getByTestId('agent-state').textContent()).toContain('用餐');
    expect(await me()).toMatchObject({ state: 'not_ready', reason: '用餐' });
    // F3 toggles ready from the keyboard.
    await page.locator('body').click({ position: { x: 5, y: 300 } });
    await page.keyboard.press('F3');
    await page.locator('[data-testid="agent-state"][data-state="ready"]').waitFor();
    expect((await me()).state).toBe('ready');
  });

  it('a pushed state change (a lead forcing not ready) reaches the desktop', async () => {
    const lead = await loginToken(srv.url, 'lead01', 'lead12315');
    const r = await rest(`${srv.url}/api/agents/agent01/state`, 'PUT', lead, {
      state: 'not_ready',
      reason: '培训',
    });
    expect(r.status).toBe(200);
    await page.locator('[data-testid="agent-state"][data-state="not_ready"]').waitFor({ timeout: 5000 });
    expect(await page.getByTestId('agent-state').textContent()).toContain('培训');
  });

  it('a reload resumes the session and the seat registration', async () => {
    await page.reload();
    await page.locator('[data-testid="agent-state"][data-state="not_ready"]').waitFor({ timeout: 10_000 });
    await page.locator('[data-testid="phone-status"].reg-registered').waitFor({ timeout: 15_000 });
    const timer = await page.getByTestId('state-timer').textContent();
    expect(timer).toMatch(/^\d\d:\d\d$/);
    await goReady(page);
    expect((await me()).state).toBe('ready');
  });

  it('after a network loss the socket reconnects, JsSIP re-registers and the state is read again', async () => {
    type W = { __desktop: { store: { getState(): { resyncs: number; registrations: number } } } };
    const before = await page.evaluate(() => {
      const s = (globalThis as unknown as W).__desktop.store.getState();
      return { resyncs: s.resyncs, registrations: s.registrations };
    });
    const lead = await loginToken(srv.url, 'lead01', 'lead12315');
    // Network loss, as the browser sees it: every established connection to the server is reset (the
    // test runs in its own network namespace, so `ss -K` touches nothing else). Chromium's offline
    // emulation would not do: it leaves open WebSockets alone.
    const port = new URL(srv.url).port;
    execFileSync('ss', ['-K', 'state', 'established', `( sport = :${port} )`]);
    // The state changes while the desktop is away; it must learn it from the resync, not from a push.
    // (Our own pooled keep-alive connections were reset too: retry until a fresh one is used.)
    let forced: { status: number } | null = null;
    for (let i = 0; i < 10 && forced === null; i++) {
      forced = await rest(`${srv.url}/api/agents/agent01/state`, 'PUT', lead, {
        state: 'not_ready',
        reason: '会议',
      }).catch(() => null);
    }
    expect(forced?.status).toBe(200);
    await page.locator('[data-testid="socket-status"].socket-connected').waitFor({ timeout: 20_000 });
    await page.locator('[data-testid="agent-state"][data-state="not_ready"]').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('agent-state').textContent()).toContain('会议');
    await expect
      .poll(
        () =>
          page.evaluate(() => {
            const s = (globalThis as unknown as W).__desktop.store.getState();
            return { resyncs: s.resyncs, registrations: s.registrations };
          }),
        { timeout: 20_000 },
      )
      .toMatchObject({ resyncs: before.resyncs + 1 });
    await page.locator('[data-testid="phone-status"].reg-registered').waitFor({ timeout: 20_000 });
    expect(srv.server.registrar.isRegistered('8001')).toBe(true);
    await goReady(page);
  });

  it('switches to English and back', async () => {
    await page.getByRole('button', { name: 'English' }).click();
    await expect.poll(() => page.getByTestId('agent-state').textContent()).toBe('Ready');
    await page.screenshot({ path: path.join(SHOTS, 'agent-desktop-en.png'), fullPage: true });
    await page.getByRole('button', { name: '中文' }).click();
    await expect.poll(() => page.getByTestId('agent-state').textContent()).toBe('就绪');
  });

  it('shows the queue picture from the server', async () => {
    await expect.poll(() => page.locator('[data-testid="queues"] tbody tr').count()).toBeGreaterThan(0);
    expect(await page.locator('[data-testid="queues"] tr[data-queue="complaint"]').count()).toBe(1);
  });

  it('signing out ends the seat login on the server', async () => {
    await page.getByRole('button', { name: '签出' }).click();
    await page.getByTestId('seat-submit').waitFor();
    expect((await me()).state).toBe('offline');
    expect(tb.consoleLines.filter((l) => l.startsWith('[pageerror]'))).toEqual([]);
  });
});
