/**
 * Callback that keeps the caller's place: when the entry's turn comes the ACD reserves an agent, the
 * agent's seat (baresip, auto-answer) rings first, then the consumer is dialled through the outbound
 * trunk — here a SIPp UAS standing in for the carrier, echoing the audio it gets — and the two are
 * bridged. The agent hears their own tone come back through consumer side, so media flows both ways.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeToneWav, startBaresip } from '../helpers/baresip.js';
import { toneShare } from '../helpers/audio.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { scenarioPath, startSippUas } from '../helpers/sipp.js';
import { makeTempDir, removeTempDir, sleep, waitUntil } from '../helpers/tmp.js';

let ts: TestServer;
let dir: string;

beforeAll(async () => {
  ts = await startTestServer({}, { wallClock: () => new Date('2026-11-30T02:00:00Z') });
  dir = makeTempDir('callback-');
});
afterAll(async () => {
  await ts?.stop();
  removeTempDir(dir);
});

async function api<T>(
  method: string,
  url: string,
  token: string | null,
  body?: unknown,
): Promise<T & { status: number }> {
  const res = await fetch(`${ts.httpUrl}${url}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { ...((await res.json()) as T), status: res.status };
}

describe('callback through the outbound trunk', () => {
  it('reserves the agent, rings the seat, dials the consumer via the trunk and bridges them', async () => {
    const uas = await startSippUas({ scenario: scenarioPath('uas_trunk_echo'), rtpEcho: true, traceMsg: true });
    ts.server.directory.trunks.update('loopback', {
      outbound: { host: '127.0.0.1', port: uas.port, transport: 'UDP', callerId: '12315', prefix: '0' },
    });
    const seat = await startBaresip({
      name: 'cb-seat',
      account: {
        user: '8006',
        password: 'demo8006',
        registrar: ts.sipTarget,
        transport: 'udp',
        answermode: 'auto',
        regint: 300,
      },
      audioSourceWav: makeToneWav(path.join(dir, 'agent.wav'), 1000, 60),
    });
    try {
      await seat.waitRegistered(10_000);
      const { token } = await api<{ token: string }>('POST', '/api/auth/login', null, {
        username: 'agent03',
        password: 'agent12315',
      });
      expect((await api('POST', '/api/agents/me/login', token, { seat: '8006' })).status).toBe(200);
      // The consumer asked to be called back earlier: the entry waits in the queue without a live call.
      const acd = ts.server.acd.acd;
      const res = acd.enqueue({ callId: 'cb-test-1', queueId: 'complaint', kind: 'callback', consumer: '13800138000' });
      expect(res.accepted).toBe(true);
      // Its turn comes when the agent goes ready.
      expect((await api('PUT', '/api/agents/me/state', token, { state: 'ready' })).status).toBe(200);
      await seat.waitEvent('CALL_ESTABLISHED', undefined, 15_000);
      await waitUntil(
        async () => (await api<{ state: string }>('GET', '/api/agents/me', token)).state === 'on_call',
        15_000,
        'agent on_call with the consumer',
      );
      expect(acd.entries().some((e) => e.callId === 'cb-test-1')).toBe(false);
      await sleep(3000);
      await seat.hangup();
      await waitUntil(
        async () => (await api<{ state: string }>('GET', '/api/agents/me', token)).state !== 'on_call',
        10_000,
        'agent leaves on_call after hanging up',
      );
      const trunkSide = await uas.stop(5000);
      // The agent's tone went out through the trunk and came back: the bridge carries both directions.
      expect(toneShare(seat.recordings().dec.at(-1)!, 1000)).toBeGreaterThan(0.5);
      const invite = /INVITE sip:[^\s]+ SIP\/2.0[\s\S]*?\r?\n\r?\n/.exec(trunkSide.messages ?? '')?.[0] ?? '';
      expect(invite).toMatch(/^INVITE sip:013800138000@127\.0\.0\.1:\d+ SIP\/2\.0/);
      expect(invite).toMatch(/^From: .*<sip:12315@/m);
      expect(trunkSide.messages).toMatch(/BYE sip:/);
      // The row is written at the call's start and finished when its last leg ends, which can be just after SIPp
      // exits (then the 10 ms batch flush).
      const outboundCdr = () => ts.server.cdr.list({ limit: 20 }).find((r) => r.direction === 'outbound');
      await waitUntil(() => outboundCdr()?.endedAt != null, 5000, 'the outbound CDR row finished');
      const cdr = outboundCdr();
      expect(cdr).toMatchObject({ caller: '8006', dialled: '13800138000', disposition: 'answered' });
    } finally {
      await seat.stop();
      await uas.stop(1000);
      ts.server.directory.trunks.update('loopback', { outbound: null });
    }
  });
});
