import { describe, expect, it } from 'vitest';
import { createMediaEngine } from '../../../server/media/engine/index.js';
import { rtpPortRange } from '../../helpers/ports.js';
import { waitUntil } from '../../helpers/tmp.js';

describe('media worker', () => {
  it('runs in a worker by default; if the thread dies every endpoint reports closed and calls reject', async () => {
    const r = await rtpPortRange(8);
    const engine = await createMediaEngine({ bindAddress: '127.0.0.1', portMin: r.start, portMax: r.end });
    expect(engine.thread).toBe('worker');
    expect((await engine.stats()).thread).toBe('worker');
    const ep = await engine.createRtpEndpoint();
    let closed = 0;
    ep.on('closed', () => closed++);
    const play = ep.play([{ toneHz: 400, ms: 60_000 }]).catch((e: Error) => e);
    // Kill the thread from outside, as a crash would.
    const channel = (engine as unknown as { channel: { worker: { terminate(): Promise<number> } } }).channel;
    await channel.worker.terminate();
    await waitUntil(() => closed === 1, 2000, 'closed event');
    expect(await play).toBeInstanceOf(Error);
    await expect(engine.stats()).rejects.toThrow();
    await engine.close();
    await engine.close();
    expect(closed).toBe(1);
  });
});
