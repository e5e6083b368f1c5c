/**
 * Two WebRtcEndpoints (werift ↔ werift) over loopback: offer/answer, ICE + DTLS-SRTP, RTP both ways including
 * RFC 4733 events past werift's sender, what send() refuses, close, and the connect timeout on a FakeClock.
 * Run inside `unshare -n`.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { serializeRtp } from '../../../server/media/rtp/packet.js';
import {
  IllegalWebRtcTransition,
  WebRtcEndpoint,
  WebRtcState,
  warmUpWebRtc,
  webRtcEndpointKind,
} from '../../../server/media/webrtc/endpoint.js';
import { FakeClock } from '../../../server/util/clock.js';
import { dominantFrequencyOf, middle80 } from '../../helpers/audio.js';
import { waitUntil } from '../../helpers/tmp.js';
import { rtpSink, startPcmuTone } from './rtp-tone.js';

const open: WebRtcEndpoint[] = [];
function ep(o: ConstructorParameters<typeof WebRtcEndpoint>[0] = {}): WebRtcEndpoint {
  const e = new WebRtcEndpoint({ hostAddresses: ['127.0.0.1'], ...o });
  open.push(e);
  return e;
}

beforeAll(async () => {
  await warmUpWebRtc();
});
afterEach(async () => {
  for (const e of open.splice(0)) await e.close();
});

async function connectedPair(): Promise<[WebRtcEndpoint, WebRtcEndpoint]> {
  const server = ep({ label: 'server' });
  const agent = ep({ label: 'agent' });
  const offer = await server.createOffer();
  const answer = await agent.answer(offer);
  await server.applyAnswer(answer);
  await Promise.all([server.waitConnected(5000), agent.waitConnected(5000)]);
  return [server, agent];
}

describe('WebRtcEndpoint ↔ WebRtcEndpoint', () => {
  it('connects and carries a PCMU tone; setup times are recorded', async () => {
    const [server, agent] = await connectedPair();
    expect(server.negotiated).toMatchObject({ codec: 'PCMU', payloadType: 0, telephoneEventPt: 126 });
    expect(agent.negotiated).toMatchObject({ codec: 'PCMU', payloadType: 0, telephoneEventPt: 126 });
    const sink = rtpSink();
    agent.onPacket((p) => sink.push(p));
    const tone = startPcmuTone((p) => server.send(p), 697);
    await waitUntil(() => sink.packets.length >= 40, 5000, '40 packets');
    tone.stop();
    expect(sink.packets.every((p) => p.pt === 0 && p.payload.length === 160)).toBe(true);
    // Sequence numbers are the caller's (werift adds no offset), so the engine's continuity survives.
    const seqs = sink.packets.map((p) => p.seq);
    expect(seqs.slice(1).every((s, i) => s === ((seqs[i]! + 1) & 0xffff))).toBe(true);
    expect(Math.abs(dominantFrequencyOf(middle80(sink.pcmu()), 8000) - 697)).toBeLessThanOrEqual(20);
    const st = server.stats();
    expect(st.state).toBe(WebRtcState.Connected);
    expect(st.setup.descriptionReady).not.toBeNull();
    expect(st.setup.connected).toBeGreaterThanOrEqual(st.setup.iceConnected ?? 0);
    expect(agent.stats().setup.firstRtpIn).not.toBeNull();
  });

  it('sends telephone-event packets with their own PT; refuses RTCP and unknown payload types', async () => {
    const [server, agent] = await connectedPair();
    const sink = rtpSink();
    agent.onPacket((p) => sink.push(p));
    const ev = Buffer.from([5, 0x0a, 0x01, 0x40]); // digit 5, volume 10, duration 320
    for (let i = 0; i < 3; i++)
      server.send(
        serializeRtp({ payloadType: 126, sequenceNumber: 7 + i, timestamp: 8000, ssrc: 1, marker: i === 0 }, ev),
      );
    server.send(serializeRtp({ payloadType: 18, sequenceNumber: 10, timestamp: 8000, ssrc: 1 }, Buffer.alloc(20)));
    server.send(Buffer.from([0x80, 200, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    await waitUntil(() => sink.packets.length >= 3, 3000, 'event packets');
    await new Promise((r) => setTimeout(r, 100));
    expect(sink.packets.map((p) => p.pt)).toEqual([126, 126, 126]);
    expect(sink.packets[0]!.payload).toEqual(ev);
    expect(sink.packets.map((p) => p.seq)).toEqual([7, 8, 9]);
    const st = server.stats();
    expect(st.txDtmfPackets).toBe(3);
    expect(st.txDropped).toBe(2);
  });

  it('refuses a second createOffer, an answer while offering, and an answer before an offer', async () => {
    const a = ep();
    await expect(a.applyAnswer('v=0\r\n')).rejects.toBeInstanceOf(IllegalWebRtcTransition);
    const offer = await a.createOffer();
    await expect(a.createOffer()).rejects.toBeInstanceOf(IllegalWebRtcTransition);
    await expect(a.answer(offer)).rejects.toBeInstanceOf(IllegalWebRtcTransition);
    expect(a.state).toBe(WebRtcState.Offering);
  });

  it('close is idempotent, emits closed once, and stops delivery', async () => {
    const [server, agent] = await connectedPair();
    let closed = 0;
    agent.on('closed', () => closed++);
    const got: Buffer[] = [];
    agent.onPacket((p) => got.push(p));
    await Promise.all([agent.close(), agent.close()]);
    await agent.close();
    expect(closed).toBe(1);
    expect(agent.state).toBe(WebRtcState.Closed);
    server.send(serializeRtp({ payloadType: 0, sequenceNumber: 1, timestamp: 1, ssrc: 1 }, Buffer.alloc(160, 0xff)));
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toHaveLength(0);
    await expect(agent.answer('v=0\r\n')).rejects.toBeInstanceOf(IllegalWebRtcTransition);
    await expect(agent.waitConnected(10)).rejects.toThrow(/closed/);
  });

  it('fails after the connect timeout when the peer never completes ICE (FakeClock)', async () => {
    const clock = new FakeClock();
    const offerer = ep();
    const answerer = ep({ clock, connectTimeoutMs: 8000 });
    const failed: string[] = [];
    answerer.on('failed', (r: string) => failed.push(r));
    // The offerer never learns the answer, so it never answers connectivity checks.
    await answerer.answer(await offerer.createOffer());
    expect(answerer.state).toBe(WebRtcState.Connecting);
    clock.advance(7999);
    expect(answerer.state).toBe(WebRtcState.Connecting);
    clock.advance(1);
    expect(answerer.state).toBe(WebRtcState.Failed);
    expect(failed).toEqual(['ICE/DTLS connect timeout']);
    expect(clock.pending).toBe(0);
  });

  it('is a factory for the engine endpoint kind', async () => {
    const make = webRtcEndpointKind({ hostAddresses: ['127.0.0.1'] });
    const s = (await make({ label: 'agent-8001' })) as WebRtcEndpoint;
    open.push(s);
    expect(s.kind).toBe('webrtc');
    expect(s.negotiated).toBeNull();
    const offer = await s.createOffer();
    expect(offer).toMatch(/a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 /);
    expect(offer).not.toMatch(/stun|google/i);
  });
});
