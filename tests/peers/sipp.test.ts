/**
 * Self-tests of tests/helpers/sipp.ts and tests/sipp/scenarios/*.xml, SIPp against SIPp stand-ins
 * (uas_*.xml) on loopback. Our own server will later replace the stand-ins.
 */
import { afterEach, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import {
  lostPortRace,
  parseSippStatCsv,
  runSipp,
  scenarioPath,
  splitWatchdog,
  startSippUas,
  statNumber,
  type SippUas,
} from '../helpers/sipp.js';
import { freeUdpPort } from '../helpers/ports.js';

const uasList: SippUas[] = [];
afterEach(async () => {
  await Promise.all(uasList.splice(0).map((u) => u.stop()));
});

async function uas(scenario: string, extra: Partial<Parameters<typeof startSippUas>[0]> = {}): Promise<SippUas> {
  const u = await startSippUas({ scenario, ...extra });
  uasList.push(u);
  return u;
}

describe('splitWatchdog', () => {
  const trip =
    '2026-11-29\t07:03:00.273077\t1795935780.273077: Overload warning: the minor watchdog timer 500ms has been tripped (816), 119 trips remaining.';
  it('counts SIPp starvation reports and leaves an error log of only those empty', () => {
    expect(splitWatchdog(`The following events occurred:\n${trip}\n${trip}\n`)).toEqual({
      errors: '',
      watchdogTrips: 2,
    });
  });
  it('keeps the whole log when anything else is in it', () => {
    const log = `The following events occurred:\n${trip}\n2026-11-29\t07:03:01: Aborting call on unexpected message\n`;
    expect(splitWatchdog(log)).toEqual({ errors: log, watchdogTrips: 1 });
  });
  it('an empty log is no error', () => {
    expect(splitWatchdog('')).toEqual({ errors: '', watchdogTrips: 0 });
  });
});

describe('parseSippStatCsv', () => {
  it('keys the rows by the header and keeps empty cells', () => {
    const rows = parseSippStatCsv('A;B(C);;D\n1;2;;x\n3;;;y\n');
    expect(rows).toEqual([
      { A: '1', 'B(C)': '2', D: 'x' },
      { A: '3', 'B(C)': '', D: 'y' },
    ]);
    expect(statNumber(rows[1]!, 'A')).toBe(3);
    expect(statNumber(rows[1]!, 'missing')).toBe(0);
  });
});

describe('runSipp / startSippUas', () => {
  it('runs a built-in uac against a built-in uas over UDP', async () => {
    const server = await uas('uas');
    const r = await runSipp({ scenario: 'uac', target: server.target, calls: 2, rate: 10, timeoutMs: 10_000 });
    expect(r.exitCode).toBe(0);
    expect(r.successful).toBe(2);
    expect(r.failed).toBe(0);
    expect(statNumber(r.stats, 'OutgoingCall(C)')).toBe(2);
    // The built-in uas keeps each call 4 s in timewait, so stop() ends up killing it; its stat CSV
    // (written every second) still shows the calls it took.
    const served = await server.stop(1_500);
    expect(statNumber(served.stats, 'IncomingCall(C)')).toBe(2);
  });

  it('runs over TCP', async () => {
    const server = await uas('uas', { transport: 't1' });
    const r = await runSipp({ scenario: 'uac', target: server.target, transport: 't1', calls: 1, timeoutMs: 10_000 });
    expect(r.exitCode).toBe(0);
    expect(r.successful).toBe(1);
  });

  it('reports failure and the error log when nobody answers, and kills on timeout', async () => {
    const deadPort = await freeUdpPort();
    // -recv_timeout makes SIPp give up by itself: a failed call, exit code 1.
    const failed = await runSipp({
      scenario: scenarioPath('options'),
      target: `127.0.0.1:${deadPort}`,
      timeoutMs: 10_000,
      extraArgs: ['-recv_timeout', '700'],
    });
    expect(failed.exitCode).toBe(1);
    expect(failed.failed).toBe(1);
    expect(failed.successful).toBe(0);
    expect(failed.errors).toMatch(/timeout/i);
    // Without it, SIPp would retransmit for ~32 s; our hard timeout kills it.
    const t0 = Date.now();
    const killed = await runSipp({
      scenario: scenarioPath('options'),
      target: `127.0.0.1:${deadPort}`,
      timeoutMs: 800,
    });
    expect(killed.timedOut).toBe(true);
    expect(killed.signal).toBe('SIGKILL');
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('recognises SIPp losing its port to another process, the race that makes the helpers start it again', async () => {
    const squatter = dgram.createSocket('udp4');
    await new Promise<void>((r) => squatter.bind(0, '127.0.0.1', () => r()));
    try {
      const port = squatter.address().port;
      const taken = await runSipp({ scenario: 'uac', target: '127.0.0.1:9', localPort: port, timeoutMs: 5_000 });
      expect(taken.exitCode).not.toBe(0);
      expect(lostPortRace(taken)).toBe(true);
      await expect(uas('uas', { localPort: port })).rejects.toThrow(/exited at start/);
    } finally {
      squatter.close();
    }
    const noAnswer = await runSipp({ scenario: 'uac', target: '127.0.0.1:9', timeoutMs: 1_000 });
    expect(lostPortRace(noAnswer)).toBe(false);
  });

  it('stop() is idempotent', async () => {
    const server = await uas('uas');
    const a = server.stop();
    const b = server.stop();
    expect(a).toBe(b);
    await a;
  });
});

describe('scenarios against SIPp stand-ins', () => {
  it('options.xml gets a 200 (SIPp -aa answers OPTIONS)', async () => {
    const server = await uas('uas', { extraArgs: ['-aa'] });
    const r = await runSipp({
      scenario: scenarioPath('options'),
      target: server.target,
      service: '12315',
      timeoutMs: 10_000,
    });
    expect(r.exitCode).toBe(0);
    expect(r.successful).toBe(1);
  });

  it('register_auth.xml: 401, digest retry, 200, then un-register', async () => {
    const key = ['-key', 'user', '8001', '-key', 'pass', 's3cret'];
    const server = await uas(scenarioPath('uas_register_challenge'), { extraArgs: key, traceMsg: true });
    const r = await runSipp({
      scenario: scenarioPath('register_auth'),
      target: server.target,
      service: '8001',
      auth: { user: '8001', password: 's3cret' },
      traceMsg: true,
      timeoutMs: 10_000,
    });
    expect(r.exitCode).toBe(0);
    expect(r.successful).toBe(1);
    expect(r.messages).toMatch(/Authorization: Digest username="8001"/);
    expect(r.messages).toMatch(/Expires: 0/);

    // The same scenario must fail when the registrar refuses the password.
    const bad = await runSipp({
      scenario: scenarioPath('register_auth'),
      target: server.target,
      service: '8001',
      auth: { user: '8001', password: 'wrong' },
      timeoutMs: 10_000,
    });
    expect(bad.exitCode).toBe(1);
    expect(bad.failed).toBe(1);
  });

  it('register_auth.xml answers a fresh challenge on the un-REGISTER (one-time nonces)', async () => {
    const server = await uas(scenarioPath('uas_register_rechallenge'), {
      extraArgs: ['-key', 'user', '8001', '-key', 'pass', 's3cret'],
    });
    const r = await runSipp({
      scenario: scenarioPath('register_auth'),
      target: server.target,
      service: '8001',
      auth: { user: '8001', password: 's3cret' },
      traceMsg: true,
      timeoutMs: 10_000,
    });
    expect(r.exitCode).toBe(0);
    expect(r.messages).toMatch(/CSeq: 4 REGISTER/);
    expect((await server.stop()).successful).toBe(1);
  });

  it('register_bad_password.xml passes on 403 and fails if the registrar accepts', async () => {
    const server = await uas(scenarioPath('uas_register_challenge'), {
      extraArgs: ['-key', 'user', '8001', '-key', 'pass', 's3cret'],
    });
    const refused = await runSipp({
      scenario: scenarioPath('register_bad_password'),
      target: server.target,
      service: '8001',
      auth: { user: '8001', password: 'wrong' },
      timeoutMs: 10_000,
    });
    expect(refused.exitCode).toBe(0);
    expect(refused.successful).toBe(1);
    const accepted = await runSipp({
      scenario: scenarioPath('register_bad_password'),
      target: server.target,
      service: '8001',
      auth: { user: '8001', password: 's3cret' },
      timeoutMs: 10_000,
    });
    expect(accepted.exitCode).toBe(1);
    expect(accepted.failed).toBe(1);
  });

  it('invite_404.xml: 404 then an ACK on the INVITE branch', async () => {
    const server = await uas(scenarioPath('uas_404'));
    const r = await runSipp({
      scenario: scenarioPath('invite_404'),
      target: server.target,
      service: '99999',
      traceMsg: true,
      timeoutMs: 10_000,
    });
    expect(r.exitCode).toBe(0);
    const invBranch = /INVITE sip:[^\n]*\n\s*Via: [^\n]*branch=([^\s;]+)/.exec(r.messages)?.[1];
    const ackBranch = /ACK sip:[^\n]*\n\s*Via: [^\n]*branch=([^\s;]+)/.exec(r.messages)?.[1];
    expect(invBranch).toBeTruthy();
    expect(ackBranch).toBe(invBranch); // RFC 3261 §17.1.1.3
    expect((await server.stop()).successful).toBe(1);
  });

  it('invite_cancel.xml: CANCEL after 180, 200 + 487, ACK', async () => {
    const server = await uas(scenarioPath('uas_ring_cancel'));
    const r = await runSipp({
      scenario: scenarioPath('invite_cancel'),
      target: server.target,
      service: '12315',
      traceMsg: true,
      timeoutMs: 10_000,
    });
    expect(r.exitCode).toBe(0);
    expect(r.messages).toMatch(/CSeq: 1 CANCEL/);
    expect(r.messages).toMatch(/SIP\/2.0 487/);
    expect((await server.stop()).successful).toBe(1);
  });

  it('uac_drop.xml: lost first INVITE and BYE; the retransmissions and the 2xx retransmission do the work', async () => {
    const server = await uas('uas');
    const r = await runSipp({
      scenario: scenarioPath('uac_drop'),
      target: server.target,
      service: '12315',
      timeoutMs: 15_000,
    });
    expect(r.exitCode).toBe(0);
    expect(r.successful).toBe(1);
    expect(r.counts['0_INVITE_Lost']).toBe(1);
    expect(r.counts['2_INVITE_Sent']).toBe(1);
    // The UAS retransmitted its 200 because no ACK came for 1.2 s (RFC 3261 §13.3.1.4).
    expect(r.counts['6_200_Retrans']).toBeGreaterThanOrEqual(1);
    expect(r.counts['10_BYE_Lost']).toBe(1);
    // Setup time is measured from the lost INVITE, so it includes one T1.
    const rtd = r.stats?.['ResponseTime1(C)'] ?? '';
    const [h, m, sec, us] = rtd.split(':').map(Number);
    const rtdMs = ((h! * 60 + m!) * 60 + sec!) * 1000 + us! / 1000;
    expect(rtdMs).toBeGreaterThanOrEqual(450);
    expect(rtdMs).toBeLessThan(1500);
  });
});
