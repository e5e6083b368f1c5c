import { createSocket, type Socket } from 'node:dgram';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeUlaw, decodeAlaw } from '../../../server/media/codecs/g711.js';
import { RtpPacketView, RtpParseStatus, serializeRtp } from '../../../server/media/rtp/packet.js';
import { createMediaEngine, type MediaEngine } from '../../../server/media/engine/index.js';
import { dominantFrequencyOf, toneShareOf } from '../../helpers/audio.js';
import { rtpPortRange } from '../../helpers/ports.js';
import { sleep, waitUntil } from '../../helpers/tmp.js';

const L = '127.0.0.1';

function offer(port: number, codecs = '0 8 101', extra = ''): string {
  return [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.1',
    's=-',
    `c=IN IP4 ${L}`,
    't=0 0',
    `m=audio ${port} RTP/AVP ${codecs}`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-16',
    'a=ptime:20',
    extra || 'a=sendrecv',
    '',
  ].join('\r\n');
}

interface Rx {
  sock: Socket;
  port: number;
  pkts: { at: number; buf: Buffer; from: number }[];
  close(): void;
}

async function rawSocket(): Promise<Rx> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, L, r));
  const rx: Rx = {
    sock,
    port: sock.address().port,
    pkts: [],
    close: () => sock.close(),
  };
  sock.on('message', (buf, ri) => rx.pkts.push({ at: performance.now(), buf, from: ri.port }));
  return rx;
}

function audioOf(pkts: { buf: Buffer }[], pt = 0): Int16Array {
  const v = new RtpPacketView();
  const parts: Int16Array[] = [];
  for (const p of pkts) {
    if (v.parse(p.buf) !== RtpParseStatus.Ok || v.payloadType !== pt) continue;
    const pcm = new Int16Array(v.payloadLength);
    (pt === 0 ? decodeUlaw : decodeAlaw)(v.payload(), pcm);
    parts.push(pcm);
  }
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function rtpTone(hz: number, seq: number, pt = 0, ssrc = 0x1234): Buffer {
  const pcm = new Int16Array(160);
  for (let i = 0; i < 160; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * hz * (seq * 160 + i)) / 8000));
  const out = new Uint8Array(160);
  // Encode via the engine's own tables through the public codec API.
  return serializeRtp(
    { payloadType: pt, sequenceNumber: seq & 0xffff, timestamp: seq * 160, ssrc },
    encode(pcm, pt, out),
  );
}

import { encodeUlaw, encodeAlaw } from '../../../server/media/codecs/g711.js';
function encode(pcm: Int16Array, pt: number, out: Uint8Array): Uint8Array {
  (pt === 0 ? encodeUlaw : encodeAlaw)(pcm, out);
  return out;
}

for (const thread of ['inline', 'worker'] as const) {
  describe(`media engine over UDP (${thread})`, () => {
    let engine: MediaEngine;
    const raws: Rx[] = [];
    beforeEach(async () => {
      const r = await rtpPortRange(20);
      engine = await createMediaEngine({ thread, bindAddress: L, portMin: r.start, portMax: r.end });
    });
    afterEach(async () => {
      await engine.close();
      for (const s of raws.splice(0)) s.close();
    });

    it('plays a tone prompt that decodes to that tone, paced at 20 ms', async () => {
      const rx = await rawSocket();
      raws.push(rx);
      const ep = await engine.createRtpEndpoint();
      const ans = await ep.answer(offer(rx.port));
      expect(ans).toMatch(/m=audio \d+ RTP\/AVP 0 101/);
      const res = await ep.play([{ toneHz: 1000, ms: 600 }]);
      expect(res.reason).toBe('done');
      await sleep(50);
      expect(rx.pkts.length).toBeGreaterThanOrEqual(29);
      const pcm = audioOf(rx.pkts);
      expect(Math.abs(dominantFrequencyOf(pcm, 8000) - 1000)).toBeLessThan(20);
      expect(toneShareOf(pcm.subarray(400, pcm.length - 400), 8000, 1000)).toBeGreaterThan(0.9);
      const gaps = rx.pkts.slice(1).map((p, i) => p.at - rx.pkts[i]!.at);
      const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
      expect(mean).toBeGreaterThan(18);
      expect(mean).toBeLessThan(22);
      // Continuous sequence numbers and timestamps, one SSRC.
      const v = new RtpPacketView();
      let prev: { seq: number; ts: number; ssrc: number } | null = null;
      for (const p of rx.pkts) {
        v.parse(p.buf);
        if (prev) {
          expect(v.sequenceNumber).toBe((prev.seq + 1) & 0xffff);
          expect((v.timestamp - prev.ts) >>> 0).toBe(160);
          expect(v.ssrc).toBe(prev.ssrc);
        }
        prev = { seq: v.sequenceNumber, ts: v.timestamp, ssrc: v.ssrc };
      }
      await ep.close();
      await ep.close();
    });

    it('latches to the source address and re-latches after a source port change', async () => {
      const sdpRx = await rawSocket();
      const a = await rawSocket();
      const b = await rawSocket();
      raws.push(sdpRx, a, b);
      const ep = await engine.createRtpEndpoint();
      const ans = await ep.answer(offer(sdpRx.port));
      const port = Number(/m=audio (\d+)/.exec(ans)![1]);
      ep.echo(0);
      for (let i = 0; i < 10; i++) {
        a.sock.send(rtpTone(500, i), port, L);
        await sleep(20);
      }
      await waitUntil(() => a.pkts.length >= 5, 2000, 'echo to a');
      expect(sdpRx.pkts.filter((p) => p.buf[1]! < 128).length).toBe(0);
      await sleep(400);
      for (let i = 10; i < 20; i++) {
        b.sock.send(rtpTone(500, i), port, L);
        await sleep(20);
      }
      await waitUntil(() => b.pkts.length >= 5, 2000, 'echo to b');
      const st = await ep.stats();
      expect(st.relatches).toBe(1);
      expect(st.remote).toBe(`${L}:${b.port}`);
      // Echoed stream stays one continuous stream across the source change.
      const v = new RtpPacketView();
      const all = [...a.pkts, ...b.pkts].filter((p) => v.parse(p.buf) === RtpParseStatus.Ok && v.payloadType === 0);
      const ssrcs = new Set(all.map((p) => p.buf.readUInt32BE(8)));
      expect(ssrcs.size).toBe(1);
    });

    it('ignores a second source while the latched one is active', async () => {
      const a = await rawSocket();
      const intruder = await rawSocket();
      raws.push(a, intruder);
      const ep = await engine.createRtpEndpoint();
      const port = Number(/m=audio (\d+)/.exec(await ep.answer(offer(a.port)))![1]);
      for (let i = 0; i < 10; i++) {
        a.sock.send(rtpTone(500, i), port, L);
        if (i > 2) intruder.sock.send(rtpTone(700, i), port, L);
        await sleep(20);
      }
      await sleep(50);
      const st = await ep.stats();
      expect(st.relatches).toBe(0);
      expect(st.dropped).toBeGreaterThanOrEqual(7);
      expect(st.remote).toBe(`${L}:${a.port}`);
    });
  });
}
