/**
 * Test audio made with sox at test time (no binary fixtures in git). G.711 peers want 8 kHz mono:
 * baresip's aufile source does not resample (it must be 8 kHz S16 WAV), and SIPp's rtp_stream reads
 * raw headerless µ-law/A-law (a WAV header would be played as noise).
 */
import { execFileSync } from 'node:child_process';

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
