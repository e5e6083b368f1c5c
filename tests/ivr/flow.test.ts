import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FlowError, validateFlow } from '../../server/ivr/flow.js';
import { FlowRegistry, parseFlowFile } from '../../server/ivr/registry.js';
import { FLOWS_DIR } from './helpers.js';

const base = (nodes: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id: 'f',
  language: 'zh',
  start: Object.keys(nodes)[0],
  nodes,
  ...extra,
});
const messages = (doc: unknown) => validateFlow(doc, 'f.yaml').errors.map((e) => e.message);

describe('flow schema', () => {
  it('fills defaults and accepts every node type', () => {
    const { flow, errors } = validateFlow(
      base({
        m: { type: 'menu', prompts: ['main_menu'], options: { '1': 'c' }, fallback: 'h' },
        c: { type: 'collect', prompts: 'lookup_enter', var: 'n', next: 's', fallback: 'h' },
        s: { type: 'say', as: 'digits', var: 'n', next: 'b' },
        b: {
          type: 'branch',
          cases: [{ when: { businessHours: true, var: 'n', matches: '^1' }, next: 'e' }],
          default: 'h',
        },
        e: { type: 'enqueue', queue: 'q', onFail: 'cb' },
        cb: { type: 'callback', window: 'am', windows: { am: ['09:00', '12:00'] }, next: 'v' },
        v: { type: 'voicemail', next: 'sv' },
        sv: { type: 'survey', prompts: ['survey_question'], next: 't' },
        t: { type: 'transfer', target: '8001', onFail: 'l' },
        l: { type: 'lookup', numberVar: 'n', next: 'g', notFound: 'sub' },
        g: { type: 'goto', node: 'h' },
        sub: { type: 'subflow', flow: 'other', next: 'r' },
        r: { type: 'return' },
        st: { type: 'set', vars: { a: 1, b: true }, next: 'h' },
        p: { type: 'play', prompts: ['welcome'], next: 'h' },
        h: { type: 'hangup' },
      }),
      'f.yaml',
    );
    expect(errors).toEqual([]);
    const m = flow!.nodes.get('m')!;
    expect(m).toMatchObject({ timeoutMs: 5000, retries: 2, bargeIn: true, label: 'm', invalidPrompts: [] });
    expect(flow!.nodes.get('c')).toMatchObject({ prompts: ['lookup_enter'], min: 1, max: 20, terminator: '#' });
    expect(flow!.nodes.get('sv')).toMatchObject({ var: 'survey_score', retries: 1 });
  });

  it('names the file, the node and the field of each error', () => {
    const errs = validateFlow(
      base({
        m: { type: 'menu', prompts: ['x'], options: { '1': 'nowhere', A: 'm' }, fallback: 'm', timeoutMs: 'soon' },
        c: { type: 'collect', prompts: ['x'], var: 'n', min: 9, max: 3, next: 'm', fallback: 'm' },
        p: { type: 'play', prompts: ['x'], nxet: 'm' },
        q: { type: 'dance' },
      }),
      'flows/bad.yaml',
    ).errors;
    const text = errs.map((e) => e.message);
    expect(text).toContain('flows/bad.yaml: node "m", field "options.A": "A" is not a DTMF key (0-9 * #)');
    expect(text).toContain('flows/bad.yaml: node "m", field "timeoutMs": must be an integer');
    expect(text).toContain('flows/bad.yaml: node "c", field "min": min 9 is above max 3');
    expect(text).toContain('flows/bad.yaml: node "p", field "nxet": unknown field for a play node');
    expect(text).toContain('flows/bad.yaml: node "p", field "next": required');
    expect(text.some((t) => t.startsWith('flows/bad.yaml: node "q", field "type": must be one of play, menu'))).toBe(
      true,
    );
    expect(errs.every((e) => e instanceof FlowError && e.file === 'flows/bad.yaml')).toBe(true);
  });

  it('reports a target that does not exist', () => {
    expect(messages(base({ p: { type: 'play', prompts: ['x'], next: 'gone' } }))).toEqual([
      'f.yaml: node "p", field "next": points to node "gone", which this flow does not have',
    ]);
  });

  it('checks conditions deeply', () => {
    const m = messages(
      base({
        b: {
          type: 'branch',
          cases: [
            { when: { any: [{ var: 'x' }, { holiday: 'yes' }] }, next: 'h' },
            { when: { matches: '(' }, next: 'h' },
            { when: { sometimes: true }, next: 'h' },
          ],
          default: 'h',
        },
        h: { type: 'hangup' },
      }),
    );
    expect(m).toContain('f.yaml: node "b", field "cases[0].when.any[0].var": var needs equals, in, matches or exists');
    expect(m).toContain('f.yaml: node "b", field "cases[0].when.any[1].holiday": must be true or false');
    expect(m).toContain('f.yaml: node "b", field "cases[1].when.matches": not a valid regular expression');
    expect(m).toContain('f.yaml: node "b", field "cases[2].when.sometimes": unknown condition');
  });

  it('rejects flow-level problems', () => {
    expect(messages({ id: 'a b', language: 'zh', start: 'x', nodes: {}, colour: 1 })).toEqual([
      'f.yaml, field "colour": unknown flow field',
      'f.yaml, field "id": "a b" is not a valid flow id (letters, digits, _ . -)',
      'f.yaml, field "nodes": required: a mapping of node id → node',
      'f.yaml, field "start": no node "x"',
    ]);
    expect(messages(base({ h: { type: 'hangup' } }, { start: 'nope', survey: 'nada' }))).toEqual([
      'f.yaml, field "start": no node "nope"',
      'f.yaml, field "survey": no node "nada"',
    ]);
    expect(
      messages(base({ cb: { type: 'callback', window: 'eve', windows: { am: ['12:00', '09:00'] }, next: 'cb' } })),
    ).toEqual(['f.yaml: node "cb", field "windows.am": window must end after it starts']);
  });

  it('parses JSON flows as well as YAML, and reports syntax errors with the file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ivr-json-'));
    const json = path.join(dir, 'x.json');
    fs.writeFileSync(json, JSON.stringify(base({ h: { type: 'hangup', prompts: ['goodbye'] } })));
    expect(parseFlowFile(json).flow?.nodes.get('h')).toMatchObject({ type: 'hangup', prompts: ['goodbye'] });
    const broken = path.join(dir, 'y.yaml');
    fs.writeFileSync(broken, 'id: [unclosed\n');
    expect(parseFlowFile(broken).errors[0]!.message).toMatch(/y\.yaml: cannot parse/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('flow registry', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ivr-reg-'));
    // Only the catalogues: flow tests do not need the recordings.
    fs.mkdirSync(path.join(dir, 'prompts'));
    for (const f of ['zh.yaml', 'en.yaml'])
      fs.copyFileSync(path.join(FLOWS_DIR, 'prompts', f), path.join(dir, 'prompts', f));
    for (const f of ['12315.yaml', '12315-lookup.yaml', 'en.yaml', 'test-7000.yaml']) {
      fs.copyFileSync(path.join(FLOWS_DIR, f), path.join(dir, f));
    }
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('loads the shipped flows without errors', () => {
    const reg = new FlowRegistry({ dir });
    const r = reg.reload();
    expect(r.errors.map((e) => e.message)).toEqual([]);
    expect(r.loaded.sort()).toEqual(['12315', '12315-lookup', 'en', 'test-7000']);
    expect(reg.get('12315')!.survey).toBe('survey');
    reg.close();
    reg.close();
  });

  it('a broken edit never replaces the working flow', () => {
    const reg = new FlowRegistry({ dir });
    reg.reload();
    const before = reg.get('12315');
    fs.writeFileSync(
      path.join(dir, '12315.yaml'),
      fs.readFileSync(path.join(dir, '12315.yaml'), 'utf8').replace('next: hours', 'next: hourz'),
    );
    const r = reg.reload();
    expect(r.ok).toBe(false);
    expect(r.errors[0]!.message).toMatch(/12315\.yaml: node "welcome", field "next": points to node "hourz"/);
    expect(r.keptPrevious).toEqual(['12315']);
    expect(reg.get('12315')).toBe(before);
    expect(reg.snapshot().version).toBe(2);
  });

  it('a prompt missing from the catalogue or a goto to a missing flow keeps the previous version', () => {
    const reg = new FlowRegistry({ dir });
    reg.reload();
    const before = reg.get('12315');
    const text = fs.readFileSync(path.join(dir, '12315.yaml'), 'utf8');
    fs.writeFileSync(path.join(dir, '12315.yaml'), text.replace('[welcome]', '[welcom]'));
    let r = reg.reload();
    expect(r.errors.map((e) => e.message)).toEqual([
      `${path.join(dir, '12315.yaml')}: node "welcome", field "prompts": prompt "welcom" is not in zh.yaml`,
    ]);
    expect(reg.get('12315')).toBe(before);

    fs.writeFileSync(path.join(dir, '12315.yaml'), text);
    fs.rmSync(path.join(dir, 'en.yaml'));
    r = reg.reload();
    // The English flow file is gone while the main flow still goes there: the old English flow keeps serving.
    expect(r.errors.map((e) => e.message)).toEqual([
      `${path.join(dir, 'en.yaml')}: flow "en" was removed but 12315 still uses it; keeping the previous version`,
    ]);
    expect(reg.get('12315')).toBeDefined();
    expect(reg.get('en')).toBeDefined();
  });

  it('a new flow with errors is not served at all; duplicate ids are refused', () => {
    fs.writeFileSync(
      path.join(dir, 'new.yaml'),
      'id: new\nlanguage: zh\nstart: a\nnodes:\n  a: { type: play, prompts: [nope], next: a }\n',
    );
    const reg = new FlowRegistry({ dir });
    reg.reload();
    expect(reg.get('new')).toBeUndefined();
    const before = reg.get('test-7000');
    // A copy-and-paste that forgot to change the id: the flow that had it keeps serving.
    fs.writeFileSync(
      path.join(dir, 'a-copy.yaml'),
      'id: test-7000\nlanguage: zh\nstart: a\nnodes:\n  a: { type: hangup }\n',
    );
    const r = reg.reload();
    expect(
      r.errors.some((e) =>
        /a-copy\.yaml, field "id": flow id "test-7000" is also used by .*test-7000\.yaml/.test(e.message),
      ),
    ).toBe(true);
    expect(reg.get('test-7000')).toBe(before);
  });

  it('watch() reloads after an edit, debounced on the clock', async () => {
    const { FakeClock } = await import('../../server/util/clock.js');
    const clock = new FakeClock();
    const reg = new FlowRegistry({ dir, clock });
    reg.reload();
    reg.watch(300);
    const file = path.join(dir, 'test-7000.yaml');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('prompts: [test_1s]', 'prompts: [beep]'));
    for (let i = 0; i < 50 && clock.pending === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(clock.pending).toBe(1);
    clock.advance(300);
    expect(reg.get('test-7000')!.nodes.get('tone')).toMatchObject({ prompts: ['beep'] });
    reg.close();
    reg.close();
  });
});
