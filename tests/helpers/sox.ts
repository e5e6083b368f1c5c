/**
 * Test audio made with sox at test time (no binary fixtures in git). G.711 peers want 8 kHz mono:
 * baresip's aufile source does not resample (it must be 8 kHz S16 WAV), and SIPp's rtp_stream reads
 * raw headerless µ-law/A-law (a WAV header would be played as noise).
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';

function sox(args: string[]): void {
  execFileSync('sox', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** 8 kHz mono 16-bit WAV with a sine of `hz` at half scale, for baresip's aufile source. */
export function makeToneWav(file: string, hz: number, seconds: number, volume = 0.5): string {
  sox([
    '-n',
    '-r',
    '8000',
    '-c',
    '1',
    '-b',
    '16',
    '-e',
    'signed-integer',
    file,
    'synth',
    String(seconds),
    'sine',
    String(hz),
    'vol',
    String(volume),
  ]);
  return file;
}

/** 8 kHz mono 16-bit WAV of silence: a callee that only records needs a source longer than the call. */
export function makeSilenceWav(file: string, seconds: number): string {
  sox(['-n', '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', file, 'trim', '0', String(seconds)]);
  return file;
}

/** Raw headerless 8 kHz µ-law (`law: 'ulaw'`, PT 0) or A-law (`'alaw'`, PT 8) tone for SIPp rtp_stream. */
export function makeToneRaw(file: string, hz: number, seconds: number, law: 'ulaw' | 'alaw' = 'ulaw'): string {
  sox([
    '-n',
    '-r',
    '8000',
    '-c',
    '1',
    '-t',
    law === 'ulaw' ? 'ul' : 'al',
    file,
    'synth',
    String(seconds),
    'sine',
    String(hz),
    'vol',
    '0.5',
  ]);
  return file;
}

/** DTMF row/column frequencies (ITU-T Q.23). */
export const DTMF_FREQS: Record<string, [number, number]> = {
  '1': [697, 1209],
  '2': [697, 1336],
  '3': [697, 1477],
  A: [697, 1633],
  '4': [770, 1209],
  '5': [770, 1336],
  '6': [770, 1477],
  B: [770, 1633],
  '7': [852, 1209],
  '8': [852, 1336],
  '9': [852, 1477],
  C: [852, 1633],
  '*': [941, 1209],
  '0': [941, 1336],
  '#': [941, 1477],
  D: [941, 1633],
};

/**
 * 8 kHz mono 16-bit WAV: `leadSeconds` of silence, then each digit as an in-band DTMF tone pair (`toneMs` on,
 * `gapMs` off, each frequency at −10 dBFS), then silence up to `totalSeconds` (baresip hangs up when its
 * aufile source ends, so keep it longer than the call).
 */
export function makeDtmfWav(
  file: string,
  digits: string,
  o: { leadSeconds?: number; toneMs?: number; gapMs?: number; totalSeconds?: number } = {},
): string {
  const tone = (o.toneMs ?? 120) / 1000;
  const gap = (o.gapMs ?? 120) / 1000;
  const lead = o.leadSeconds ?? 1;
  const total = o.totalSeconds ?? 60;
  // One file per segment (the second `synth` mixes its sine into the first), concatenated at the end.
  const parts: string[] = [];
  const seg = (i: number) => `${file}.part${i}.wav`;
  let i = 0;
  const common = ['-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer'];
  sox(['-n', ...common, seg(i), 'trim', '0', String(lead)]);
  parts.push(seg(i++));
  for (const d of digits) {
    const f = DTMF_FREQS[d.toUpperCase()];
    if (!f) throw new Error(`not a DTMF digit: ${d}`);
    sox([
      '-n',
      ...common,
      seg(i),
      'synth',
      String(tone),
      'sine',
      String(f[0]),
      'synth',
      String(tone),
      'sine',
      'mix',
      String(f[1]),
      'vol',
      '0.32',
    ]);
    parts.push(seg(i++));
    sox(['-n', ...common, seg(i), 'trim', '0', String(gap)]);
    parts.push(seg(i++));
  }
  const used = lead + digits.length * (tone + gap);
  sox(['-n', ...common, seg(i), 'trim', '0', String(Math.max(1, total - used))]);
  parts.push(seg(i++));
  sox([...parts, file]);
  for (const p of parts) rmSync(p, { force: true });
  return file;
}
