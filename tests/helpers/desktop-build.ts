/**
 * The Vite build of agent-desktop that the e2e tests load. Built once per run by the global setup, so two test
 * files running side by side never build into the same dist/ at the same time.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DESKTOP_DIR = path.join(ROOT, 'agent-desktop');
export const DESKTOP_DIST = path.join(DESKTOP_DIR, 'dist');

function newestMtime(dir: string): number {
  let m = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    m = Math.max(m, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return m;
}

/** Builds agent-desktop/dist with Vite unless it is newer than every source file. */
export async function ensureDesktopBuild(): Promise<void> {
  const index = path.join(DESKTOP_DIST, 'index.html');
  const entries = ['index.html', 'merchant.html', 'vite.config.ts']
    .map((f) => path.join(DESKTOP_DIR, f))
    .filter((f) => existsSync(f));
  const src = Math.max(
    newestMtime(path.join(DESKTOP_DIR, 'src')),
    ...entries.map((f) => statSync(f).mtimeMs),
    statSync(path.join(ROOT, 'server/api/socket/events.ts')).mtimeMs,
  );
  if (existsSync(index) && statSync(index).mtimeMs > src) return;
  const { build } = await import('vite');
  await build({ root: DESKTOP_DIR, configFile: path.join(DESKTOP_DIR, 'vite.config.ts'), logLevel: 'warn' });
}
