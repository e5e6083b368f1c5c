/**
 * Attended transfer from a phone (issue 4; RFC 3515 REFER + RFC 3891 Replaces), with JsSIP in Chromium as
 * the transferring seat, the way a desk phone does it: consumer-side phone 8005 (baresip, 600 Hz) is talking
 * to seat 8001 (JsSIP, 1000 Hz); 8001 holds it, calls seat 8002 (baresip, 1400 Hz) to consult, then sends
 * REFER on the held call with Refer-To: <sip:8002@…?Replaces=(the consultation dialog)>. The server joins
 * 8005 with 8002, reports the outcome with a NOTIFY sipfrag and ends both of 8001's calls.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { warmUpWebRtc } from '../../server/media/webrtc/endpoint.js';
import { toneShareOf, readWav } from '../helpers/audio.js';
import { startDemoSeat, type Baresip } from '../helpers/baresip.js';
import { launchChromium, type TestBrowser } from '../helpers/browser.js';
import { Softphone, jssipFiles } from '../helpers/jssip.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeTempDir, removeTempDir, sleep, waitUntil } from '../helpers/tmp.js';

let dir: string;
let ts: TestServer;
let browser: TestBrowser;

beforeAll(async () => {
  dir = makeTempDir('transfer-attended-');
  const mic = path.join(dir, 'mic-1000.wav');
  execFileSync('sox', ['-n', '-r', '48000', '-c', '1', '-b', '16', mic, 'synth', '60', 'sine', '1000', 'vol', '0.5']);
  const [server, b] = await Promise.all([
    startTestServer(),
    jssipFiles().then((files) => launchChromium({ fakeAudioWav: mic, files })),
    warmUpWebRtc(),
  ]);
  ts = server;
  browser = b;
});

afterAll(async () => {
  if (process.env.JSSIP_DEBUG === '1') console.log(browser?.consoleLines.join('\n'));
  await browser?.close();
  await ts?.stop();
  if (dir) removeTempDir(dir);
});

const deskPhone = (ext: string, hz: number): Promise<Baresip> =>
  startDemoSeat({ sipTarget: ts.sipTarget, ext, name: `desk${ext}`, tone: { hz, dir } });

describe('attended transfer by REFER with Replaces', () => {
  it('8001 consults 8002 and transfers 8005 to it: 8005 and 8002 hear each other, 8001 is released', async () => {
    const seat = await Softphone.open(browser);
    const [caller, target] = await Promise.all([deskPhone('8005', 600), deskPhone('8002', 1400)]);
    try {
      await seat.start({
        wsUrl: `${ts.httpUrl.replace('http:', 'ws:')}/sip`,
        uri: `sip:8001@${ts.config.realm}`,
        password: 'demo8001',
        debug: process.env.JSSIP_DEBUG === '1',
      });
      const answered = seat.answer({ timeoutMs: 15_000 });
      await caller.dial(`sip:8001@${ts.sipTarget}`);
      await answered;
      await caller.waitEvent('CALL_ESTABLISHED', undefined, 10_000);
      await seat.holdCurrent();
      await seat.call(`sip:8002@${ts.config.realm}`);
      await target.waitEvent('CALL_ESTABLISHED', undefined, 10_000);
      expect(ts.server.calls.calls.size).toBe(2);

      const outcome = await seat.referReplaces(`sip:8002@${ts.config.realm}`);
      expect(outcome).toBe('accepted');
      await waitUntil(
        async () => {
          const s = await seat.sessionStates();
          return s.current === 'ended' && s.held === 'ended';
        },
        10_000,
        "both of the seat's calls to end",
      );
      // One call is left, the consumer's, now with 8002 in it; 8002's phone never saw a new call.
      await waitUntil(() => ts.server.calls.calls.size === 1, 5000, 'the consultation call to be folded in');
      const sinceTransfer = caller.events.length;
      await sleep(3000);
      expect(caller.events.slice(sinceTransfer).some((e) => e.type === 'CALL_CLOSED')).toBe(false);
      expect(target.events.filter((e) => e.type === 'CALL_ESTABLISHED')).toHaveLength(1);

      // The new far party hangs up: the caller is released too (8002 is a seat, not an ACD agent).
      await target.hangup();
      await Promise.all([
        caller.waitEvent('CALL_CLOSED', undefined, 5000),
        target.waitEvent('CALL_CLOSED', undefined, 5000),
      ]);
      await waitUntil(() => ts.server.calls.calls.size === 0, 5000, 'the call to end on the server');
      // The last seconds of each recording are after the transfer: 8005 hears 8002's 1400 Hz and 8002 hears 600 Hz.
      const tail = (file: string) => {
        const w = readWav(file);
        const n = Math.min(w.samples.length, w.rate * 2);
        return {
          rate: w.rate,
          samples: w.samples.subarray(w.samples.length - n - w.rate / 2, w.samples.length - w.rate / 2),
        };
      };
      const heardByCaller = tail(caller.recordings().dec.at(-1)!);
      const heardByTarget = tail(target.recordings().dec.at(-1)!);
      expect(toneShareOf(heardByCaller.samples, heardByCaller.rate, 1400)).toBeGreaterThan(0.6);
      expect(toneShareOf(heardByTarget.samples, heardByTarget.rate, 600)).toBeGreaterThan(0.6);
      expect(toneShareOf(heardByCaller.samples, heardByCaller.rate, 1000)).toBeLessThan(0.05);
    } finally {
      await seat.stop().catch(() => undefined);
      await seat.close();
      await caller.stop();
      await target.stop();
    }
  }, 90_000);
});
