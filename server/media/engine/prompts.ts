/**
 * Prompts as the player needs them: 8 kHz audio encoded ONCE to both PCMU and PCMA, so playing to any number
 * of callers is a subarray per packet and never an encode. Tones and silence are built the same way.
 */
import { resolve } from 'node:path';
import { encodeAlaw, encodeUlaw, ALAW_SILENCE, ULAW_SILENCE } from '../codecs/g711.js';
import { loadPrompt8k } from '../wav.js';

export interface EncodedAudio {
  readonly samples: number;
  readonly pcmu: Uint8Array;
  readonly pcma: Uint8Array;
}

export function encodeBoth(pcm: Int16Array): EncodedAudio {
  const pcmu = new Uint8Array(pcm.length);
  const pcma = new Uint8Array(pcm.length);
  encodeUlaw(pcm, pcmu);
  encodeAlaw(pcm, pcma);
  return { samples: pcm.length, pcmu, pcma };
}

export function silence(ms: number): EncodedAudio {
  const n = Math.max(0, Math.round(ms * 8));
  return { samples: n, pcmu: new Uint8Array(n).fill(ULAW_SILENCE), pcma: new Uint8Array(n).fill(ALAW_SILENCE) };
}

/**
 * Sum of sines at 8 kHz. Amplitude per component ≈ −13 dBFS split across components, with 5 ms raised-cosine
 * edges: an abrupt start/stop would splatter energy over the DTMF bands and could fake a key press.
 */
export function tonePcm(hz: number | readonly number[], ms: number, amplitude = 7000): Int16Array {
  const freqs = typeof hz === 'number' ? [hz] : [...hz];
  const n = Math.max(0, Math.round(ms * 8));
  const out = new Int16Array(n);
  const a = amplitude / Math.max(1, freqs.length);
  const edge = Math.min(40, Math.floor(n / 2));
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (const f of freqs) v += Math.sin((2 * Math.PI * f * i) / 8000);
    let g = 1;
    if (i < edge) g = 0.5 - 0.5 * Math.cos((Math.PI * i) / edge);
    else if (i >= n - edge) g = 0.5 - 0.5 * Math.cos((Math.PI * (n - 1 - i)) / edge);
    out[i] = Math.round(v * a * g);
  }
  return out;
}

const toneCache = new Map<string, EncodedAudio>();

/** Tones are cached by (frequencies, length): ring-back and DTMF tones repeat all day. */
export function tone(hz: number | readonly number[], ms: number): EncodedAudio {
  const key = `${typeof hz === 'number' ? hz : hz.join('+')}/${ms}`;
  let t = toneCache.get(key);
  if (!t) {
    t = encodeBoth(tonePcm(hz, ms));
    if (toneCache.size > 256) toneCache.clear();
    toneCache.set(key, t);
  }
  return t;
}

/** Loads WAV files once per path; concurrent loads of one file share the work. */
export class PromptStore {
  private readonly byId = new Map<string, EncodedAudio>();
  private readonly loading = new Map<string, Promise<string>>();

  get(id: string): EncodedAudio | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.byId.size;
  }

  load(file: string): Promise<string> {
    const id = resolve(file);
    if (this.byId.has(id)) return Promise.resolve(id);
    let p = this.loading.get(id);
    if (!p) {
      p = loadPrompt8k(id)
        .then((pcm) => {
          this.byId.set(id, encodeBoth(pcm));
          return id;
        })
        .finally(() => this.loading.delete(id));
      this.loading.set(id, p);
    }
    return p;
  }
}
