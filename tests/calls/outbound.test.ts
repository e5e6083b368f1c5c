import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutboundCalls, OutboundRefused } from '../../server/calls/outbound.js';
import { Directory } from '../../server/directory/directory.js';
import { seedDemo } from '../../server/directory/seed.js';
import type { MediaEngine } from '../../server/media/engine/api.js';
import { createLogger } from '../../server/util/log.js';
import { FakeClock } from '../../server/util/clock.js';
import { FAST_SCRYPT, tempDb } from '../directory/helpers.js';

/**
 * The toll-fraud guard in front of the trunk: everything refused here is refused before a media
 * endpoint or a SIP message exists (the engine below counts any attempt).
 */
let t: ReturnType<typeof tempDb>;
let dir: Directory;
let endpointsAsked: number;
let out: OutboundCalls;

beforeEach(async () => {
  t = tempDb();
  await seedDemo(t.db, { scrypt: FAST_SCRYPT, outbound: null });
  dir = new Directory(t.db);
  endpointsAsked = 0;
  const engine = {
    createRtpEndpoint: () => {
      endpointsAsked++;
      return Promise.reject(new Error('no engine in this test'));
    },
  } as unknown as MediaEngine;
  out = new OutboundCalls({
    stack: {} as never,
    engine,
    registrar: {} as never,
    directory: dir,
    clock: new FakeClock(),
    log: createLogger('test'),
    realm: '12315.local',
  });
});
afterEach(() => t.cleanup());

async function refusal(number: string, seat: string): Promise<string> {
  try {
    await out.dialOut(number, { onBehalfOf: seat });
    return 'sent';
  } catch (err) {
    if (err instanceof OutboundRefused) return err.code;
    return `error: ${(err as Error).message}`;
  }
}

describe('dialOut guard', () => {
  it('refuses numbers outside the seat’s dial patterns, unknown seats and non-numbers', async () => {
    dir.trunks.update('loopback', {
      outbound: { host: '127.0.0.1', port: 5090, transport: 'UDP', callerId: '12315', prefix: '' },
    });
    // A merchant station may only call seats back; premium and international numbers are nobody's.
    expect(await refusal('13800138000', '3001')).toBe('forbidden');
    expect(await refusal('00881234567890', '8001')).toBe('forbidden');
    expect(await refusal('13800138000', '9999')).toBe('forbidden');
    expect(await refusal('sip:evil', '8001')).toBe('not-a-number');
    // An internal extension is not an outside call, whatever the patterns say.
    expect(await refusal('8002', '8001')).toBe('forbidden');
    dir.devices.update('8001', { enabled: false });
    expect(await refusal('13800138000', '8001')).toBe('forbidden');
    expect(endpointsAsked).toBe(0);
    expect(out.stats.refused).toBe(6);
  });

  it('with no outbound trunk nothing is dialled; with one, an allowed number goes on to the media layer', async () => {
    expect(await refusal('13800138000', '8001')).toBe('no-trunk');
    expect(endpointsAsked).toBe(0);
    dir.trunks.update('loopback', {
      outbound: { host: '127.0.0.1', port: 5090, transport: 'UDP', callerId: null, prefix: '0' },
    });
    expect(await refusal('13800138000', '8001')).toBe('error: no engine in this test');
    expect(endpointsAsked).toBe(1);
  });
});
