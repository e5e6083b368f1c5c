/**
 * WebRtcEndpoint ↔ headless Chromium with a plain RTCPeerConnection (no SIP): ICE + DTLS-SRTP over loopback,
 * PCMU both ways, checked by what each side actually decodes. Chromium's fake microphone plays a 1000 Hz WAV
 * into werift; the test sends 440 Hz from the server side and Chromium's decoded output is captured.
 * Run inside `unshare -n` (loopback only).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebRtcEndpoint, WebRtcState, warmUpWebRtc } from '../../../server/media/webrtc/endpoint.js';
import { dominantFrequencyOf, middle80, rmsOf, toneShareOf } from '../../helpers/audio.js';
import { launchChromium, type TestBrowser } from '../../helpers/browser.js';
import { Softphone, waitStats } from '../../helpers/jssip.js';
import { makeTempDir, removeTempDir, sleep, waitUntil } from '../../helpers/tmp.js';
import { rtpSink, startPcmuTone } from './rtp-tone.js';
import { parseTelephoneEvent, eventToDigit } from '../../../server/media/dtmf/rfc4733.js';

let dir: string;
let browser: TestBrowser;
let phone: Softphone;
const endpoints: WebRtcEndpoint[] = [];

function endpoint(): WebRtcEndpoint {
  const ep = new WebRtcEndpoint({ hostAddresses: ['127.0.0.1'], label: 'test' });
  endpoints.push(ep);
  return ep;
}

beforeAll(async () => {
  dir = makeTempDir('webrtc-browser');
  const wav = path.join(dir, 'mic-1000.wav');
  // 48 kHz like a real microphone; half scale, longer than every call here (the fake device loops it anyway).
  execFileSync('sox', ['-n', '-r', '48000', '-c', '1', '-b', '16', wav, 'synth', '30', 'sine', '1000', 'vol', '0.5']);
  const [b, certMs] = await Promise.all([launchChromium({ fakeAudioWav: wav }), warmUpWebRtc()]);
  browser = b;
  console.log(`Chromium launch ${browser.launchMs} ms, werift DTLS certificate ${certMs} ms`);
  phone = await Softphone.open(browser, { jssip: false });
});

afterAll(async () => {
  for (const ep of endpoints) await ep.close();
  await browser?.close();
  if (dir) removeTempDir(dir);
});

async function exchangeTones(ep: WebRtcEndpoint) {
  const sink = rtpSink();
  ep.onPacket((rtp) => sink.push(rtp));
  const tone = startPcmuTone((rtp) => ep.send(rtp), 440);
  try {
    await waitStats(phone, (s) => s.packetsReceived > 50 && s.audioLevel > 0, 5000, 'browser receiving audio');
    const heard = await phone.capture(1500);
    await waitUntil(() => sink.packets.length >= 100, 5000, 'werift receiving 100 packets');
    const pageStats = await phone.stats();
    return { sink, heard, pageStats, sent: tone.sent() };
  } finally {
    tone.stop();
  }
}

describe('WebRtcEndpoint with Chromium (plain RTCPeerConnection)', () => {
  it('answers a browser offer: G.711 only, loopback candidates, tones both ways', async () => {
    const ep = endpoint();
    const offer = await phone.pcOffer({ raw: true });
    expect(offer).toMatch(/UDP\/TLS\/RTP\/SAVPF 111 /); // opus first, as Chromium/JsSIP always offer
    const answer = await ep.answer(offer);
    const m = /^m=audio \d+ UDP\/TLS\/RTP\/SAVPF ([\d ]+)\r$/m.exec(answer);
    expect(m).not.toBeNull();
    const formats = m![1]!.split(' ');
    expect(formats[0]).toBe('0'); // PCMU first: werift's sender uses the first agreed codec
    expect(formats).not.toContain('111');
    expect(answer).not.toMatch(/opus/i);
    expect(answer).toMatch(/a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/);
    expect(answer).not.toMatch(/ tcp /);
    expect(answer).toMatch(/a=fingerprint:sha-256 /);
    expect(ep.negotiated).toMatchObject({ codec: 'PCMU', payloadType: 0 });
    expect(ep.state).toBe(WebRtcState.Connecting);

    await phone.pcApplyAnswer(answer);
    await ep.waitConnected(5000);
    expect(ep.state).toBe(WebRtcState.Connected);

    const { sink, heard, pageStats } = await exchangeTones(ep);
    // Browser → server: Chromium sends PCMU (the only codec we answered), 20 ms packets, the fake WAV tone.
    expect(sink.packets.every((p) => p.pt === 0 || p.pt === 126)).toBe(true);
    const audio = sink.packets.filter((p) => p.pt === 0);
    expect(audio[0]!.payload.length).toBe(160);
    const rx = middle80(sink.pcmu());
    expect(Math.abs(dominantFrequencyOf(rx, 8000) - 1000)).toBeLessThanOrEqual(20);
    expect(toneShareOf(rx, 8000, 1000)).toBeGreaterThan(0.9);
    // Raw constraints: no AGC, so a half-scale WAV arrives near half scale (peak ~16 000 → RMS ~11 500).
    expect(rmsOf(rx)).toBeGreaterThan(8000);

    // Server → browser: the 440 Hz we sent is what Chromium decodes and plays.
    expect(pageStats.inboundCodec).toMatch(/^audio\/PCMU\/0$/);
    expect(pageStats.packetsLost).toBe(0);
    expect(pageStats.audioLevel).toBeGreaterThan(0.1);
    expect(heard.samples.length).toBeGreaterThan(heard.sampleRate); // ≥ 1 s captured
    const played = middle80(heard.samples);
    expect(Math.abs(dominantFrequencyOf(played, heard.sampleRate) - 440)).toBeLessThanOrEqual(20);
    expect(toneShareOf(played, heard.sampleRate, 440)).toBeGreaterThan(0.8);

    const st = ep.stats();
    expect(st.rxPackets).toBeGreaterThanOrEqual(100);
    expect(st.txPackets).toBeGreaterThan(50);
    expect(st.setup.connected).not.toBeNull();
    expect(st.setup.descriptionReady).not.toBeNull();
    expect(st.setup.firstRtpIn).not.toBeNull();
    // Measured setup (answer() called → milestone), printed for the report.
    console.log('webrtc answer setup ms', JSON.stringify(st.setup));

    // RFC 4733 from the browser's DTMF sender arrives decrypted with the negotiated event PT.
    const before = sink.packets.length;
    await phone.pcInsertDtmf('1#', 100, 70);
    const digitsSeen = () =>
      new Set(
        sink.packets
          .slice(before)
          .filter((p) => p.pt === ep.negotiated!.telephoneEventPt)
          .map((p) => eventToDigit(parseTelephoneEvent(p.payload)!.event)),
      );
    await waitUntil(() => digitsSeen().has('#'), 3000, 'telephone-event packets for 1#');
    const digits = digitsSeen();
    expect([...digits]).toEqual(['1', '#']);

    await ep.close();
    await ep.close(); // idempotent
    expect(ep.state).toBe(WebRtcState.Closed);
    const dropped = ep.stats().txDropped;
    ep.send(Buffer.alloc(172, 0x80));
    expect(ep.stats().txDropped).toBe(dropped + 1);
    // Nothing reaches the browser after close (its ICE consent check would take ~10 s more to notice).
    const a = (await phone.stats()).packetsReceived;
    await sleep(300);
    expect((await phone.stats()).packetsReceived).toBe(a);
    await phone.pcClose();
  });

  it('offers to a browser (server-initiated call) and applies its answer', async () => {
    const ep = endpoint();
    const offer = await ep.createOffer();
    expect(ep.state).toBe(WebRtcState.Offering);
    expect(offer).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0 8 126\r$/m);
    expect(offer).toMatch(/a=rtpmap:126 telephone-event\/8000/);
    expect(offer).toMatch(/a=setup:actpass/);
    const answer = await phone.pcAnswer(offer, { raw: true });
    await ep.applyAnswer(answer);
    expect(ep.negotiated).toMatchObject({ codec: 'PCMU', payloadType: 0, telephoneEventPt: 126 });
    await ep.waitConnected(5000);

    const { sink, heard } = await exchangeTones(ep);
    const rx = middle80(sink.pcmu());
    expect(Math.abs(dominantFrequencyOf(rx, 8000) - 1000)).toBeLessThanOrEqual(20);
    const played = middle80(heard.samples);
    expect(Math.abs(dominantFrequencyOf(played, heard.sampleRate) - 440)).toBeLessThanOrEqual(20);
    console.log('webrtc offer setup ms', JSON.stringify(ep.stats().setup));
    await ep.close();
    await phone.pcClose();
    await sleep(50);
  });

  it('refuses to apply an answer that is not G.711 and rejects offers without G.711', async () => {
    const ep = endpoint();
    const offer = await phone.pcOffer({ raw: true });
    const opusOnly = offer
      .replace(/^(m=audio \d+ UDP\/TLS\/RTP\/SAVPF) .*$/m, '$1 111')
      .replace(/^a=(rtpmap|fmtp|rtcp-fb):(?!111 ).*\r\n/gm, '');
    await expect(ep.answer(opusOnly)).rejects.toMatchObject({ status: 488 });
    expect(ep.state).toBe(WebRtcState.New); // nothing was set up; the endpoint can still answer
    await phone.pcClose();
    await ep.close();
  });
});
