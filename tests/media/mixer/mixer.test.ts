import { describe, expect, it } from 'vitest';
import { AudioMixer, MIXER_FRAME } from '../../../server/media/mixer/mixer.js';

const N = MIXER_FRAME;
const dc = (v: number) => new Int16Array(N).fill(v);
function tone(hz: number, amp: number, phase0 = 0): Int16Array {
  const f = new Int16Array(N);
  for (let i = 0; i < N; i++) f[i] = Math.round(amp * Math.sin((2 * Math.PI * hz * (i + phase0)) / 8000));
  return f;
}
/** One frame where everyone sends a constant; returns each member's output first/last sample. */
function tick(m: AudioMixer, inputs: Record<string, number>): Record<string, [number, number]> {
  for (const [id, v] of Object.entries(inputs)) m.push(id, dc(v));
  m.mix();
  const r: Record<string, [number, number]> = {};
  for (const id of m.ids()) {
    const o = m.output(id)!;
    r[id] = [o[0]!, o[N - 1]!];
  }
  return r;
}
function steady(ids: string[], opts: Parameters<AudioMixer['add']>[1] = {}): AudioMixer {
  const m = new AudioMixer();
  for (const id of ids) m.add(id, { fadeIn: false, ...opts });
  return m;
}

describe('AudioMixer', () => {
  it('each member hears the sum of the others, not itself', () => {
    const m = steady(['a', 'b', 'c']);
    expect(tick(m, { a: 100, b: 20, c: 3 })).toEqual({ a: [23, 23], b: [103, 103], c: [120, 120] });
    // A member alone hears silence; a member without input this tick contributes nothing.
    expect(tick(m, { a: 100 })).toEqual({ a: [0, 0], b: [100, 100], c: [100, 100] });
    const solo = steady(['x']);
    expect(tick(solo, { x: 5000 })).toEqual({ x: [0, 0] });
  });
  it('sums real waveforms exactly and saturates to int16', () => {
    const m = steady(['a', 'b', 'c']);
    const ta = tone(440, 8000);
    const tb = tone(1000, 8000);
    m.push('a', ta);
    m.push('b', tb);
    m.mix();
    const c = m.output('c')!;
    for (let i = 0; i < N; i++) expect(c[i]).toBe(ta[i]! + tb[i]!);
    expect(Array.from(m.output('a')!)).toEqual(Array.from(tb));
    expect(tick(m, { a: 30000, b: 30000, c: -30000 })).toEqual({
      a: [0, 0],
      b: [0, 0],
      c: [32767, 32767],
    });
    expect(tick(m, { a: -30000, b: -30000 }).c).toEqual([-32768, -32768]);
  });
  it('muted member is heard by nobody and still hears others (after a one-frame ramp)', () => {
    const m = steady(['a', 'b', 'c']);
    m.setMuted('a', true);
    const ramp = tick(m, { a: 1000, b: 10, c: 1 });
    expect(ramp.b![0]).toBeGreaterThan(990); // starts near full...
    expect(ramp.b![1]).toBe(1); // ...ends at silence for a
    expect(tick(m, { a: 1000, b: 10, c: 1 })).toEqual({ a: [11, 11], b: [1, 1], c: [10, 10] });
    m.setMuted('a', false);
    tick(m, { a: 1000, b: 10, c: 1 });
    expect(tick(m, { a: 1000, b: 10, c: 1 }).b).toEqual([1001, 1001]);
  });
  it('a stale input is not replayed when a muted member is unmuted', () => {
    const m = steady(['a', 'b']);
    m.setMuted('a', true);
    tick(m, { a: 1000 });
    tick(m, { a: 1000 });
    m.setMuted('a', false);
    expect(tick(m, {}).b).toEqual([0, 0]);
  });
  it('listen-only (supervisor) hears everyone, heard by nobody', () => {
    const m = steady(['caller', 'agent']);
    m.add('sup', { listenOnly: true, fadeIn: false });
    expect(tick(m, { caller: 100, agent: 20, sup: 7000 })).toEqual({
      caller: [20, 20],
      agent: [100, 100],
      sup: [120, 120],
    });
  });
  it('whisper: X is heard only by Y; clearing it makes X public again', () => {
    const m = steady(['caller', 'agent', 'sup']);
    m.setWhisper('sup', 'agent');
    tick(m, { caller: 100, agent: 20, sup: 3 }); // ramp frame
    expect(tick(m, { caller: 100, agent: 20, sup: 3 })).toEqual({
      caller: [20, 20],
      agent: [103, 103],
      sup: [120, 120],
    });
    // During the ramp the target hears the whisperer at a constant level (no dip).
    m.setWhisper('sup', null);
    m.push('caller', dc(100));
    m.push('agent', dc(20));
    m.push('sup', dc(3));
    m.mix();
    expect(Array.from(m.output('agent')!).every((v) => v === 103)).toBe(true);
    expect(tick(m, { caller: 100, agent: 20, sup: 3 }).caller).toEqual([23, 23]);
    expect(() => m.setWhisper('sup', 'sup')).toThrow();
    expect(() => m.setWhisper('sup', 'nobody')).toThrow();
  });
  it('a whisperer whose target leaves stays private', () => {
    const m = steady(['caller', 'agent', 'sup']);
    m.setWhisper('sup', 'agent');
    tick(m, { sup: 3 });
    m.remove('agent', { fadeOut: false });
    expect(tick(m, { caller: 100, sup: 3 })).toEqual({ caller: [0, 0], sup: [100, 100] });
  });
  it('join fades in and leave fades out over one frame, without a jump', () => {
    const m = steady(['a']);
    m.add('b'); // fadeIn default
    const tb = tone(300, 20000);
    m.push('b', tb);
    m.mix();
    const heard = m.output('a')!;
    expect(Math.abs(heard[0]!)).toBeLessThanOrEqual(Math.abs(tb[0]!) / N + 1);
    expect(heard[N - 1]).toBe(tb[N - 1]);
    // No step larger than the tone's own largest sample-to-sample change: no click at the start.
    let natural = 0;
    for (let i = 1; i < N; i++) natural = Math.max(natural, Math.abs(tb[i]! - tb[i - 1]!));
    for (let i = 1; i < N; i++) expect(Math.abs(heard[i]! - heard[i - 1]!)).toBeLessThanOrEqual(natural + 1);
    m.remove('b');
    expect(m.has('b')).toBe(true);
    const tb2 = tone(300, 20000, N);
    m.push('b', tb2);
    m.mix();
    const out = m.output('a')!;
    expect(out[0]).toBeCloseTo(tb2[0]! * (1 - 1 / N), -1);
    expect(out[N - 1]).toBe(0);
    expect(m.has('b')).toBe(false);
    m.remove('b'); // idempotent
    m.push('b', tb2); // late frame of a departed member is ignored
    expect(tick(m, {}).a).toEqual([0, 0]);
  });
  it('rejects duplicates and short frames; re-adding a leaving member replaces it; close is idempotent', () => {
    const m = steady(['a']);
    expect(() => m.add('a')).toThrow(/already/);
    expect(() => m.push('a', new Int16Array(10))).toThrow(RangeError);
    m.remove('a');
    m.add('a', { fadeIn: false });
    m.add('b', { fadeIn: false });
    expect(tick(m, { a: 5, b: 7 })).toEqual({ a: [7, 7], b: [5, 5] });
    m.close();
    m.close();
    expect(m.size).toBe(0);
    expect(() => m.add('c')).toThrow(/closed/);
  });
  it('many members: each output equals the sum of the others (checks the subtract-own shortcut)', () => {
    const m = new AudioMixer();
    const ids = Array.from({ length: 40 }, (_, i) => `m${i}`);
    for (const id of ids) m.add(id, { fadeIn: false });
    const frames = ids.map((_, i) => tone(200 + 37 * i, 600, i));
    ids.forEach((id, i) => m.push(id, frames[i]!));
    m.mix();
    for (let k = 0; k < ids.length; k += 7) {
      const out = m.output(ids[k]!)!;
      for (let i = 0; i < N; i += 13) {
        let s = 0;
        frames.forEach((f, j) => {
          if (j !== k) s += f[i]!;
        });
        expect(Math.abs(out[i]! - s)).toBeLessThanOrEqual(1);
      }
    }
  });
  it('a steady room (integer path) mixes exactly as the general path does, saturation included', () => {
    // Room B has a silent listen-only member, which sends every frame through the general (ramping) path;
    // it is heard by nobody, so a, b and c must hear exactly what they hear in room A.
    const a = steady(['a', 'b', 'c']);
    const b = steady(['a', 'b', 'c']);
    b.add('listener', { fadeIn: false, listenOnly: true });
    let seed = 7;
    const noise = () => {
      const f = new Int16Array(N);
      for (let i = 0; i < N; i++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        f[i] = (seed >>> 16) - 32768;
      }
      return f;
    };
    for (let frame = 0; frame < 20; frame++) {
      const ins = { a: noise(), b: noise(), c: noise() };
      for (const m of [a, b])
        for (const [id, f] of Object.entries(ins)) if (frame % 5 !== 3 || id !== 'b') m.push(id, f);
      a.mix();
      b.mix();
      for (const id of ['a', 'b', 'c']) expect(Array.from(a.output(id)!)).toEqual(Array.from(b.output(id)!));
    }
  });
  it('a slot is the member: its input is mixed once set, its output is the member output', () => {
    const m = new AudioMixer();
    const sa = m.add('a', { fadeIn: false });
    const sb = m.add('b', { fadeIn: false });
    sa.input.fill(1200);
    sa.hasInput = true;
    m.mix();
    expect(sb.out[0]).toBe(1200);
    expect(sb.out).toBe(m.output('b'));
    expect(sa.hasInput).toBe(false); // used once: not replayed next frame
    m.mix();
    expect(sb.out[N - 1]).toBe(0);
  });
});
