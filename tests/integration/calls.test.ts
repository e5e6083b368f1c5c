/**
 * Call control with real peers: baresip seats and SIPp through the server's B2BUA and media engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoSeat, type Baresip } from '../helpers/baresip.js';
import { readWav, toneShare, toneShareOf } from '../helpers/audio.js';
import { runSipp, scenarioPath } from '../helpers/sipp.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeTempDir, removeTempDir, sleep, waitUntil } from '../helpers/tmp.js';

let ts: TestServer;
let dir: string;

beforeAll(async () => {
  ts = await startTestServer();
  dir = makeTempDir('calls-test-');
});
afterAll(async () => {
  await ts?.stop();
  removeTempDir(dir);
});

const seat = (ext: string, opts: { hz?: number; answer?: 'auto' | 'manual' } = {}): Promise<Baresip> =>
  startDemoSeat({
    sipTarget: ts.sipTarget,
    ext,
    answermode: opts.answer,
    tone: opts.hz ? { hz: opts.hz, dir } : undefined,
  });

/** The server's own URI for a number, as a seat dials it. */
const dial = (n: string) => `sip:${n}@${ts.sipTarget}`;

describe('calls through the B2BUA and media engine', () => {
  it('9196 echoes the caller: baresip plays 1 kHz and hears 1 kHz back', async () => {
    const a = await seat('8001', { hz: 1000 });
    try {
      await a.dial(dial('9196'));
      await a.waitEvent('CALL_ESTABLISHED', undefined, 10_000);
      await sleep(3000);
      await a.hangup();
      await a.waitEvent('CALL_CLOSED', undefined, 5000);
      const dec = a.recordings().dec.at(-1)!;
      expect(toneShare(dec, 1000)).toBeGreaterThan(0.6);
    } finally {
      await a.stop();
    }
    await waitUntil(() => ts.server.calls.calls.size === 0, 5000);
  });

  it('seat to seat: each hears the other (600 Hz ↔ 1400 Hz), and BYE from the callee ends both legs', async () => {
    const a = await seat('8003', { hz: 600 });
    const b = await seat('8004', { hz: 1400 });
    try {
      await a.dial(dial('8004'));
      await a.waitEvent('CALL_ESTABLISHED', undefined, 10_000);
      await b.waitEvent('CALL_ESTABLISHED', undefined, 10_000);
      await sleep(3000);
      await b.hangup();
      await a.waitEvent('CALL_CLOSED', undefined, 5000);
      const heardByA = a.recordings().dec.at(-1)!;
      const heardByB = b.recordings().dec.at(-1)!;
      expect(toneShare(heardByA, 1400)).toBeGreaterThan(0.6);
      expect(toneShare(heardByB, 600)).toBeGreaterThan(0.6);
      expect(toneShare(heardByA, 600)).toBeLessThan(0.05);
    } finally {
      await a.stop();
      await b.stop();
    }
    await waitUntil(() => ts.server.calls.calls.size === 0, 5000);
    const cdr = ts.server.cdr.list({ limit: 5 }).find((r) => r.dialled === '8004')!;
    expect(cdr.disposition).toBe('answered');
    expect(cdr.hangupBy).toBe('callee');
  });

  it('SIPp CANCEL before answer: 487 to the caller, and the ringing seat stops ringing', async () => {
    const callee = await seat('8005', { answer: 'manual' });
    try {
      const since = callee.events.length;
      const r = await runSipp({
        scenario: scenarioPath('invite_cancel_auth'),
        target: ts.sipTarget,
        service: '8005',
        auth: { user: '8001', password: 'demo8001' },
        // SIPp computes the digest over sip:<remote_ip>:<port> unless told; we check the uri (RFC 7616 §3.4.6).
        extraArgs: ['-auth_uri', `8005@${ts.sipTarget}`],
        calls: 1,
        timeoutMs: 15_000,
      });
      expect(r.failed).toBe(0);
      expect(r.successful).toBe(1);
      await callee.waitEvent('CALL_CLOSED', undefined, 5000, since);
    } finally {
      await callee.stop();
    }
    await waitUntil(() => ts.server.calls.calls.size === 0, 5000);
    expect(ts.server.cdr.list({ limit: 5 }).find((r) => r.dialled === '8005')?.disposition).toBe('cancelled');
  });

  it('a caller whose packets are lost: INVITE and BYE retransmissions complete the call, and our 2xx is retransmitted', async () => {
    const r = await runSipp({
      scenario: scenarioPath('uac_drop'),
      target: ts.sipTarget,
      service: '9196',
      calls: 1,
      timeoutMs: 20_000,
    });
    expect(r.failed).toBe(0);
    expect(r.successful).toBe(1);
    const retrans = Object.entries(r.counts)
      .filter(([k]) => /_200_Retrans$/.test(k))
      .reduce((s, [, v]) => s + v, 0);
    expect(retrans).toBeGreaterThanOrEqual(1);
  });

  it('7000 answers, plays its prompt and hangs up by itself', async () => {
    const a = await seat('8006');
    try {
      await a.dial(dial('7000'));
      await a.waitEvent('CALL_ESTABLISHED', undefined, 10_000);
      const closed = await a.waitEvent('CALL_CLOSED', undefined, 8000);
      expect(closed.type).toBe('CALL_CLOSED');
    } finally {
      await a.stop();
    }
  });
});

describe('the meet-me room 9100 (conference mixer through SIP)', () => {
  it('three seats (600, 1000, 1400 Hz) each hear the other two and not themselves; after one leaves the other two still hear each other', async () => {
    const [a, b, c] = await Promise.all([
      seat('8008', { hz: 600 }),
      seat('8009', { hz: 1000 }),
      seat('8010', { hz: 1400 }),
    ]);
    try {
      for (const p of [a, b, c]) {
        await p.dial(dial('9100'));
        await p.waitEvent('CALL_ESTABLISHED', undefined, 10_000);
      }
      await sleep(3000);
      await c.hangup();
      await c.waitEvent('CALL_CLOSED', undefined, 5000);
      await sleep(3000);
      await a.hangup();
      await b.hangup();
      await a.waitEvent('CALL_CLOSED', undefined, 5000);
      await b.waitEvent('CALL_CLOSED', undefined, 5000);
      const heard = (p: Baresip) => readWav(p.recordings().dec.at(-1)!);
      const share = (w: { samples: Int16Array; rate: number }, hz: number, fromS: number, toS: number) =>
        toneShareOf(w.samples.subarray(Math.floor(fromS * w.rate), Math.floor(toS * w.rate)), w.rate, hz);
      // C joined last and stayed ~3 s: its recording is the three-party part.
      const wc = heard(c);
      const cEnd = wc.samples.length / wc.rate;
      expect(share(wc, 600, 0.5, cEnd - 0.3)).toBeGreaterThan(0.2);
      expect(share(wc, 1000, 0.5, cEnd - 0.3)).toBeGreaterThan(0.2);
      expect(share(wc, 1400, 0.5, cEnd - 0.3)).toBeLessThan(0.05);
      // A's last 2 s are after C left: B's tone, not C's, and never A's own.
      const wa = heard(a);
      const aEnd = wa.samples.length / wa.rate;
      expect(share(wa, 1000, aEnd - 2.2, aEnd - 0.2)).toBeGreaterThan(0.6);
      expect(share(wa, 1400, aEnd - 2.2, aEnd - 0.2)).toBeLessThan(0.05);
      expect(share(wa, 600, 0.5, aEnd - 0.2)).toBeLessThan(0.05);
      const wb = heard(b);
      const bEnd = wb.samples.length / wb.rate;
      expect(share(wb, 600, bEnd - 2.2, bEnd - 0.2)).toBeGreaterThan(0.6);
    } finally {
      await Promise.all([a.stop(), b.stop(), c.stop()]);
    }
    await waitUntil(() => ts.server.calls.calls.size === 0, 5000);
  });
});
