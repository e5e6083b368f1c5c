import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import {
  freeSipPort,
  freeTcpPort,
  freeUdpPort,
  isPortBoundBy,
  isPortFree,
  poolSlot,
  rtpPortRange,
  portOtherThan,
  PORT_RACE_ATTEMPTS,
  retryLostPortRace,
} from '../helpers/ports.js';
import { startTestServer } from '../helpers/server.js';

const held: dgram.Socket[] = [];
afterEach(() => {
  held.splice(0).forEach((s) => s.close());
});

function holdUdp(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(port, '127.0.0.1', () => {
      held.push(s);
      resolve();
    });
  });
}

describe('ports', () => {
  it('portOtherThan skips a number the kernel hands out again (baresip control port equal to its SIP port)', async () => {
    const picks = [5060, 5061, 5060, 40000];
    const pick = async () => picks.shift()!;
    expect(await portOtherThan([5060, 5061], pick)).toBe(40000);
    await expect(portOtherThan([7], async () => 7)).rejects.toThrow(/20 picks/);
  });

  it('hands out bindable ports and sees when one is taken', async () => {
    const u = await freeUdpPort();
    const t = await freeTcpPort();
    expect(u).toBeGreaterThan(1023);
    expect(t).toBeGreaterThan(1023);
    expect(await isPortFree(u, ['udp'])).toBe(true);
    await holdUdp(u);
    expect(await isPortFree(u, ['udp'])).toBe(false);
    expect(await isPortFree(u, ['tcp'])).toBe(true);
  });

  it('tells which process holds a port, not only that someone does', async () => {
    const u = await freeUdpPort();
    expect(isPortBoundBy(process.pid, u, 'udp')).toBe(false);
    await holdUdp(u);
    expect(isPortBoundBy(process.pid, u, 'udp')).toBe(true);
    expect(isPortBoundBy(process.pid, u, 'tcp')).toBe(false);
    const other = spawnSync('true');
    expect(isPortBoundBy(other.pid!, u, 'udp')).toBe(false);
  });

  it('freeSipPort({alsoNext}) leaves port and port+1 free for UDP and TCP', async () => {
    const p = await freeSipPort({ alsoNext: true });
    expect(await isPortFree(p, ['udp', 'tcp'])).toBe(true);
    expect(await isPortFree(p + 1, ['udp', 'tcp'])).toBe(true);
  });

  it('gives even, disjoint RTP ranges inside this fork’s slot, below the ephemeral range', async () => {
    const a = await rtpPortRange(40);
    const b = await rtpPortRange(41);
    expect(a.start % 2).toBe(0);
    expect(b.start % 2).toBe(0);
    expect(a.end - a.start + 1).toBe(40);
    expect(b.end - b.start + 1).toBe(42);
    expect(a.end < b.start || b.end < a.start).toBe(true);
    const slotStart = 10_000 + poolSlot() * 4_000;
    for (const r of [a, b]) {
      expect(r.start).toBeGreaterThanOrEqual(slotStart);
      expect(r.end).toBeLessThan(Math.min(slotStart + 4_000, 32_768));
    }
  });

  it('skips a range in which a port is busy', async () => {
    const probe = await rtpPortRange(10);
    // Occupy a port in the range that would come next, then ask again.
    await holdUdp(probe.end + 5);
    const next = await rtpPortRange(10);
    expect(next.start > probe.end + 5 || next.end < probe.end + 5).toBe(true);
  });

  it('maps VITEST_POOL_ID to a slot', () => {
    const old = process.env.VITEST_POOL_ID;
    try {
      process.env.VITEST_POOL_ID = '1';
      expect(poolSlot()).toBe(0);
      process.env.VITEST_POOL_ID = '2';
      expect(poolSlot()).toBe(1);
    } finally {
      process.env.VITEST_POOL_ID = old;
    }
  });

  it('a test server on a SIP port another process holds fails with EADDRINUSE (what startTestServer retries on a port it picked), and leaves nothing bound: the port serves a new server once freed', async () => {
    const port = await freeSipPort();
    await holdUdp(port);
    const err = await startTestServer({ SIP_PORT: String(port) }).catch((e: unknown) => e);
    expect((err as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
    held.splice(0).forEach((s) => s.close());
    const ok = await startTestServer({ SIP_PORT: String(port) });
    await ok.stop();
  });

  it('retryLostPortRace starts again only after a lost port race, at most PORT_RACE_ATTEMPTS times in all', async () => {
    const lost = new Error('lost');
    let calls = 0;
    const okOnThird = await retryLostPortRace(
      async () => (++calls < 3 ? Promise.reject(lost) : 'up'),
      (err) => err === lost,
    );
    expect([okOnThird, calls]).toEqual(['up', 3]);
    calls = 0;
    await expect(
      retryLostPortRace(
        async () => (calls++, Promise.reject(lost)),
        (err) => err === lost,
      ),
    ).rejects.toBe(lost);
    expect(calls).toBe(PORT_RACE_ATTEMPTS);
    calls = 0;
    const other = new Error('other');
    await expect(
      retryLostPortRace(
        async () => (calls++, Promise.reject(other)),
        (err) => err === lost,
      ),
    ).rejects.toBe(other);
    expect(calls).toBe(1);
  });
});
