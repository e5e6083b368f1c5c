/**
 * CPU of a conference's audio path without the sockets: per 20 ms frame, every member's packet is decoded into its
 * jitter buffer (the receive side of EngineCore.onRtp), then each room pops its members' frames into the mixer,
 * mixes, and encodes each member's mix into a fresh RTP-sized buffer (EngineCore.tickConference). Three members
 * per room, all talking (a tone), as in the harness's conference benchmark.
 *
 *   npx tsx scripts/bench/conference-mix.ts [rooms=150] [frames=5000]
 *
 * Prints µs per frame for the receive side and the tick, and the share of one core that is.
 */
import { ULAW_DECODE, encodeUlaw } from '../../server/media/codecs/g711.js';
import { SampleFifo } from '../../server/media/engine/fifo.js';
import { AudioMixer, type MixerSlot } from '../../server/media/mixer/mixer.js';

const ROOMS = Number(process.argv[2] ?? 150);
const FRAMES = Number(process.argv[3] ?? 5000);
const FRAME = 160;

interface Member {
  fifo: SampleFifo;
  slot: MixerSlot;
  payload: Buffer;
}
const rooms = Array.from({ length: ROOMS }, (_, r) => {
  const mixer = new AudioMixer(FRAME);
  const members: Member[] = Array.from({ length: 3 }, (_, k) => {
    // A different tone per member, µ-law encoded once, behind a 12-byte RTP header.
    const pcm = new Int16Array(FRAME);
    for (let i = 0; i < FRAME; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * (400 + 300 * k) * i) / 8000));
    const payload = Buffer.alloc(12 + FRAME);
    encodeUlaw(pcm, payload, FRAME, 12);
    return { fifo: new SampleFifo(FRAME, FRAME * 5, 2), slot: mixer.add(`r${r}m${k}`, { fadeIn: false }), payload };
  });
  return { mixer, members };
});

let sink = 0;
const receive = () => {
  for (const room of rooms) for (const m of room.members) m.fifo.pushDecoded(m.payload, 12, FRAME, ULAW_DECODE);
};
const tick = () => {
  for (const room of rooms) {
    for (const m of room.members) m.slot.hasInput = m.fifo.pop(m.slot.input);
    room.mixer.mix();
    for (const m of room.members) {
      const buf = Buffer.allocUnsafe(12 + FRAME);
      encodeUlaw(m.slot.out, buf, FRAME, 12);
      sink += buf[12 + (sink & 127)]!;
    }
  }
};

receive();
receive();
for (let f = 0; f < 500; f++) {
  receive();
  tick();
}
let rxNs = 0n;
let tickNs = 0n;
for (let f = 0; f < FRAMES; f++) {
  const a = process.hrtime.bigint();
  receive();
  const b = process.hrtime.bigint();
  tick();
  rxNs += b - a;
  tickNs += process.hrtime.bigint() - b;
}
const rxUs = Number(rxNs) / FRAMES / 1000;
const tickUs = Number(tickNs) / FRAMES / 1000;
console.log(
  `conference-mix: ${ROOMS} rooms × 3 talking members, per 20 ms frame: receive ${rxUs.toFixed(0)} µs, ` +
    `tick ${tickUs.toFixed(0)} µs = ${(((rxUs + tickUs) / 20_000) * 100).toFixed(2)} % of a core (checksum ${sink & 0xff})`,
);
