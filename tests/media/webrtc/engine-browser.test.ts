/**
 * The media engine with a 'webrtc' endpoint kind (werift) and Chromium on the other side: a played tone
 * reaches the browser, the engine's echo returns the browser's own 1000 Hz microphone, and RFC 4733 digits
 * from the browser's DTMF sender become engine 'dtmf' events, each once. Run inside `unshare -n`.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMediaEngine, type MediaEndpoint, type MediaEngine } from '../../../server/media/engine/index.js';
import { warmUpWebRtc, webRtcEndpointKind } from '../../../server/media/webrtc/endpoint.js';
import { dominantFrequencyOf, middle80, toneShareOf } from '../../helpers/audio.js';
import { launchChromium, type TestBrowser } from '../../helpers/browser.js';
import { Softphone, waitStats } from '../../helpers/jssip.js';
import { rtpPortRange } from '../../helpers/ports.js';
import { makeTempDir, removeTempDir, sleep, waitUntil } from '../../helpers/tmp.js';

let dir: string;
let browser: TestBrowser;
let phone: Softphone;
let engine: MediaEngine;

beforeAll(async () => {
  dir = makeTempDir('webrtc-engine');
  const wav = path.join(dir, 'mic-1000.wav');
  execFileSync('sox', ['-n', '-r', '48000', '-c', '1', '-b', '16', wav, 'synth', '30', 'sine', '1000', 'vol', '0.5']);
  const range = await rtpPortRange(20);
  [browser, engine] = await Promise.all([
    launchChromium({ fakeAudioWav: wav }),
    createMediaEngine({ bindAddress: '127.0.0.1', portMin: range.start, portMax: range.end }),
    warmUpWebRtc(),
  ]).then(([b, e]) => [b, e] as const);
  engine.registerEndpointKind('webrtc', webRtcEndpointKind({ hostAddresses: ['127.0.0.1'] }));
  phone = await Softphone.open(browser, { jssip: false });
});

afterAll(async () => {
  await engine?.close();
  await browser?.close();
  if (dir) removeTempDir(dir);
});

describe('media engine through a WebRTC endpoint', () => {
  it('plays to the browser, echoes the browser, receives its RFC 4733 digits', async () => {
    const ep: MediaEndpoint = await engine.createEndpoint('webrtc', { label: 'agent-8001' });
    expect(ep.kind).toBe('webrtc');
    const answer = await ep.answer(await phone.pcOffer({ raw: true }));
    expect(answer).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0 8 126\r$/m);
    await phone.pcApplyAnswer(answer);
    await waitStats(phone, (s) => s.connectionState === 'connected', 5000, 'browser connected');

    // Engine player → werift → Chromium decodes 440 Hz.
    const playing = ep.play([{ toneHz: 440, ms: 10_000 }]);
    await waitStats(phone, (s) => s.packetsReceived > 50 && s.audioLevel > 0, 5000, 'tone arriving');
    const heard = await phone.capture(1200);
    const played = middle80(heard.samples);
    expect(Math.abs(dominantFrequencyOf(played, heard.sampleRate) - 440)).toBeLessThanOrEqual(20);
    expect(toneShareOf(played, heard.sampleRate, 440)).toBeGreaterThan(0.8);
    ep.stopPlayback();
    expect((await playing).reason).toBe('stopped');

    // Echo (extension 9196's service): the browser hears its own 1000 Hz microphone back.
    ep.echo(100);
    await sleep(600);
    const echoed = await phone.capture(1200);
    const back = middle80(echoed.samples);
    expect(Math.abs(dominantFrequencyOf(back, echoed.sampleRate) - 1000)).toBeLessThanOrEqual(20);
    expect(toneShareOf(back, echoed.sampleRate, 1000)).toBeGreaterThan(0.6);
    ep.stopEcho();

    // RFC 4733 from Chromium's DTMF sender: each digit reported once.
    const digits: string[] = [];
    ep.on('dtmf', (d, via) => digits.push(`${d}/${via}`));
    await phone.pcInsertDtmf('5*9', 120, 80);
    await waitUntil(() => digits.length >= 3, 5000, 'three digits');
    await sleep(300);
    expect(digits).toEqual(['5/rfc4733', '*/rfc4733', '9/rfc4733']);

    const st = await ep.stats();
    expect(st.kind).toBe('webrtc');
    expect(st.codec).toBe('PCMU');
    expect(st.rxPackets).toBeGreaterThan(100);
    expect(st.txPackets).toBeGreaterThan(100);

    await ep.close();
    await ep.close();
    const before = (await phone.stats()).packetsReceived;
    await sleep(300);
    expect((await phone.stats()).packetsReceived).toBe(before);
    await phone.pcClose();
  });
});
