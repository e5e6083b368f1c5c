import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWav } from '../../server/media/wav.js';
import { lintFlows } from '../../server/ivr/lint.js';
import { FLOWS_DIR } from './helpers.js';

describe('ivr lint', () => {
  it('the shipped flows and recordings are clean', () => {
    const r = lintFlows(FLOWS_DIR);
    expect(r.issues).toEqual([]);
    expect(r.flows.sort()).toEqual(['12315', '12315-lookup', 'bench-loop', 'en', 'test-7000']);
    expect(r.promptsChecked).toBeGreaterThan(100);
  });

  describe('on a damaged copy', () => {
    let dir: string;
    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ivr-lint-'));
      fs.cpSync(FLOWS_DIR, dir, { recursive: true });
      fs.rmSync(path.join(dir, 'prompts', 'zh', 'say_7.wav'));
      fs.writeFileSync(path.join(dir, 'prompts', 'zh', 'goodbye.wav'), encodeWav([new Int16Array(16000)], 16000));
      fs.writeFileSync(path.join(dir, 'prompts', 'en', 'en_busy.wav'), 'not audio');
      const zh = path.join(dir, 'prompts', 'zh.yaml');
      fs.writeFileSync(zh, fs.readFileSync(zh, 'utf8').replace('已办结。', '已经办结。'));
      const t = path.join(dir, 'test-7000.yaml');
      fs.writeFileSync(t, fs.readFileSync(t, 'utf8') + '  orphan:\n    type: hangup\n');
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('reports missing, wrong-format and unreadable WAVs, stale texts and unreachable nodes', () => {
      const r = lintFlows(dir);
      const errors = r.issues.filter((i) => i.level === 'error').map((i) => i.message);
      const warnings = r.issues.filter((i) => i.level === 'warning').map((i) => i.message);
      expect(errors).toContain('prompts/zh/say_7.wav: missing (flow 12315-lookup)');
      expect(errors).toContain(
        'prompts/zh/goodbye.wav: 16000 Hz, 1 channel(s), pcm 16-bit (need 8000 Hz mono 16-bit PCM) (flow 12315)',
      );
      expect(errors.some((e) => e.startsWith('prompts/en/en_busy.wav: not a readable WAV'))).toBe(true);
      expect(warnings).toContain('prompts/zh/status_closed.wav: text changed since rendering; run npm run ivr:prompts');
      expect(warnings).toContain(
        `${path.join(dir, 'test-7000.yaml')}: node "orphan" is not reachable from start or survey`,
      );
    });

    it('the CLI exits 1 and prints the errors', () => {
      let out = '';
      let code = 0;
      try {
        execFileSync(process.execPath, ['--import', 'tsx', 'scripts/ivr-lint.ts', dir], {
          cwd: path.join(FLOWS_DIR, '..'),
          encoding: 'utf8',
        });
      } catch (e) {
        const err = e as { status: number; stdout: string };
        code = err.status;
        out = err.stdout;
      }
      expect(code).toBe(1);
      expect(out).toContain('错误 error: prompts/zh/say_7.wav: missing');
      expect(out).toMatch(/5 flows .*, 3 errors, 2 warnings/);
    });
  });
});
