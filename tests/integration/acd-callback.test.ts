/**
 * Callback from the queue with real peers (issue 5): a consumer (baresip behind the demo trunk) calls
 * 12315, presses 1 (投诉), waits with no agent ready, presses 1 again — the queue's callback key — and
 * the call ends. When an agent becomes ready the ACD reserves them, their seat (baresip) rings first,
 * and only after the agent answers is the consumer dialled through the outbound trunk, whose far end is
 * a SIPp UAS (uas_trunk_echo.xml).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaresip, type Baresip } from '../helpers/baresip.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { scenarioPath, startSippUas, type SippUas } from '../helpers/sipp.js';
import { sleep, waitUntil } from '../helpers/tmp.js';
import { apiFor, login as loginAs, type Api } from '../helpers/api.js';

let ts: TestServer;
let lead: string;

beforeAll(async () => {
  // Monday 10:00 in Beijing: business hours, so the IVR offers the menu.
  ts = await startTestServer({}, { wallClock: () => new Date('2026-11-30T02:00:00Z') });
  lead = await login('lead01', 'lead12315');
});
afterAll(async () => {
  await ts?.stop();
});

const api: Api = apiFor(() => ts);

const login = (username: string, password: string): Promise<string> => loginAs(api, username, password);

/** SIPp's message trace: the wall-clock time of the first INVITE it received, and that INVITE's text. */
function firstInvite(messages: string): { at: number; text: string } | null {
  // Each message is preceded by "----- 2026-11-29 00:31:31.123456\nUDP message received [739] bytes :\n\n".
  const m =
    /-{5,} (\d{4}-\d\d-\d\d)\s+(\d\d:\d\d:\d\d)\.(\d{3})\d*\r?\n\w+ message received[^\n]*\n\r?\n(INVITE [\s\S]*?)\r?\n\r?\n/.exec(
      messages,
    );
  if (!m) return null;
  return { at: new Date(`${m[1]}T${m[2]}.${m[3]}`).getTime(), text: m[4]! };
}

/**
 * Presses `key` in the 12315 menu until the IVR took it (the call's IVR path shows menu:<key>): on a
 * loaded machine a key can land between prompts and be dropped.
 */
async function choose(c: Baresip, number: string, key: string): Promise<void> {
  const took = () =>
    [...ts.server.calls.calls.values()].some((x) => x.callerNumber === number && x.ivrPath.includes(`menu:${key}`));
  const deadline = Date.now() + 30_000;
  while (!took() && Date.now() < deadline) {
    await c.sendDtmf(key);
    await waitUntil(took, 3000).catch(() => undefined);
  }
  expect(took(), `menu:${key} for ${number}`).toBe(true);
}

describe('callback requested in the queue', () => {
  it('1 while waiting keeps the place; the agent is reserved and rung first, then the consumer is dialled via the trunk', async () => {
    const acd = ts.server.acd.acd;
    let uas: SippUas | undefined;
    let seat: Baresip | undefined;
    const caller = await startBaresip({
      name: 'cb-caller',
      account: { user: '13800138000', transport: 'udp', answermode: 'manual' },
    });
    try {
      // No agent is ready: the caller waits in the complaint queue.
      await caller.dial(`sip:12315@${ts.sipTarget}`);
      await caller.waitEvent('CALL_ESTABLISHED', undefined, 10_000);
      await sleep(1000);
      await choose(caller, '13800138000', '1');
      const queued = () => acd.entries().find((e) => e.queueId === 'complaint');
      await waitUntil(() => queued() !== undefined, 15_000, 'caller in the complaint queue');
      const entryId = queued()!.id;
      expect(queued()!.kind).toBe('call');
      await sleep(1000);
      await caller.sendDtmf('1');
      await waitUntil(() => queued()?.kind === 'callback', 5000, 'entry converted to a callback');
      // The server thanks the caller and ends the call; the entry stays, without a live call.
      await caller.waitEvent('CALL_CLOSED', undefined, 15_000);
      await waitUntil(() => ts.server.calls.calls.size === 0, 5000, 'no live calls');
      expect(queued()).toMatchObject({ id: entryId, kind: 'callback', consumer: '13800138000' });
      const calls = await api<{ items: unknown[] }>('GET', '/api/calls', lead);
      expect(calls.body.items).toHaveLength(0);

      uas = await startSippUas({ scenario: scenarioPath('uas_trunk_echo'), rtpEcho: true, traceMsg: true });
      ts.server.directory.trunks.update('loopback', {
        outbound: { host: '127.0.0.1', port: uas.port, transport: 'UDP', callerId: '12315', prefix: '0' },
      });
      seat = await startBaresip({
        name: 'cb-seat',
        account: {
          user: '8004',
          password: 'demo8004',
          registrar: ts.sipTarget,
          transport: 'udp',
          answermode: 'manual',
          regint: 300,
        },
      });
      await seat.waitRegistered(10_000);
      const token = await login('agent04', 'agent12315');
      expect((await api('POST', '/api/agents/me/login', token, { seat: '8004' })).status).toBe(200);
      const states: string[] = [];
      const off = acd.on('agent_state', (t, a) => {
        if (a.agentId === 'agent04') states.push(t.to);
      });
      expect((await api('PUT', '/api/agents/me/state', token, { state: 'ready' })).status).toBe(200);
      const ringing = await seat.waitEvent('CALL_INCOMING', undefined, 10_000);
      const me = await api<{ state: string }>('GET', '/api/agents/me', token);
      expect(me.body.state).toBe('reserved');
      // The consumer is not dialled while the agent's seat rings (they must never answer to nobody).
      await sleep(1500);
      const answeredAt = Date.now();
      await seat.accept();
      await seat.waitEvent('CALL_ESTABLISHED', undefined, 10_000);
      await waitUntil(
        async () => (await api<{ state: string }>('GET', '/api/agents/me', token)).body.state === 'on_call',
        15_000,
        'agent on_call with the consumer',
      );
      expect(acd.entries().some((e) => e.id === entryId)).toBe(false);
      await sleep(1500);
      await seat.hangup();
      await waitUntil(
        async () => (await api<{ state: string }>('GET', '/api/agents/me', token)).body.state !== 'on_call',
        10_000,
        'agent leaves on_call',
      );
      off();
      expect(states.slice(0, 3)).toEqual(['ready', 'reserved', 'on_call']);
      const trunkSide = await uas.stop(5000);
      const invite = firstInvite(trunkSide.messages ?? '');
      expect(invite, trunkSide.messages?.slice(0, 600)).not.toBeNull();
      expect(invite!.text).toMatch(/^INVITE sip:013800138000@127\.0\.0\.1:\d+ SIP\/2\.0/);
      expect(invite!.text).toMatch(/^From: .*<sip:12315@/m);
      // SIPp stamps local time (parsed as local time above): the trunk's INVITE came after the seat rang
      // and after the agent answered.
      expect(invite!.at).toBeGreaterThan(ringing.at);
      expect(invite!.at).toBeGreaterThanOrEqual(answeredAt - 50);
      expect(trunkSide.messages).toMatch(/BYE sip:/);
    } finally {
      await caller.stop();
      await seat?.stop();
      await uas?.stop(1000);
      ts.server.directory.trunks.update('loopback', { outbound: null });
    }
  }, 90_000);
});
