/**
 * IVR flow model and its schema. A flow file (YAML or JSON) is a map of named nodes; validation turns the
 * parsed document into typed nodes with defaults filled in, or into a list of errors that each name the
 * file, the node and the field, so a flow author can fix a broken file without reading engine code.
 *
 * The schema is a declarative table (NODE_FIELDS): one entry per node type, one line per field. Unknown
 * fields are errors, because a misspelt `nxet:` silently ignored would strand callers in a dead end.
 */

export const NODE_TYPES = [
  'play',
  'menu',
  'collect',
  'say',
  'branch',
  'set',
  'lookup',
  'enqueue',
  'callback',
  'voicemail',
  'survey',
  'transfer',
  'hangup',
  'goto',
  'subflow',
  'return',
] as const;
export type NodeType = (typeof NODE_TYPES)[number];

export type SayAs = 'digits' | 'number' | 'date' | 'time';
export type VarValue = string | number | boolean;

/** A `when` clause of a branch: every key present must hold (AND). */
export interface Condition {
  businessHours?: boolean;
  /** Named opening-hours schedule of the calendar; default schedule when absent. */
  schedule?: string;
  /** A statutory holiday day (法定节假日), including weekend days inside a holiday period. */
  holiday?: boolean;
  /** A working day: Monday–Friday not on holiday, plus 调休 makeup working days on weekends. */
  workday?: boolean;
  var?: string;
  equals?: VarValue;
  in?: VarValue[];
  matches?: string;
  exists?: boolean;
  all?: Condition[];
  any?: Condition[];
  not?: Condition;
}

interface NodeBase {
  id: string;
}
export interface PlayNode extends NodeBase {
  type: 'play';
  prompts: string[];
  bargeIn: boolean;
  next: string;
}
export interface MenuNode extends NodeBase {
  type: 'menu';
  prompts: string[];
  options: Record<string, string>;
  timeoutMs: number;
  /** Re-prompts after the first play; after that many timeouts/invalid keys the caller goes to `fallback`. */
  retries: number;
  invalidPrompts: string[];
  timeoutPrompts: string[];
  fallback: string;
  bargeIn: boolean;
  /** Label in the IVR path (`label:digit`); the node id when absent. */
  label: string;
}
export interface CollectNode extends NodeBase {
  type: 'collect';
  prompts: string[];
  var: string;
  min: number;
  max: number;
  terminator: '#' | null;
  firstTimeoutMs: number;
  interDigitTimeoutMs: number;
  retries: number;
  invalidPrompts: string[];
  timeoutPrompts: string[];
  bargeIn: boolean;
  next: string;
  fallback: string;
}
export interface SayNode extends NodeBase {
  type: 'say';
  as: SayAs;
  var: string | null;
  value: string | null;
  next: string;
}
export interface BranchNode extends NodeBase {
  type: 'branch';
  cases: Array<{ when: Condition; next: string }>;
  default: string;
}
export interface SetNode extends NodeBase {
  type: 'set';
  vars: Record<string, VarValue>;
  next: string;
}
export interface LookupNode extends NodeBase {
  type: 'lookup';
  numberVar: string;
  next: string;
  notFound: string;
}
export interface EnqueueNode extends NodeBase {
  type: 'enqueue';
  queue: string;
  priority: number;
  skills: string[];
  prompts: string[];
  /** Where the caller goes when the queue refuses or gives up (closed, full, wait too long). */
  onFail: string;
}
export interface CallbackNode extends NodeBase {
  type: 'callback';
  numberVar: string;
  /** Window name, or `${var}` naming a variable holding it. */
  window: string;
  /** Window name → ["HH:MM", "HH:MM"] Beijing time, on the next working day that still has it open. */
  windows: Record<string, [string, string]>;
  next: string;
}
export interface VoicemailNode extends NodeBase {
  type: 'voicemail';
  prompts: string[];
  maxMs: number;
  next: string;
}
export interface SurveyNode extends NodeBase {
  type: 'survey';
  prompts: string[];
  timeoutMs: number;
  retries: number;
  invalidPrompts: string[];
  var: string;
  next: string;
}
export interface TransferNode extends NodeBase {
  type: 'transfer';
  target: string;
  prompts: string[];
  onFail: string;
}
export interface HangupNode extends NodeBase {
  type: 'hangup';
  prompts: string[];
}
export interface GotoNode extends NodeBase {
  type: 'goto';
  /** A node of this flow, or of `flow` when set. */
  node: string | null;
  flow: string | null;
}
export interface SubflowNode extends NodeBase {
  type: 'subflow';
  flow: string;
  node: string | null;
  /** Where the caller continues after the sub-flow reaches a `return` node. */
  next: string;
}
export interface ReturnNode extends NodeBase {
  type: 'return';
}

export type FlowNode =
  | PlayNode
  | MenuNode
  | CollectNode
  | SayNode
  | BranchNode
  | SetNode
  | LookupNode
  | EnqueueNode
  | CallbackNode
  | VoicemailNode
  | SurveyNode
  | TransferNode
  | HangupNode
  | GotoNode
  | SubflowNode
  | ReturnNode;

export interface Flow {
  id: string;
  /** Prompt language: prompts resolve against ivr-flows/prompts/<language>.yaml. */
  language: string;
  description: string;
  start: string;
  /** Entry node the call layer runs after the agent hangs up (post-call satisfaction survey). */
  survey: string | null;
  vars: Record<string, VarValue>;
  nodes: Map<string, FlowNode>;
  /** Source file, for error messages. */
  file: string;
}

export class FlowError extends Error {
  constructor(
    readonly file: string,
    readonly node: string | null,
    readonly field: string | null,
    readonly detail: string,
  ) {
    super(`${file}${node !== null ? `: node "${node}"` : ''}${field !== null ? `, field "${field}"` : ''}: ${detail}`);
    this.name = 'FlowError';
  }
}

// ---- schema ----------------------------------------------------------------------------------

type FieldKind =
  | 'string'
  | 'int'
  | 'bool'
  | 'prompts'
  | 'target'
  | 'digitMap'
  | 'stringList'
  | 'cases'
  | 'varMap'
  | 'windows'
  | 'terminator'
  | 'sayAs'
  | 'varName';

interface FieldSpec {
  kind: FieldKind;
  required?: boolean;
  default?: unknown;
  min?: number;
  max?: number;
}

const MS_MAX = 10 * 60_000;
const prompts = (required = false): FieldSpec => ({ kind: 'prompts', required, default: [] });
const target: FieldSpec = { kind: 'target', required: true };
const timeout = (def: number): FieldSpec => ({ kind: 'int', default: def, min: 100, max: MS_MAX });
const retries: FieldSpec = { kind: 'int', default: 2, min: 0, max: 9 };

/** The schema: for each node type, its fields. `type` itself is implicit. */
export const NODE_FIELDS: Record<NodeType, Record<string, FieldSpec>> = {
  play: { prompts: prompts(true), bargeIn: { kind: 'bool', default: false }, next: target },
  menu: {
    prompts: prompts(true),
    options: { kind: 'digitMap', required: true },
    timeoutMs: timeout(5000),
    retries,
    invalidPrompts: prompts(),
    timeoutPrompts: prompts(),
    fallback: target,
    bargeIn: { kind: 'bool', default: true },
    label: { kind: 'string' },
  },
  collect: {
    prompts: prompts(true),
    var: { kind: 'varName', required: true },
    min: { kind: 'int', default: 1, min: 1, max: 32 },
    max: { kind: 'int', default: 20, min: 1, max: 32 },
    terminator: { kind: 'terminator', default: '#' },
    firstTimeoutMs: timeout(5000),
    interDigitTimeoutMs: timeout(3000),
    retries,
    invalidPrompts: prompts(),
    timeoutPrompts: prompts(),
    bargeIn: { kind: 'bool', default: true },
    next: target,
    fallback: target,
  },
  say: { as: { kind: 'sayAs', required: true }, var: { kind: 'varName' }, value: { kind: 'string' }, next: target },
  branch: { cases: { kind: 'cases', required: true }, default: target },
  set: { vars: { kind: 'varMap', required: true }, next: target },
  lookup: { numberVar: { kind: 'varName', required: true }, next: target, notFound: target },
  enqueue: {
    queue: { kind: 'string', required: true },
    priority: { kind: 'int', default: 0, min: 0, max: 9 },
    skills: { kind: 'stringList', default: [] },
    prompts: prompts(),
    onFail: target,
  },
  callback: {
    numberVar: { kind: 'varName', default: 'caller' },
    window: { kind: 'string', required: true },
    windows: { kind: 'windows', required: true },
    next: target,
  },
  voicemail: { prompts: prompts(), maxMs: { kind: 'int', default: 120_000, min: 1000, max: MS_MAX }, next: target },
  survey: {
    prompts: prompts(true),
    timeoutMs: timeout(6000),
    retries: { kind: 'int', default: 1, min: 0, max: 9 },
    invalidPrompts: prompts(),
    var: { kind: 'varName', default: 'survey_score' },
    next: target,
  },
  transfer: { target: { kind: 'string', required: true }, prompts: prompts(), onFail: target },
  hangup: { prompts: prompts() },
  goto: { node: { kind: 'string' }, flow: { kind: 'string' } },
  subflow: { flow: { kind: 'string', required: true }, node: { kind: 'string' }, next: target },
  return: {},
};

const FLOW_FIELDS = new Set(['id', 'language', 'description', 'start', 'survey', 'vars', 'nodes']);
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const VAR_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HHMM_RE = /^([01]\d|2[0-3]):[0-5]\d$/;
const DTMF_RE = /^[0-9*#]$/;
const CONDITION_KEYS = new Set([
  'businessHours',
  'schedule',
  'holiday',
  'workday',
  'var',
  'equals',
  'in',
  'matches',
  'exists',
  'all',
  'any',
  'not',
]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function isScalar(v: unknown): v is VarValue {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

/** Names of prompts that a node plays directly (not those composed by `say`). */
export function promptsOf(node: FlowNode): string[] {
  const out: string[] = [];
  for (const key of ['prompts', 'invalidPrompts', 'timeoutPrompts'] as const) {
    const v = (node as unknown as Record<string, unknown>)[key];
    if (Array.isArray(v)) out.push(...(v as string[]));
  }
  return out;
}

/** Node ids of this flow a node can continue to. */
export function localTargets(node: FlowNode): Array<{ field: string; target: string }> {
  const out: Array<{ field: string; target: string }> = [];
  const rec = node as unknown as Record<string, unknown>;
  for (const [field, spec] of Object.entries(NODE_FIELDS[node.type])) {
    if (spec.kind === 'target' && typeof rec[field] === 'string') out.push({ field, target: rec[field] as string });
  }
  if (node.type === 'menu')
    for (const [d, t] of Object.entries(node.options)) out.push({ field: `options.${d}`, target: t });
  if (node.type === 'branch') node.cases.forEach((c, i) => out.push({ field: `cases[${i}].next`, target: c.next }));
  if (node.type === 'goto' && node.flow === null && node.node !== null) out.push({ field: 'node', target: node.node });
  return out;
}

/**
 * Validates one parsed flow document. Cross-flow references (goto/subflow to another flow) and prompt
 * existence are checked later by the registry, which sees every flow and the prompt catalogues.
 */
export function validateFlow(doc: unknown, file: string): { flow: Flow | null; errors: FlowError[] } {
  const errors: FlowError[] = [];
  const err = (node: string | null, field: string | null, msg: string) =>
    errors.push(new FlowError(file, node, field, msg));
  if (!isObject(doc)) {
    err(null, null, 'a flow must be a mapping with id, language, start and nodes');
    return { flow: null, errors };
  }
  for (const k of Object.keys(doc)) if (!FLOW_FIELDS.has(k)) err(null, k, 'unknown flow field');
  const str = (k: string, required: boolean): string | null => {
    const v = doc[k];
    if (v === undefined || v === null) {
      if (required) err(null, k, 'required');
      return null;
    }
    if (typeof v !== 'string' && typeof v !== 'number') {
      err(null, k, 'must be a string');
      return null;
    }
    return String(v);
  };
  const id = str('id', true);
  if (id !== null && !ID_RE.test(id)) err(null, 'id', `"${id}" is not a valid flow id (letters, digits, _ . -)`);
  const language = str('language', true);
  const start = str('start', true);
  const survey = str('survey', false);
  const description = str('description', false) ?? '';
  const vars: Record<string, VarValue> = {};
  if (doc.vars !== undefined) {
    if (!isObject(doc.vars)) err(null, 'vars', 'must be a mapping of variable → value');
    else
      for (const [k, v] of Object.entries(doc.vars)) {
        if (!VAR_RE.test(k)) err(null, `vars.${k}`, 'not a valid variable name');
        else if (!isScalar(v)) err(null, `vars.${k}`, 'must be a string, number or boolean');
        else vars[k] = v;
      }
  }
  const nodes = new Map<string, FlowNode>();
  if (!isObject(doc.nodes) || Object.keys(doc.nodes).length === 0) {
    err(null, 'nodes', 'required: a mapping of node id → node');
  } else {
    for (const [nid, raw] of Object.entries(doc.nodes)) {
      if (!ID_RE.test(nid)) err(nid, null, 'not a valid node id (letters, digits, _ . -)');
      const node = validateNode(nid, raw, err);
      if (node) nodes.set(nid, node);
    }
  }
  // Local references: every target must be a node of this file.
  for (const node of nodes.values()) {
    for (const { field, target } of localTargets(node)) {
      if (!nodes.has(target) && !(isObject(doc.nodes) && target in doc.nodes)) {
        err(node.id, field, `points to node "${target}", which this flow does not have`);
      }
    }
    if (node.type === 'collect' && node.min > node.max) err(node.id, 'min', `min ${node.min} is above max ${node.max}`);
    if (node.type === 'goto' && node.node === null && node.flow === null)
      err(node.id, 'node', 'goto needs node or flow');
    if (node.type === 'callback' && !node.window.startsWith('${') && !(node.window in node.windows)) {
      err(node.id, 'window', `window "${node.window}" is not one of windows`);
    }
  }
  if (start !== null && isObject(doc.nodes) && !(start in doc.nodes)) err(null, 'start', `no node "${start}"`);
  if (survey !== null && isObject(doc.nodes) && !(survey in doc.nodes)) err(null, 'survey', `no node "${survey}"`);
  if (errors.length > 0 || id === null || language === null || start === null) return { flow: null, errors };
  return { flow: { id, language, description, start, survey, vars, nodes, file }, errors };
}

function validateNode(
  nid: string,
  raw: unknown,
  err: (node: string | null, field: string | null, msg: string) => void,
): FlowNode | null {
  if (!isObject(raw)) {
    err(nid, null, 'a node must be a mapping with a type');
    return null;
  }
  const type = raw.type;
  if (typeof type !== 'string' || !(NODE_TYPES as readonly string[]).includes(type)) {
    err(nid, 'type', `must be one of ${NODE_TYPES.join(', ')} (got ${JSON.stringify(type)})`);
    return null;
  }
  const fields = NODE_FIELDS[type as NodeType];
  const out: Record<string, unknown> = { id: nid, type };
  let ok = true;
  const bad = (field: string, msg: string) => {
    ok = false;
    err(nid, field, msg);
  };
  for (const k of Object.keys(raw)) if (k !== 'type' && !(k in fields)) bad(k, `unknown field for a ${type} node`);
  for (const [field, spec] of Object.entries(fields)) {
    const v = raw[field];
    if (v === undefined || v === null) {
      if (spec.required) bad(field, 'required');
      else out[field] = spec.default !== undefined ? structuredClone(spec.default) : null;
      continue;
    }
    const value = checkField(spec, v, (m, sub) => bad(sub ? `${field}${sub}` : field, m));
    if (value !== undefined) out[field] = value;
  }
  if (type === 'menu' && out.label === null) out.label = nid;
  if (type === 'say' && ok && (out.var === null) === (out.value === null))
    bad('var', 'say needs exactly one of var or value');
  return ok ? (out as unknown as FlowNode) : null;
}

function checkField(spec: FieldSpec, v: unknown, bad: (msg: string, sub?: string) => void): unknown {
  switch (spec.kind) {
    case 'string':
      if (typeof v !== 'string' && typeof v !== 'number') return bad('must be a string');
      return String(v);
    case 'varName':
      if (typeof v !== 'string' || !VAR_RE.test(v)) return bad('must be a variable name');
      return v;
    case 'target':
      if (typeof v !== 'string' || !ID_RE.test(v)) return bad('must be a node id');
      return v;
    case 'int':
      if (typeof v !== 'number' || !Number.isInteger(v)) return bad('must be an integer');
      if (spec.min !== undefined && v < spec.min) return bad(`must be at least ${spec.min}`);
      if (spec.max !== undefined && v > spec.max) return bad(`must be at most ${spec.max}`);
      return v;
    case 'bool':
      if (typeof v !== 'boolean') return bad('must be true or false');
      return v;
    case 'terminator':
      if (v === false || v === 'none') return null;
      if (v !== '#') return bad('must be "#" or none');
      return v;
    case 'sayAs':
      if (v !== 'digits' && v !== 'number' && v !== 'date' && v !== 'time')
        return bad('must be digits, number, date or time');
      return v;
    case 'prompts':
    case 'stringList': {
      const list = typeof v === 'string' ? [v] : v;
      if (!Array.isArray(list) || !list.every((x) => typeof x === 'string' && x.length > 0)) {
        return bad('must be a list of names');
      }
      return [...list];
    }
    case 'digitMap': {
      if (!isObject(v) || Object.keys(v).length === 0) return bad('must map DTMF keys to node ids');
      const out: Record<string, string> = {};
      for (const [d, t] of Object.entries(v)) {
        if (!DTMF_RE.test(d)) bad(`"${d}" is not a DTMF key (0-9 * #)`, `.${d}`);
        else if (typeof t !== 'string' || !ID_RE.test(t)) bad('must be a node id', `.${d}`);
        else out[d] = t;
      }
      return out;
    }
    case 'varMap': {
      if (!isObject(v)) return bad('must map variable names to values');
      const out: Record<string, VarValue> = {};
      for (const [k, x] of Object.entries(v)) {
        if (!VAR_RE.test(k)) bad('not a valid variable name', `.${k}`);
        else if (!isScalar(x)) bad('must be a string, number or boolean', `.${k}`);
        else out[k] = x;
      }
      return out;
    }
    case 'windows': {
      if (!isObject(v) || Object.keys(v).length === 0) return bad('must map window names to ["HH:MM", "HH:MM"]');
      const out: Record<string, [string, string]> = {};
      for (const [k, x] of Object.entries(v)) {
        if (!Array.isArray(x) || x.length !== 2 || !x.every((t) => typeof t === 'string' && HHMM_RE.test(t))) {
          bad('must be ["HH:MM", "HH:MM"]', `.${k}`);
        } else if (x[0] >= x[1]) bad('window must end after it starts', `.${k}`);
        else out[k] = [x[0], x[1]];
      }
      return out;
    }
    case 'cases': {
      if (!Array.isArray(v) || v.length === 0) return bad('must be a list of {when, next}');
      const out: Array<{ when: Condition; next: string }> = [];
      v.forEach((c, i) => {
        const at = `[${i}]`;
        if (!isObject(c)) return bad('must be {when, next}', at);
        for (const k of Object.keys(c)) if (k !== 'when' && k !== 'next') bad('unknown field', `${at}.${k}`);
        if (typeof c.next !== 'string' || !ID_RE.test(c.next)) bad('must be a node id', `${at}.next`);
        const when = checkCondition(c.when, (m, sub) => bad(m, `${at}.when${sub}`));
        if (when && typeof c.next === 'string') out.push({ when, next: c.next });
      });
      return out;
    }
  }
}

function checkCondition(v: unknown, bad: (msg: string, sub: string) => void): Condition | null {
  if (!isObject(v) || Object.keys(v).length === 0) {
    bad('must be a condition mapping', '');
    return null;
  }
  let ok = true;
  const no = (m: string, sub: string) => {
    ok = false;
    bad(m, sub);
  };
  for (const k of Object.keys(v)) if (!CONDITION_KEYS.has(k)) no('unknown condition', `.${k}`);
  for (const k of ['businessHours', 'holiday', 'workday', 'exists'] as const) {
    if (v[k] !== undefined && typeof v[k] !== 'boolean') no('must be true or false', `.${k}`);
  }
  if (v.schedule !== undefined && typeof v.schedule !== 'string') no('must be a schedule name', '.schedule');
  if (v.var !== undefined && (typeof v.var !== 'string' || !VAR_RE.test(v.var))) no('must be a variable name', '.var');
  const needsVar = ['equals', 'in', 'matches', 'exists'].filter((k) => v[k] !== undefined);
  if (needsVar.length > 0 && v.var === undefined) no(`${needsVar.join(', ')} needs var`, '.var');
  if (v.var !== undefined && needsVar.length === 0) no('var needs equals, in, matches or exists', '.var');
  if (v.equals !== undefined && !isScalar(v.equals)) no('must be a string, number or boolean', '.equals');
  if (v.in !== undefined && (!Array.isArray(v.in) || !v.in.every(isScalar))) no('must be a list of values', '.in');
  if (v.matches !== undefined) {
    if (typeof v.matches !== 'string') no('must be a regular expression', '.matches');
    else
      try {
        new RegExp(v.matches);
      } catch {
        no('not a valid regular expression', '.matches');
      }
  }
  const out: Condition = { ...(v as Condition) };
  for (const k of ['all', 'any'] as const) {
    if (v[k] === undefined) continue;
    if (!Array.isArray(v[k]) || (v[k] as unknown[]).length === 0) {
      no('must be a list of conditions', `.${k}`);
      continue;
    }
    const list: Condition[] = [];
    (v[k] as unknown[]).forEach((c, i) => {
      const r = checkCondition(c, (m, sub) => no(m, `.${k}[${i}]${sub}`));
      if (r) list.push(r);
    });
    out[k] = list;
  }
  if (v.not !== undefined) {
    const r = checkCondition(v.not, (m, sub) => no(m, `.not${sub}`));
    if (r) out.not = r;
  }
  return ok ? out : null;
}
