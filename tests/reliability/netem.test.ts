/**
 * Network trouble (issue 9): 5 % random loss and 0–50 ms jitter on every SIP datagram, both ways,
 * through ImpairRelay (the userspace stand-in for tc netem, which this kernel lacks). SIP
 * retransmissions (§17.1.1.2 Timer A, §13.3.1.4 2xx until ACK, §17.1.2.2 Timer E for the BYE) must
 * complete ≥ 99.9 % of 200 calls. Then a real phone's audio through the same impairment (the relay
 * carries RTP too): the call survives, the loss we measure is the loss that was made, and the tone
 * still comes back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaEndpoint } from '../../server/media/engine/api.js';
import { startDemoSeat } from '../helpers/baresip.js';
import { middle80, readWav, rmsOf, toneShare } from '../helpers/audio.js';
import { runSipp } from '../helpers/sipp.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeTempDir, removeTempDir, sleep } from '../helpers/tmp.js';
import { ImpairRelay, seeded } from './impair-relay.js';

const scenario = (n: string) => new URL(`./scenarios/${n}.xml`, import.meta.url).pathname;
let ts: TestServer;
let relay: ImpairRelay;

beforeAll(async () => {
  ts = await startTestServer();
  relay = await ImpairRelay.start({
    target: { host: '127.0.0.1', port: ts.sipPort },
    loss: 0.05,
    jitterMs: 50,
    random: seeded(Number(process.env.NETEM_SEED ?? 12315)),
  });
}, 30_000);
afterAll(async () => {
  relay?.close();
  await ts?.stop();
});

describe('5 % loss and 50 ms jitter on SIP', () => {
  it('retransmissions complete ≥ 99.9 % of 200 calls', async () => {
    const calls = 200;
    const r = await runSipp({
      scenario: scenario('uac_hold_bye_rport'),
      target: `127.0.0.1:${relay.port}`,
      service: '9196',
      calls,
      rate: 25,
      // Jitter reorders: a 100 Trying can arrive after the 200. A UA ignores a late provisional
      // response (§17.1.1.2); SIPp by default aborts the call on it, so that default is switched off.
      extraArgs: ['-d', '500', '-default_behaviors', 'all,-abortunexp'],
      timeoutMs: 120_000,
    });
    const { up, down } = relay.stats;
    const lossUp = up.dropped / (up.dropped + up.forwarded);
    const lossDown = down.dropped / (down.dropped + down.forwarded);
    const retrans = Object.entries(r.counts)
      .filter(([k]) => k.endsWith('_Retrans'))
      .reduce((s, [, v]) => s + v, 0);
    console.log(
      `netem stand-in: ${r.successful}/${calls} calls completed, ${r.failed} failed; datagrams dropped ` +
        `${(lossUp * 100).toFixed(1)} % toward the server, ${(lossDown * 100).toFixed(1)} % back; SIPp retransmissions ${retrans}`,
    );
    if (r.failed) console.log(r.errors.slice(0, 3000));
    expect(up.dropped).toBeGreaterThan(0); // the impairment really happened
    expect(down.dropped).toBeGreaterThan(0);
    expect(lossUp).toBeGreaterThan(0.02);
    expect(lossUp).toBeLessThan(0.1);
    expect(retrans).toBeGreaterThan(0);
    expect(r.successful / calls).toBeGreaterThanOrEqual(0.999);
    // and nothing is left hanging on the server
    // These 200 calls are the ones whose INVITE came through the relay.
    const ours = () => [...ts.server.calls.calls.values()].filter((c) => relay.inviteCallIds.has(c.inbound.req.callId));
    for (let i = 0; i < 100 && ours().length > 0; i++) await sleep(100);
    const left = ours().map(
      (c) =>
        `${c.state}, inbound ${c.inbound.state}, ${Date.now() - c.startedAt} ms old, dialled ${c.dialled}, ` +
        `from ${c.inbound.flow.address}:${c.inbound.flow.port} (relay ${relay.port}), Call-ID ${c.inbound.req.callId}`,
    );
    expect(left, 'calls still on the server 10 s after SIPp finished').toEqual([]);
  }, 150_000);
});

describe('5 % loss and 50 ms jitter on RTP as well', () => {
  it('a baresip call to the echo survives; our receiver counts the loss the network made; the tone comes back', async () => {
    const dir = makeTempDir('netem-audio-');
    const mediaRelay = await ImpairRelay.start({
      target: { host: '127.0.0.1', port: ts.sipPort },
      loss: 0.05,
      jitterMs: 50,
      media: true,
      random: seeded(Number(process.env.NETEM_SEED ?? 12315) + 1),
    });
    const phone = await startDemoSeat({
      sipTarget: ts.sipTarget,
      ext: '8007',
      name: 'netem8007',
      tone: { hz: 1000, dir },
      // Up to 50 ms of reordering: give the phone's jitter buffer room for it.
      extraConfig: ['jitter_buffer_delay\t3-8'],
    });
    try {
      // The phone registered directly; its call goes through the impairing relay (SIP and RTP).
      await phone.dial(`sip:9196@127.0.0.1:${mediaRelay.port}`);
      await phone.waitEvent('CALL_ESTABLISHED', undefined, 20_000);
      await sleep(8000);
      const call = [...ts.server.calls.calls.values()].find((c) => mediaRelay.inviteCallIds.has(c.inbound.req.callId));
      expect(call, 'the echo call is up after 8 s of loss and jitter').toBeDefined();
      const st = await (call!.inbound.media as MediaEndpoint).stats();
      const closedEarly = phone.events.some((e) => e.type === 'CALL_CLOSED');
      await phone.hangup();
      await phone.waitEvent('CALL_CLOSED', undefined, 10_000);

      const { up, down } = mediaRelay.mediaStats;
      const made = up.dropped / (up.dropped + up.forwarded);
      const seen = st.lost / (st.lost + st.rxPackets);
      const decoded = phone.recordings().dec.at(-1)!;
      const heard = toneShare(decoded, 1000);
      const sounding = soundingFrames(decoded);
      console.log(
        `RTP through the relay: ${up.forwarded + up.dropped} up (${(made * 100).toFixed(1)} % dropped), ` +
          `${down.forwarded + down.dropped} down (${((down.dropped / (down.dropped + down.forwarded)) * 100).toFixed(1)} % dropped); ` +
          `server receiver: ${st.rxPackets} packets, ${st.lost} lost (${(seen * 100).toFixed(1)} %), jitter ${st.jitterMs.toFixed(1)} ms; ` +
          `1 kHz share of what the phone heard back ${heard.toFixed(2)}, 20 ms frames with sound ${(sounding * 100).toFixed(1)} %`,
      );
      expect(closedEarly).toBe(false);
      expect(up.dropped).toBeGreaterThan(0);
      expect(down.dropped).toBeGreaterThan(0);
      expect(st.rxPackets).toBeGreaterThan(300); // ~8 s at 50 packets/s, less the loss
      // RFC 3550 §A.3 loss as our receiver counts it is the loss the network made, give or take the
      // packets still in flight and reordered ones (not loss).
      expect(Math.abs(seen - made)).toBeLessThan(0.03);
      // 0–50 ms of random delay is 0–50 ms of jitter; §A.8's estimator must see it.
      expect(st.jitterMs).toBeGreaterThan(5);
      // The echo carries on: most of what comes back is the tone (≈10 % lost on the round trip).
      expect(heard).toBeGreaterThan(0.5);
      // …and it is not a trickle: gaps are the lost packets, not dead air (≈ 90 % expected).
      expect(sounding).toBeGreaterThan(0.75);
    } finally {
      await phone.stop();
      mediaRelay.close();
      removeTempDir(dir);
    }
  }, 60_000);
});

/** Share of 20 ms frames in the middle 80 % of a recording with any sound in them (RMS above −50 dBFS). */
function soundingFrames(file: string): number {
  const { rate, samples } = readWav(file);
  const mid = middle80(samples);
  const n = Math.round(rate * 0.02);
  let frames = 0;
  let loud = 0;
  for (let i = 0; i + n <= mid.length; i += n, frames++) if (rmsOf(mid.subarray(i, i + n)) > 100) loud++;
  return frames ? loud / frames : 0;
}
