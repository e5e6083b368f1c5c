/**
 * A browser agent and a desk phone talk through the server: JsSIP in headless Chromium registers 8001 over
 * SIP/WebSocket (/sip) with a fake microphone playing 1000 Hz; baresip 8002 (600 Hz) calls 8001. The call
 * manager offers the browser a WebRTC endpoint (werift: ICE, DTLS-SRTP) and bridges it to baresip's plain RTP.
 * The other direction too: the browser calls a desk phone. Each side must hear the other's tone and not its own. Run inside `unshare -n`.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { warmUpWebRtc } from '../../server/media/webrtc/endpoint.js';
import { dominantFrequencyOf, middle80, readWav, toneShareOf } from '../helpers/audio.js';
import { makeToneWav, startBaresip } from '../helpers/baresip.js';
import { launchChromium, type TestBrowser } from '../helpers/browser.js';
import { Softphone, jssipFiles, waitStats } from '../helpers/jssip.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeTempDir, removeTempDir, sleep, waitUntil } from '../helpers/tmp.js';

let dir: string;
let ts: TestServer;
let browser: TestBrowser;

beforeAll(async () => {
  dir = makeTempDir('media-webrtc-baresip-');
  const mic = path.join(dir, 'mic-1000.wav');
  execFileSync('sox', ['-n', '-r', '48000', '-c', '1', '-b', '16', mic, 'synth', '60', 'sine', '1000', 'vol', '0.5']);
  const [server, b] = await Promise.all([
    startTestServer(),
    jssipFiles().then((files) => launchChromium({ fakeAudioWav: mic, files })),
    warmUpWebRtc(),
  ]);
  ts = server;
  browser = b;
});

afterAll(async () => {
  if (process.env.JSSIP_DEBUG === '1') console.log(browser?.consoleLines.join('\n'));
  await browser?.close();
  await ts?.stop();
  if (dir) removeTempDir(dir);
});

describe('JsSIP in Chromium ↔ baresip through the B2BUA', () => {
  it('baresip 8002 calls the browser seat 8001: the browser hears 600 Hz, baresip hears 1000 Hz', async () => {
    const phone = await Softphone.open(browser);
    const realm = ts.config.realm;
    await phone.start({
      debug: process.env.JSSIP_DEBUG === '1',
      wsUrl: `${ts.httpUrl.replace('http:', 'ws:')}/sip`,
      uri: `sip:8001@${realm}`,
      password: 'demo8001',
      displayName: '坐席8001',
    });
    const desk = await startBaresip({
      name: 'desk8002',
      account: {
        user: '8002',
        password: 'demo8002',
        registrar: ts.sipTarget,
        transport: 'udp',
        answermode: 'manual',
        regint: 300,
      },
      audioSourceWav: makeToneWav(path.join(dir, 'desk-600.wav'), 600, 60),
    });
    try {
      await desk.waitRegistered(10_000);
      const answered = phone.answer({ timeoutMs: 15_000 });
      await desk.dial(`sip:8001@${ts.sipTarget}`);
      await answered;
      await desk.waitEvent('CALL_ESTABLISHED', undefined, 10_000);

      const st = await waitStats(phone, (s) => s.packetsReceived > 50 && s.audioLevel > 0, 8000, 'audio from baresip');
      expect(st.inboundCodec).toMatch(/^audio\/(PCMU|PCMA)\//);
      await sleep(300);
      const heard = await phone.capture(1500);
      const seg = middle80(heard.samples);
      expect(Math.abs(dominantFrequencyOf(seg, heard.sampleRate) - 600)).toBeLessThanOrEqual(20);
      expect(toneShareOf(seg, heard.sampleRate, 600)).toBeGreaterThan(0.6);
      expect(toneShareOf(seg, heard.sampleRate, 1000)).toBeLessThan(0.05);

      await desk.hangup();
      await desk.waitEvent('CALL_CLOSED', undefined, 5000);
      await waitUntil(() => ts.server.calls.calls.size === 0, 5000, 'the call to end on the server');
      const w = readWav(desk.recordings().dec.at(-1)!);
      expect(toneShareOf(w.samples, w.rate, 1000)).toBeGreaterThan(0.6);
      expect(toneShareOf(w.samples, w.rate, 600)).toBeLessThan(0.05);
      // The server's BYE to the browser is still on its way when the server has forgotten the call.
      let log: string[] = [];
      await waitUntil(
        async () => (log = (await phone.log()).map((e) => e.what)).includes('session-ended'),
        5000,
        'the browser to see the call end',
      ).catch(() => undefined);
      expect(log).toEqual(expect.arrayContaining(['ua-registered', 'session-confirmed', 'session-ended']));
    } finally {
      await desk.stop();
      await phone.stop().catch(() => undefined);
      await phone.close();
    }
    // Chromium, ICE and DTLS under the whole suite's load on two cores: ~13 s alone, 32 s seen in parallel.
  }, 90_000);

  it('the browser seat 8003 calls baresip 8004: our WebRTC answer and RTP offer carry both tones', async () => {
    const desk = await startBaresip({
      name: 'desk8004',
      account: {
        user: '8004',
        password: 'demo8004',
        registrar: ts.sipTarget,
        transport: 'udp',
        answermode: 'auto',
        regint: 300,
      },
      audioSourceWav: makeToneWav(path.join(dir, 'desk-1400.wav'), 1400, 60),
    });
    const phone = await Softphone.open(browser);
    try {
      await phone.start({
        wsUrl: `${ts.httpUrl.replace('http:', 'ws:')}/sip`,
        uri: `sip:8003@${ts.config.realm}`,
        password: 'demo8003',
      });
      await desk.waitRegistered(10_000);
      await phone.call(`sip:8004@${ts.config.realm}`);
      await desk.waitEvent('CALL_ESTABLISHED', undefined, 10_000);
      await waitStats(phone, (s) => s.packetsReceived > 50 && s.audioLevel > 0, 8000, 'audio from baresip');
      await sleep(300);
      const heard = await phone.capture(1500);
      const seg = middle80(heard.samples);
      expect(toneShareOf(seg, heard.sampleRate, 1400)).toBeGreaterThan(0.6);
      expect(toneShareOf(seg, heard.sampleRate, 1000)).toBeLessThan(0.05);
      await phone.hangup();
      await desk.waitEvent('CALL_CLOSED', undefined, 5000);
      await waitUntil(() => ts.server.calls.calls.size === 0, 5000, 'the call to end on the server');
      const w = readWav(desk.recordings().dec.at(-1)!);
      expect(toneShareOf(w.samples, w.rate, 1000)).toBeGreaterThan(0.6);
      expect(toneShareOf(w.samples, w.rate, 1400)).toBeLessThan(0.05);
    } finally {
      await desk.stop();
      await phone.stop().catch(() => undefined);
      await phone.close();
    }
  }, 90_000);
});
