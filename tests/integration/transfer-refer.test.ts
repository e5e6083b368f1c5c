/**
 * Blind transfer from a desk phone by REFER (RFC 3515): baresip at seat 8007 (agent01, 1000 Hz) runs
 * `/transfer sip:8008@…` during a queue call; the server answers 202, NOTIFYs the outcome, rings 8008
 * (1400 Hz) and connects the consumer (600 Hz) to it; the transferor's leg ends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../helpers/server.js';
import { sleep, waitUntil } from '../helpers/tmp.js';
import {
  agentAt,
  consumer,
  device,
  login,
  maxOf,
  phases,
  reachAgent,
  startPeerServer,
  stopPeerServer,
  timeline,
  type Api,
} from '../calls/peers.js';

let ts: TestServer;
let dir: string;
let api: Api;

beforeAll(async () => {
  ({ ts, dir, api } = await startPeerServer('refer-'));
});
afterAll(async () => {
  await stopPeerServer({ ts, dir });
});

describe('REFER from a SIP phone', () => {
  it("baresip's /transfer hands the consumer to another seat and its own call ends", async () => {
    const [seatA, seatB] = await Promise.all([device(ts, dir, '8007', 1000), device(ts, dir, '8008', 1400)]);
    const c = await consumer(dir, 'refer-consumer', 600);
    try {
      const tokA = await login(api, 'agent01', 'agent12315');
      const tokB = await login(api, 'agent02', 'agent12315');
      await agentAt(api, tokA, '8007', true);
      await agentAt(api, tokB, '8008', false);
      const { callId } = await reachAgent(ts, api, tokA, c, seatA);
      await sleep(1500);
      const refersBefore = seatA.events.length;
      const r = await seatA.command('transfer', `sip:8008@${ts.sipTarget}`);
      expect(r.ok).toBe(true);
      await seatB.waitEvent('CALL_ESTABLISHED', undefined, 10_000);
      await seatA.waitEvent('CALL_CLOSED', undefined, 10_000, refersBefore);
      // The ACD follows: agent02 is on the call now, agent01 is not.
      await waitUntil(
        async () =>
          (await api<{ currentCallId: string | null }>('GET', '/api/agents/me', tokB)).body.currentCallId === callId,
        5000,
        'agent02 on the call',
      );
      expect(
        (await api<{ currentCallId: string | null }>('GET', '/api/agents/me', tokA)).body.currentCallId,
      ).toBeNull();
      await sleep(3500);
      await c.hangup();
      await seatB.waitEvent('CALL_CLOSED', undefined, 5000);
      const cp = phases(timeline(c), (s) => s[1400]! > 0.5);
      expect(cp.during.length).toBeGreaterThanOrEqual(2);
      expect(maxOf(cp.during, 1000)).toBeLessThan(0.05);
      const bp = phases(timeline(seatB), (s) => s[600]! > 0.5);
      expect(bp.during.length).toBeGreaterThanOrEqual(2);
      expect(maxOf(bp.during, 1000)).toBeLessThan(0.05);
    } finally {
      await Promise.all([c.stop(), seatA.stop(), seatB.stop()]);
    }
    await waitUntil(() => ts.server.calls.calls.size === 0, 5000);
  });
});
