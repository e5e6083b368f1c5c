/**
 * Three-way edge cases with real phones: the station is busy (the agent and the consumer go back to
 * two parties), and the agent hangs up while the station rings (THREE_WAY_AGENT_HANGUP=queue: the
 * consumer is not cut off but queued again; the station stops ringing).
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
  reachAgent,
  startPeerServer,
  stopPeerServer,
  timeline,
  type Api,
} from '../calls/peers.js';

let ts: TestServer;
let dir: string;
let api: Api;
let seat: Baresip;
let station: Baresip;
let tok: string;
let lead: string;

beforeAll(async () => {
  ({ ts, dir, api } = await startPeerServer('three-way-edge-'));
  [seat, station] = await Promise.all([device(ts, dir, '8007', 1000), device(ts, dir, '3001', 1400, 'manual')]);
  tok = await login(api, 'agent01', 'agent12315');
  lead = await login(api, 'lead01', 'lead12315');
  await agentAt(api, tok, '8007', false);
});
afterAll(async () => {
  await Promise.all([seat?.stop(), station?.stop()]);
  await stopPeerServer({ ts, dir });
});

const liveState = async (callId: string) =>
  (await api<{ items: { id: string; state: string }[] }>('GET', '/api/calls', lead)).body.items.find(
    (x) => x.id === callId,
  )?.state;

describe('three-way edge cases', () => {
  it('station busy: back to agent and consumer, join is refused', async () => {
    expect((await api('PUT', '/api/agents/me/state', tok, { state: 'ready' })).status).toBe(200);
    const c = await consumer(dir, 'busy-consumer', 600);
    try {
      const { callId } = await reachAgent(ts, api, tok, c, seat);
      const since = station.events.length;
      expect((await api('POST', `/api/calls/${callId}/three-way`, tok, { station: '3001' })).status).toBe(202);
      await station.waitEvent('CALL_INCOMING', undefined, 10_000, since);
      await sleep(500);
      await station.hangup();
      await station.waitEvent('CALL_CLOSED', undefined, 5000, since);
      await waitUntil(
        async () => (await api('POST', `/api/calls/${callId}/three-way/join`, tok)).status === 409,
        3000,
        'three-way over',
      );
      await sleep(3000);
      expect(await liveState(callId)).toBe('connected');
      // Issue 7: a note on the call's case says the station did not join (busy: the station rejected it).
      const caseId = ts.server.cases.getByCall(callId).id;
      const audit = await api<{ items: { action: string; actorId: number | null; changes: { note?: string[] } }[] }>(
        'GET',
        `/api/cases/${caseId}/audit`,
        tok,
      );
      expect(audit.status).toBe(200);
      const notes = audit.body.items.filter((a) => a.action === 'note');
      expect(notes).toHaveLength(1);
      expect(notes[0]!.actorId).toBeNull();
      expect(notes[0]!.changes.note![1]).toMatch(/^三方通话未建立：\S*维权站\S*忙线，已恢复为坐席与消费者双方通话。$/);
      await c.hangup();
      await seat.waitEvent('CALL_CLOSED', undefined, 5000);
      // The last seconds: the consumer hears the agent again (not music), the agent hears the consumer.
      const tail = (b: Baresip, hz: number) =>
        timeline(b)
          .slice(-9, -1)
          .filter((w) => w.s[hz]! > 0.5).length;
      expect(tail(c, 1000)).toBeGreaterThanOrEqual(3);
      expect(tail(seat, 600)).toBeGreaterThanOrEqual(3);
    } finally {
      await c.stop();
    }
    await waitUntil(() => ts.server.calls.calls.size === 0, 5000);
  });

  it('agent hangs up while the station rings: the consumer is queued again, the station stops ringing', async () => {
    expect((await api('PUT', '/api/agents/me/state', tok, { state: 'ready' })).status).toBe(200);
    const c = await consumer(dir, 'gone-consumer', 600);
    try {
      const { callId } = await reachAgent(ts, api, tok, c, seat);
      const since = station.events.length;
      const seatSince = seat.events.length;
      expect((await api('POST', `/api/calls/${callId}/three-way`, tok, { station: '3001' })).status).toBe(202);
      await station.waitEvent('CALL_INCOMING', undefined, 10_000, since);
      // Nobody else may take this caller meanwhile: the agent goes not-ready after this call.
      expect((await api('PUT', '/api/agents/me/state', tok, { state: 'not_ready', reason: '休息' })).status).toBe(200);
      await seat.hangup();
      await seat.waitEvent('CALL_CLOSED', undefined, 5000, seatSince);
      await station.waitEvent('CALL_CLOSED', undefined, 10_000, since);
      await waitUntil(async () => (await liveState(callId)) === 'queued', 5000, 'consumer queued again');
      const calls = await api<{ items: { id: string; ivrPath: string }[] }>('GET', '/api/calls', lead);
      expect(calls.body.items.find((x) => x.id === callId)!.ivrPath).toContain('three-way:agent-gone');
      expect(c.events.some((e) => e.type === 'CALL_CLOSED')).toBe(false);
      await c.hangup();
    } finally {
      await c.stop();
    }
    await waitUntil(() => ts.server.calls.calls.size === 0, 5000);
  });
});
