import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { simulate, type SimOptions } from '../../server/ivr/sim.js';
import { FLOWS_DIR } from './helpers.js';

function run(keys: string[], over: Partial<SimOptions> = {}) {
  const lines: string[] = [];
  const queue = [...keys];
  return simulate({
    flow: path.join(FLOWS_DIR, '12315.yaml'),
    at: new Date('2026-11-30T10:00:00+08:00'),
    caller: '13800138000',
    holidays: [],
    makeupWorkdays: [],
    cases: {},
    queueResult: 'connected',
    survey: false,
    out: (l) => lines.push(l),
    input: async () => (queue.length > 0 ? queue.shift()! : null),
    ...over,
  }).then((result) => ({ result, lines }));
}

describe('ivr simulator', () => {
  it('shows the prompts a caller hears and the queue they reach', async () => {
    const { result, lines } = await run(['3']);
    expect(result.outcome).toBe('connected');
    const text = lines.join('\n');
    expect(text).toContain('▶ welcome');
    expect(text).toContain('欢迎致电一二三一五消费者投诉举报热线');
    expect(text).toContain(
      '☎ 排队 enqueue queue=consultation priority=0 skills=consult,zh path=menu:3>queue:consultation',
    );
    expect(lines.at(-1)).toBe('结果 outcome=connected path=menu:3>queue:consultation');
  });

  it('an empty line is silence: the menu times out, re-prompts, then goes to an agent', async () => {
    const { result, lines } = await run(['', '']);
    expect(lines.filter((l) => l.includes('▶ main_menu'))).toHaveLength(2);
    expect(lines.some((l) => l.includes('▶ menu_timeout'))).toBe(true);
    expect(result.ivrPath).toEqual(['menu:timeout', 'queue:consultation']);
  });

  it('the simulated date decides business hours; the survey runs after the agent', async () => {
    const night = await run(['2'], { at: new Date('2026-11-30T22:00:00+08:00') });
    expect(night.lines.some((l) => l.includes('▶ after_hours'))).toBe(true);
    expect(night.lines.some((l) => l.startsWith('留言 voicemail → 工单草稿 draft VM-1'))).toBe(true);

    const withSurvey = await run(['1', '5'], { survey: true });
    expect(withSurvey.result.ivrPath).toEqual(['menu:1', 'queue:complaint', 'survey:5']);
    expect(withSurvey.lines).toContain('评价 survey score=5');
  });

  it('runs from the command line with scripted keys', () => {
    const out = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'scripts/ivr-sim.ts',
        'ivr-flows/12315.yaml',
        '--at',
        '2026-11-30T10:00+08:00',
        '--keys',
        '4,20261120000015#,h',
      ],
      { cwd: path.join(FLOWS_DIR, '..'), encoding: 'utf8' },
    );
    expect(out).toContain('▶ status_processing');
    expect(out).toContain('结果 outcome=caller-hangup path=menu:4>flow:12315-lookup');
  });
});
