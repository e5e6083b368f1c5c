import { describe, expect, it } from 'vitest';
import type { MediaEngine } from '../../server/media/engine/api.js';
import { loadPromptOnce } from '../../server/calls/prompt-ids.js';

/** The engine at this unit's boundary: only loadPrompt, counting what reaches it. */
function engine(fail: Set<string> = new Set()) {
  const asked: string[] = [];
  const e = {
    loadPrompt: async (file: string) => {
      asked.push(file);
      if (fail.has(file)) throw new Error(`ENOENT ${file}`);
      return `/abs/${file}`;
    },
  } as unknown as MediaEngine;
  return { e, asked };
}

describe('loadPromptOnce', () => {
  it('asks the engine once per path, also for concurrent callers, and per engine', async () => {
    const a = engine();
    const b = engine();
    const ids = await Promise.all([
      loadPromptOnce(a.e, 'w.wav'),
      loadPromptOnce(a.e, 'w.wav'),
      loadPromptOnce(a.e, 'x.wav'),
    ]);
    expect(ids).toEqual(['/abs/w.wav', '/abs/w.wav', '/abs/x.wav']);
    expect(await loadPromptOnce(a.e, 'w.wav')).toBe('/abs/w.wav');
    expect(a.asked).toEqual(['w.wav', 'x.wav']);
    expect(await loadPromptOnce(b.e, 'w.wav')).toBe('/abs/w.wav');
    expect(b.asked).toEqual(['w.wav']);
  });

  it('forgets a failed load, so a file that appears later is loaded', async () => {
    const fail = new Set(['late.wav']);
    const a = engine(fail);
    await expect(loadPromptOnce(a.e, 'late.wav')).rejects.toThrow('ENOENT');
    fail.clear();
    expect(await loadPromptOnce(a.e, 'late.wav')).toBe('/abs/late.wav');
    expect(a.asked).toEqual(['late.wav', 'late.wav']);
  });
});
