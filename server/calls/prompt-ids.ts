/**
 * Prompt ids remembered on the calling side. The engine loads each WAV once and keeps it for its lifetime, but
 * asking it for the id was still a round trip to the media worker per prompt per call (the 7000 test flow: one
 * of five round trips a call, issue 4). The id of a path never changes for one engine, so it is asked once.
 */
import type { MediaEngine, PromptId } from '../media/engine/api.js';

const known = new WeakMap<MediaEngine, Map<string, Promise<PromptId>>>();

/** `engine.loadPrompt(file)`, asked once per engine and path; a failed load is forgotten (the file may appear). */
export function loadPromptOnce(engine: MediaEngine, file: string): Promise<PromptId> {
  let ids = known.get(engine);
  if (!ids) known.set(engine, (ids = new Map()));
  let p = ids.get(file);
  if (!p) {
    p = engine.loadPrompt(file);
    ids.set(file, p);
    p.catch(() => {
      if (ids.get(file) === p) ids.delete(file);
    });
  }
  return p;
}
