/**
 * Flow lint: everything the registry checks at load, plus what only matters before shipping: every
 * prompt a flow can play has a WAV in the telephony format (8 kHz, mono, 16-bit PCM), recordings are not
 * stale against their text, and no node is unreachable.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { decodeWav } from '../media/wav.js';
import { localTargets, promptsOf, type Flow } from './flow.js';
import { isTemplate, promptFile, templatePattern, type PromptCatalog } from './prompts.js';
import { FlowRegistry } from './registry.js';
import { sayPromptsFor } from './say.js';

export interface LintIssue {
  level: 'error' | 'warning';
  message: string;
}

export interface LintReport {
  flows: string[];
  issues: LintIssue[];
  promptsChecked: number;
}

/** Prompt names a flow can play: direct ones, all catalogue names matching templates, and say pieces. */
export function promptNamesOf(flow: Flow, cat: PromptCatalog): Set<string> {
  const names = new Set<string>();
  for (const node of flow.nodes.values()) {
    for (const p of promptsOf(node)) {
      if (!isTemplate(p)) names.add(p);
      else {
        const re = templatePattern(p);
        for (const n of cat.entries.keys()) if (re.test(n)) names.add(n);
      }
    }
    if (node.type === 'say') for (const n of sayPromptsFor(flow.language) ?? []) names.add(n);
  }
  return names;
}

/** Nodes no path from `start` or `survey` reaches (a cross-flow goto may still target them: a warning). */
export function unreachableNodes(flow: Flow): string[] {
  const seen = new Set<string>();
  const stack = [flow.start, ...(flow.survey ? [flow.survey] : [])];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const node = flow.nodes.get(id);
    if (node) for (const t of localTargets(node)) stack.push(t.target);
  }
  return [...flow.nodes.keys()].filter((id) => !seen.has(id));
}

export function checkWav(file: string): string | null {
  if (!fs.existsSync(file)) return 'missing';
  try {
    const w = decodeWav(fs.readFileSync(file));
    if (w.sampleRate !== 8000 || w.channels.length !== 1 || w.encoding !== 'pcm' || w.bitsPerSample !== 16) {
      return `${w.sampleRate} Hz, ${w.channels.length} channel(s), ${w.encoding} ${w.bitsPerSample}-bit (need 8000 Hz mono 16-bit PCM)`;
    }
    if (w.channels[0]!.length < 800) return 'shorter than 100 ms';
  } catch (e) {
    return `not a readable WAV: ${(e as Error).message}`;
  }
  return null;
}

export function lintFlows(dir: string): LintReport {
  const registry = new FlowRegistry({ dir });
  const load = registry.reload();
  const issues: LintIssue[] = load.errors.map((e) => ({ level: 'error', message: e.message }));
  const set = registry.snapshot();
  let promptsChecked = 0;
  const checked = new Set<string>();
  for (const flow of set.flows.values()) {
    const cat = set.catalogs.get(flow.language);
    if (!cat) continue;
    for (const name of promptNamesOf(flow, cat)) {
      const file = promptFile(cat, name);
      if (checked.has(file)) continue;
      checked.add(file);
      promptsChecked++;
      const problem = checkWav(file);
      if (problem)
        issues.push({ level: 'error', message: `${path.relative(dir, file)}: ${problem} (flow ${flow.id})` });
    }
    for (const id of unreachableNodes(flow)) {
      issues.push({ level: 'warning', message: `${flow.file}: node "${id}" is not reachable from start or survey` });
    }
  }
  // Recordings whose text changed since they were rendered (the manifest hash no longer matches).
  for (const cat of set.catalogs.values()) {
    const manifestFile = path.join(cat.dir, '.manifest.json');
    if (!fs.existsSync(manifestFile)) continue;
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Record<string, string>;
    const stale = [...cat.entries.values()].filter(
      (e) => manifest[e.name] !== undefined && manifest[e.name] !== renderHash(cat, e),
    );
    for (const e of stale) {
      issues.push({
        level: 'warning',
        message: `${path.relative(dir, promptFile(cat, e.name))}: text changed since rendering; run npm run ivr:prompts`,
      });
    }
  }
  registry.close();
  return { flows: [...set.flows.keys()], issues, promptsChecked };
}

/** Must match scripts/render-prompts.ts. */
export const RENDER_PIPELINE = 'v1: espeak-ng → sox rate 8k, trim silence, norm -3 dB, 120 ms tail';

export function renderHash(
  cat: PromptCatalog,
  e: { text: string; tone: { hz: number; ms: number } | null; voice: string | null },
): string {
  const what = e.tone ? `tone:${e.tone.hz}:${e.tone.ms}` : `speech:${e.voice ?? cat.voice}:${cat.speed}:${e.text}`;
  return createHash('sha256').update(`${RENDER_PIPELINE}\n${what}`).digest('hex').slice(0, 16);
}
