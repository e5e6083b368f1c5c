/**
 * Three-way call with the merchant station 3001 through real phones: consumer 600 Hz (trunk), agent
 * seat 8007 1000 Hz, station 1400 Hz. Private consultation first, then all three in one conference
 * (each hears the other two, never itself); the agent leaves and consumer and merchant still hear
 * each other; the consumer hangs up and the station's leg ends too. One recording covers the call.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Baresip } from '../helpers/baresip.js';
import { TestSocket } from '../api/socket-client.js';
import type { TestServer } from '../helpers/server.js';
import { sleep, waitUntil } from '../helpers/tmp.js';
import {
  agentAt,
  consumer,
  device,
  login,
  maxOf,
  minOf,
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
  ({ ts, dir, api } = await startPeerServer('three-way-'));
});
afterAll(async () => {
  await stopPeerServer({ ts, dir });
});

describe('three-way call with a merchant station', () => {
  it('consult, conference, agent leaves, consumer hangs up: who hears whom at each step', async () => {
    const token = await login(api, 'agent01', 'agent12315');
    const parties: Baresip[] = [];
    const sockets: TestSocket[] = [];
    try {
      const seat = await device(ts, dir, '8007', 1000);
      const station = await device(ts, dir, '3001', 1400);
      const c = await consumer(dir, 'tw-consumer', 600);
      parties.push(seat, station, c);
      await agentAt(api, token, '8007', true);
      // The agent's desktop and a lead's wallboard follow the three-way call over socket.io.
      const port = Number(new URL(ts.httpUrl).port);
      const agentSock = await TestSocket.connect(port, { token });
      const leadSock = await TestSocket.connect(port, { token: await login(api, 'lead01', 'lead12315') });
      sockets.push(agentSock, leadSock);
      const { callId } = await reachAgent(ts, api, token, c, seat);

      // Someone else's call: another agent may not touch it.
      const other = await login(api, 'agent02', 'agent12315');
      expect((await api('POST', `/api/calls/${callId}/three-way`, other, { station: '3001' })).status).toBe(403);
      expect((await api('POST', `/api/calls/nope/three-way`, token, { station: '3001' })).status).toBe(404);
      expect((await api('POST', `/api/calls/${callId}/three-way/join`, token)).status).toBe(409);

      const r = await api<{ state: string }>('POST', `/api/calls/${callId}/three-way`, token, { station: '3001' });
      expect(r.status).toBe(202);
      expect(r.body.state).toBe('ringing');
      await station.waitEvent('CALL_ESTABLISHED', undefined, 10_000);
      await sleep(4500);

      expect((await api('POST', `/api/calls/${callId}/three-way/join`, token)).status).toBe(202);
      await sleep(4500);

      const left = await api<{ state: string; parties: { role: string }[] }>(
        'POST',
        `/api/calls/${callId}/leave`,
        token,
      );
      expect(left.status).toBe(202);
      expect(left.body.state).toBe('agent_left');
      expect(left.body.parties.map((p) => p.role).sort()).toEqual(['consumer', 'station']);
      await seat.waitEvent('CALL_CLOSED', undefined, 5000);
      await sleep(4500);
      // The agent is off the call (wrap-up or ready), the call is still live.
      const me = await api<{ state: string; currentCallId: string | null }>('GET', '/api/agents/me', token);
      expect(me.body.currentCallId).toBeNull();
      expect(ts.server.calls.calls.has(callId)).toBe(true);

      await c.hangup();
      await station.waitEvent('CALL_CLOSED', undefined, 5000);
      await c.waitEvent('CALL_CLOSED', undefined, 5000);

      // Phases found in each party's audio (see peers.ts: wall-clock offsets drift on a loaded box).
      // 0.1: a jittery frame on a loaded box may briefly weaken one voice without ending the phase.
      const both = (x: number, y: number) => (s: Record<number, number>) => s[x]! > 0.1 && s[y]! > 0.1;
      // Consumer: conference = agent and station both heard; before it the private consultation (music,
      // neither voice); after it the station alone. Never its own tone.
      const cp = phases(timeline(c), both(1000, 1400));
      expect(cp.during.length).toBeGreaterThanOrEqual(2);
      expect(maxOf(cp.during, 600)).toBeLessThan(0.05);
      expect(cp.before.length).toBeGreaterThanOrEqual(2);
      expect(maxOf(cp.before, 1000)).toBeLessThan(0.05);
      expect(maxOf(cp.before, 1400)).toBeLessThan(0.05);
      expect(cp.after.length).toBeGreaterThanOrEqual(2);
      expect(minOf(cp.after, 1400)).toBeGreaterThan(0.6);
      expect(maxOf(cp.after, 1000)).toBeLessThan(0.05);
      // Station: consultation = the agent only; conference = consumer and agent; then the consumer only.
      const sp = phases(timeline(station), both(600, 1000));
      expect(sp.during.length).toBeGreaterThanOrEqual(2);
      expect(maxOf(sp.during, 1400)).toBeLessThan(0.05);
      expect(minOf(sp.before, 1000)).toBeGreaterThan(0.5);
      expect(maxOf(sp.before, 600)).toBeLessThan(0.05);
      expect(minOf(sp.after, 600)).toBeGreaterThan(0.6);
      expect(maxOf(sp.after, 1000)).toBeLessThan(0.05);
      // Agent: consumer and station in the conference, never itself.
      const ap = phases(timeline(seat), both(600, 1400));
      expect(ap.during.length).toBeGreaterThanOrEqual(2);
      expect(maxOf(ap.during, 1000)).toBeLessThan(0.05);

      await waitUntil(() => !ts.server.calls.calls.has(callId), 5000, 'call ended');
      type Conf = { callId: string; state: string; parties: { role: string }[] };
      const states = (sock: TestSocket) =>
        sock.events.filter((e) => e.event === 'call:conference').map((e) => (e.data as Conf).state);
      await waitUntil(() => states(agentSock).includes('ended'), 3000, 'ended pushed');
      expect(states(agentSock)).toEqual(['ringing', 'consulting', 'conference', 'agent_left', 'ended']);
      expect(states(leadSock)).toEqual(states(agentSock));
      const conf = agentSock.events.find(
        (e) => e.event === 'call:conference' && (e.data as Conf).state === 'conference',
      );
      expect((conf!.data as Conf).parties.map((p) => p.role).sort()).toEqual(['agent', 'consumer', 'station']);
      // One recording for the whole call, linked from the CDR, holding audio after the agent left.
      const row = ts.server.cdr.list({ limit: 20 }).find((x) => x.id === callId)!;
      expect(row.recordingFile).toBeTruthy();
      await waitUntil(() => fs.existsSync(row.recordingFile!) && fs.statSync(row.recordingFile!).size > 44, 3000);
      expect(fs.statSync(row.recordingFile!).size).toBeGreaterThan(8000 * 2 * 2 * 8);
    } finally {
      for (const so of sockets) so.close();
      await Promise.all(parties.map((p) => p.stop()));
    }
  });
});
