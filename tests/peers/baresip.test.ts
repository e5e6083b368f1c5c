/**
 * Self-tests of tests/helpers/baresip.ts: baresip ↔ baresip with a measured tone and DTMF, SIPp's
 * RTPSTREAM caller → baresip, and baresip registering against a SIPp stand-in registrar.
 */
import dgram from 'node:dgram';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  accountLine,
  BaresipStartError,
  lostBaresipPortRace,
  makeToneWav,
  parseNetstrings,
  startBaresip,
  type Baresip,
} from '../helpers/baresip.js';
import { runSipp, scenarioPath, startSippUas, type SippUas } from '../helpers/sipp.js';
import { makeToneRaw } from '../helpers/sox.js';
import { makeTempDir, removeTempDir, sleep } from '../helpers/tmp.js';
import { toneReport } from './tone.js';

const phones: Baresip[] = [];
const servers: SippUas[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all([...phones.splice(0).map((p) => p.stop()), ...servers.splice(0).map((s) => s.stop())]);
  dirs.splice(0).forEach(removeTempDir);
});

async function phone(o: Parameters<typeof startBaresip>[0]): Promise<Baresip> {
  const p = await startBaresip(o);
  phones.push(p);
  return p;
}

function tempDir(name: string): string {
  const d = makeTempDir(name);
  dirs.push(d);
  return d;
}

describe('baresip helper pieces', () => {
  it('splits netstrings across chunk boundaries', () => {
    const a = parseNetstrings(Buffer.from('5:hello,3:ab'));
    expect(a.messages).toEqual(['hello']);
    const b = parseNetstrings(Buffer.concat([a.rest, Buffer.from('c,')]));
    expect(b.messages).toEqual(['abc']);
    expect(b.rest.length).toBe(0);
    expect(() => parseNetstrings(Buffer.from('x:abc,'))).toThrow(/netstring/);
  });

  it('writes the account line in baresip 1.0 syntax', () => {
    expect(
      accountLine(
        { user: '8001', password: 'pw', registrar: '127.0.0.1:5060', transport: 'udp', answermode: 'auto' },
        7000,
      ),
    ).toBe('<sip:8001@127.0.0.1:5060;transport=udp>;answermode=auto;regint=60;auth_pass=pw');
    expect(accountLine({ user: 'b', transport: 'tcp', answermode: 'manual' }, 7000)).toBe(
      '<sip:b@127.0.0.1:7000;transport=tcp>;answermode=manual;regint=0',
    );
  });
});

describe('baresip peers', () => {
  it('A dials B (auto-answer): B records A’s 1 kHz tone; DTMF arrives as events', async () => {
    const media = tempDir('tone');
    const tone = makeToneWav(path.join(media, 'tone1k.wav'), 1000, 20);
    const [a, b] = await Promise.all([
      phone({ name: 'A', account: { user: 'alice', transport: 'udp', answermode: 'manual' }, audioSourceWav: tone }),
      phone({ name: 'B', account: { user: 'bob', transport: 'udp', answermode: 'auto' } }),
    ]);
    console.info(`baresip start-up: A ${a.startupMs} ms, B ${b.startupMs} ms`);
    expect((await a.dial(b.uri)).ok).toBe(true);
    await a.waitEvent('CALL_ESTABLISHED', undefined, 5_000);
    const inB = await b.waitEvent('CALL_ESTABLISHED', undefined, 5_000);
    expect(inB.direction).toBe('incoming');
    await sleep(1_500);
    expect((await a.sendDtmf('1#')).ok).toBe(true);
    const d1 = await b.waitEvent('CALL_DTMF_START', (e) => e.param === '1', 3_000);
    const d2 = await b.waitEvent('CALL_DTMF_START', (e) => e.param === '#', 3_000);
    expect(d2.at).toBeGreaterThanOrEqual(d1.at);
    // A second more than the 2 s asked of B's recording below: a full-suite run once recorded 1.88 s of a ~2.8 s
    // call (baresip's audio stalled on the loaded box).
    await sleep(1800);
    await a.hangup();
    await b.waitEvent('CALL_CLOSED', undefined, 5_000);

    const rec = b.recordings();
    expect(rec.dec).toHaveLength(1);
    const r = toneReport(rec.dec[0]!, 1000);
    expect(r.seconds).toBeGreaterThan(2);
    expect(r.peakHz).toBeGreaterThanOrEqual(990);
    expect(r.peakHz).toBeLessThanOrEqual(1010);
    expect(r.share).toBeGreaterThan(0.8);
    // And the reverse direction carried B's silence, not the tone.
    const back = toneReport(a.recordings().dec[0]!, 1000);
    expect(back.rms).toBeLessThan(0.01);
  });

  it('SIPp uac_rtpstream → baresip: the µ-law tone is recorded', async () => {
    const b = await phone({ name: 'B', account: { user: 'bob', transport: 'udp', answermode: 'auto' } });
    const cwd = tempDir('sipp-rtpstream');
    makeToneRaw(path.join(cwd, 'tone_8k.ulaw'), 1000, 3);
    const r = await runSipp({
      scenario: scenarioPath('uac_rtpstream'),
      target: `127.0.0.1:${b.sipPort}`,
      service: 'bob',
      cwd,
      timeoutMs: 10_000,
    });
    expect(r.exitCode).toBe(0);
    expect(r.successful).toBe(1);
    await b.waitEvent('CALL_CLOSED', undefined, 3_000);
    const rep = toneReport(b.recordings().dec[0]!, 1000);
    expect(rep.seconds).toBeGreaterThan(2);
    expect(rep.share).toBeGreaterThan(0.8);
  });

  it('our SIPp scenarios pass against baresip’s own SIP stack (libre), not only SIPp stand-ins', async () => {
    const b = await phone({ name: 'B', account: { user: 'bob', transport: 'udp', answermode: 'manual' } });
    const target = `127.0.0.1:${b.sipPort}`;
    const run = (name: string, service: string) =>
      runSipp({ scenario: scenarioPath(name), target, service, timeoutMs: 10_000 });
    expect((await run('options', 'bob')).exitCode).toBe(0);
    const cancelled = await run('invite_cancel', 'bob');
    expect(cancelled.exitCode).toBe(0);
    await b.waitEvent('CALL_CLOSED', undefined, 2_000);
    // baresip has no UA "nobody": 404.
    expect((await run('invite_404', 'nobody')).exitCode).toBe(0);
    await b.command('answermode', 'auto');
    const dropped = await run('uac_drop', 'bob');
    expect(dropped.exitCode).toBe(0);
    expect(dropped.counts['6_200_Retrans']).toBeGreaterThanOrEqual(1);
  });

  it('registers with digest auth against a challenging registrar, and fails with a wrong password', async () => {
    const reg = await startSippUas({
      scenario: scenarioPath('uas_register_challenge'),
      extraArgs: ['-key', 'user', '8001', '-key', 'pass', 's3cret'],
    });
    servers.push(reg);
    const good = await phone({
      name: 'good',
      account: { user: '8001', password: 's3cret', registrar: reg.target, transport: 'udp', answermode: 'auto' },
    });
    const ok = await good.waitRegistered(5_000);
    expect(ok.accountaor).toContain('8001@127.0.0.1');
    const bad = await phone({
      name: 'bad',
      account: { user: '8001', password: 'nope', registrar: reg.target, transport: 'udp', answermode: 'auto' },
    });
    const failed = await bad.waitRegisterFailed(5_000);
    expect(failed.param ?? '').toMatch(/403/);
    expect(bad.events.some((e) => e.type === 'REGISTER_OK')).toBe(false);
  });

  it('a SIP port taken by another process is reported as a lost port race (which startBaresip retries when it picked the port)', async () => {
    const squatter = dgram.createSocket('udp4');
    await new Promise<void>((r) => squatter.bind(0, '127.0.0.1', () => r()));
    try {
      const port = squatter.address().port;
      const err = await phone({
        name: 'squatted',
        sipPort: port,
        account: { user: 'x', transport: 'udp', answermode: 'auto' },
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BaresipStartError);
      expect((err as BaresipStartError).message).toMatch(/exited during start-up/);
      expect((err as BaresipStartError).lostPortRace).toBe(true);
    } finally {
      squatter.close();
    }
    expect(lostBaresipPortRace('ua: SIP Transport failed: Connection refused')).toBe(false);
  });

  it('stop() is idempotent and the process is gone afterwards', async () => {
    const p = await phone({ name: 'solo', account: { user: 'x', transport: 'udp', answermode: 'auto' } });
    const s1 = p.stop();
    expect(p.stop()).toBe(s1);
    await s1;
    await expect(p.command('listcalls')).rejects.toThrow(/not running/);
  });
});
