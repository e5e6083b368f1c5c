#!/usr/bin/env node
/**
 * Bundles node_modules/jssip (CommonJS only on npm) into a browser IIFE with the global `JsSIP`, for the
 * softphone test page and the agent desktop: dist/vendor/jssip.iife.js (gitignored build output).
 * tests/helpers/jssip.ts builds the same file on demand with the same options.
 *
 *   node scripts/build-jssip.mjs [outfile]
 */
import { build } from 'esbuild';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outfile = path.resolve(process.argv[2] ?? path.join(root, 'dist/vendor/jssip.iife.js'));
const t0 = performance.now();
const result = await build({
  entryPoints: [path.join(root, 'node_modules/jssip/lib/JsSIP.js')],
  bundle: true,
  format: 'iife',
  globalName: 'JsSIP',
  platform: 'browser',
  target: 'chrome100',
  outfile,
  metafile: true,
  logLevel: 'warning',
});
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(
  `${path.relative(root, outfile)}: ${Math.round(bytes / 1024)} KiB in ${Math.round(performance.now() - t0)} ms`,
);
