/**
 * MEDIA_CPUS: the server's entry moves its threads off the media CPUs, the media worker and ticker pin themselves
 * onto them. The list arithmetic is pure; the layout is checked on the real server process.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { cpusBeside, isCpuList, parseCpuList } from '../../../server/media/engine/realtime.js';
import { spawnServer } from '../../helpers/spawn-server.js';
import { makeTempDir, removeTempDir, sleep } from '../../helpers/tmp.js';

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

/** Cpus_allowed_list of every thread of a process. */
function cpuLists(pid: number): { tid: number; cpus: string }[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => ({
    tid: Number(tid),
    cpus: /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))?.[1] ?? '',
  }));
}

describe('MEDIA_CPUS on the real server', () => {
  it('the media worker and its ticker run on the media CPU, every other thread beside it', async () => {
    const mine = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]!;
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
