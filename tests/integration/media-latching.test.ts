/**
 * Symmetric RTP (latching) with a caller whose source port changes mid-call, as behind a NAT that rebinds:
 * SIPp sets up a call to 12315 whose SDP names port A, a UDP socket this test owns; the test sends the
 * caller's RTP from A, then from another socket B with the same SSRC and running seq/timestamp. After the
 * switch our IVR audio must go to B (and stop going to A), and B's packets must count as received.
 * Run inside `unshare -n`.
 */
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Call } from '../../server/calls/call.js';
import { encodeUlaw, ulawToLinear } from '../../server/media/codecs/g711.js';
import type { MediaEndpoint } from '../../server/media/engine/api.js';
import { hasSpeechEnergyOf } from '../helpers/audio.js';
import { LOOPBACK } from '../helpers/ports.js';
import { runSipp, scenarioPath } from '../helpers/sipp.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { sleep, waitUntil } from '../helpers/tmp.js';

let ts: TestServer;

beforeAll(async () => {
  ts = await startTestServer();
});
afterAll(async () => {
  await ts?.stop();
});

interface Arrival {
  at: number;
  ts: number;
  payload: Buffer;
}

/**
 * Frames covered by these packets' RTP timestamps. Not a packet count: where the server's media clock stalls on
 * a loaded box, a prompt skips the frames whose time passed (the timestamp jumps over them), so fewer packets
 * arrive while the timestamps still cover the time.
 */
function framesSpanned(got: Arrival[]): number {
  return got.length === 0 ? 0 : ((got[got.length - 1]!.ts - got[0]!.ts) >>> 0) / 160 + 1;
}

async function bindSocket(): Promise<{ sock: dgram.Socket; port: number; got: Arrival[] }> {
  const sock = dgram.createSocket('udp4');
  const got: Arrival[] = [];
  // RTCP goes to port+1 on another socket; here only RTP (version 2, PT 0) counts.
  sock.on('message', (m) => {
    if (m.length > 12 && m[0]! >> 6 === 2 && (m[1]! & 0x7f) === 0)
      got.push({ at: Date.now(), ts: m.readUInt32BE(4), payload: m.subarray(12) });
  });
  await new Promise<void>((r) => sock.bind(0, LOOPBACK, r));
  return { sock, port: sock.address().port, got };
}

/** A PCMU 20 ms sender with one SSRC and continuous seq/timestamp, whichever socket a frame leaves from. */
function rtpSource(dest: { port: number }) {
  let seq = 1000;
  let ts = 160_000;
  let phase = 0;
  const pcm = new Int16Array(160);
  const ulaw = new Uint8Array(160);
  return (sock: dgram.Socket) => {
    for (let i = 0; i < 160; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 700 * phase++) / 8000));
    encodeUlaw(pcm, ulaw);
    const h = Buffer.alloc(12);
    h[0] = 0x80;
    h[1] = 0;
    h.writeUInt16BE(seq++ & 0xffff, 2);
    h.writeUInt32BE(ts >>> 0, 4);
    ts += 160;
    h.writeUInt32BE(0x1a2b3c4d, 8);
    sock.send(Buffer.concat([h, ulaw]), dest.port, LOOPBACK);
  };
}

async function sendFor(ms: number, send: () => void): Promise<void> {
  const end = Date.now() + ms;
  let next = Date.now();
  while (Date.now() < end) {
    send();
    next += 20;
    await sleep(Math.max(0, next - Date.now()));
  }
}

describe('symmetric RTP: the caller’s source port changes mid-call', () => {
  it('after the switch from port A to port B our audio goes to B, not A, and B is received', async () => {
    const a = await bindSocket();
    const b = await bindSocket();
    const known = new Set(ts.server.calls.calls.keys());
    const run = runSipp({
      scenario: scenarioPath('media_latch'),
      target: ts.sipTarget,
      service: '12315',
      extraArgs: ['-key', 'rtp_port', String(a.port), '-d', '6500'],
      timeoutMs: 20_000,
    });
    try {
      let call: Call | undefined;
      await waitUntil(
        () => (call = [...ts.server.calls.calls.values()].find((c) => !known.has(c.id)))?.answeredAt != null,
        10_000,
        'the call answered',
      );
      const ep = call!.inbound.media as MediaEndpoint;
      const local = (await ep.stats()).localPort!;
      const send = rtpSource({ port: local });

      await sendFor(1500, () => send(a.sock));
      const before = await ep.stats();
      expect(before.remote).toBe(`${LOOPBACK}:${a.port}`);
      expect(framesSpanned(a.got)).toBeGreaterThan(30);
      expect(b.got.length).toBe(0);

      const switchedAt = Date.now();
      await sendFor(2500, () => send(b.sock));
      const after = await ep.stats();
      expect(after.remote).toBe(`${LOOPBACK}:${b.port}`);
      expect(after.relatches).toBe(1);
      // Packets from B inside the 250 ms quiet window are dropped as possible bleed; the rest are received.
      expect(after.rxPackets - before.rxPackets).toBeGreaterThan(80);
      // Our IVR prompt now reaches B: most of the 2.5 s, and none of the last second still goes to A.
      const atB = b.got.filter((x) => x.at > switchedAt);
      expect(framesSpanned(atB)).toBeGreaterThan(75);
      expect(a.got.filter((x) => x.at > Date.now() - 1000).length).toBe(0);
      // And it is the prompt (speech), not silence frames.
      const heard = Int16Array.from(Buffer.concat(atB.map((x) => x.payload)), (c) => ulawToLinear(c));
      expect(hasSpeechEnergyOf(heard, 8000)).toBe(true);
    } finally {
      const r = await run;
      a.sock.close();
      b.sock.close();
      expect(r.failed).toBe(0);
      expect(r.successful).toBe(1);
    }
  });
});
