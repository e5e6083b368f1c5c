/**
 * Test-side RTP for the WebRTC endpoint: a paced PCMU tone source (20 ms packets, drift-corrected against
 * the wall clock, as werift needs its caller to pace) and a sink that decodes what arrives.
 */
import { encodeUlaw, decodeUlaw } from '../../../server/media/codecs/g711.js';
import { RtpPacketView, RtpParseStatus, serializeRtp } from '../../../server/media/rtp/packet.js';

export interface ToneSource {
  sent(): number;
  stop(): void;
}

/** Sends `hz` at `amplitude` (int16) as PCMU PT 0 through `send` every 20 ms until stopped. */
export function startPcmuTone(send: (rtp: Buffer) => void, hz: number, amplitude = 8000): ToneSource {
  const ssrc = 0x12315;
  let seq = 1000;
  let ts = 160_000;
  let phase = 0;
  let count = 0;
  let stopped = false;
  const pcm = new Int16Array(160);
  const ulaw = new Uint8Array(160);
  const start = performance.now();
  const step = (2 * Math.PI * hz) / 8000;
  let timer: NodeJS.Timeout | null = null;
  const tick = () => {
    if (stopped) return;
    // Catch up on late timers so the average rate stays 50 packets per second.
    while (count * 20 <= performance.now() - start) {
      for (let i = 0; i < 160; i++) {
        pcm[i] = Math.round(amplitude * Math.sin(phase));
        phase += step;
      }
      encodeUlaw(pcm, ulaw);
      send(serializeRtp({ payloadType: 0, sequenceNumber: seq, timestamp: ts, ssrc, marker: count === 0 }, ulaw));
      seq = (seq + 1) & 0xffff;
      ts = (ts + 160) >>> 0;
      count++;
    }
    timer = setTimeout(tick, Math.max(1, start + count * 20 - performance.now()));
  };
  tick();
  return {
    sent: () => count,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

export interface RtpSink {
  packets: { pt: number; seq: number; ts: number; ssrc: number; payload: Buffer }[];
  /** Decoded PCMU audio of PT-0 packets, in arrival order. */
  pcmu(): Int16Array;
  push(rtp: Buffer): void;
}

export function rtpSink(): RtpSink {
  const view = new RtpPacketView();
  const packets: RtpSink['packets'] = [];
  return {
    packets,
    push(rtp) {
      if (view.parse(rtp) !== RtpParseStatus.Ok) return;
      packets.push({
        pt: view.payloadType,
        seq: view.sequenceNumber,
        ts: view.timestamp,
        ssrc: view.ssrc,
        payload: Buffer.from(rtp.subarray(view.payloadOffset, view.payloadOffset + view.payloadLength)),
      });
    },
    pcmu() {
      const audio = packets.filter((p) => p.pt === 0);
      const out = new Int16Array(audio.reduce((n, p) => n + p.payload.length, 0));
      let o = 0;
      for (const p of audio) {
        decodeUlaw(p.payload, out.subarray(o));
        o += p.payload.length;
      }
      return out;
    },
  };
}
