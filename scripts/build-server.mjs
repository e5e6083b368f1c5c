/**
 * Bundles the server into one file per thread, over what `tsc -p tsconfig.build.json` emitted:
 * dist/server/main.js (main thread) and dist/server/media/engine/worker.js (media worker), plus chunks
 * beside them (main-chunk-*.js, worker-chunk-*.js) for what they import lazily.
 *
 * Why: a restart after kill -9 spent most of its time loading and compiling some 300 modules
 * (docs/reliability.md, "Crash (kill -9)"); one file is resolved, read and compiled in one go.
 * The rest of dist/ stays as tsc wrote it: tests, scripts and tools import single modules from it.
 *
 * Modules that find files next to themselves through `import.meta.url` (the media worker, JSON data,
 * the desktop's dist/, the package root) would see the bundle's URL instead. Each such module gets the
 * URL of its own tsc output instead, so every relative lookup lands where it did before bundling.
 *
 *   node scripts/build-server.mjs        (after tsc -p tsconfig.build.json; `npm run build` runs both)
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');

/** import.meta.url in a source file → the URL its tsc output has, relative to the bundle being written. */
function ownUrlPlugin(outfile) {
  return {
    name: 'own-import-meta-url',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async (args) => {
        const src = await readFile(args.path, 'utf8');
        if (!src.includes('import.meta.url')) return undefined;
        const emitted = path.join(dist, path.relative(root, args.path)).replace(/\.ts$/, '.js');
        let rel = path.relative(path.dirname(outfile), emitted).split(path.sep).join('/');
        if (!rel.startsWith('.')) rel = `./${rel}`;
        const own = `new URL(${JSON.stringify(rel)}, import.meta.url).href`;
        return { contents: src.replaceAll('import.meta.url', `(${own})`), loader: 'ts' };
      });
    },
  };
}

const entries = [
  ['server/main.ts', 'dist/server/main.js'],
  ['server/media/engine/worker.ts', 'dist/server/media/engine/worker.js'],
];

for (const [entry, out] of entries) {
  const outfile = path.join(root, out);
  const chunkPrefix = `${path.basename(out, '.js')}-chunk-`;
  for (const f of await readdir(path.dirname(outfile)).catch(() => [])) {
    if (f.startsWith(chunkPrefix)) await rm(path.join(path.dirname(outfile), f));
  }
  await build({
    entryPoints: { [path.basename(out, '.js')]: path.join(root, entry) },
    outdir: path.dirname(outfile),
    // Modules the server imports lazily (werift for WebRTC) stay out of the start: in their own chunks,
    // beside the entry (so the import.meta.url rewrite below holds for them too).
    splitting: true,
    chunkNames: `${path.basename(out, '.js')}-chunk-[hash]`,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Dependencies stay in node_modules: native better-sqlite3, pino's worker-thread transports and
    // werift's wasm-free but path-sensitive modules load as they always have.
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
    plugins: [ownUrlPlugin(outfile)],
  });
}
