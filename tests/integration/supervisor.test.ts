/**
 * Supervisor tools with real phones: the lead's seat 8009 (1400 Hz) joins a consumer (600 Hz) ↔ agent
 * (seat 8007, 1000 Hz) call. Listen: the lead hears both, nobody hears the lead. Whisper: the agent
 * hears the lead, the consumer does not. Both are audited; agents may not monitor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../helpers/server.js';
import { TestSocket } from '../api/socket-client.js';
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
  ({ ts, dir, api } = await startPeerServer('supervisor-'));
});
afterAll(async () => {
  await stopPeerServer({ ts, dir });
});

describe('supervisor monitoring', () => {
  it('listen: the lead hears both and is heard by nobody; whisper: only the agent hears the lead', async () => {
    const [seat, leadSeat] = await Promise.all([device(ts, dir, '8007', 1000), device(ts, dir, '8009', 1400)]);
    const c = await consumer(dir, 'monitored', 600);
    const socks: TestSocket[] = [];
    try {
      const tok = await login(api, 'agent01', 'agent12315');
      const lead = await login(api, 'lead01', 'lead12315');
      await agentAt(api, tok, '8007', true);
      const agentSock = await TestSocket.connect(Number(new URL(ts.httpUrl).port), { token: tok });
      socks.push(agentSock);
      const { callId } = await reachAgent(ts, api, tok, c, seat);
      expect((await api('POST', `/api/calls/${callId}/monitor`, tok, { mode: 'listen', seat: '8009' })).status).toBe(
        403,
      );
      expect((await api('POST', `/api/calls/${callId}/monitor/stop`, lead)).status).toBe(409);

      const l = await api<{ state: string }>('POST', `/api/calls/${callId}/monitor`, lead, {
        mode: 'listen',
        seat: '8009',
      });
      expect(l.status).toBe(202);
      expect(l.body.state).toBe('active');
      await sleep(3500);
      expect((await api('POST', `/api/calls/${callId}/monitor/stop`, lead)).status).toBe(202);
      await leadSeat.waitEvent('CALL_CLOSED', undefined, 5000);
      const listened = timeline(leadSeat);

      const since = leadSeat.events.length;
      const w = await api('POST', `/api/calls/${callId}/monitor`, lead, { mode: 'whisper', seat: '8009' });
      expect(w.status).toBe(202);
      await sleep(3500);
      await c.hangup();
      await leadSeat.waitEvent('CALL_CLOSED', undefined, 5000, since);
      await seat.waitEvent('CALL_CLOSED', undefined, 5000);

      // Listen: consumer and agent both in the lead's ear.
      const lp = phases(listened, (s) => s[600]! > 0.2 && s[1000]! > 0.2);
      expect(lp.during.length).toBeGreaterThanOrEqual(2);
      // Whisper: the agent hears consumer and lead together for a while; the consumer never hears the lead.
      const ap = phases(timeline(seat), (s) => s[600]! > 0.2 && s[1400]! > 0.2);
      expect(ap.during.length).toBeGreaterThanOrEqual(2);
      expect(maxOf(timeline(c), 1400)).toBeLessThan(0.05);
      // In listen mode the agent did not hear the lead either: the lead's tone only ever came with whisper.
      expect(ap.before.every((x) => x.s[1400]! < 0.05)).toBe(true);

      // The agent was told each time (call:coaching).
      const coaching = agentSock.events.filter((e) => e.event === 'call:coaching').map((e) => e.data);
      expect(coaching).toEqual([
        { callId, mode: 'listen' },
        { callId, mode: 'stopped' },
        { callId, mode: 'whisper' },
      ]);
      const audit = await api<{ entries: { action: string; target: string }[] }>('GET', '/api/agents/audit', lead);
      const actions = audit.body.entries.filter((e) => e.target === callId).map((e) => e.action);
      expect(actions).toEqual(expect.arrayContaining(['monitor_listen', 'monitor_stop', 'monitor_whisper']));
    } finally {
      for (const so of socks) so.close();
      await Promise.all([c.stop(), seat.stop(), leadSeat.stop()]);
    }
    await waitUntil(() => ts.server.calls.calls.size === 0, 5000);
  });
});
