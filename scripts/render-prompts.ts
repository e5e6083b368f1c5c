/**
 * Renders the IVR prompt catalogues (ivr-flows/prompts/<lang>.yaml) to 8 kHz mono 16-bit WAV files under
 * ivr-flows/prompts/<lang>/, with espeak-ng for speech and sox for tones, resampling, trimming and level.
 * The WAVs are committed, so the server never needs TTS at run time.
 *
 *   npx tsx scripts/render-prompts.ts [--dir ivr-flows] [--force] [--prune] [--only name,name]
 *
 * A manifest (<lang>/.manifest.json) holds a hash of what produced each file; unchanged prompts are skipped,
 * so re-running after editing one text re-renders only that one and keeps git diffs small.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { renderHash } from '../server/ivr/lint.js';
import { loadPromptCatalog, promptFile, type PromptEntry, type PromptCatalog } from '../server/ivr/prompts.js';

function args(): { dir: string; force: boolean; prune: boolean; only: Set<string> | null } {
  const a = process.argv.slice(2);
  const val = (k: string) => {
    const i = a.indexOf(k);
    return i >= 0 ? a[i + 1] : undefined;
  };
  const only = val('--only');
  return {
    dir: val('--dir') ?? path.join(import.meta.dirname, '..', 'ivr-flows'),
    force: a.includes('--force'),
    prune: a.includes('--prune'),
    only: only ? new Set(only.split(',')) : null,
  };
}

// Bump RENDER_PIPELINE in server/ivr/lint.ts when the pipeline below changes, to re-render everything.
const hashOf = renderHash;

function render(cat: PromptCatalog, e: PromptEntry, out: string, tmp: string): void {
  if (e.tone) {
    // Exact length, 10 ms fades so the tone does not click, -6 dBFS.
    execFileSync('sox', [
      '-n',
      '-r',
      '8000',
      '-c',
      '1',
      '-b',
      '16',
      '-e',
      'signed-integer',
      out,
      'synth',
      (e.tone.ms / 1000).toFixed(3),
      'sine',
      String(e.tone.hz),
      'vol',
      '0.5',
      'fade',
      'h',
      '0.01',
      '-0',
      '0.01',
    ]);
    return;
  }
  const raw = path.join(tmp, `${e.name}.raw.wav`);
  execFileSync('espeak-ng', ['-v', e.voice ?? cat.voice, '-s', String(cat.speed), '-w', raw, e.text]);
  // Trim leading/trailing silence so composed `say` pieces run together, then leave a short tail.
  execFileSync('sox', [
    raw,
    '-r',
    '8000',
    '-c',
    '1',
    '-b',
    '16',
    '-e',
    'signed-integer',
    out,
    'silence',
    '1',
    '0.02',
    '0.5%',
    'reverse',
    'silence',
    '1',
    '0.02',
    '0.5%',
    'reverse',
    'norm',
    '-3',
    'pad',
    '0',
    '0.12',
  ]);
  fs.rmSync(raw, { force: true });
}

function main(): void {
  const o = args();
  const promptDir = path.join(o.dir, 'prompts');
  const catalogs = fs
    .readdirSync(promptDir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => loadPromptCatalog(path.join(promptDir, f)));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prompts-'));
  let rendered = 0;
  let skipped = 0;
  let pruned = 0;
  try {
    for (const cat of catalogs) {
      fs.mkdirSync(cat.dir, { recursive: true });
      const manifestFile = path.join(cat.dir, '.manifest.json');
      const manifest: Record<string, string> = fs.existsSync(manifestFile)
        ? (JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Record<string, string>)
        : {};
      for (const e of cat.entries.values()) {
        if (o.only && !o.only.has(e.name)) continue;
        const out = promptFile(cat, e.name);
        const h = hashOf(cat, e);
        if (!o.force && manifest[e.name] === h && fs.existsSync(out)) {
          skipped++;
          continue;
        }
        render(cat, e, out, tmp);
        manifest[e.name] = h;
        rendered++;
        process.stdout.write(`${cat.language}/${e.name}.wav  ${e.text}\n`);
      }
      if (o.prune) {
        for (const f of fs.readdirSync(cat.dir)) {
          const name = f.replace(/\.wav$/, '');
          if (f.endsWith('.wav') && !cat.entries.has(name)) {
            fs.rmSync(path.join(cat.dir, f));
            delete manifest[name];
            pruned++;
          }
        }
      }
      const sorted = Object.fromEntries(Object.entries(manifest).sort(([a], [b]) => a.localeCompare(b)));
      fs.writeFileSync(manifestFile, JSON.stringify(sorted, null, 2) + '\n');
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  process.stdout.write(`rendered ${rendered}, unchanged ${skipped}, pruned ${pruned}\n`);
}

main();
