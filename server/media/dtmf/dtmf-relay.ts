/**
 * DTMF carried in SIP INFO bodies. JsSIP's sendDTMF defaults to `application/dtmf-relay`
 * (`Signal=3\r\nDuration=100`, webrtc-jssip-werift.md §10); some phones send `application/dtmf` with just the
 * digit, and some send the event number (10 for *, 11 for #) instead of the character.
 */

const VALID = /^[0-9*#A-D]$/;

export interface DtmfRelay {
  digit: string;
  /** Milliseconds; null when absent or not a number. */
  durationMs: number | null;
}

function normaliseSignal(raw: string): string | null {
  const s = raw.trim().toUpperCase();
  if (VALID.test(s)) return s;
  if (/^1[0-5]$/.test(s)) return '0123456789*#ABCD'[Number(s)]!;
  return null;
}

/** Parses an `application/dtmf-relay` body. Returns null when it carries no valid Signal. */
export function parseDtmfRelay(body: string): DtmfRelay | null {
  if (body.length > 1024) return null;
  let digit: string | null = null;
  let durationMs: number | null = null;
  for (const line of body.split(/\r?\n/)) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim().toLowerCase();
    const value = line.slice(eq + 1).trim();
    if (key === 'signal') digit = normaliseSignal(value);
    else if (key === 'duration') {
      const n = Number(value);
      durationMs = /^\d+$/.test(value) && n > 0 && n < 60000 ? n : null;
    }
  }
  return digit === null ? null : { digit, durationMs };
}

/** Parses an INFO body by its Content-Type (dtmf-relay or dtmf); null for anything else. */
export function parseDtmfInfo(contentType: string | undefined, body: string): DtmfRelay | null {
  const ct = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (ct === 'application/dtmf-relay') return parseDtmfRelay(body);
  if (ct === 'application/dtmf') {
    const digit = normaliseSignal(body);
    return digit === null ? null : { digit, durationMs: null };
  }
  return null;
}

export function buildDtmfRelay(digit: string, durationMs = 100): string {
  const d = normaliseSignal(digit);
  if (d === null) throw new RangeError(`not a DTMF digit: ${JSON.stringify(digit)}`);
  return `Signal=${d}\r\nDuration=${Math.round(durationMs)}\r\n`;
}
