/**
 * MEDIA_CPUS: the server's entry moves its threads off the media CPUs, the media worker and ticker pin themselves
 * onto them. The list arithmetic is pure; the layout is checked on the real server process.
 */
import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { createMediaEngine } from '../../../server/media/engine/index.js';
import {
  cpuListOf,
  cpusBeside,
  isCpuList,
  parseCpuList,
  pinThisThread,
} from '../../../server/media/engine/realtime.js';
import { PortTickSource, ThreadTicker } from '../../../server/media/engine/ticker.js';
import { rtpPortRange } from '../../helpers/ports.js';
import { spawnServer } from '../../helpers/spawn-server.js';
import { makeTempDir, removeTempDir, sleep, waitUntil } from '../../helpers/tmp.js';

describe('CPU lists', () => {
  it('parses taskset lists and refuses anything else', () => {
    expect(parseCpuList('0')).toEqual([0]);
    expect(parseCpuList('0,2-4,7')).toEqual([0, 2, 3, 4, 7]);
    for (const ok of ['1', '0-1', '0,2-3']) expect(isCpuList(ok)).toBe(true);
    for (const bad of ['', '1;reboot', '-1', '1,', 'a-b', '1 2']) expect(isCpuList(bad)).toBe(false);
  });

  it('the rest of the server gets the allowed CPUs the media does not take', () => {
    expect(cpusBeside('0-3', '1')).toBe('0,2,3');
    expect(cpusBeside('0-1', '1')).toBe('0');
    expect(cpusBeside('0-1', '0-1')).toBe('');
    expect(cpusBeside('2-3', '0')).toBe('2,3');
  });
});

/** Cpus_allowed_list of every thread of a process (a thread that ends while it is read, e.g. a closing engine's, is left out). */
function cpuLists(pid: number): { tid: number; cpus: string }[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
    try {
      return [{ tid: Number(tid), cpus: cpuListOf(`/proc/${pid}/task/${tid}/status`) }];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH')
        return [];
      throw err;
    }
  });
}

describe('CPU affinity of the media clock', () => {
  it('rejects a malformed CPU list without touching the thread', () => {
    expect(pinThisThread('1;reboot')).toMatch(/invalid CPU list/);
    expect(pinThisThread('')).toMatch(/invalid CPU list/);
  });

  it('a ticker that cannot be kept on its CPUs says why, and ticks on', async () => {
    const ticker = new ThreadTicker(5, 0, 0, '4095'); // no such CPU here
    const refused: string[] = [];
    const src = new PortTickSource(ticker.port, (why) => refused.push(why));
    let ticks = 0;
    src.start(() => ticks++);
    try {
      await waitUntil(() => refused.length > 0 && ticks > 5, 10_000, 'the refusal and some ticks');
      expect(refused[0]).toMatch(/^CPU affinity: /);
    } finally {
      src.close();
      ticker.close();
    }
  });

  for (const pacing of ['self', 'ticker'] as const) {
    it(`${pacing}: the clock threads (and only they) are kept on the asked CPUs`, async () => {
      const r = await rtpPortRange(4);
      const before = cpuLists(process.pid).filter((t) => t.cpus === '0').length;
      const engine = await createMediaEngine({
        thread: 'worker',
        pacing,
        cpus: '0',
        bindAddress: '127.0.0.1',
        portMin: r.start,
        portMax: r.end,
      });
      try {
        await sleep(200);
        const pinned = cpuLists(process.pid).filter((t) => t.cpus === '0').length - before;
        // On a one-CPU box every thread already has the list "0": nothing to tell apart, the engine must just work.
        if (before === 0) expect(pinned).toBe(pacing === 'self' ? 1 : 2);
        expect((await engine.stats()).thread).toBe('worker');
      } finally {
        await engine.close();
      }
    });
  }
});

describe('MEDIA_CPUS on the real server', () => {
  it('the media worker and its ticker run on the media CPU, every other thread beside it', async () => {
    const mine = cpuListOf('/proc/self/status');
    const twoCpus = availableParallelism() >= 2 && parseCpuList(mine).includes(0) && parseCpuList(mine).includes(1);
    const dataDir = makeTempDir('media-cpus-');
    const server = await spawnServer({ MEDIA_CPUS: '1', DATA_DIR: dataDir });
    try {
      await sleep(300);
      const lists = cpuLists(server.pid);
      if (twoCpus) {
        // Worker + ticker on CPU 1; the main thread and the rest (V8 platform, libuv pool) on the others.
        expect(lists.filter((t) => t.cpus === '1').length).toBe(2);
        expect(lists.find((t) => t.tid === server.pid)!.cpus).toBe(cpusBeside(mine, '1'));
        expect(lists.filter((t) => t.cpus !== '1').every((t) => !parseCpuList(t.cpus).includes(1))).toBe(true);
      }
      // Otherwise (one CPU, or a runner kept off CPU 0 or 1) the layout cannot be told apart: the server must just run.
      const health = await fetch(`${server.httpUrl}/api/health`);
      expect(health.status).toBe(200);
    } finally {
      await server.kill('SIGTERM');
      removeTempDir(dataDir);
    }
  }, 60_000);
});
