/**
 * In-band DTMF: a carrier gateway that passes keys only as audio tones. The demo trunk is flagged
 * `inbandDtmf`, so the IVR's media endpoint runs the Goertzel detector on what the caller sends. A baresip
 * consumer plays a WAV with the keys 1 2 3 # as tone pairs; the test IVR flow (ivr-flows/tests/media-dtmf.yaml)
 * must collect exactly "123", and Mandarin speech before the keys must not be taken for a key (talk-off).
 * Run inside `unshare -n`.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Trunk } from '../../server/directory/trunks.js';
import type { MediaEndpoint } from '../../server/media/engine/api.js';
import { startBaresip } from '../helpers/baresip.js';
import { finalIvrPath, watchNextCall } from '../helpers/call-watch.js';
import { PROD_FLOWS_DIR, makeTestFlowsDir } from '../helpers/ivr-flows.js';
import { makeDtmfWav } from '../helpers/sox.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';

let ts: TestServer;
let flows: string;
let dir: string;
let trunk: Trunk;

beforeAll(async () => {
  flows = makeTestFlowsDir(['media-dtmf.yaml']);
  dir = makeTempDir('media-inband-');
  ts = await startTestServer({ IVR_FLOWS_DIR: flows, IVR_FLOW: 'media-dtmf' });
  trunk = ts.server.directory.trunks.list().find((t) => t.allowedSources.includes('127.0.0.1'))!;
  expect(trunk.inbandDtmf).toBe(false);
  ts.server.directory.trunks.update(trunk.name, { inbandDtmf: true });
});
afterAll(async () => {
  await ts?.stop();
  removeTempDir(flows);
  removeTempDir(dir);
});

/** Calls 12315 from the trunk's address sending `wav`; returns the keys the server saw and the final IVR path. */
async function callWith(name: string, wav: string, audioCodecs?: string) {
  const c = await startBaresip({
    name,
    account: { user: '13800138000', transport: 'udp', answermode: 'manual', audioCodecs },
    audioSourceWav: wav,
  });
  try {
    const watching = watchNextCall(ts);
    await c.dial(`sip:12315@${ts.sipTarget}`);
    await c.waitEvent('CALL_ESTABLISHED', undefined, 10_000);
    const w = await watching;
    const codec = (await (w.call.inbound.media as MediaEndpoint).stats()).codec;
    // The flow hangs up after the read-back and "goodbye".
    await c.waitEvent('CALL_CLOSED', undefined, 25_000);
    return { keys: w.keys, codec, ivrPath: await finalIvrPath(ts, w.call.id) };
  } finally {
    await c.stop();
  }
}

describe('in-band DTMF on a trunk flagged for it', () => {
  it('1 2 3 # as tone pairs (120 ms on, 120 ms off) are collected as exactly "123"', async () => {
    const wav = makeDtmfWav(path.join(dir, 'keys.wav'), '123#', { leadSeconds: 1.5, totalSeconds: 60 });
    const r = await callWith('inband-keys', wav);
    expect(r.codec).toBe('PCMU');
    expect(r.ivrPath).toContain('transfer:got-123');
    expect(r.keys).toEqual(['1', '2', '3', '#'].map((digit) => ({ digit, via: 'inband' })));
  });

  it('over A-law, 7.8 s of Mandarin speech before the keys gives no key of its own (talk-off)', async () => {
    const keys = makeDtmfWav(path.join(dir, 'keys-after.wav'), '123#', { leadSeconds: 0.5, totalSeconds: 50 });
    const wav = path.join(dir, 'speech-then-keys.wav');
    execFileSync('sox', [path.join(PROD_FLOWS_DIR, 'prompts/zh/main_menu.wav'), keys, wav]);
    const r = await callWith('inband-talkoff', wav, 'pcma');
    expect(r.codec).toBe('PCMA');
    expect(r.keys).toEqual(['1', '2', '3', '#'].map((digit) => ({ digit, via: 'inband' })));
    expect(r.ivrPath).toContain('transfer:got-123');
  });
});
