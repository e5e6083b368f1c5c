import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { interpolate, loadPromptCatalog, promptFile, templatePattern } from '../../server/ivr/prompts.js';
import { dominantFrequency, hasSpeechEnergy, readWav, toneShare } from '../helpers/audio.js';
import { FLOWS_DIR } from './helpers.js';

const zh = loadPromptCatalog(path.join(FLOWS_DIR, 'prompts', 'zh.yaml'));
const en = loadPromptCatalog(path.join(FLOWS_DIR, 'prompts', 'en.yaml'));

describe('rendered prompts', () => {
  it('every spoken prompt carries speech, not silence or a tone', () => {
    const silent: string[] = [];
    for (const cat of [zh, en]) {
      for (const e of cat.entries.values()) {
        if (e.tone) continue;
        const file = promptFile(cat, e.name);
        // Single syllables (say_3, 日) are short; the heuristic needs a few frames, so test those for energy only.
        const ok =
          readWav(file).samples.length > 8000 ? hasSpeechEnergy(file) : hasSpeechEnergy(file, { maxToneShare: 0.9 });
        if (!ok) silent.push(`${cat.language}/${e.name}`);
      }
    }
    expect(silent).toEqual([]);
  });

  it('the benchmark prompt is exactly 1 s of 1000 Hz', () => {
    const file = promptFile(zh, 'test_1s');
    expect(readWav(file).samples.length).toBe(8000);
    expect(Math.abs(dominantFrequency(file) - 1000)).toBeLessThan(20);
    expect(toneShare(file, 1000)).toBeGreaterThan(0.9);
  });

  it('Mandarin prompts are at a natural pace (about 3–6 characters a second)', () => {
    const welcome = zh.entries.get('welcome')!.text;
    const hanzi = [...welcome].filter((c) => /\p{Script=Han}/u.test(c)).length;
    const seconds = readWav(promptFile(zh, 'welcome')).samples.length / 8000;
    expect(hanzi / seconds).toBeGreaterThan(3);
    expect(hanzi / seconds).toBeLessThan(6);
  });
});

describe('prompt catalogue', () => {
  it('rejects unknown keys, which is how an unquoted comma in a flow mapping shows up', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ivr-cat-'));
    const file = path.join(dir, 'xx.yaml');
    fs.writeFileSync(file, 'language: xx\nvoice: en\nprompts:\n  a: { text: Hello, world, voice: en }\n');
    expect(() => loadPromptCatalog(file)).toThrow(/field "prompts.a": unknown keys world/);
    fs.writeFileSync(file, 'language: xx\nvoice: en\nprompts:\n  t: { tone: 440 }\n');
    expect(() => loadPromptCatalog(file)).toThrow(/a tone needs ms > 0/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('templates', () => {
    expect(interpolate('status_${s}', { s: 'closed' })).toBe('status_closed');
    expect(interpolate('a_${missing}', {})).toBe('a_');
    expect(templatePattern('status_${s}').test('status_closed')).toBe(true);
    expect(templatePattern('status_${s}').test('xstatus_closed')).toBe(false);
  });
});
