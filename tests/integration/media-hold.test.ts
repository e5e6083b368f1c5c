/**
 * Hold and resume from a real phone: baresip seat A (600 Hz) calls seat B (1400 Hz) through the B2BUA, then
 * `hold` (re-INVITE a=sendonly) and `resume` (re-INVITE a=sendrecv). RFC 3264 §8.4 / §6.1: our answer to sendonly is
 * recvonly and we send no RTP while held; after the resume the answer is sendrecv and audio flows again.
 * Run inside `unshare -n`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Call } from '../../server/calls/call.js';
import type { MediaEndpoint } from '../../server/media/engine/api.js';
import { readWav, toneShareOf } from '../helpers/audio.js';
import { startDemoSeat, type Baresip } from '../helpers/baresip.js';
import { runSipp, scenarioPath } from '../helpers/sipp.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeTempDir, removeTempDir, sleep, waitUntil } from '../helpers/tmp.js';

let ts: TestServer;
let dir: string;

beforeAll(async () => {
  ts = await startTestServer();
  dir = makeTempDir('media-hold-');
});
afterAll(async () => {
  await ts?.stop();
  removeTempDir(dir);
});

/** The a=<direction> of an SDP's (single) audio section, or the session-level one, else sendrecv. */
function directionOf(sdp: string): string {
  return /^a=(sendrecv|sendonly|recvonly|inactive)\s*$/m.exec(sdp)?.[1] ?? 'sendrecv';
}

const seat = (ext: string, hz: number): Promise<Baresip> =>
  startDemoSeat({ sipTarget: ts.sipTarget, ext, name: `hold${ext}`, tone: { hz, dir } });

/** Share of `hz` in the last `seconds` of a recording. */
function tailShare(file: string, hz: number, seconds: number): number {
  const w = readWav(file);
  return toneShareOf(w.samples.subarray(Math.max(0, w.samples.length - Math.round(seconds * w.rate))), w.rate, hz);
}

describe('hold and resume from baresip', () => {
  it('seat A holds seat B: sendonly → we answer recvonly and send A nothing although B talks on; resume → sendrecv and A hears B again', async () => {
    const [a, b] = await Promise.all([seat('8001', 600), seat('8002', 1400)]);
    try {
      await a.dial(`sip:8002@${ts.sipTarget}`);
      await a.waitEvent('CALL_ESTABLISHED', undefined, 10_000);
      await b.waitEvent('CALL_ESTABLISHED', undefined, 10_000);
      let call: Call | undefined;
      await waitUntil(() => (call = [...ts.server.calls.calls.values()][0])?.outbound.size === 1, 5000, 'the call');
      const epA = call!.inbound.media as MediaEndpoint;
      const epB = [...call!.outbound][0]!.media as MediaEndpoint;
      // Spy on the answers to A's re-INVITEs (the leg calls media.answer for each offer).
      const offers: string[] = [];
      const answers: string[] = [];
      const answer = epA.answer.bind(epA);
      epA.answer = async (offer: string) => {
        offers.push(offer);
        const sdp = await answer(offer);
        answers.push(sdp);
        return sdp;
      };
      const updates: boolean[] = [];
      call!.inbound.on('updated', (u) => updates.push(u.held));

      await sleep(1500);
      expect((await epA.stats()).txPackets).toBeGreaterThan(40);

      expect((await a.command('hold')).ok).toBe(true);
      await waitUntil(() => updates.length === 1, 5000, 'the hold re-INVITE');
      expect(updates[0]).toBe(true);
      expect(directionOf(offers[0]!)).toBe('sendonly');
      expect(directionOf(answers[0]!)).toBe('recvonly');
      // Frames already on their way when the answer went out may still leave; after that, nothing.
      await sleep(300);
      const [a0, b0] = await Promise.all([epA.stats(), epB.stats()]);
      await sleep(1500);
      const [a1, b1] = await Promise.all([epA.stats(), epB.stats()]);
      // B keeps talking (its 1400 Hz reaches the bridge) ...
      expect(b1.rxPackets - b0.rxPackets).toBeGreaterThan(40);
      // ... but nothing of it goes to A, which asked not to receive.
      expect(a1.txPackets - a0.txPackets).toBe(0);

      expect((await a.command('resume')).ok).toBe(true);
      await waitUntil(() => updates.length === 2, 5000, 'the resume re-INVITE');
      expect(updates[1]).toBe(false);
      expect(directionOf(offers[1]!)).toBe('sendrecv');
      expect(directionOf(answers[1]!)).toBe('sendrecv');
      const r0 = await epA.stats();
      await sleep(2000);
      const r1 = await epA.stats();
      // 20 ms packets: ~100 in 2 s; allow for a loaded machine.
      expect(r1.txPackets - r0.txPackets).toBeGreaterThan(60);
      expect(r1.rxPackets - r0.rxPackets).toBeGreaterThan(60);

      await a.hangup();
      await a.waitEvent('CALL_CLOSED', undefined, 5000);
      await b.waitEvent('CALL_CLOSED', undefined, 5000);
      // After the resume each hears the other again.
      expect(tailShare(a.recordings().dec.at(-1)!, 1400, 1.5)).toBeGreaterThan(0.6);
      expect(tailShare(b.recordings().dec.at(-1)!, 600, 1.5)).toBeGreaterThan(0.6);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    await waitUntil(() => ts.server.calls.calls.size === 0, 5000);
  });

  it('SIPp holds with a=inactive, then c=0.0.0.0 (RFC 2543), then resumes: we send nothing while held, the IVR talks again after', async () => {
    const known = new Set(ts.server.calls.calls.keys());
    const run = runSipp({
      scenario: scenarioPath('media_hold'),
      target: ts.sipTarget,
      service: '12315',
      timeoutMs: 25_000,
    });
    try {
      let call: Call | undefined;
      await waitUntil(
        () => (call = [...ts.server.calls.calls.values()].find((c) => !known.has(c.id)))?.answeredAt != null,
        10_000,
        'the call answered',
      );
      const ep = call!.inbound.media as MediaEndpoint;
      const updates: { held: boolean; at: number }[] = [];
      call!.inbound.on('updated', (u) => updates.push({ held: u.held, at: Date.now() }));
      /** Packets we sent between 300 ms and 1300 ms after the n-th re-INVITE (SIPp waits 2 s between them). */
      const sentAfter = async (n: number) => {
        await waitUntil(() => updates.length >= n, 6000, `re-INVITE ${n}`);
        await sleep(Math.max(0, updates[n - 1]!.at + 300 - Date.now()));
        const s0 = (await ep.stats()).txPackets;
        await sleep(1000);
        return (await ep.stats()).txPackets - s0;
      };
      // Before any re-INVITE the welcome prompt is playing.
      const t0 = (await ep.stats()).txPackets;
      await sleep(800);
      expect((await ep.stats()).txPackets - t0).toBeGreaterThan(25);
      expect(await sentAfter(1)).toBe(0); // a=inactive
      expect(updates[0]!.held).toBe(true);
      expect(await sentAfter(2)).toBe(0); // c=IN IP4 0.0.0.0
      expect(updates[1]!.held).toBe(true);
      expect(await sentAfter(3)).toBeGreaterThan(30); // a=sendrecv: the IVR is heard again
      expect(updates[2]!.held).toBe(false);
    } finally {
      const r = await run;
      // A wrong direction in one of our answers fails SIPp's ereg check.
      expect(r.errors).toBe('');
      expect(r.failed).toBe(0);
      expect(r.successful).toBe(1);
    }
  });
});
