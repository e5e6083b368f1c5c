import { ensureDesktopBuild } from './helpers/desktop-build.js';

/** Runs once before any test file: the desktop build the e2e files share. */
export default async function setup(): Promise<void> {
  await ensureDesktopBuild();
}
