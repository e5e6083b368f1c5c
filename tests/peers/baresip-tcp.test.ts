/**
 * baresip ↔ baresip over SIP/TCP with manual answer. Kept in its own file so that vitest runs it in a
 * second fork at the same time as baresip.test.ts: this is the check that parallel forks can run
 * baresip instances without port clashes (helpers/ports.ts slots by VITEST_POOL_ID).
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeToneWav, startBaresip, type Baresip } from '../helpers/baresip.js';
import { makeTempDir, removeTempDir, sleep } from '../helpers/tmp.js';
import { toneReport } from './tone.js';

const phones: Baresip[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.stop()));
  dirs.splice(0).forEach(removeTempDir);
});

describe('baresip over TCP', () => {
  it('B answers by command; each side records the other one’s tone', async () => {
    const media = makeTempDir('tones');
    dirs.push(media);
    const a = await startBaresip({
      name: 'A-tcp',
      account: { user: 'alice', transport: 'tcp', answermode: 'manual' },
      audioSourceWav: makeToneWav(path.join(media, '600.wav'), 600, 20),
    });
    phones.push(a);
    const b = await startBaresip({
      name: 'B-tcp',
      account: { user: 'bob', transport: 'tcp', answermode: 'manual' },
      audioSourceWav: makeToneWav(path.join(media, '1400.wav'), 1400, 20),
    });
    phones.push(b);
    expect(b.uri).toMatch(/;transport=tcp$/);
    // Ranges handed out in one process never overlap.
    expect(a.rtpPorts.end < b.rtpPorts.start || b.rtpPorts.end < a.rtpPorts.start).toBe(true);

    await a.dial(b.uri);
    await b.waitEvent('CALL_INCOMING', undefined, 5_000);
    expect(b.events.some((e) => e.type === 'CALL_ESTABLISHED')).toBe(false);
    expect((await b.accept()).ok).toBe(true);
    await a.waitEvent('CALL_ESTABLISHED', undefined, 5_000);
    await sleep(2_500);
    await b.hangup();
    await a.waitEvent('CALL_CLOSED', undefined, 5_000);

    const atB = toneReport(b.recordings().dec[0]!, 600);
    const atA = toneReport(a.recordings().dec[0]!, 1400);
    expect(atB.share).toBeGreaterThan(0.8);
    expect(atA.share).toBeGreaterThan(0.8);
    expect(Math.abs(atB.peakHz - 600)).toBeLessThanOrEqual(10);
    expect(Math.abs(atA.peakHz - 1400)).toBeLessThanOrEqual(10);
  });
});
