/**
 * DTMF from real peers, by every signalling path: RFC 4733 from baresip, RFC 4733 replayed by SIPp from
 * Debian's dtmf_2833_*.pcap, and SIP INFO application/dtmf-relay from SIPp (in-band tones: media-inband.test.ts). The caller keys 1 2 3 #; the test IVR flow (ivr-flows/tests/media-dtmf.yaml)
 * collects up to # and writes what it got into the IVR path (`transfer:got-<keys>`). Each key must arrive
 * exactly once: "123", never "1123" or "12"; the media endpoint's own dtmf events are checked too.
 * Run inside `unshare -n` (root there, which play_pcap_audio's raw socket needs).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DtmfVia } from '../../server/media/engine/api.js';
import { startBaresip, type Baresip } from '../helpers/baresip.js';
import { finalIvrPath, watchNextCall, type WatchedCall } from '../helpers/call-watch.js';
import { makeTestFlowsDir } from '../helpers/ivr-flows.js';
import { runSipp, scenarioPath } from '../helpers/sipp.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { removeTempDir, sleep } from '../helpers/tmp.js';

let ts: TestServer;
let flows: string;

beforeAll(async () => {
  flows = makeTestFlowsDir(['media-dtmf.yaml']);
  ts = await startTestServer({ IVR_FLOWS_DIR: flows, IVR_FLOW: 'media-dtmf' });
});
afterAll(async () => {
  await ts?.stop();
  removeTempDir(flows);
});

function expectCollected123(path: string, w: WatchedCall, via: DtmfVia): void {
  expect(path).toContain('transfer:got-123');
  expect(path).not.toMatch(/transfer:got-(?!123(?:>|$))/);
  expect(w.keys).toEqual(['1', '2', '3', '#'].map((digit) => ({ digit, via })));
}

/** A consumer behind the demo trunk (loopback): no registration, calls from 127.0.0.1. */
function consumer(name: string, wav?: string): Promise<Baresip> {
  return startBaresip({
    name,
    account: { user: '13800138000', transport: 'udp', answermode: 'manual' },
    audioSourceWav: wav,
  });
}

describe('DTMF 1 2 3 # from real peers reaches the IVR exactly once per key', () => {
  it('RFC 4733 telephone-events from baresip (sndcode)', async () => {
    const c = await consumer('dtmf-4733');
    try {
      const watching = watchNextCall(ts);
      await c.dial(`sip:12315@${ts.sipTarget}`);
      await c.waitEvent('CALL_ESTABLISHED', undefined, 10_000);
      const w = await watching;
      await sleep(800);
      await c.sendDtmf('123#');
      // The flow hangs up after the read-back and "goodbye".
      await c.waitEvent('CALL_CLOSED', undefined, 20_000);
      expectCollected123(await finalIvrPath(ts, w.call.id), w, 'rfc4733');
    } finally {
      await c.stop();
    }
  });

  it("RFC 4733 replayed by SIPp from Debian's dtmf_2833_*.pcap (own SSRC, repeated end packets)", async () => {
    const watching = watchNextCall(ts);
    const run = runSipp({
      scenario: scenarioPath('media_dtmf_pcap'),
      target: ts.sipTarget,
      service: '12315',
      timeoutMs: 25_000,
    });
    const w = await watching;
    const r = await run;
    expect(r.errors).toBe('');
    expect(r.failed).toBe(0);
    expect(r.successful).toBe(1);
    expectCollected123(await finalIvrPath(ts, w.call.id), w, 'rfc4733');
  });

  it("RFC 4733 from SIPp's own generator (play_dtmf: PT 96 as offered, PT 97 fillers, new SSRC)", async () => {
    const watching = watchNextCall(ts);
    const run = runSipp({
      scenario: scenarioPath('media_dtmf_native'),
      target: ts.sipTarget,
      service: '12315',
      timeoutMs: 25_000,
    });
    const w = await watching;
    const r = await run;
    expect(r.errors).toBe('');
    expect(r.failed).toBe(0);
    expect(r.successful).toBe(1);
    expectCollected123(await finalIvrPath(ts, w.call.id), w, 'rfc4733');
  });

  it('SIP INFO application/dtmf-relay from SIPp, in the dialog', async () => {
    const watching = watchNextCall(ts);
    const run = runSipp({
      scenario: scenarioPath('media_dtmf_info'),
      target: ts.sipTarget,
      service: '12315',
      timeoutMs: 25_000,
    });
    const w = await watching;
    const r = await run;
    expect(r.failed).toBe(0);
    expect(r.successful).toBe(1);
    expectCollected123(await finalIvrPath(ts, w.call.id), w, 'info');
  });
});
