/**
 * A re-INVITE without SDP from a real peer (SIPp): RFC 3261 §14.2 / RFC 3264 — we offer in our 2xx and the
 * answer arrives in the ACK. The answer moves the caller's media to another port (a socket this test owns,
 * no RTP sent from it, so no latching); our IVR audio must follow the answer there.
 * Run inside `unshare -n`.
 */
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Call } from '../../server/calls/call.js';
import type { MediaEndpoint } from '../../server/media/engine/api.js';
import { LOOPBACK } from '../helpers/ports.js';
import { runSipp, scenarioPath } from '../helpers/sipp.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { sleep, waitUntil } from '../helpers/tmp.js';

let ts: TestServer;

beforeAll(async () => {
  ts = await startTestServer();
});
afterAll(async () => {
  await ts?.stop();
});

describe('re-INVITE without an offer', () => {
  it('our 2xx carries the offer, the answer in the ACK moves our RTP to its new port', async () => {
    const sock = dgram.createSocket('udp4');
    let rtp = 0;
    sock.on('message', (m) => {
      if (m.length > 12 && m[0]! >> 6 === 2 && (m[1]! & 0x7f) === 0) rtp++;
    });
    await new Promise<void>((r) => sock.bind(0, LOOPBACK, r));
    const port = sock.address().port;
    const known = new Set(ts.server.calls.calls.keys());
    const run = runSipp({
      scenario: scenarioPath('media_reinvite_nosdp'),
      target: ts.sipTarget,
      service: '12315',
      extraArgs: ['-key', 'rtp_port', String(port), '-d', '3000'],
      timeoutMs: 20_000,
    });
    try {
      let call: Call | undefined;
      await waitUntil(
        () => (call = [...ts.server.calls.calls.values()].find((c) => !known.has(c.id)))?.answeredAt != null,
        10_000,
        'the call answered',
      );
      const ep = call!.inbound.media as MediaEndpoint;
      const updates: boolean[] = [];
      call!.inbound.on('updated', (u) => updates.push(u.held));
      const first = (await ep.stats()).remote;
      expect(first).not.toBe(`${LOOPBACK}:${port}`);
      expect(rtp).toBe(0);
      // SIPp re-INVITEs 1 s after its ACK and holds the call 3 s more.
      await waitUntil(async () => (await ep.stats()).remote === `${LOOPBACK}:${port}`, 5000, 'the answer in the ACK');
      expect(updates).toEqual([false]);
      await sleep(1500);
      // The welcome prompt goes to the new port: ~75 packets in 1.5 s.
      expect(rtp).toBeGreaterThan(40);
    } finally {
      const r = await run;
      sock.close();
      expect(r.failed).toBe(0);
      expect(r.successful).toBe(1);
    }
  });
});
