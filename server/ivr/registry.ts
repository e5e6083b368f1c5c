/**
 * Loads every flow of a directory (`*.yaml`, `*.yml`, `*.json` at its top level) and the prompt catalogues
 * under `prompts/`, checks them against each other, and hands out immutable snapshots (`FlowSet`).
 *
 * Reload keeps callers safe from a bad edit: a file that fails validation keeps its previous good version,
 * and a flow whose references break (goto to a removed flow, a prompt missing from the catalogue) falls
 * back to its previous good version too. A call in progress keeps the snapshot it started with.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { parse as parseYaml } from 'yaml';
import type { Clock, TimerHandle } from '../util/clock.js';
import { guardListener } from '../util/log.js';
import { FlowError, promptsOf, validateFlow, type Flow } from './flow.js';
import { isTemplate, loadPromptCatalog, templatePattern, type PromptCatalog } from './prompts.js';
import { sayPromptsFor } from './say.js';

export interface FlowSet {
  readonly version: number;
  readonly flows: ReadonlyMap<string, Flow>;
  readonly catalogs: ReadonlyMap<string, PromptCatalog>;
}

export interface ReloadReport {
  ok: boolean;
  errors: FlowError[];
  /** Flow ids now served. */
  loaded: string[];
  /** Flow ids that kept an older version because the new one is broken. */
  keptPrevious: string[];
}

const FLOW_EXT = /\.(ya?ml|json)$/i;

/** Parses one flow file (YAML or JSON by extension). */
export function parseFlowFile(file: string): { flow: Flow | null; errors: FlowError[] } {
  let doc: unknown;
  try {
    const text = fs.readFileSync(file, 'utf8');
    doc = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    return { flow: null, errors: [new FlowError(file, null, null, `cannot parse: ${(e as Error).message}`)] };
  }
  return validateFlow(doc, file);
}

/** Cross-checks of one flow against the others and the prompt catalogues. */
export function checkReferences(
  flow: Flow,
  flows: ReadonlyMap<string, Flow>,
  catalogs: ReadonlyMap<string, PromptCatalog>,
): FlowError[] {
  const errors: FlowError[] = [];
  const err = (node: string | null, field: string | null, msg: string) =>
    errors.push(new FlowError(flow.file, node, field, msg));
  const cat = catalogs.get(flow.language);
  if (!cat) err(null, 'language', `no prompt catalogue prompts/${flow.language}.yaml`);
  for (const node of flow.nodes.values()) {
    if (cat) {
      for (const p of promptsOf(node)) {
        if (isTemplate(p)) {
          const re = templatePattern(p);
          if (![...cat.entries.keys()].some((n) => re.test(n))) err(node.id, 'prompts', `no prompt matches "${p}"`);
        } else if (!cat.entries.has(p)) err(node.id, 'prompts', `prompt "${p}" is not in ${path.basename(cat.file)}`);
      }
      if (node.type === 'say') {
        const need = sayPromptsFor(flow.language);
        if (!need) err(node.id, 'as', `say has no rules for language ${flow.language}`);
        else {
          const missing = need.filter((n) => !cat.entries.has(n));
          if (missing.length > 0) err(node.id, 'as', `say needs prompts ${missing.join(', ')}`);
        }
      }
    }
    if (node.type === 'goto' || node.type === 'subflow') {
      const targetFlow = node.flow === null ? flow : flows.get(node.flow);
      if (!targetFlow) err(node.id, 'flow', `no flow "${node.flow}"`);
      else if (node.node !== null && !targetFlow.nodes.has(node.node)) {
        err(node.id, 'node', `flow "${targetFlow.id}" has no node "${node.node}"`);
      }
    }
  }
  return errors;
}

export interface FlowRegistryOptions {
  dir: string;
  log?: Logger;
  clock?: Clock;
}

export class FlowRegistry {
  private current: FlowSet = { version: 0, flows: new Map(), catalogs: new Map() };
  private watcher: fs.FSWatcher | null = null;
  private debounce: TimerHandle | null = null;
  private closed = false;

  constructor(private readonly o: FlowRegistryOptions) {}

  snapshot(): FlowSet {
    return this.current;
  }
  get(id: string): Flow | undefined {
    return this.current.flows.get(id);
  }

  /** (Re)loads the directory. Never throws for content errors; they are in the report and the log. */
  reload(): ReloadReport {
    const errors: FlowError[] = [];
    const prev = this.current;

    const catalogs = new Map<string, PromptCatalog>();
    const promptDir = path.join(this.o.dir, 'prompts');
    const catFiles = fs.existsSync(promptDir) ? fs.readdirSync(promptDir).filter((f) => /\.ya?ml$/.test(f)) : [];
    for (const f of catFiles.sort()) {
      const file = path.join(promptDir, f);
      try {
        const c = loadPromptCatalog(file);
        catalogs.set(c.language, c);
      } catch (e) {
        errors.push(e instanceof FlowError ? e : new FlowError(file, null, null, (e as Error).message));
        const old = [...prev.catalogs.values()].find((c) => c.file === file);
        if (old) catalogs.set(old.language, old);
      }
    }

    const candidates = new Map<string, Flow>();
    const keptPrevious = new Set<string>();
    const byId = new Map<string, Flow[]>();
    const files = fs.readdirSync(this.o.dir).filter((f) => FLOW_EXT.test(f));
    const prevByFile = new Map([...prev.flows.values()].map((f) => [f.file, f]));
    const keepOld = (old: Flow | undefined) => {
      if (old && !candidates.has(old.id)) {
        candidates.set(old.id, old);
        keptPrevious.add(old.id);
      }
    };
    for (const f of files.sort()) {
      const file = path.join(this.o.dir, f);
      const r = parseFlowFile(file);
      errors.push(...r.errors);
      if (r.flow) byId.set(r.flow.id, [...(byId.get(r.flow.id) ?? []), r.flow]);
      else keepOld(prevByFile.get(file));
    }
    for (const [id, list] of byId) {
      if (list.length === 1) {
        if (!keptPrevious.has(id)) candidates.set(id, list[0]!);
        continue;
      }
      // Two files claim one id (a copy whose id was not changed): neither new version wins.
      const owner = prev.flows.get(id);
      for (const f of list) {
        if (f.file === owner?.file) continue;
        const other = list.find((x) => x !== f)!;
        errors.push(new FlowError(f.file, null, 'id', `flow id "${id}" is also used by ${other.file}`));
      }
      keepOld(owner);
    }

    // A flow with broken references reverts to its previous version (or is dropped); that can break others,
    // so repeat until nothing changes. A removed flow that is still referenced keeps being served.
    for (let round = 0; round < 10; round++) {
      let changed = false;
      for (const flow of [...candidates.values()]) {
        for (const ref of referencedFlows(flow)) {
          const old = prev.flows.get(ref);
          if (candidates.has(ref) || !old) continue;
          errors.push(
            new FlowError(
              old.file,
              null,
              null,
              `flow "${ref}" was removed but ${flow.id} still uses it; keeping the previous version`,
            ),
          );
          keepOld(old);
          changed = true;
        }
      }
      for (const flow of [...candidates.values()]) {
        const refErrors = checkReferences(flow, candidates, catalogs);
        if (refErrors.length === 0) continue;
        errors.push(...refErrors);
        const old = prev.flows.get(flow.id);
        if (old && old !== flow) {
          candidates.set(flow.id, old);
          keptPrevious.add(flow.id);
        } else candidates.delete(flow.id);
        changed = true;
      }
      if (!changed) break;
    }

    const unique = dedupe(errors);
    this.current = { version: prev.version + 1, flows: candidates, catalogs };
    for (const e of unique) this.o.log?.warn({ file: e.file, node: e.node, field: e.field }, e.message);
    return { ok: unique.length === 0, errors: unique, loaded: [...candidates.keys()], keptPrevious: [...keptPrevious] };
  }

  /** Reloads when a file of the directory changes (debounced: editors write in several steps). */
  watch(debounceMs = 300): void {
    if (this.watcher || this.closed || !this.o.clock) return;
    const clock = this.o.clock;
    const onChange = () => {
      clock.clearTimeout(this.debounce);
      this.debounce = clock.setTimeout(() => {
        this.debounce = null;
        if (!this.closed) this.reload();
      }, debounceMs);
    };
    this.watcher = fs.watch(this.o.dir, { recursive: false });
    const log = this.o.log;
    this.watcher.on('change', log ? guardListener('ivr.flows.watch', log, onChange) : onChange);
    this.watcher.on('error', () => undefined);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.o.clock?.clearTimeout(this.debounce);
    this.watcher?.close();
    this.watcher = null;
  }
}

function referencedFlows(flow: Flow): string[] {
  const out: string[] = [];
  for (const n of flow.nodes.values()) if ((n.type === 'goto' || n.type === 'subflow') && n.flow) out.push(n.flow);
  return out;
}

function dedupe(errors: FlowError[]): FlowError[] {
  const seen = new Set<string>();
  return errors.filter((e) => (seen.has(e.message) ? false : (seen.add(e.message), true)));
}
