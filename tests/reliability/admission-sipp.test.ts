/**
 * Admission control and graceful shutdown with SIPp against the real server (loopback namespace):
 *  - channel limit: calls already up complete cleanly while a flood of new INVITEs gets 503 + Retry-After;
 *  - event-loop overload (probe driven): new calls get 503, and are admitted again after recovery;
 *  - SIGTERM path (server.shutdown): new calls 503 while a live call finishes by itself; at the
 *    drain limit a call still up is hung up with a BYE the caller answers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LoadProbes } from '../../server/ops/overload.js';
import { runSipp } from '../helpers/sipp.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const scenario = (n: string) => new URL(`./scenarios/${n}.xml`, import.meta.url).pathname;

async function waitUntil(cond: () => boolean, ms: number): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

let ts: TestServer | null = null;
afterEach(async () => {
  await ts?.stop();
  ts = null;
});

describe('admission control with SIPp', () => {
  it('at the channel limit new calls get 503 + Retry-After and the calls already up finish cleanly', async () => {
    ts = await startTestServer({}, { ops: { admission: { maxCalls: 4, retryAfterS: 9 } } });
    const held = runSipp({
      scenario: scenario('uac_hold_bye'),
      target: ts.sipTarget,
      service: '9196',
      calls: 4,
      rate: 20,
      extraArgs: ['-d', '4000'],
      timeoutMs: 25_000,
    });
    await waitUntil(() => ts!.server.calls.calls.size === 4, 10_000);
    const flood = await runSipp({
      scenario: scenario('uac_expect_503'),
      target: ts.sipTarget,
      service: '9196',
      calls: 60,
      rate: 60,
      timeoutMs: 20_000,
    });
    expect(flood.failed).toBe(0);
    expect(flood.successful).toBe(60); // each got 503 with a numeric Retry-After (check_it)
    const h = await held;
    expect(h.failed).toBe(0);
    expect(h.successful).toBe(4);
    const snap = ts.server.admission.snapshot();
    expect(snap.refused.channels).toBeGreaterThanOrEqual(60);
    // below the limit again: admitted
    const after = await runSipp({
      scenario: scenario('uac_hold_bye'),
      target: ts.sipTarget,
      service: '9196',
      calls: 1,
      extraArgs: ['-d', '200'],
      timeoutMs: 15_000,
    });
    expect(after.successful).toBe(1);
  }, 60_000);

  it('a lagging event loop sheds new calls until it recovers', async () => {
    const load = { lag: 0 };
    let size = () => 0;
    const probes: LoadProbes = { lagMs: () => load.lag, cpuCores: () => 0, activeCalls: () => size() };
    ts = await startTestServer({}, { loadProbes: probes, ops: { admission: { sampleMs: 50, maxLagMs: 100 } } });
    size = () => ts!.server.calls.calls.size;
    load.lag = 400;
    await waitUntil(() => ts!.server.admission.state === 'shedding', 2000);
    const shed = await runSipp({
      scenario: scenario('uac_expect_503'),
      target: ts.sipTarget,
      service: '9196',
      calls: 5,
      rate: 20,
      timeoutMs: 15_000,
    });
    expect(shed.successful).toBe(5);
    expect(ts.server.admission.snapshot().refused.lag).toBe(5);
    load.lag = 5;
    await waitUntil(() => ts!.server.admission.state === 'accepting', 2000);
    const ok = await runSipp({
      scenario: scenario('uac_hold_bye'),
      target: ts.sipTarget,
      service: '9196',
      calls: 1,
      extraArgs: ['-d', '200'],
      timeoutMs: 15_000,
    });
    expect(ok.successful).toBe(1);
  }, 60_000);
});

describe('graceful shutdown with SIPp', () => {
  it('new calls get 503 while a live call drains by itself, then the server closes', async () => {
    ts = await startTestServer();
    const live = runSipp({
      scenario: scenario('uac_hold_bye'),
      target: ts.sipTarget,
      service: '9196',
      calls: 1,
      extraArgs: ['-d', '3000'],
      timeoutMs: 20_000,
    });
    await waitUntil(() => ts!.server.calls.calls.size === 1, 10_000);
    const t0 = Date.now();
    const shutdown = ts.server.shutdown({ drainTimeoutMs: 15_000 });
    const refused = await runSipp({
      scenario: scenario('uac_expect_503'),
      target: ts.sipTarget,
      service: '9196',
      calls: 3,
      rate: 10,
      timeoutMs: 15_000,
    });
    expect(refused.successful).toBe(3);
    expect((await live).successful).toBe(1);
    const report = await shutdown;
    expect(report).toMatchObject({ drained: true, hungUp: 0 });
    expect(Date.now() - t0).toBeLessThan(6000); // ended with the call, not at the 15 s limit
    expect(ts.server.admission.state).toBe('closed');
  }, 60_000);

  it('at the drain limit the remaining call is hung up with a BYE', async () => {
    ts = await startTestServer();
    const live = runSipp({
      scenario: scenario('uac_wait_bye'),
      target: ts.sipTarget,
      service: '9196',
      calls: 1,
      timeoutMs: 30_000,
    });
    await waitUntil(() => ts!.server.calls.calls.size === 1, 10_000);
    const id = [...ts.server.calls.calls.keys()][0]!;
    const t0 = Date.now();
    const report = await ts.server.shutdown({ drainTimeoutMs: 1000 });
    expect(report).toMatchObject({ drained: false, hungUp: 1 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    const r = await live;
    expect(r.failed).toBe(0);
    expect(r.successful).toBe(1);
    expect(id).toBeTruthy();
  }, 60_000);
});
