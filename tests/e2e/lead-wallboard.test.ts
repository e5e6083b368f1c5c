/**
 * The shift lead's screens in headless Chromium against the real server (server.ts composes ACD, metrics
 * and socket.io): the lead logs in and sees the wallboard; a baresip consumer dials 12315 and is queued,
 * and the board's waiting count changes within 1 s of the ACD's enqueue (measured from the ACD's
 * `entry_joined` event in this process to a MutationObserver in the page, both on the machine's wall
 * clock); seat allocation in the UI puts an agent in a new queue, as GET /api/queues and GET /api/agents
 * say, and forcing not ready with a reason reaches the agent (GET /api/agents/me) and the audit log.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Baresip } from '../helpers/baresip.js';
import { launchChromium, type TestBrowser } from '../helpers/browser.js';
import { ensureDesktopBuild, startDesktopServer, type DesktopServer } from './desktop-server.js';
import { loginToken, captureConsole, dialConsumer, restOk, SHOTS, testFlowEnv, udpSipPort, tearDown } from './steps.js';

interface QueueRow {
  queueId: string;
  waiting: number;
  agents: Record<string, number>;
}

describe('lead wallboard and seat allocation e2e', () => {
  let srv: DesktopServer;
  let tb: TestBrowser;
  let page: Page;
  let dir: string;
  let caller: Baresip | null = null;
  let agentToken: string;
  let leadToken: string;

  beforeAll(async () => {
    await ensureDesktopBuild();
    // A flow that queues every caller for 投诉 at once (the real flow checks business hours and menus).
    const flow = testFlowEnv('e2e-queue');
    dir = flow.dir;
    srv = await startDesktopServer(flow.env);
    tb = await launchChromium();
    page = await tb.context.newPage();
    captureConsole(page, tb);
    // agent01 signs in at seat 8002 (REST), not ready: counted in its queues, takes no call.
    agentToken = await loginToken(srv.url, 'agent01', 'agent12315');
    await restOk(`${srv.url}/api/agents/me/login`, 'POST', agentToken, { seat: '8002' });
    leadToken = await loginToken(srv.url, 'lead01', 'lead12315');
    mkdirSync(SHOTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await tearDown({ tb, srv, peers: [caller], dirs: [dir] });
  });

  it('the lead logs in and sees the wallboard with the 投诉 queue and the signed-in agent', async () => {
    await page.goto(`${srv.url}/`);
    await page.getByLabel('用户名').fill('lead01');
    await page.getByLabel('密码', { exact: true }).fill('lead12315');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('lead-nav-wallboard').waitFor();
    await page.getByTestId('wb-queue-complaint').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('wb-queue-complaint').locator('th').textContent()).toBe('投诉');
    expect(await page.getByTestId('wb-waiting-complaint').textContent()).toBe('0');
    await page.getByTestId('wb-agent-agent01').waitFor();
    // Time in state ticks between pushes (from the server's figure).
    const t1 = await page.getByTestId('wb-agent-time-agent01').textContent();
    await page.waitForTimeout(2100);
    const t2 = await page.getByTestId('wb-agent-time-agent01').textContent();
    const secs = (s: string | null) => s!.split(':').reduce((n, x) => n * 60 + Number(x), 0);
    expect(secs(t2) - secs(t1)).toBeGreaterThanOrEqual(1);
    // No agent desk for a lead.
    expect(await page.getByTestId('go-ready').count()).toBe(0);
  });

  it('a queued consumer call shows on the board within 1 s of the enqueue', async () => {
    await page.evaluate(`(() => {
      const el = document.querySelector('[data-testid="wb-waiting-complaint"]');
      window.__waitingSeen = null;
      new MutationObserver(() => {
        if (window.__waitingSeen === null && el.textContent === '1') window.__waitingSeen = Date.now();
      }).observe(el, { childList: true, characterData: true, subtree: true });
    })()`);
    let joinedAt: number | null = null;
    const off = srv.server.acd.acd.on('entry_joined', () => {
      joinedAt ??= Date.now();
    });
    caller = await dialConsumer(udpSipPort(srv));
    await expect.poll(() => joinedAt, { timeout: 15_000 }).not.toBeNull();
    off();
    await expect
      .poll(() => page.evaluate('window.__waitingSeen') as Promise<number | null>, { timeout: 5_000 })
      .not.toBeNull();
    const seenAt = (await page.evaluate('window.__waitingSeen')) as number;
    const lagMs = seenAt - joinedAt!;
    console.log(`wallboard waiting count changed ${lagMs} ms after the ACD enqueue`);
    expect(lagMs).toBeLessThan(1000);
    expect(lagMs).toBeGreaterThanOrEqual(0);
    expect(await page.getByTestId('wb-total-waiting').textContent()).toBe('1');
    const q = await restOk<{ queues: QueueRow[] }>(`${srv.url}/api/queues`, 'GET', leadToken);
    expect(q.queues.find((x) => x.queueId === 'complaint')!.waiting).toBe(1);
    await page.screenshot({ path: path.join(SHOTS, 'lead-wallboard.png'), fullPage: true });

    // The caller hangs up: the count goes back to 0.
    await caller.hangup();
    await page.locator('[data-testid="wb-waiting-complaint"]:text-is("0")').waitFor({ timeout: 3_000 });
  });

  it('seat allocation puts the agent in a new queue (GET /api/queues agrees), force not ready is audited', async () => {
    const englishMembers = async () => {
      const q = await restOk<{ queues: QueueRow[] }>(`${srv.url}/api/queues`, 'GET', leadToken);
      return Object.values(q.queues.find((x) => x.queueId === 'english')!.agents).reduce((a, b) => a + b, 0);
    };
    const before = await englishMembers();
    await page.getByTestId('lead-nav-allocation').click();
    const box = page.getByTestId('alloc-agent01-q-english');
    await box.waitFor({ timeout: 10_000 });
    expect(await box.isChecked()).toBe(false);
    await box.check();
    await page.getByTestId('alloc-agent01-save-queues').click();
    await expect.poll(englishMembers, { timeout: 5_000 }).toBe(before + 1);
    const agents = await restOk<{ agents: Array<{ agentId: string; queues: Record<string, number> }> }>(
      `${srv.url}/api/agents`,
      'GET',
      leadToken,
    );
    expect(agents.agents.find((a) => a.agentId === 'agent01')!.queues).toHaveProperty('english', 1);

    const row = page.getByTestId('alloc-agent01');
    await row.getByLabel('原因').selectOption('培训');
    await page.getByTestId('alloc-agent01-not-ready').click();
    await expect
      .poll(async () => restOk<{ state: string; reason: string | null }>(`${srv.url}/api/agents/me`, 'GET', agentToken))
      .toMatchObject({ state: 'not_ready', reason: '培训' });
    await page.getByTestId('alloc-audit').getByText('调整队列 agent01').waitFor({ timeout: 5_000 });
    await page.getByTestId('alloc-audit').getByText('强制状态 agent01').waitFor({ timeout: 5_000 });
    await page.screenshot({ path: path.join(SHOTS, 'lead-allocation.png'), fullPage: true });

    // And a forced logout.
    await page.getByTestId('alloc-agent01-logout').click();
    await expect
      .poll(async () => (await restOk<{ state: string }>(`${srv.url}/api/agents/me`, 'GET', agentToken)).state)
      .toBe('offline');

    // Signed out, the agent can be placed at a seat by the lead.
    await page.getByTestId('alloc-agent01-seat').fill('8003');
    await page.getByTestId('alloc-agent01-assign-seat').click();
    await expect
      .poll(async () => restOk<{ state: string; seat: string | null }>(`${srv.url}/api/agents/me`, 'GET', agentToken))
      .toMatchObject({ state: 'not_ready', seat: '8003' });
    await page.getByTestId('alloc-audit').getByText('分配分机 agent01').waitFor({ timeout: 5_000 });
  });

  it('reports: the hourly table for today and the hot spots load', async () => {
    await page.getByTestId('lead-nav-reports').click();
    await page.getByTestId('report-run').click();
    await page.getByTestId('report-table').waitFor({ timeout: 10_000 });
    await page.getByTestId('hotspots').waitFor();
    // The abandoned call of the test above is in today's figures.
    expect(await page.getByTestId('report-table').textContent()).toMatch(/全部/);

    // The SL target of 投诉 set from the form is what the metrics API then uses.
    const form = page.getByTestId('thresholds');
    await form.getByLabel('队列').selectOption('complaint');
    await expect.poll(() => form.getByLabel('服务水平目标（秒内接通）').inputValue()).toBe('20');
    await form.getByLabel('服务水平目标（秒内接通）').fill('15');
    await form.getByRole('button', { name: '保存' }).click();
    await expect
      .poll(async () =>
        restOk<{ serviceLevelMs: number }>(`${srv.url}/api/metrics/thresholds/complaint`, 'GET', leadToken),
      )
      .toMatchObject({ serviceLevelMs: 15_000, shortAbandonMs: 5_000 });

    // By agent, one queue.
    await page.getByTestId('report-by').selectOption('agent');
    await page.getByTestId('report-queue').selectOption('complaint');
    await page.getByTestId('report-run').click();
    await expect.poll(() => page.getByTestId('report-table').locator('th').last().textContent()).toBe('占用率');
    await page.screenshot({ path: path.join(SHOTS, 'lead-reports.png'), fullPage: true });
  });
});
