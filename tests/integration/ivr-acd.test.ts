/**
 * A consumer calls 12315 through the trunk (baresip from the trunk's address), walks the IVR with
 * DTMF, waits in a queue and reaches an agent's seat (baresip auto-answer) whose agent logged in and
 * went ready over the REST API; after the agent hangs up the consumer rates the call.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaresip, makeToneWav, type Baresip } from '../helpers/baresip.js';
import { hasSpeechEnergy, readWav, toneShare, toneShareOf } from '../helpers/audio.js';

/** The best share of `hz` over one-second windows: the talk part of a recording that also holds prompts. */
function peakToneShare(file: string, hz: number): number {
  const { samples, rate } = readWav(file);
  let best = 0;
  for (let i = 0; i + rate <= samples.length; i += rate / 2)
    best = Math.max(best, toneShareOf(samples.subarray(i, i + rate), rate, hz));
  return best;
}
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeTempDir, removeTempDir, sleep, waitUntil } from '../helpers/tmp.js';
import { apiFor, login as loginAs, type Api } from '../helpers/api.js';

/** Monday 2026-11-30 10:00 Beijing time: inside business hours. */
const OPEN = new Date('2026-11-30T02:00:00Z');
/** Sunday 2026-11-29 21:00 Beijing time: closed. */
let now = OPEN;

let ts: TestServer;
let dir: string;

beforeAll(async () => {
  ts = await startTestServer({}, { wallClock: () => now });
  dir = makeTempDir('ivr-acd-');
});
afterAll(async () => {
  await ts?.stop();
  removeTempDir(dir);
});

const api: Api = apiFor(() => ts);

const login = (username: string, password: string): Promise<string> => loginAs(api, username, password);

/** A consumer phone behind the demo trunk: no registration, no credentials, calls from 127.0.0.1. */
async function consumer(name: string, hz?: number): Promise<Baresip> {
  const wav = hz ? makeToneWav(path.join(dir, `${name}.wav`), hz, 120) : undefined;
  return startBaresip({
    name,
    account: { user: '13800138000', transport: 'udp', answermode: 'manual' },
    audioSourceWav: wav,
  });
}

const dial = (n: string) => `sip:${n}@${ts.sipTarget}`;

describe('IVR and ACD with real callers', () => {
  it('the caller hears the Mandarin welcome (speech energy in the recording)', async () => {
    const c = await consumer('welcome');
    try {
      await c.dial(dial('12315'));
      await c.waitEvent('CALL_ESTABLISHED', undefined, 10_000);
      await sleep(4000);
      await c.hangup();
      await c.waitEvent('CALL_CLOSED', undefined, 5000);
      expect(hasSpeechEnergy(c.recordings().dec.at(-1)!)).toBe(true);
    } finally {
      await c.stop();
    }
  });

  it('pressing 3 queues the call for consultation; GET /api/calls shows it waiting with its path', async () => {
    const lead = await login('lead01', 'lead12315');
    const c = await consumer('press3');
    try {
      await c.dial(dial('12315'));
      await c.waitEvent('CALL_ESTABLISHED', undefined, 10_000);
      await sleep(1500);
      await c.sendDtmf('3');
      let queued: { state: string; queue: string | null; ivrPath: string; caller: string } | undefined;
      await waitUntil(async () => {
        const r = await api<{ items: (typeof queued & object)[] }>('GET', '/api/calls', lead);
        queued = r.body.items.find((x) => x.state === 'queued');
        return queued !== undefined;
      }, 15_000);
      expect(queued!.queue).toBe('consultation');
      expect(queued!.ivrPath).toContain('menu:3');
      expect(queued!.caller).toBe('138****8000');
      // Agents cannot see the live call list.
      const agent = await login('agent05', 'agent12315');
      expect((await api('GET', '/api/calls', agent)).status).toBe(403);
    } finally {
      await c.hangup().catch(() => undefined);
      await c.stop();
    }
    await waitUntil(() => ts.server.calls.calls.size === 0, 5000);
  });

  it('caller → IVR → queue → agent seat: two-way audio, then the survey score is stored', async () => {
    const token = await login('agent01', 'agent12315');
    const seat = await startBaresip({
      name: 'agent-seat',
      account: {
        user: '8007',
        password: 'demo8007',
        registrar: ts.sipTarget,
        transport: 'udp',
        answermode: 'auto',
        regint: 300,
      },
      audioSourceWav: makeToneWav(path.join(dir, 'agent.wav'), 1000, 120),
    });
    const c = await consumer('to-agent', 600);
    try {
      await seat.waitRegistered(10_000);
      expect((await api('POST', '/api/agents/me/login', token, { seat: '8007' })).status).toBe(200);
      expect((await api('PUT', '/api/agents/me/state', token, { state: 'ready' })).status).toBe(200);

      await c.dial(dial('12315'));
      await c.waitEvent('CALL_ESTABLISHED', undefined, 10_000);
      await sleep(1500);
      await c.sendDtmf('1');
      await seat.waitEvent('CALL_ESTABLISHED', undefined, 20_000);
      await waitUntil(
        async () => (await api<{ state: string }>('GET', '/api/agents/me', token)).body.state === 'on_call',
        3000,
        'agent on_call',
      );
      await sleep(3000);
      const heardByAgent = seat.recordings().dec.at(-1)!;
      await seat.hangup();
      // The consumer stays on for the survey: press 5 (very satisfied).
      await sleep(2500);
      await c.sendDtmf('5');
      await c.waitEvent('CALL_CLOSED', undefined, 20_000);
      const heardByConsumer = c.recordings().dec.at(-1)!;
      expect(toneShare(heardByAgent, 600)).toBeGreaterThan(0.5);
      // The consumer's recording also holds the prompts; during the talk the agent's tone dominates.
      expect(peakToneShare(heardByConsumer, 1000)).toBeGreaterThan(0.6);
      const callId = ts.server.cdr
        .list({ limit: 10 })
        .find((r) => r.dialled === '12315' && r.answeredAt !== null && r.queue)!.id;
      // The call was offered with a draft case: caller's number, type from the IVR choice, the call linked.
      const link = ts.server.db.sqlite.prepare('SELECT case_id FROM case_contacts WHERE call_id = ?').get(callId) as
        { case_id: number } | undefined;
      expect(link).toBeDefined();
      const draft = ts.server.cases.get(link!.case_id);
      expect(draft.type).toBe('complaint');
      expect(draft.consumer.phone).toBe('13800138000');
      await waitUntil(() => ts.server.ivrStore.surveyFor(callId) !== null, 5000);
      expect(ts.server.ivrStore.surveyFor(callId)!.score).toBe(5);
      // The agent is in wrap-up (or back to ready when the queue has no wrap-up time).
      const after = await api<{ state: string }>('GET', '/api/agents/me', token);
      expect(['wrap_up', 'ready']).toContain(after.body.state);
    } finally {
      await c.stop();
      await seat.stop();
    }
  });

  it('an invalid key re-prompts, silence takes the timeout path, and both fall back to an agent queue', async () => {
    const lead = await login('lead01', 'lead12315');
    const paths = async () => {
      const r = await api<{ items: { ivrPath: string; dialled: string }[] }>('GET', '/api/calls', lead);
      return r.body.items.filter((x) => x.dialled === '12315').map((x) => x.ivrPath);
    };
    const stats = ts.server.ivr.stats;
    const invalidBefore = stats.menuInvalid;
    const timeoutBefore = stats.menuTimeouts;
    const wrong = await consumer('invalid-key');
    const silent = await consumer('silent');
    try {
      await Promise.all([wrong.dial(dial('12315')), silent.dial(dial('12315'))]);
      await wrong.waitEvent('CALL_ESTABLISHED', undefined, 10_000);
      await silent.waitEvent('CALL_ESTABLISHED', undefined, 10_000);
      // 7 is not on the menu. Keys are taken while the menu plays; after the re-prompt a second wrong
      // key falls back to the agent queue.
      await waitUntil(
        async () => {
          await wrong.sendDtmf('7');
          await sleep(1000);
          return (await paths()).some((p) => p.includes('menu:invalid'));
        },
        40_000,
        'menu:invalid in the IVR path',
      );
      expect(stats.menuInvalid - invalidBefore).toBeGreaterThanOrEqual(2);
      // The silent caller: the menu times out (6 s), re-prompts once, times out again, then an agent.
      await waitUntil(async () => (await paths()).some((p) => p.includes('menu:timeout')), 60_000, 'menu:timeout');
      expect(stats.menuTimeouts - timeoutBefore).toBeGreaterThanOrEqual(2);
      await waitUntil(
        async () => (await paths()).filter((p) => /queue:consultation/.test(p)).length === 2,
        20_000,
        'both callers in the agent queue',
      );
    } finally {
      for (const c of [wrong, silent]) {
        await c.hangup().catch(() => undefined);
        await c.stop();
      }
    }
    await waitUntil(() => ts.server.calls.calls.size === 0, 5000);
  }, 120_000);

  it('4 + a case number + # reads back the number, the registration date and the status', async () => {
    const agent = await login('agent03', 'agent12315');
    const created = await api<{ id: number; number: string }>('POST', '/api/cases', agent, {
      type: 'complaint',
      consumer: { name: '张三', phone: '13900139000', address: '北京市东城区' },
      respondent: { name: '某某商贸有限公司', creditCode: '91110000100000000R', address: '北京市东城区' },
      area: '110101',
      category: 'G0101',
      description: '购买的电视机一周后黑屏，商家拒绝退换。',
      request: '退货退款',
    });
    expect(created.status).toBe(201);
    const digits = created.body.number.replace('-', '');
    const c = await consumer('lookup');
    try {
      await c.dial(dial('12315'));
      await c.waitEvent('CALL_ESTABLISHED', undefined, 10_000);
      await sleep(1000);
      await c.sendDtmf('4'); // typeahead: the welcome takes barge-in, the menu gets 4 at once
      await sleep(2500);
      await c.sendDtmf(`${digits}#`);
      const call = () => [...ts.server.calls.calls.values()][0];
      await waitUntil(() => call()?.recentPrompts.includes('back_to_menu') ?? false, 60_000, 'the read-back');
      const heard = call()!.recentPrompts;
      const from = heard.indexOf('lookup_case');
      expect(from).toBeGreaterThanOrEqual(0);
      const spoken = heard.slice(from + 1, from + 1 + digits.length);
      expect(spoken).toEqual([...digits].map((d) => `say_${d}`));
      expect(heard).toContain('lookup_accepted_on');
      expect(heard.slice(heard.indexOf('lookup_status_is') + 1)[0]).toMatch(/^status_/);
    } finally {
      await c.hangup().catch(() => undefined);
      await c.stop();
    }
    await waitUntil(() => ts.server.calls.calls.size === 0, 5000);
  }, 90_000);

  it('after hours a caller books a callback, and it is stored', async () => {
    now = new Date('2026-11-29T13:00:00Z'); // Sunday 21:00 in Beijing
    const c = await consumer('after-hours');
    try {
      await c.dial(dial('12315'));
      await c.waitEvent('CALL_ESTABLISHED', undefined, 10_000);
      const before = ts.server.ivrStore.dueCallbacks(new Date('2030-01-01')).length;
      // welcome and after_hours take no keys; each menu takes a key while it plays: 1 = callback,
      // 1 = to this number, 1 = in the morning. Keys that land between menus are dropped, so keep
      // pressing 1 until the booking is stored (robust to how fast prompts play on a loaded machine).
      const booked = () => ts.server.ivrStore.dueCallbacks(new Date('2030-01-01')).length > before;
      const deadline = Date.now() + 45_000;
      while (!booked() && Date.now() < deadline) {
        await c.sendDtmf('1');
        await sleep(1200);
      }
      expect(booked()).toBe(true);
      const cb = ts.server.ivrStore.dueCallbacks(new Date('2030-01-01')).at(-1)!;
      expect(cb.number).toBe('13800138000');
    } finally {
      now = OPEN;
      await c.hangup().catch(() => undefined);
      await c.stop();
    }
  });
});
