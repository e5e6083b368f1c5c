/**
 * DATA_DIR/server.pid: says which process holds the database. `npm run restore` refuses while that
 * process lives, and a second server on the same DATA_DIR refuses to start. A pid file left by a
 * crash (kill -9) names a dead process and is taken over.
 */
import fs from 'node:fs';
import path from 'node:path';

export function pidFilePath(dataDir: string): string {
  return path.join(dataDir, 'server.pid');
}

/** The live process that holds DATA_DIR, or null (no file, or its process is gone). */
export function holderOf(dataDir: string): number | null {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFilePath(dataDir), 'utf8').trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (e) {
    // EPERM: it exists but belongs to someone else – still a holder.
    return (e as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}

export interface PidFile {
  readonly pid: number;
  release(): void;
}

export function acquirePidFile(dataDir: string, pid = process.pid): PidFile {
  const holder = holderOf(dataDir);
  if (holder !== null && holder !== pid)
    throw new Error(`DATA_DIR ${dataDir} is held by the running process ${holder} (${pidFilePath(dataDir)})`);
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(pidFilePath(dataDir), `${pid}\n`);
  let released = false;
  return {
    pid,
    release() {
      if (released) return;
      released = true;
      try {
        if (holderOf(dataDir) === pid) fs.unlinkSync(pidFilePath(dataDir));
      } catch {
        /* already gone */
      }
    },
  };
}
