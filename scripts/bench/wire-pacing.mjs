#!/usr/bin/env node
// RTP pacing as the kernel saw it leave: reads a pcap taken on `lo` (tcpdump --time-stamp-precision=nano)
// and reports |interval − ptime| between consecutive RTP packets (sequence n, n+1) of each stream.
// On loopback tcpdump's tap runs inside the sender's sendmsg, so these timestamps are the moment the
// server handed each packet to the kernel: its own pacing, free of the receiver's scheduling delays.
//
//   node scripts/bench/wire-pacing.mjs capture.pcap [--ptime 20] [--json] [--label L]
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
if (!file) {
  console.error('usage: wire-pacing.mjs capture.pcap [--ptime 20] [--json] [--label L]');
  process.exit(2);
}
const ptimeMs = Number(opt('ptime', 20));
const buf = readFileSync(file);
const magic = buf.readUInt32LE(0);
const nano = magic === 0xa1b23c4d;
if (!nano && magic !== 0xa1b2c3d4) throw new Error(`${file}: not a little-endian pcap (magic ${magic.toString(16)})`);
const linkType = buf.readUInt32LE(20);
// Linux `lo` captures as Ethernet (1); `any` as Linux cooked (113, 16-byte header).
const linkHeader = linkType === 1 ? 14 : linkType === 113 ? 16 : linkType === 0 ? 4 : -1;
if (linkHeader < 0) throw new Error(`link type ${linkType} not handled`);

/** Per stream: last timestamp (ms) and last sequence number. */
const streams = new Map();
// Fixed 10 µs bins up to 1 s: exact enough for p99.9 and cheap for millions of intervals.
const BIN_US = 10;
const bins = new Uint32Array(100_000 + 1);
let intervals = 0;
let over2 = 0;
let over5 = 0;
let packets = 0;
let firstMs = Infinity;
let lastMs = 0;

for (let off = 24; off + 16 <= buf.length;) {
  const sec = buf.readUInt32LE(off);
  const frac = buf.readUInt32LE(off + 4);
  const capLen = buf.readUInt32LE(off + 8);
  const data = off + 16;
  off = data + capLen;
  const ip = data + linkHeader;
  if (buf[ip] >> 4 !== 4 || buf[ip + 9] !== 17) continue;
  const udp = ip + (buf[ip] & 0x0f) * 4;
  const rtp = udp + 8;
  if (rtp + 12 > data + capLen || buf[rtp] >> 6 !== 2) continue;
  const pt = buf[rtp + 1] & 0x7f;
  if (pt >= 72 && pt <= 76) continue; // RTCP (RFC 5761 range), not media
  const tMs = sec * 1000 + (nano ? frac / 1e6 : frac / 1e3);
  packets++;
  if (tMs < firstMs) firstMs = tMs;
  if (tMs > lastMs) lastMs = tMs;
  const key = buf.readUInt16BE(udp) * 65536 + buf.readUInt16BE(udp + 2);
  const seq = buf.readUInt16BE(rtp + 2);
  const s = streams.get(key);
  if (s === undefined) {
    streams.set(key, { t: tMs, seq });
    continue;
  }
  if (((s.seq + 1) & 0xffff) === seq) {
    const err = Math.abs(tMs - s.t - ptimeMs);
    bins[Math.min(bins.length - 1, Math.round((err * 1000) / BIN_US))]++;
    intervals++;
    if (err > 2) over2++;
    if (err > 5) over5++;
  }
  s.t = tMs;
  s.seq = seq;
}

const pct = (p) => {
  const want = Math.ceil(intervals * p);
  let seen = 0;
  for (let i = 0; i < bins.length; i++) {
    seen += bins[i];
    if (seen >= want) return (i * BIN_US) / 1000;
  }
  return NaN;
};
let max = 0;
for (let i = bins.length - 1; i >= 0; i--)
  if (bins[i] > 0) {
    max = (i * BIN_US) / 1000;
    break;
  }
const result = {
  label: opt('label', file),
  streams: streams.size,
  packets,
  seconds: Number(((lastMs - firstMs) / 1000).toFixed(1)),
  intervals,
  p50: pct(0.5),
  p99: pct(0.99),
  p999: pct(0.999),
  max,
  over2Pct: Number(((100 * over2) / Math.max(1, intervals)).toFixed(3)),
  over5Pct: Number(((100 * over5) / Math.max(1, intervals)).toFixed(3)),
};
if (args.includes('--json')) console.log(JSON.stringify(result));
else
  console.log(
    `wire pacing ${result.label}: ${result.streams} streams, ${result.packets} pkts over ${result.seconds} s; ` +
      `|Δ−${ptimeMs}ms| p50 ${result.p50} p99 ${result.p99} p99.9 ${result.p999} max ${result.max} ms; ` +
      `>2ms ${result.over2Pct}% >5ms ${result.over5Pct}%`,
  );
