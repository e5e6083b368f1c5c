import { describe, expect, it } from 'vitest';
import type { MediaEndpoint } from '../../server/media/engine/api.js';
import { EndpointReserve } from '../../server/calls/endpoint-reserve.js';
import { createLogger } from '../../server/util/log.js';

const log = createLogger('test');

/** The reserve's boundary: an engine whose createRtpEndpoint the test resolves or rejects by hand. */
class FakeEngine {
  readonly pending: { resolve: (ep: MediaEndpoint) => void; reject: (e: Error) => void }[] = [];
  readonly made: FakeEndpoint[] = [];
  createRtpEndpoint(): Promise<MediaEndpoint> {
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }
  /** Resolves every outstanding creation. */
  async deliver(): Promise<void> {
    for (const p of this.pending.splice(0)) {
      const ep = new FakeEndpoint(`ep${this.made.length}`);
      this.made.push(ep);
      p.resolve(ep as unknown as MediaEndpoint);
    }
    await flush();
  }
  async fail(): Promise<void> {
    for (const p of this.pending.splice(0)) p.reject(new Error('worker gone'));
    await flush();
  }
}

class FakeEndpoint {
  closed = 0;
  private readonly listeners = new Map<string, Set<() => void>>();
  constructor(readonly id: string) {}
  on(e: string, fn: () => void) {
    if (!this.listeners.has(e)) this.listeners.set(e, new Set());
    this.listeners.get(e)!.add(fn);
    return this;
  }
  off(e: string, fn: () => void) {
    this.listeners.get(e)?.delete(fn);
    return this;
  }
  emit(e: string) {
    for (const fn of this.listeners.get(e) ?? []) fn();
  }
  listenerCount(e: string) {
    return this.listeners.get(e)?.size ?? 0;
  }
  close() {
    this.closed++;
    return Promise.resolve();
  }
}

const flush = () => new Promise<void>((r) => setImmediate(r));

describe('EndpointReserve', () => {
  it('fills up to its size, hands out ready endpoints first-made first, and refills behind each take', async () => {
    const engine = new FakeEngine();
    const r = new EndpointReserve({ engine, size: 3, log }).start();
    expect(engine.pending).toHaveLength(3);
    expect(r.take()).toBeNull(); // nothing ready yet: the caller creates its own
    expect(r.stats.missed).toBe(1);
    expect(engine.pending).toHaveLength(3); // a miss does not over-fill
    await engine.deliver();
    expect(r.available).toBe(3);
    const first = r.take() as unknown as FakeEndpoint;
    expect(first.id).toBe('ep0');
    expect(r.available).toBe(2);
    expect(engine.pending).toHaveLength(1);
    expect(first.listenerCount('closed')).toBe(0); // the call owns it now
    await r.close();
  });

  it('drops an endpoint the engine closed while it waited', async () => {
    const engine = new FakeEngine();
    const r = new EndpointReserve({ engine, size: 2, log }).start();
    await engine.deliver();
    engine.made[0]!.emit('closed');
    expect(r.available).toBe(1);
    expect((r.take() as unknown as FakeEndpoint).id).toBe('ep1');
    await r.close();
  });

  it('stops refilling after a failed creation until the next take', async () => {
    const engine = new FakeEngine();
    const r = new EndpointReserve({ engine, size: 2, log }).start();
    await engine.fail();
    expect(r.stats.failed).toBe(2);
    expect(engine.pending).toHaveLength(0);
    expect(r.take()).toBeNull();
    expect(engine.pending).toHaveLength(2);
    await engine.deliver();
    expect(r.available).toBe(2);
    await r.close();
  });

  it('closes idle endpoints and late arrivals on close, twice safely, and hands out nothing after', async () => {
    const engine = new FakeEngine();
    const r = new EndpointReserve({ engine, size: 2, log }).start();
    await engine.deliver();
    r.take(); // one more in flight now
    await r.close();
    await r.close();
    expect(engine.made[1]!.closed).toBe(1);
    expect(engine.made[0]!.closed).toBe(0); // taken: the call closes it
    await engine.deliver();
    expect(engine.made[2]!.closed).toBe(1);
    expect(r.take()).toBeNull();
    expect(engine.pending).toHaveLength(0);
  });

  it('grows with the call rate, up to its maximum, and falls back to its size when calls slow down', async () => {
    const engine = new FakeEngine();
    let t = 0;
    const r = new EndpointReserve({ engine, size: 4, horizonMs: 300, maxSize: 50, now: () => t, log }).start();
    await engine.deliver();
    expect(r.target).toBe(4);
    /** `n` calls `stepMs` apart, then one more that closes the window. */
    const calls = async (n: number, stepMs: number) => {
      for (let i = 0; i < n; i++) {
        t += stepMs;
        r.take();
        await engine.deliver();
      }
      t += stepMs;
      r.take();
    };
    // 100 calls in the first second (10 ms apart): the second window aims at 300 ms of them.
    await calls(100, 10);
    expect(r.target).toBe(30);
    expect(engine.pending.length + r.available).toBe(30);
    await engine.deliver();
    expect(r.available).toBe(30);
    // 1000 calls a second would want 300: the maximum holds.
    await calls(1000, 1);
    expect(r.target).toBe(50);
    // One call in the next second: back to the configured size (nothing is closed; takes use the extras up).
    t += 1000;
    r.take();
    t += 1000;
    r.take();
    expect(r.target).toBe(4);
    expect(engine.made.every((e) => e.closed === 0)).toBe(true);
    await r.close();
  });
});
