/**
 * The merchant station portal in headless Chromium against the real server: the station's account logs
 * in at /merchant, its softphone registers device 3001 over /sip, a three-way call announced for a case
 * shows the case with the consumer masked, a wrong outcome shows the server's field error, and the
 * recorded outcome moves the case to 调解成功 (checked through GET /api/cases/{id}).
 * Then the agent's side: a baresip consumer reaches the agent desktop, the agent picks the station in the
 * three-way panel and rings it, the portal (second tab) answers and shows the call's case, and the
 * panel's buttons walk the server's states: consulting → 合并通话 → 离开 → 重新加入 → 全部挂断.
 * (The audio of a three-way is checked by the call-control tests.)
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaseStatus } from '../../server/cases/workflow.js';
import { makeToneWav, type Baresip } from '../helpers/baresip.js';
import { launchChromium, type TestBrowser } from '../helpers/browser.js';
import { makeTempDir, sleep } from '../helpers/tmp.js';
import { ensureDesktopBuild, startDesktopServer, type DesktopServer } from './desktop-server.js';
import {
  captureConsole,
  dialConsumer,
  loginToken,
  rest,
  SHOTS,
  signInAgent,
  testFlowEnv,
  udpSipPort,
  tearDown,
} from './steps.js';

/** YYYY-MM-DD in Asia/Shanghai, `days` from now. */
function shanghaiDate(days: number): string {
  return new Date(Date.now() + 8 * 3600_000 + days * 86_400_000).toISOString().slice(0, 10);
}

describe('merchant portal e2e', () => {
  let srv: DesktopServer;
  let tb: TestBrowser;
  let page: Page;
  let lead: string;
  let caseId: number;

  beforeAll(async () => {
    await ensureDesktopBuild();
    srv = await startDesktopServer();
    tb = await launchChromium();
    page = await tb.context.newPage();
    captureConsole(page, tb);
    lead = await loginToken(srv.url, 'lead01', 'lead12315');
    // A complaint accepted by the lead: the three-way call with the station is its mediation.
    const created = await rest<{ id: number; version: number }>(`${srv.url}/api/cases`, 'POST', lead, {
      type: 'complaint',
      consumer: { name: '张三', phone: '13812345678', address: '深圳市南山区科技园' },
      respondent: { name: '示例家电维权站（深圳南山）', creditCode: '', address: '' },
      area: '440305',
      category: 'G0101',
      description: '购买的冰箱三天后不制冷，商家拒绝退换。',
      request: '退货退款',
    });
    expect(created.status).toBe(201);
    caseId = created.data.id;
    srv.server.cases.transition(
      caseId,
      created.data.version,
      { to: CaseStatus.Accepted },
      { id: null, role: 'system' },
    );
    mkdirSync(SHOTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await tearDown({ tb, srv });
  });

  it('is served at /merchant with its own Chinese title and login', async () => {
    const res = await page.goto(`${srv.url}/merchant`);
    expect(res?.status()).toBe(200);
    await page.getByRole('button', { name: '登录' }).waitFor();
    expect(await page.title()).toBe('12315 维权站工作台');
  });

  it('an agent account is turned away', async () => {
    await page.getByLabel('用户名').fill('agent01');
    await page.getByLabel('密码').fill('agent12315');
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByTestId('notice').getByText('此入口仅供维权站账号使用').waitFor();
  });

  it('the station logs in, its phone registers, and it waits for a call', async () => {
    await page.getByLabel('用户名').fill('m3001');
    await page.getByLabel('密码').fill('merchant12315');
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByTestId('merchant-waiting').waitFor();
    await page.getByTestId('phone-status').getByText('电话已就绪').waitFor({ timeout: 15_000 });
  });

  it('an announced three-way call shows the case with the consumer masked', async () => {
    const station = (
      await rest<{ items: { id: number; extension: string }[] }>(
        `${srv.url}/api/merchants/search?q=3001&caseId=${caseId}`,
        'GET',
        lead,
      )
    ).data.items[0]!;
    const stationId = srv.server.merchants.byExtension('3001')!.id;
    expect(station.id).toBe(stationId); // the respondent's station is suggested first
    const a = await rest(`${srv.url}/api/merchants/${stationId}/calls`, 'POST', lead, { callId: 'e2e-call-1', caseId });
    expect(a.status).toBe(201);
    const summary = page.getByTestId('case-summary');
    await summary.waitFor({ timeout: 10_000 });
    await expect.poll(() => page.getByTestId('consumer').textContent()).toBe('张* 138****5678');
    const text = (await summary.textContent()) ?? '';
    expect(text).not.toContain('13812345678');
    expect(text).not.toContain('科技园');
    expect(text).toContain('退货退款');
    await page.screenshot({ path: path.join(SHOTS, 'merchant-portal-case.png'), fullPage: true });
  });

  it('a past deadline shows the server field error; a valid outcome moves the case to 调解成功', async () => {
    const form = page.getByTestId('outcome-form');
    await form.getByLabel('处理方式').selectOption('refund');
    await form.getByLabel('金额（元）').fill('199');
    await form.getByLabel('履行期限').fill('2020-01-01');
    await form.getByLabel('备注').fill('三日内上门取回并退款');
    await form.getByRole('button', { name: '提交调解结果' }).click();
    await page.getByTestId('error-deadline').getByText('履行期限不能早于今天').waitFor();
    await form.getByLabel('履行期限').fill(shanghaiDate(7));
    await form.getByRole('button', { name: '提交调解结果' }).click();
    await page.getByTestId('outcome-recorded').getByText('已登记：调解成功').waitFor();
    const c = await rest<{ status: string; statusLabel: string; statusReason: string }>(
      `${srv.url}/api/cases/${caseId}`,
      'GET',
      lead,
    );
    expect(c.data.status).toBe('mediation_succeeded');
    expect(c.data.statusReason).toBe(`维权站调解成功：退款 199.00 元，${shanghaiDate(7)} 前履行；三日内上门取回并退款`);
    const m = await rest<{ items: { remedy: string; amount: number }[] }>(
      `${srv.url}/api/cases/${caseId}/mediation`,
      'GET',
      lead,
    );
    expect(m.data.items).toEqual([expect.objectContaining({ remedy: 'refund', amount: 199 })]);
    await page.screenshot({ path: path.join(SHOTS, 'merchant-portal-recorded.png'), fullPage: true });
  });

  it('switches to English', async () => {
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByText('Recorded: Settled').waitFor();
    expect(await page.title()).toBe('12315 Merchant Station');
  });
});

describe('three-way from the agent desktop to the station portal', () => {
  let srv: DesktopServer;
  let tb: TestBrowser;
  let agent: Page;
  let station: Page;
  let caller: Baresip | null = null;
  let dir: string;
  let flows: string | undefined;

  beforeAll(async () => {
    dir = makeTempDir('three-way-ui');
    await ensureDesktopBuild();
    // The real flow checks business hours; this one queues every caller at once (as lead-wallboard.test.ts).
    const flow = testFlowEnv('e2e-queue');
    flows = flow.dir;
    srv = await startDesktopServer(flow.env);
    tb = await launchChromium({ fakeAudioWav: makeToneWav(path.join(dir, 'mic-1000.wav'), 1000, 60) });
    agent = await tb.context.newPage();
    station = await tb.context.newPage();
    captureConsole(agent, tb, 'agent');
    captureConsole(station, tb, 'station');
  }, 120_000);

  afterAll(async () => {
    await tearDown({ tb, srv, peers: [caller], dirs: [dir, flows] });
  });

  it('rings the station, shows its case there, and the buttons follow the server states', async () => {
    await station.goto(`${srv.url}/merchant`);
    await station.getByLabel('用户名').fill('m3001');
    await station.getByLabel('密码').fill('merchant12315');
    await station.getByRole('button', { name: '登录' }).click();
    await station.getByTestId('phone-status').getByText('电话已就绪').waitFor({ timeout: 15_000 });

    await signInAgent(agent, srv.url);

    caller = await dialConsumer(udpSipPort(srv), { tone: { dir, hz: 600 } });
    await agent.getByTestId('incoming').waitFor({ timeout: 30_000 });
    await agent.getByTestId('answer').click();
    await agent.locator('[data-testid="call-panel"][data-phase="connected"]').waitFor({ timeout: 10_000 });

    const panel = agent.getByTestId('three-way');
    const stationId = srv.server.merchants.byExtension('3001')!.id;
    await panel.getByTestId(`station-${stationId}`).click();
    await panel.getByRole('button', { name: '三方通话' }).click();
    await agent.locator('[data-testid="three-way"][data-state="ringing"]').waitFor({ timeout: 10_000 });

    // The station's tab rings with the call's case, consumer masked.
    await station.locator('[data-testid="merchant-call"][data-state="ringing"]').waitFor({ timeout: 10_000 });
    await station.getByTestId('case-summary').waitFor({ timeout: 10_000 });
    expect(await station.getByTestId('consumer').textContent()).toContain('138****5678');
    await station.getByRole('button', { name: '接听' }).click();
    await station.locator('[data-testid="merchant-call"][data-state="talking"]').waitFor({ timeout: 10_000 });

    const stateIs = (s: string) =>
      agent.locator(`[data-testid="three-way"][data-state="${s}"]`).waitFor({ timeout: 10_000 });
    await stateIs('consulting');
    await panel.getByRole('button', { name: '合并通话' }).click();
    await stateIs('conference');
    expect(await agent.getByTestId('conference-parties').textContent()).toContain('维权站');
    await agent.screenshot({ path: path.join(SHOTS, 'three-way-agent.png'), fullPage: true });
    await sleep(500);
    await panel.getByRole('button', { name: '离开' }).click();
    await stateIs('agent_left');
    // The agent's own leg is gone, the panel stays for rejoin.
    await agent.getByTestId('call-panel').waitFor({ state: 'detached', timeout: 10_000 });
    await agent.getByTestId('three-way').getByRole('button', { name: '重新加入' }).click();
    await agent.getByTestId('answer').click({ timeout: 15_000 });
    await stateIs('conference');
    await agent.getByTestId('three-way').getByRole('button', { name: '全部挂断' }).click();
    // Everyone is hung up: the panel goes with the call, the station's phone is idle, no call is left.
    await agent.getByTestId('three-way').waitFor({ state: 'detached', timeout: 10_000 });
    await station.locator('[data-testid="merchant-call"]').waitFor({ state: 'detached', timeout: 10_000 });
    await expect.poll(() => srv.server.calls.list().length, { timeout: 10_000 }).toBe(0);
    // The portal keeps the case for the outcome form after the call.
    await station.getByTestId('outcome-form').waitFor();
    await station.screenshot({ path: path.join(SHOTS, 'three-way-station.png'), fullPage: true });
  }, 120_000);
});
