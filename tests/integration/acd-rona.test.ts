/**
 * ACD offers with real seats (issue 5): a consumer calls 12315 through the trunk (baresip), presses 1
 * (投诉) and waits in the complaint queue; agents' seats are baresip instances registered to the server.
 * 1. RONA: a seat that never answers is cancelled after the queue's ring timeout, its agent goes
 *    not-ready with reason 未接听, and the call goes to the next agent.
 * 2. The caller hangs up while a seat rings: the seat's INVITE is cancelled and nothing is left over
 *    (agent ready, no live call, the ACD's consistency check finds nothing to repair).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaresip, type Baresip } from '../helpers/baresip.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeTempDir, removeTempDir, sleep, waitUntil } from '../helpers/tmp.js';
import { apiFor, login as loginAs, type Api } from '../helpers/api.js';

const RING_TIMEOUT_MS = 5000; // the API's minimum

let ts: TestServer;
let dir: string;
let lead: string;

beforeAll(async () => {
  // Monday 10:00 in Beijing: business hours, so the IVR offers the menu.
  ts = await startTestServer({}, { wallClock: () => new Date('2026-11-30T02:00:00Z') });
  dir = makeTempDir('acd-rona-');
  lead = await login('lead01', 'lead12315');
  const r = await api('PUT', '/api/queues/complaint', lead, { ringTimeoutMs: RING_TIMEOUT_MS, wrapUpMs: 0 });
  expect(r.status).toBe(200);
});
afterAll(async () => {
  await ts?.stop();
  removeTempDir(dir);
});

const api: Api = apiFor(() => ts);

const login = (username: string, password: string): Promise<string> => loginAs(api, username, password);

interface AgentRow {
  agentId: string;
  state: string;
  reason: string | null;
  seat: string | null;
  callId: string | null;
}

async function agentOnSeat(seat: string): Promise<AgentRow | undefined> {
  const r = await api<{ agents: AgentRow[] }>('GET', '/api/agents', lead);
  return r.body.agents.find((a) => a.seat === seat);
}

async function seatPhone(ext: string, answermode: 'auto' | 'manual'): Promise<Baresip> {
  const b = await startBaresip({
    name: `seat-${ext}`,
    account: { user: ext, password: `demo${ext}`, registrar: ts.sipTarget, transport: 'udp', answermode, regint: 300 },
  });
  await b.waitRegistered(10_000);
  return b;
}

/** Signs the agent in at the seat and makes them ready. */
async function ready(username: string, seat: string): Promise<string> {
  const token = await login(username, 'agent12315');
  expect((await api('POST', '/api/agents/me/login', token, { seat })).status).toBe(200);
  expect((await api('PUT', '/api/agents/me/state', token, { state: 'ready' })).status).toBe(200);
  return token;
}

/** A consumer behind the demo trunk who calls 12315 and presses 1 (投诉) until the call is queued. */
async function complainant(name: string): Promise<Baresip> {
  const c = await startBaresip({ name, account: { user: '13800138000', transport: 'udp', answermode: 'manual' } });
  try {
    await c.dial(`sip:12315@${ts.sipTarget}`);
    await c.waitEvent('CALL_ESTABLISHED', undefined, 10_000);
    await sleep(1000);
    await choose(c, '13800138000', '1');
    return c;
  } catch (err) {
    await c.stop();
    throw err;
  }
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

describe('ACD offers to real seats', () => {
  it('RONA: the silent seat is cancelled after the ring timeout, its agent goes 未接听, the next agent gets the call', async () => {
    const silent = await seatPhone('8001', 'manual');
    const answering = await seatPhone('8002', 'auto');
    let caller: Baresip | undefined;
    try {
      // agent01 has been idle longest, so longest_idle offers to them first.
      const t1 = await ready('agent01', '8001');
      await sleep(50);
      const t2 = await ready('agent02', '8002');
      const silentSince = silent.events.length;
      caller = await complainant('rona-caller');
      const incoming = await silent.waitEvent('CALL_INCOMING', undefined, 20_000, silentSince);
      const ringStart = incoming.at;
      expect((await agentOnSeat('8001'))?.state).toBe('reserved');
      const closed = await silent.waitEvent('CALL_CLOSED', undefined, RING_TIMEOUT_MS + 5000, silentSince);
      const rang = closed.at - ringStart;
      expect(rang).toBeGreaterThan(RING_TIMEOUT_MS - 1000);
      expect(rang).toBeLessThan(RING_TIMEOUT_MS + 3000);
      await answering.waitEvent('CALL_ESTABLISHED', undefined, 10_000);
      const missed = await agentOnSeat('8001');
      expect(missed).toMatchObject({ state: 'not_ready', reason: '未接听', callId: null });
      await waitUntil(async () => (await agentOnSeat('8002'))?.state === 'on_call', 5000, 'agent02 on_call');
      expect(ts.server.acd.acd.counters.rona).toBe(1);
      // The caller is talking to agent02 now: the call's record names them.
      const calls = await api<{ items: Array<{ agent: string | null; state: string }> }>('GET', '/api/calls', lead);
      expect(calls.body.items).toHaveLength(1);
      await answering.hangup();
      await caller.waitEvent('CALL_CLOSED', undefined, 15_000).catch(() => undefined);
      await caller.hangup().catch(() => undefined);
      await waitUntil(() => ts.server.calls.calls.size === 0, 10_000, 'no live calls');
      await api('POST', '/api/agents/me/logout', t1);
      await api('POST', '/api/agents/me/logout', t2);
    } finally {
      await caller?.stop();
      await silent.stop();
      await answering.stop();
    }
  }, 90_000);

  it('the caller hangs up while the seat rings: CANCEL to the seat, agent ready, no call, nothing to reconcile', async () => {
    const seat = await seatPhone('8003', 'manual');
    let caller: Baresip | undefined;
    try {
      await ready('agent03', '8003');
      const since = seat.events.length;
      caller = await complainant('gone-caller');
      await seat.waitEvent('CALL_INCOMING', undefined, 20_000, since);
      expect((await agentOnSeat('8003'))?.state).toBe('reserved');
      await caller.hangup();
      // The seat stops ringing well before the ring timeout would have stopped it.
      const hungUpAt = Date.now();
      const closed = await seat.waitEvent('CALL_CLOSED', undefined, RING_TIMEOUT_MS, since);
      expect(closed.at - hungUpAt).toBeLessThan(RING_TIMEOUT_MS - 1000);
      // libre ends an incoming session that got CANCEL with ECONNRESET (no BYE exists before an answer).
      expect(closed.param).toMatch(/Connection reset by peer/);
      await waitUntil(async () => (await agentOnSeat('8003'))?.state === 'ready', 5000, 'agent03 ready again');
      expect(await agentOnSeat('8003')).toMatchObject({ state: 'ready', callId: null });
      await waitUntil(
        async () => (await api<{ items: unknown[] }>('GET', '/api/calls', lead)).body.items.length === 0,
        5000,
        'no live calls',
      );
      expect(ts.server.acd.acd.entries()).toHaveLength(0);
      expect(ts.server.acd.acd.reconcile()).toEqual([]);
      expect(ts.server.acd.acd.counters.rona).toBe(1);
    } finally {
      await caller?.stop();
      await seat.stop();
    }
  }, 90_000);
});
