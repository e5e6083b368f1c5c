/**
 * Admission control and graceful shutdown as units: injected probes on a FakeClock.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import {
  ADMISSION_TABLE,
  AdmissionControl,
  AdmissionEvent,
  AdmissionState,
  ProcessProbes,
  type LoadProbes,
} from '../../server/ops/overload.js';
import { loadOpsConfig } from '../../server/ops/config.js';
import { gracefulShutdown } from '../../server/ops/shutdown.js';
import { FakeClock } from '../../server/util/clock.js';
import { IllegalTransitionError, legalPairs, nextState } from '../../server/util/fsm.js';

function probes(init: Partial<{ lag: number; cpu: number; calls: number }> = {}) {
  const v = { lag: 0, cpu: 0, calls: 0, ...init };
  const p: LoadProbes = { lagMs: () => v.lag, cpuCores: () => v.cpu, activeCalls: () => v.calls };
  return { v, p };
}
const limits = {
  maxCalls: 10,
  maxLagMs: 100,
  maxCpuCores: 1.5,
  retryAfterS: 7,
  drainRetryAfterS: 30,
  sampleMs: 1000,
  sustainSamples: 2,
};

describe('AdmissionControl', () => {
  it('admits under the limits and refuses at the channel limit at once, with Retry-After', () => {
    const { v, p } = probes({ calls: 9 });
    const a = new AdmissionControl(p, new FakeClock(), limits);
    expect(a.admit()).toEqual({ ok: true });
    v.calls = 10;
    expect(a.admit()).toEqual({ ok: false, reason: 'channels', retryAfterS: 7 });
    v.calls = 3;
    expect(a.admit().ok).toBe(true);
    expect(a.snapshot()).toMatchObject({ admitted: 2, refused: { channels: 1 } });
  });

  it('sheds only after 2 lagging samples in a row, and recovers only after 2 calm ones below 70 %', () => {
    const { v, p } = probes();
    const clock = new FakeClock();
    const a = new AdmissionControl(p, clock, limits).start();
    v.lag = 150;
    clock.advance(1000); // one bad sample: a GC pause is not overload
    expect(a.state).toBe(AdmissionState.Accepting);
    v.lag = 10;
    clock.advance(1000);
    v.lag = 150;
    clock.advance(1000);
    expect(a.state).toBe(AdmissionState.Accepting);
    clock.advance(1000);
    expect(a.state).toBe(AdmissionState.Shedding);
    expect(a.admit()).toEqual({ ok: false, reason: 'lag', retryAfterS: 7 });
    v.lag = 90; // under the limit but above the resume mark (70): still shedding
    clock.advance(5000);
    expect(a.state).toBe(AdmissionState.Shedding);
    v.lag = 60;
    clock.advance(1000);
    expect(a.state).toBe(AdmissionState.Shedding);
    clock.advance(1000);
    expect(a.state).toBe(AdmissionState.Accepting);
    expect(a.admit().ok).toBe(true);
    expect(a.snapshot().sheddingEpisodes).toBe(1);
    a.close();
  });

  it('sheds on CPU and names the cause', () => {
    const { v, p } = probes();
    const clock = new FakeClock();
    const a = new AdmissionControl(p, clock, limits).start();
    v.cpu = 1.9;
    clock.advance(2000);
    expect(a.admit()).toMatchObject({ ok: false, reason: 'cpu' });
    a.close();
  });

  it('draining refuses everything with the long Retry-After and never goes back', () => {
    const { v, p } = probes();
    const clock = new FakeClock();
    const a = new AdmissionControl(p, clock, limits).start();
    a.drain();
    a.drain(); // twice is fine
    expect(a.admit()).toEqual({ ok: false, reason: 'draining', retryAfterS: 30 });
    v.lag = 500;
    clock.advance(5000); // sampling does not move a draining gate
    expect(a.state).toBe(AdmissionState.Draining);
    a.close();
    a.close();
    expect(a.state).toBe(AdmissionState.Closed);
    expect(clock.pending).toBe(0);
  });

  it('the transition table: illegal moves throw', () => {
    expect(legalPairs(ADMISSION_TABLE).length).toBe(7);
    expect(() => nextState('admission', ADMISSION_TABLE, AdmissionState.Draining, AdmissionEvent.Recovered)).toThrow(
      IllegalTransitionError,
    );
    expect(() => nextState('admission', ADMISSION_TABLE, AdmissionState.Closed, AdmissionEvent.Drain)).toThrow(
      IllegalTransitionError,
    );
  });

  it('ProcessProbes sees a blocked event loop and the CPU it burnt', async () => {
    const pp = new ProcessProbes(() => 4);
    pp.lagMs();
    pp.cpuCores();
    const cpu0 = process.cpuUsage();
    const w0 = performance.now();
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    while (performance.now() - t0 < 200); // block the loop for 200 ms
    await new Promise((r) => setTimeout(r, 30));
    expect(pp.lagMs()).toBeGreaterThan(100);
    // the probe agrees with process.cpuUsage over the same window (how much CPU we got depends on the machine)
    const cores = pp.cpuCores();
    const c = process.cpuUsage(cpu0);
    const ref = (c.user + c.system) / 1000 / (performance.now() - w0);
    expect(cores).toBeGreaterThan(0);
    expect(Math.abs(cores - ref)).toBeLessThan(0.1);
    expect(pp.activeCalls()).toBe(4);
    pp.close();
    pp.close();
  });

  it('reads its limits from the environment and rejects nonsense', () => {
    const c = loadOpsConfig({
      MAX_CALLS: '300',
      OVERLOAD_MAX_LAG_MS: '80',
      DRAIN_TIMEOUT_MS: '5000',
      RECORDING_RETENTION_DAYS: '90',
    });
    expect(c.admission).toMatchObject({ maxCalls: 300, maxLagMs: 80 });
    expect(c.drainTimeoutMs).toBe(5000);
    expect(c.retention.recordingDays).toBe(90);
    expect(() => loadOpsConfig({ MAX_CALLS: 'lots' })).toThrow(/MAX_CALLS/);
    // production defaults shed on lag and CPU; inside the test runner only when asked
    expect(loadOpsConfig({}).admission.maxLagMs).toBe(500);
    expect(loadOpsConfig({ VITEST: 'true' }).admission.maxLagMs).toBe(Infinity);
    expect(loadOpsConfig({ VITEST: 'true', OVERLOAD_MAX_LAG_MS: '200' }).admission.maxLagMs).toBe(200);
  });
});

describe('gracefulShutdown', () => {
  const log = pino({ level: 'silent' });
  function target(live: number) {
    const t = {
      live,
      drained: false,
      hungUp: 0,
      closed: 0,
      drain: () => void (t.drained = true),
      liveCalls: () => t.live,
      hangupAll: () => {
        t.hungUp = t.live;
      },
      close: async () => void t.closed++,
    };
    return t;
  }

  it('waits for live calls to end by themselves, then closes', async () => {
    const clock = new FakeClock();
    const t = target(2);
    const done = gracefulShutdown(t, { drainTimeoutMs: 10_000, pollMs: 100 }, clock, log);
    expect(t.drained).toBe(true);
    clock.advance(3000);
    t.live = 0;
    clock.advance(100);
    const r = await done;
    expect(r).toMatchObject({ drained: true, hungUp: 0 });
    expect(r.ms).toBeLessThan(3300);
    expect(t.closed).toBe(1);
    expect(t.hungUp).toBe(0);
  });

  it('hangs up what is left at the drain limit', async () => {
    const clock = new FakeClock();
    const t = target(3);
    const done = gracefulShutdown(t, { drainTimeoutMs: 2000, hangupGraceMs: 500, pollMs: 100 }, clock, log);
    for (let i = 0; i < 30; i++) {
      clock.advance(100);
      await new Promise((r) => setImmediate(r));
    }
    const r = await done;
    expect(r).toMatchObject({ drained: false, hungUp: 3 });
    expect(t.hungUp).toBe(3);
    expect(t.closed).toBe(1);
  });
});
