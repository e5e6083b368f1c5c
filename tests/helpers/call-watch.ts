/**
 * Looking at a live call on a test server from the outside: which call is new, what keys its media
 * endpoint reported, and the IVR path its CDR row ended with.
 */
import type { Call } from '../../server/calls/call.js';
import type { DtmfVia, MediaEndpoint } from '../../server/media/engine/api.js';
import type { TestServer } from './server.js';
import { waitUntil } from './tmp.js';

export interface WatchedCall {
  call: Call;
  /** Every key the caller's media endpoint reported, in order, with the path it came by. */
  keys: { digit: string; via: DtmfVia }[];
}

/**
 * Resolves with the next call that appears on the server (one not live when this was called) and records
 * its caller's keys from then on. Polls every 5 ms: start it before the peer dials, and let the peer wait
 * a few hundred ms after the answer before its first key.
 */
export async function watchNextCall(ts: TestServer, timeoutMs = 10_000): Promise<WatchedCall> {
  const known = new Set(ts.server.calls.calls.keys());
  let call: Call | undefined;
  await waitUntil(
    () => (call = [...ts.server.calls.calls.values()].find((c) => !known.has(c.id))) !== undefined,
    timeoutMs,
    'a new call on the server',
    5,
  );
  const keys: WatchedCall['keys'] = [];
  (call!.inbound.media as MediaEndpoint).on('dtmf', (digit, via) => keys.push({ digit, via }));
  return { call: call!, keys };
}

/** Waits for the call to end and returns the IVR path of its CDR row ('' when it has none). */
export async function finalIvrPath(ts: TestServer, callId: string, timeoutMs = 10_000): Promise<string> {
  await waitUntil(() => !ts.server.calls.calls.has(callId), timeoutMs, 'the call to end');
  const row = ts.server.cdr.list({ limit: 50 }).find((r) => r.id === callId);
  if (!row) throw new Error(`no CDR row for call ${callId}`);
  return row.ivrPath ?? '';
}
