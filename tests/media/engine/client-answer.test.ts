// The first offer of a fresh RTP endpoint is answered in the calling thread (client.ts answerHere): the answer
// must not wait for the engine, and the engine must end up in the same state as if it had answered itself (it
// takes on the negotiated audio and the o= line's state instead of negotiating again).
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { SdpNegotiationError } from '../../../server/media/sdp/offer-answer.js';
import { parseSdp } from '../../../server/media/sdp/sdp.js';
import { createMediaEngine, type MediaEngine } from '../../../server/media/engine/index.js';
import { rtpPortRange } from '../../helpers/ports.js';
import { audioOffer } from './offer.js';
import { waitUntil } from '../../helpers/tmp.js';

const L = '127.0.0.1';

const origin = (sdp: string) => /^o=- (\d+) (\d+) IN IP4 /m.exec(sdp)!.slice(1);

let engine: MediaEngine | null = null;
afterEach(async () => {
  await engine?.close();
  engine = null;
});

async function workerEngine(): Promise<MediaEngine> {
  const r = await rtpPortRange(8);
  engine = await createMediaEngine({ bindAddress: L, portMin: r.start, portMax: r.end, thread: 'worker' });
  return engine;
}

describe('first SDP answer built in the calling thread', () => {
  it('does not wait for the engine: the answer resolves while the engine has not replied', async () => {
    const e = await workerEngine();
    const ep = await e.createRtpEndpoint();
    const channel = (e as unknown as { channel: { call(cmd: string, args: unknown[]): Promise<unknown> } }).channel;
    const real = channel.call.bind(channel);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const seen: string[] = [];
    // Holds every command the engine gets until released, as a busy media thread would.
    channel.call = async (cmd, args) => {
      seen.push(cmd);
      await held;
      return real(cmd, args);
    };
    const sdp = await ep.answer(audioOffer(40000));
    expect(sdp).toMatch(/^m=audio \d+ RTP\/AVP 0 101\r$/m);
    expect(seen).toEqual(['adoptAnswer']); // the engine was told the outcome, in order, without being waited for
    release();
    channel.call = real;
  });

  it('leaves the engine in the same state: media flows with the negotiated codec, later answers keep the o= line', async () => {
    const e = await workerEngine();
    const rx = createSocket('udp4');
    await new Promise<void>((r) => rx.bind(0, L, r));
    const pts: number[] = [];
    rx.on('message', (b) => pts.push(b[1]! & 0x7f));
    try {
      const ep = await e.createRtpEndpoint();
      const first = await ep.answer(audioOffer(rx.address().port, '8 0 101'));
      expect(first).toMatch(/^m=audio \d+ RTP\/AVP 8 101\r$/m);
      void ep.play([{ toneHz: 440, ms: 400 }]);
      await waitUntil(() => pts.length >= 5, 3000, 'RTP from the engine');
      expect(new Set(pts)).toEqual(new Set([8])); // PCMA, as answered here
      expect((await ep.stats()).codec).toBe('PCMA');
      // The same offer again (a session refresh) is answered by the engine: same session id, same version (§8).
      const again = await ep.answer(audioOffer(rx.address().port, '8 0 101'));
      expect(origin(again)).toEqual(origin(first));
      expect(again).toBe(first);
      // A changed description (hold) carries the same session id and version + 1.
      const hold = await ep.answer(audioOffer(rx.address().port, '8 0 101', 'a=sendonly'));
      const [id, v] = origin(first);
      expect(origin(hold)).toEqual([id, String(BigInt(v!) + 1n)]);
    } finally {
      rx.close();
    }
  });

  it('answers from the parsed offer the caller hands over, without parsing the text again', async () => {
    const e = await workerEngine();
    const ep = await e.createRtpEndpoint();
    // Call control parsed the INVITE's SDP already (to pick the endpoint kind); what it hands over is used.
    // A parse that disagreed with the text would show: PCMA from the parsed offer, not PCMU from the text.
    const sdp = await ep.answer(audioOffer(40000, '0 101'), parseSdp(audioOffer(40000, '8 101')));
    expect(sdp).toMatch(/^m=audio \d+ RTP\/AVP 8 101\r$/m);
  });

  it('an unacceptable first offer is refused with 488 and leaves the endpoint fresh for the next one', async () => {
    const e = await workerEngine();
    const ep = await e.createRtpEndpoint();
    const err = await ep.answer(audioOffer(40002, '18', 'a=rtpmap:18 G729/8000')).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(SdpNegotiationError);
    expect((err as SdpNegotiationError).status).toBe(488);
    const ok = await ep.answer(audioOffer(40002));
    const again = await ep.answer(audioOffer(40002));
    expect(again).toBe(ok);
  });
});
