/**
 * Test IVR flows (ivr-flows/tests/*.yaml) are kept out of the production flows dir, so a test that needs one
 * builds a flows dir of its own: the chosen flow files plus a link to the real prompt catalogues and WAVs.
 * Start the server with `IVR_FLOWS_DIR: dir, IVR_FLOW: '<flow id>'`.
 */
import { copyFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir } from './tmp.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const PROD_FLOWS_DIR = path.join(ROOT, 'ivr-flows');
export const TEST_FLOWS_DIR = path.join(PROD_FLOWS_DIR, 'tests');

/** A temp flows dir holding `files` (names in ivr-flows/tests/) and `prompts/` → ivr-flows/prompts. Remove it with removeTempDir. */
export function makeTestFlowsDir(files: string[]): string {
  const dir = makeTempDir('ivr-test-flows-');
  for (const f of files) copyFileSync(path.join(TEST_FLOWS_DIR, f), path.join(dir, path.basename(f)));
  symlinkSync(path.join(PROD_FLOWS_DIR, 'prompts'), path.join(dir, 'prompts'), 'dir');
  return dir;
}
