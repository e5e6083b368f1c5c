/**
 * The agent's real path end to end: JsSIP in Chromium registers over SIP/WebSocket with digest, calls 9196,
 * the call manager answers with a WebRTC endpoint (werift) and the engine echoes the browser's 1000 Hz
 * microphone back. Run inside `unshare -n`.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { warmUpWebRtc, webRtcEndpointKind } from '../../../server/media/webrtc/endpoint.js';
import { dominantFrequencyOf, middle80, toneShareOf } from '../../helpers/audio.js';
import { launchChromium, type TestBrowser } from '../../helpers/browser.js';
import { Softphone, jssipFiles, waitStats } from '../../helpers/jssip.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { makeTempDir, removeTempDir, sleep, waitUntil } from '../../helpers/tmp.js';

let dir: string;
let ts: TestServer;
let browser: TestBrowser;

beforeAll(async () => {
  dir = makeTempDir('webrtc-jssip');
  const wav = path.join(dir, 'mic-1000.wav');
  execFileSync('sox', ['-n', '-r', '48000', '-c', '1', '-b', '16', wav, 'synth', '60', 'sine', '1000', 'vol', '0.5']);
  const [server, b] = await Promise.all([
    startTestServer(),
    jssipFiles().then((files) => launchChromium({ fakeAudioWav: wav, files })),
    warmUpWebRtc(),
  ]);
  ts = server;
  browser = b;
  // Idempotent with server.ts doing the same: the kind is a map entry.
  ts.server.engine.registerEndpointKind('webrtc', webRtcEndpointKind({ hostAddresses: ['127.0.0.1'] }));
});

afterAll(async () => {
  if (process.env.JSSIP_DEBUG === '1') console.log(browser?.consoleLines.join('\n'));
  await browser?.close();
  await ts?.stop();
  if (dir) removeTempDir(dir);
});

describe('JsSIP agent ↔ our SIP server over WebSocket', () => {
  it('registers 8001 with digest, calls 9196 and hears its own microphone echoed', async () => {
    const phone = await Softphone.open(browser);
    const realm = ts.config.realm;
    await phone.start({
      debug: process.env.JSSIP_DEBUG === '1',
      wsUrl: `${ts.httpUrl.replace('http:', 'ws:')}/sip`,
      uri: `sip:8001@${realm}`,
      password: 'demo8001',
      displayName: '坐席8001',
    });
    const setup = await phone.call(`sip:9196@${realm}`);
    expect(setup.answerAfterInviteMs).toBeGreaterThan(0);
    expect(setup.answerAfterInviteMs).toBeLessThan(2000);
    console.log(`JsSIP call setup ms ${JSON.stringify(setup)}`);

    const st = await waitStats(phone, (s) => s.packetsReceived > 50 && s.audioLevel > 0, 5000, 'echo arriving');
    expect(st.inboundCodec).toBe('audio/PCMU/0');
    expect(st.outboundCodec).toBe('audio/PCMU/0');
    await sleep(300);
    const heard = await phone.capture(1500);
    const back = middle80(heard.samples);
    expect(Math.abs(dominantFrequencyOf(back, heard.sampleRate) - 1000)).toBeLessThanOrEqual(20);
    expect(toneShareOf(back, heard.sampleRate, 1000)).toBeGreaterThan(0.6);
    expect(ts.server.calls.calls.size).toBe(1);

    await phone.hangup();
    await waitUntil(() => ts.server.calls.calls.size === 0, 5000, 'call to end on the server');
    const events = await phone.log();
    if (process.env.JSSIP_DEBUG === '1') console.log(JSON.stringify(events));
    const log = events.map((e) => e.what);
    expect(log).toEqual(expect.arrayContaining(['ua-registered', 'session-confirmed', 'session-ended']));
    await phone.stop();
    await phone.close();
  });
});
