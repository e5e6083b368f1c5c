/**
 * Network trouble (issue 9): 5 % random loss and 0–50 ms jitter on every SIP datagram, both ways,
 * through ImpairRelay (the userspace stand-in for tc netem, which this kernel lacks). SIP
 * retransmissions (§17.1.1.2 Timer A, §13.3.1.4 2xx until ACK, §17.1.2.2 Timer E for the BYE) must
 * complete ≥ 99.9 % of 200 calls.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSipp } from '../helpers/sipp.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { ImpairRelay, seeded } from './impair-relay.js';

const scenario = (n: string) => new URL(`./scenarios/${n}.xml`, import.meta.url).pathname;
let ts: TestServer;
let relay: ImpairRelay;

beforeAll(async () => {
  ts = await startTestServer();
  relay = await ImpairRelay.start({
    target: { host: '127.0.0.1', port: ts.sipPort },
    loss: 0.05,
    jitterMs: 50,
    random: seeded(Number(process.env.NETEM_SEED ?? 12315)),
  });
}, 30_000);
afterAll(async () => {
  relay?.close();
  await ts?.stop();
});

describe('5 % loss and 50 ms jitter on SIP', () => {
  it('retransmissions complete ≥ 99.9 % of 200 calls', async () => {
    const calls = 200;
    const r = await runSipp({
      scenario: scenario('uac_hold_bye_rport'),
      target: `127.0.0.1:${relay.port}`,
      service: '9196',
      calls,
      rate: 25,
      // Jitter reorders: a 100 Trying can arrive after the 200. A UA ignores a late provisional
      // response (§17.1.1.2); SIPp by default aborts the call on it, so that default is switched off.
      extraArgs: ['-d', '500', '-default_behaviors', 'all,-abortunexp'],
      timeoutMs: 120_000,
    });
    const { up, down } = relay.stats;
    const lossUp = up.dropped / (up.dropped + up.forwarded);
    const lossDown = down.dropped / (down.dropped + down.forwarded);
    const retrans = Object.entries(r.counts)
      .filter(([k]) => k.endsWith('_Retrans'))
      .reduce((s, [, v]) => s + v, 0);
    console.log(
      `netem stand-in: ${r.successful}/${calls} calls completed, ${r.failed} failed; datagrams dropped ` +
        `${(lossUp * 100).toFixed(1)} % toward the server, ${(lossDown * 100).toFixed(1)} % back; SIPp retransmissions ${retrans}`,
    );
    if (r.failed) console.log(r.errors.slice(0, 3000));
    expect(up.dropped).toBeGreaterThan(0); // the impairment really happened
    expect(down.dropped).toBeGreaterThan(0);
    expect(lossUp).toBeGreaterThan(0.02);
    expect(lossUp).toBeLessThan(0.1);
    expect(retrans).toBeGreaterThan(0);
    expect(r.successful / calls).toBeGreaterThanOrEqual(0.999);
    // and nothing is left hanging on the server
    for (let i = 0; i < 100 && ts.server.calls.calls.size > 0; i++) await new Promise((res) => setTimeout(res, 100));
    expect(ts.server.calls.calls.size).toBe(0);
  }, 150_000);
});
