/**
 * DTMF from real peers, every path the server takes keys by: RFC 4733 from baresip, RFC 4733 replayed by SIPp
 * from Debian's dtmf_2833_*.pcap, SIP INFO application/dtmf-relay from SIPp, and in-band tones (Goertzel) on a
 * trunk configured for them. The caller keys 1 2 3 #; the test IVR flow (ivr-flows/tests/media-dtmf.yaml)
 * collects up to # and writes what it got into the IVR path (`transfer:got-<keys>`). Each key must arrive
 * exactly once: "123", never "1123" or "12"; the media endpoint's own dtmf events are checked too.
 * Run inside `unshare -n` (root there, which play_pcap_audio's raw socket needs).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Call } from '../../server/calls/call.js';
import type { DtmfVia, MediaEndpoint } from '../../server/media/engine/api.js';
import { startBaresip, type Baresip } from '../helpers/baresip.js';
import { makeTestFlowsDir } from '../helpers/ivr-flows.js';
import { runSipp, scenarioPath } from '../helpers/sipp.js';
import { makeDtmfWav } from '../helpers/sox.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeTempDir, removeTempDir, sleep, waitUntil } from '../helpers/tmp.js';

let ts: TestServer;
let flows: string;
let dir: string;

beforeAll(async () => {
  flows = makeTestFlowsDir(['media-dtmf.yaml']);
  dir = makeTempDir('media-dtmf-');
  ts = await startTestServer({ IVR_FLOWS_DIR: flows, IVR_FLOW: 'media-dtmf' });
});
afterAll(async () => {
  await ts?.stop();
  removeTempDir(flows);
  removeTempDir(dir);
});

interface Watched {
  call: Call;
  keys: { digit: string; via: DtmfVia }[];
}

/**
 * Finds the next new call on the server and records every key its media endpoint reports, in order. Polls
 * every 5 ms: the peers in these tests wait ≥ 0.8 s after the answer before the first key.
 */
async function watchNextCall(): Promise<Watched> {
  const known = new Set(ts.server.calls.calls.keys());
  let call: Call | undefined;
  await waitUntil(
    () => (call = [...ts.server.calls.calls.values()].find((c) => !known.has(c.id))) !== undefined,
    10_000,
    'a new call on the server',
    5,
  );
  const keys: Watched['keys'] = [];
  (call!.inbound.media as MediaEndpoint).on('dtmf', (digit, via) => keys.push({ digit, via }));
  return { call: call!, keys };
}

/** The finished call's IVR path from its CDR row. */
async function ivrPathOf(callId: string): Promise<string> {
  await waitUntil(() => !ts.server.calls.calls.has(callId), 10_000, 'the call to end');
  const row = ts.server.cdr.list({ limit: 20 }).find((r) => r.id === callId);
  expect(row).toBeDefined();
  return row!.ivrPath ?? '';
}

function expectCollected123(path: string, w: Watched, via: DtmfVia): void {
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
      const watching = watchNextCall();
      await c.dial(`sip:12315@${ts.sipTarget}`);
      await c.waitEvent('CALL_ESTABLISHED', undefined, 10_000);
      const w = await watching;
      await sleep(800);
      await c.sendDtmf('123#');
      // The flow hangs up after the read-back and "goodbye".
      await c.waitEvent('CALL_CLOSED', undefined, 20_000);
      expectCollected123(await ivrPathOf(w.call.id), w, 'rfc4733');
    } finally {
      await c.stop();
    }
  });

  it("RFC 4733 replayed by SIPp from Debian's dtmf_2833_*.pcap (own SSRC, repeated end packets)", async () => {
    const watching = watchNextCall();
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
    expectCollected123(await ivrPathOf(w.call.id), w, 'rfc4733');
  });

  it('SIP INFO application/dtmf-relay from SIPp, in the dialog', async () => {
    const watching = watchNextCall();
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
    expectCollected123(await ivrPathOf(w.call.id), w, 'info');
  });

  it('in-band tones (Goertzel) from baresip on a trunk configured for in-band DTMF', async () => {
    const trunk = ts.server.directory.trunks.list().find((t) => t.allowedSources.includes('127.0.0.1'))!;
    expect(trunk.inbandDtmf).toBe(false);
    ts.server.directory.trunks.update(trunk.name, { inbandDtmf: true });
    // 1.5 s of silence, then the four keys as audio (120 ms on, 120 ms off), then silence.
    const wav = makeDtmfWav(path.join(dir, 'inband-123#.wav'), '123#', { leadSeconds: 1.5, totalSeconds: 60 });
    const c = await consumer('dtmf-inband', wav);
    try {
      const watching = watchNextCall();
      await c.dial(`sip:12315@${ts.sipTarget}`);
      await c.waitEvent('CALL_ESTABLISHED', undefined, 10_000);
      const w = await watching;
      await c.waitEvent('CALL_CLOSED', undefined, 20_000);
      expectCollected123(await ivrPathOf(w.call.id), w, 'inband');
    } finally {
      ts.server.directory.trunks.update(trunk.name, { inbandDtmf: false });
      await c.stop();
    }
  });
});
