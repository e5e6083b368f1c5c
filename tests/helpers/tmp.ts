/**
 * Temporary working directories for external test peers. Set KEEP_PEER_DIRS=1 to keep them after a
 * run (logs, SIPp traces and recordings stay for inspection); the path is in each helper's result.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export function makeTempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `hotline-${prefix.replace(/[^a-zA-Z0-9_-]/g, '_')}-`));
}

export function removeTempDir(dir: string): void {
  if (process.env.KEEP_PEER_DIRS === '1') return;
  rmSync(dir, { recursive: true, force: true });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it returns true or `timeoutMs` passes. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what = 'the condition',
  everyMs = 20,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Makes sure a spawned peer dies with the test process, even when a test crashes before its
 * stop(): vitest ends a fork without running our cleanups, and an orphaned SIPp or baresip would
 * keep its ports for the next file.
 */
export function trackChild(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('close', () => liveChildren.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of liveChildren) {
        try {
          c.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
    });
  }
}
