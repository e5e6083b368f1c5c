/**
 * The agent leaves a three-way call and rejoins it (their seat is rung again and joins the same
 * conference); then the station hangs up and agent and consumer are back to two parties.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Baresip } from '../helpers/baresip.js';
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
const repairs: string[] = [];
/** Leave and rejoin are explicit ACD hand-overs (issue 5): nothing for the consistency check to repair. */
const noDrift = () => {
  expect(ts.server.acd.acd.reconcile()).toEqual([]);
  expect(repairs).toEqual([]);
};

beforeAll(async () => {
  ({ ts, dir, api } = await startPeerServer('three-way-rejoin-'));
  ts.server.acd.acd.on('repair', (kind, agentId) => repairs.push(`${kind}:${agentId}`));
});
afterAll(async () => {
  await stopPeerServer({ ts, dir });
});

describe('three-way: leave and rejoin', () => {
  it('the agent rejoins the conference; after the station hangs up agent and consumer still talk', async () => {
    const parties: Baresip[] = [];
    try {
      const [seat, station] = await Promise.all([device(ts, dir, '8007', 1000), device(ts, dir, '3001', 1400)]);
      const c = await consumer(dir, 'rejoin-consumer', 600);
      parties.push(seat, station, c);
      const tok = await login(api, 'agent01', 'agent12315');
      await agentAt(api, tok, '8007', true);
      const { callId } = await reachAgent(ts, api, tok, c, seat);
      expect((await api('POST', `/api/calls/${callId}/rejoin`, tok)).status).toBe(409);
      expect((await api('POST', `/api/calls/${callId}/three-way`, tok, { station: '3001' })).status).toBe(202);
      await station.waitEvent('CALL_ESTABLISHED', undefined, 10_000);
      // 409 while the server is still adding the station (its answer races our API call).
      await waitUntil(
        async () => (await api('POST', `/api/calls/${callId}/three-way/join`, tok)).status === 202,
        3000,
        'join',
        200,
      );
      const seatSince = seat.events.length;
      expect((await api('POST', `/api/calls/${callId}/leave`, tok)).status).toBe(202);
      await seat.waitEvent('CALL_CLOSED', undefined, 5000, seatSince);
      const me = async () =>
        (await api<{ state: string; currentCallId: string | null }>('GET', '/api/agents/me', tok)).body;
      await waitUntil(async () => (await me()).state === 'wrap_up', 3000, 'agent released into wrap-up');
      noDrift();
      await sleep(1000);
      const back = await api<{ state: string; parties: { role: string }[] }>(
        'POST',
        `/api/calls/${callId}/rejoin`,
        tok,
      );
      expect(back.status).toBe(202);
      expect(back.body.state).toBe('conference');
      expect(back.body.parties.map((p) => p.role).sort()).toEqual(['agent', 'consumer', 'station']);
      await seat.waitEvent('CALL_ESTABLISHED', undefined, 5000, seatSince);
      await waitUntil(
        async () =>
          (await api<{ currentCallId: string | null }>('GET', '/api/agents/me', tok)).body.currentCallId === callId,
        5000,
        'agent on the call again',
      );
      expect((await me()).state).toBe('on_call');
      noDrift();
      await sleep(3000);
      await station.hangup();
      await sleep(3000);
      await c.hangup();
      await seat.waitEvent('CALL_CLOSED', undefined, 5000, seatSince + 2);
      await waitUntil(async () => (await me()).state === 'wrap_up', 3000, 'agent released after the call');
      noDrift();
      expect(ts.server.acd.acd.counters.assigned).toBe(1);

      // The rejoined agent's call: consumer and station together, then the consumer alone; never itself.
      const ap = phases(timeline(seat), (s) => s[600]! > 0.2 && s[1400]! > 0.2);
      expect(ap.during.length).toBeGreaterThanOrEqual(2);
      expect(maxOf(ap.during, 1000)).toBeLessThan(0.05);
      expect(ap.after.length).toBeGreaterThanOrEqual(2);
      expect(maxOf(ap.after, 1400)).toBeLessThan(0.05);
      expect(Math.min(...ap.after.map((w) => w.s[600]!))).toBeGreaterThan(0.5);
    } finally {
      await Promise.all(parties.map((p) => p.stop()));
    }
    await waitUntil(() => ts.server.calls.calls.size === 0, 5000);
  });
});
