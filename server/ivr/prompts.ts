/**
 * Prompt catalogues: `ivr-flows/prompts/<language>.yaml` lists every prompt's text (or a test tone); the
 * recordings are `ivr-flows/prompts/<language>/<name>.wav`, rendered ahead of time by
 * scripts/render-prompts.ts so the server needs no text-to-speech at run time.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { FlowError } from './flow.js';
import type { IvrPrompt } from './port.js';

export interface PromptEntry {
  name: string;
  /** What the recording says (for a tone: a description). */
  text: string;
  /** A synthetic tone instead of speech (benchmarks, beeps): frequency in Hz and exact length. */
  tone: { hz: number; ms: number } | null;
  /** espeak-ng voice for this prompt when it differs from the catalogue's (an English line in a Mandarin menu). */
  voice: string | null;
}

export interface PromptCatalog {
  language: string;
  /** espeak-ng voice used to render it (cmn, en …). */
  voice: string;
  /** espeak-ng words per minute. */
  speed: number;
  /** Catalogue file. */
  file: string;
  /** Directory holding the WAVs. */
  dir: string;
  entries: Map<string, PromptEntry>;
}

const NAME_RE = /^[A-Za-z0-9_]+$/;

export function loadPromptCatalog(file: string): PromptCatalog {
  const doc = parseYaml(fs.readFileSync(file, 'utf8')) as unknown;
  const err = (field: string, msg: string) => new FlowError(file, null, field, msg);
  if (typeof doc !== 'object' || doc === null) throw err('language', 'a catalogue is a mapping');
  const d = doc as Record<string, unknown>;
  if (typeof d.language !== 'string') throw err('language', 'required');
  if (typeof d.voice !== 'string') throw err('voice', 'required');
  const speed = d.speed ?? 160;
  if (typeof speed !== 'number') throw err('speed', 'must be a number');
  if (typeof d.prompts !== 'object' || d.prompts === null) throw err('prompts', 'required');
  const entries = new Map<string, PromptEntry>();
  for (const [name, v] of Object.entries(d.prompts as Record<string, unknown>)) {
    if (!NAME_RE.test(name)) throw err(`prompts.${name}`, 'prompt names are letters, digits and _');
    if (typeof v === 'object' && v !== null) {
      const extra = Object.keys(v).filter((k) => !['text', 'voice', 'tone', 'ms'].includes(k));
      if (extra.length > 0)
        throw err(`prompts.${name}`, `unknown keys ${extra.join(', ')} (quote texts holding commas)`);
    }
    if (typeof v === 'string' || typeof v === 'number') {
      entries.set(name, { name, text: String(v), tone: null, voice: null });
    } else if (
      typeof v === 'object' &&
      v !== null &&
      typeof (v as { text?: unknown }).text === 'string' &&
      !('tone' in v)
    ) {
      const t = v as { text: string; voice?: unknown };
      if (t.voice !== undefined && typeof t.voice !== 'string')
        throw err(`prompts.${name}.voice`, 'must be a voice name');
      entries.set(name, { name, text: t.text, tone: null, voice: (t.voice as string | undefined) ?? null });
    } else if (typeof v === 'object' && v !== null && typeof (v as { tone?: unknown }).tone === 'number') {
      const t = v as { tone: number; ms?: unknown; text?: unknown };
      if (typeof t.ms !== 'number' || t.ms <= 0) throw err(`prompts.${name}.ms`, 'a tone needs ms > 0');
      entries.set(name, {
        name,
        text: typeof t.text === 'string' ? t.text : `${t.tone} Hz`,
        tone: { hz: t.tone, ms: t.ms },
        voice: null,
      });
    } else throw err(`prompts.${name}`, 'must be a text, {text, voice} or {tone, ms}');
  }
  const dir = path.join(path.dirname(file), d.language);
  return { language: d.language, voice: d.voice, speed, file, dir, entries };
}

export function promptFile(catalog: PromptCatalog, name: string): string {
  return path.join(catalog.dir, `${name}.wav`);
}

export function resolvePrompt(catalog: PromptCatalog, name: string): IvrPrompt | null {
  const e = catalog.entries.get(name);
  if (!e) return null;
  return { name, language: catalog.language, file: promptFile(catalog, name), text: e.text };
}

/** `status_${case_status}` → `status_closed`; missing variables become empty. */
export function interpolate(template: string, vars: Readonly<Record<string, string>>): string {
  return template.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, k: string) => vars[k] ?? '');
}
export function isTemplate(s: string): boolean {
  return /\$\{[A-Za-z_][A-Za-z0-9_]*\}/.test(s);
}
/** A template as a pattern over prompt names: `status_${x}` matches `status_closed`. */
export function templatePattern(template: string): RegExp {
  const parts = template.split(/\$\{[A-Za-z_][A-Za-z0-9_]*\}/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('[A-Za-z0-9_]+')}$`);
}
