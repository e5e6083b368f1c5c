/**
 * Engine logic on a FakeClock: endpoints of a test kind whose packet transport is this file (the unit's own
 * boundary), so every tick and packet is deterministic.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeAlaw, decodeUlaw, encodeAlaw, encodeUlaw } from '../../../server/media/codecs/g711.js';
import { RtpPacketView, RtpParseStatus, serializeRtp } from '../../../server/media/rtp/packet.js';
import { planDtmfPackets } from '../../../server/media/dtmf/rfc4733.js';
import { decodeWav, encodeWav } from '../../../server/media/wav.js';
import { tonePcm } from '../../../server/media/engine/prompts.js';
import {
  createMediaEngineWithClock,
  type ExternalMediaSession,
  type MediaEndpoint,
  type MediaEngine,
  type NegotiatedMedia,
} from '../../../server/media/engine/index.js';
import { FakeClock } from '../../../server/util/clock.js';
import { createLogger } from '../../../server/util/log.js';
import { EngineCore, countInPhase } from '../../../server/media/engine/core.js';
import { dominantFrequencyOf, goertzelPower, toneShareOf } from '../../helpers/audio.js';

class TestSession implements ExternalMediaSession {
  sent: Buffer[] = [];
  private cb: ((b: Buffer) => void) | null = null;
  negotiated: NegotiatedMedia | null = null;
  closed = 0;
  private seq = 1000;
  private ts = 5000;
  constructor(readonly codec: 'PCMU' | 'PCMA' = 'PCMU') {}
  send(rtp: Buffer): void {
    this.sent.push(rtp);
  }
  onPacket(cb: (rtp: Buffer) => void): void {
    this.cb = cb;
  }
  async answer(): Promise<string> {
    this.negotiated = {
      codec: this.codec,
      payloadType: this.codec === 'PCMU' ? 0 : 8,
      telephoneEventPt: 101,
      remoteHold: false,
    };
    return 'v=0\r\n';
  }
  async createOffer(): Promise<string> {
    return 'v=0\r\n';
  }
  async applyAnswer(): Promise<void> {}
  close(): void {
    this.closed++;
  }
  /** The peer sends 20 ms of linear audio in its codec. */
  inject(pcm: Int16Array, ssrc = 0xabc): void {
    const out = new Uint8Array(pcm.length);
    (this.codec === 'PCMU' ? encodeUlaw : encodeAlaw)(pcm, out);
    this.raw(
      serializeRtp(
        { payloadType: this.codec === 'PCMU' ? 0 : 8, sequenceNumber: this.seq++, timestamp: (this.ts += 160), ssrc },
        out,
      ),
    );
  }
  raw(buf: Buffer): void {
    this.cb!(buf);
  }
  /** Decoded audio of everything sent with the audio payload type. */
  audio(from = 0): Int16Array {
    const v = new RtpPacketView();
    const parts: Int16Array[] = [];
    for (const b of this.sent.slice(from)) {
      if (v.parse(b) !== RtpParseStatus.Ok || (v.payloadType !== 0 && v.payloadType !== 8)) continue;
      const pcm = new Int16Array(v.payloadLength);
      (v.payloadType === 0 ? decodeUlaw : decodeAlaw)(v.payload(), pcm);
      parts.push(pcm);
    }
    const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) out.set(p, (o += p.length) - p.length);
    return out;
  }
}

const frameOf = (pcm: Int16Array, i: number) => pcm.subarray(i * 160, (i + 1) * 160);

describe('media engine core (FakeClock)', () => {
  let clock: FakeClock;
  let engine: MediaEngine;
  let sessions: TestSession[];
  let dir: string;
  let nextCodec: 'PCMU' | 'PCMA' = 'PCMU';

  beforeEach(() => {
    clock = new FakeClock(1000);
    engine = createMediaEngineWithClock({ rtcpIntervalMs: 5000, rtpTimeoutMs: 1000 }, clock);
    sessions = [];
    nextCodec = 'PCMU';
    engine.registerEndpointKind('test', () => {
      const s = new TestSession(nextCodec);
      sessions.push(s);
      return s;
    });
    dir = mkdtempSync(join(tmpdir(), 'engine-'));
  });
  afterEach(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function ep(codec: 'PCMU' | 'PCMA' = 'PCMU'): Promise<{ ep: MediaEndpoint; s: TestSession }> {
    nextCodec = codec;
    const e = await engine.createEndpoint('test');
    await e.answer('offer');
    return { ep: e, s: sessions[sessions.length - 1]! };
  }

  /** Runs the clock for `ms`, feeding each session's `feed` frame every 20 ms. */
  function run(ms: number, feed: Map<TestSession, Int16Array> = new Map(), offset = { i: 0 }): void {
    for (let t = 0; t < ms; t += 20) {
      for (const [s, pcm] of feed) s.inject(frameOf(pcm, offset.i % Math.floor(pcm.length / 160)));
      offset.i++;
      clock.advance(20);
    }
  }

  it('plays a prompt list frame by frame on the clock, with continuous seq/ts and a marker on the first packet', async () => {
    const { ep: e, s } = await ep();
    const wav = join(dir, 'p.wav');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(wav, encodeWav([tonePcm(300, 200)], 16000)); // 1600 samples read as 16 kHz: 100 ms of 600 Hz
    const id = await engine.loadPrompt(wav);
    expect(await engine.loadPrompt(wav)).toBe(id);
    let done: string | null = null;
    void e.play([id, { silenceMs: 100 }, { toneHz: 1000, ms: 200 }]).then((r) => (done = r.reason));
    run(100);
    expect(s.sent.length).toBe(5);
    expect(done).toBeNull();
    run(400);
    await Promise.resolve();
    expect(done).toBe('done');
    // 1600 samples written as 16 kHz = 100 ms of 600 Hz, + 100 ms silence + 200 ms tone.
    expect(s.sent.length).toBe(20);
    const v = new RtpPacketView();
    v.parse(s.sent[0]!);
    expect(v.marker).toBe(true);
    const seq0 = v.sequenceNumber;
    const ts0 = v.timestamp;
    s.sent.forEach((b, i) => {
      v.parse(b);
      expect(v.sequenceNumber).toBe((seq0 + i) & 0xffff);
      expect(v.timestamp).toBe((ts0 + 160 * i) >>> 0);
    });
    const audio = s.audio();
    expect(Math.abs(dominantFrequencyOf(audio.subarray(0, 800), 8000) - 600)).toBeLessThan(15);
    expect(toneShareOf(audio.subarray(1700, 3100), 8000, 1000)).toBeGreaterThan(0.9);
  });

  it('reports an RFC 4733 digit once despite SIPp-style repeated end packets, and barges in', async () => {
    const { ep: e, s } = await ep();
    const digits: [string, string][] = [];
    e.on('dtmf', (d, via) => digits.push([d, via]));
    const p = e.play([{ toneHz: 400, ms: 10_000 }], { bargeIn: true });
    run(100);
    let seq = 1;
    for (const pk of planDtmfPackets('5', { endPackets: 3 })) {
      const b = serializeRtp(
        { payloadType: 101, sequenceNumber: seq++, timestamp: 8000, ssrc: 77, marker: pk.marker },
        pk.payload,
      );
      s.raw(b);
      if (pk.end) s.raw(b); // duplicated end packet, same seq
      clock.advance(20);
    }
    expect(digits).toEqual([['5', 'rfc4733']]);
    expect(await p).toEqual({ reason: 'barge-in', digit: '5' });
    // The same packets replayed much later (pcap replay) are a new press.
    clock.advance(2000);
    for (const pk of planDtmfPackets('5'))
      s.raw(serializeRtp({ payloadType: 101, sequenceNumber: seq++, timestamp: 8000, ssrc: 77 }, pk.payload));
    expect(digits.length).toBe(2);
  });

  it('takes INFO DTMF bodies and in-band tones', async () => {
    const { ep: e, s } = await ep();
    const digits: [string, string][] = [];
    e.on('dtmf', (d, via) => digits.push([d, via]));
    expect(e.receiveInfoDtmf('Signal=#\r\nDuration=100\r\n', 'application/dtmf-relay')).toBe(true);
    expect(e.receiveInfoDtmf('hello', 'text/plain')).toBe(false);
    e.setInbandDtmf(true);
    await Promise.resolve();
    const tone = tonePcm([852, 1477], 120); // '9'
    const sil = new Int16Array(160 * 10);
    const sig = new Int16Array(tone.length + sil.length);
    sig.set(tone);
    for (let i = 0; i < sig.length / 160; i++) {
      s.inject(frameOf(sig, i));
      clock.advance(20);
    }
    await Promise.resolve();
    expect(digits).toEqual([
      ['#', 'info'],
      ['9', 'inband'],
    ]);
  });

  it('sends DTMF as RFC 4733 events: one timestamp per digit, marker first, 3 end packets', async () => {
    const { ep: e, s } = await ep();
    const done = e.sendDtmf('12');
    run(1000);
    await done;
    const v = new RtpPacketView();
    const ev = s.sent.filter((b) => v.parse(b) === RtpParseStatus.Ok && v.payloadType === 101);
    const byTs = new Map<number, Buffer[]>();
    for (const b of ev) {
      v.parse(b);
      byTs.set(v.timestamp, [...(byTs.get(v.timestamp) ?? []), b]);
    }
    expect(byTs.size).toBe(2);
    for (const pkts of byTs.values()) {
      expect(pkts[0]![1]! & 0x80).toBe(0x80);
      expect(pkts.filter((b) => (b[13]! & 0x80) !== 0).length).toBe(3);
    }
    expect([...byTs.values()].map((p) => p[0]![12])).toEqual([1, 2]);
  });

  it('bridges PCMU to PCMA by table and relays same-codec payload untouched', async () => {
    const a = await ep('PCMU');
    const b = await ep('PCMA');
    const c = await ep('PCMU');
    const br = await engine.bridge(a.ep, b.ep);
    const tone = tonePcm(700, 400);
    run(400, new Map([[a.s, tone]]));
    const heard = b.s.audio();
    expect(b.s.sent.every((x) => (x[1]! & 0x7f) === 8)).toBe(true);
    expect(toneShareOf(heard.subarray(320), 8000, 700)).toBeGreaterThan(0.9);
    await br.close();
    await br.close();
    const br2 = await engine.bridge(a.ep, c.ep);
    const before = c.s.sent.length;
    a.s.inject(frameOf(tone, 1));
    const out = c.s.sent[before]!;
    const enc = new Uint8Array(160);
    encodeUlaw(frameOf(tone, 1), enc);
    expect(Buffer.compare(out.subarray(12), Buffer.from(enc))).toBe(0);
    expect(out.readUInt32BE(8)).not.toBe(0xabc); // our SSRC, not the caller's
    await br2.close();
  });

  it('conference: mix-minus for 3 members, mute, listen-only and whisper', async () => {
    const [a, b, c] = [await ep(), await ep('PCMA'), await ep()];
    const conf = await engine.createConference();
    for (const m of [a, b, c]) await conf.join(m.ep);
    const ta = tonePcm(500, 2000);
    const tb = tonePcm(900, 2000);
    const tc = tonePcm(1300, 2000);
    const feed = new Map([
      [a.s, ta],
      [b.s, tb],
      [c.s, tc],
    ]);
    const off = { i: 0 };
    const marks = () => sessions.map((s) => s.sent.length);
    run(200, feed, off);
    let m = marks();
    run(400, feed, off);
    const p = (s: TestSession, i: number, hz: number) => goertzelPower(s.audio(m[i]), 8000, hz);
    // Each hears the other two, not itself.
    expect(p(a.s, 0, 900)).toBeGreaterThan(1e5);
    expect(p(a.s, 0, 1300)).toBeGreaterThan(1e5);
    expect(p(a.s, 0, 500)).toBeLessThan(1e4);
    expect(p(b.s, 1, 500)).toBeGreaterThan(1e5);
    expect(p(b.s, 1, 900)).toBeLessThan(1e4);
    // Mute a: nobody hears a; listen-only c likewise; whisper b → a: only a hears b.
    await conf.setMuted(a.ep, true);
    await conf.setListenOnly(c.ep, true);
    await conf.setWhisper(b.ep, a.ep);
    run(100, feed, off);
    m = marks();
    run(400, feed, off);
    expect(p(b.s, 1, 500)).toBeLessThan(1e4);
    expect(p(c.s, 2, 500)).toBeLessThan(1e4);
    expect(p(a.s, 0, 1300)).toBeLessThan(1e4);
    expect(p(a.s, 0, 900)).toBeGreaterThan(1e5);
    expect(p(c.s, 2, 900)).toBeLessThan(1e4);
    expect((await conf.members()).find((x) => x.endpointId === b.ep.id)?.whisperTo).toBe(a.ep.id);
    // Leaving fades out: the first frame after leave has b's level ramping, the next none.
    await conf.setWhisper(b.ep, null);
    run(100, feed, off);
    await conf.leave(b.ep);
    m = marks();
    run(60, feed, off);
    const after = a.s.audio(m[0]);
    expect(goertzelPower(after.subarray(160, 480), 8000, 900)).toBeLessThan(1e4);
    await conf.close();
  });

  it('echo loops the caller back after the delay', async () => {
    const { ep: e, s } = await ep();
    e.echo(100);
    await Promise.resolve();
    const tone = tonePcm(800, 1000);
    let firstOut = -1;
    for (let i = 0; i < 30; i++) {
      s.inject(frameOf(tone, i));
      clock.advance(20);
      if (firstOut < 0 && s.sent.length > 0) firstOut = i;
    }
    expect(firstOut).toBeGreaterThanOrEqual(4);
    expect(firstOut).toBeLessThanOrEqual(6);
    expect(toneShareOf(s.audio().subarray(160), 8000, 800)).toBeGreaterThan(0.9);
  });

  /**
   * An endpoint echoing with a 100 ms delay receives 30 frames of a tone, 20 ms apart and off the 5 ms tick grid;
   * packet i is taken off the socket `lateMs(i)` late. Returns how many frames went out on each receipt.
   */
  async function echoOnReceipts(lateMs: (i: number) => number = () => 0) {
    const { ep: e, s } = await ep();
    e.echo(100);
    await Promise.resolve();
    clock.advance(7);
    const tone = tonePcm(800, 1000);
    const onReceipt: number[] = [];
    for (let i = 0; i < 30; i++) {
      const late = lateMs(i);
      clock.advance(late);
      const before = s.sent.length;
      s.inject(frameOf(tone, i));
      onReceipt.push(s.sent.length - before);
      clock.advance(20 - late);
    }
    return { s, onReceipt };
  }

  it('echo goes back out on receipt of the packet one delay later (the caller sets the pace), tail on the clock', async () => {
    const { s, onReceipt } = await echoOnReceipts();
    // Packet i - 5 (100 ms old) leaves while packet i is being received, not on a later tick.
    expect(onReceipt.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(onReceipt.slice(5)).toEqual(new Array(25).fill(1));
    expect(s.sent.length).toBe(25);
    // The caller stops: the 5 frames still in the delay line play out on the clock, one per frame.
    clock.advance(40);
    const afterGap = s.sent.length;
    expect(afterGap).toBeLessThanOrEqual(27);
    clock.advance(200);
    expect(s.sent.length).toBe(30);
    const v = new RtpPacketView();
    v.parse(s.sent[0]!);
    const seq0 = v.sequenceNumber;
    s.sent.forEach((b, i) => {
      v.parse(b);
      expect(v.sequenceNumber).toBe((seq0 + i) & 0xffff);
    });
    expect(toneShareOf(s.audio(), 8000, 800)).toBeGreaterThan(0.9);
  });

  it('echo: a frame received late (our thread busy) still leaves one delay after it was recorded, not a frame later', async () => {
    // Packet 10 is taken off the socket 12 ms late; every other on time.
    const { onReceipt } = await echoOnReceipts((i) => (i === 10 ? 12 : 0));
    // Judged by arrival time, packet 10 would be 88 ms old when packet 15 arrives: held back to packet 16's
    // arrival, then sent with packet 11 (0 then 2). By its RTP timestamp it is exactly one delay old.
    expect(onReceipt.slice(5)).toEqual(new Array(25).fill(1));
  });

  it('records an endpoint in stereo (peer left, us right) and a bridge in mono', async () => {
    const a = await ep();
    const b = await ep('PCMA');
    const rec = await engine.record(a.ep, { file: join(dir, 'ep.wav'), mode: 'stereo' });
    void a.ep.play([{ toneHz: 1000, ms: 2000 }]);
    run(1000, new Map([[a.s, tonePcm(400, 1000)]]));
    const r1 = await rec.stop();
    expect(await rec.stop()).toEqual(r1);
    expect(r1.error).toBeNull();
    expect(r1.durationMs).toBeGreaterThanOrEqual(900);
    const w = decodeWav(readFileSync(join(dir, 'ep.wav')));
    expect(w.channels.length).toBe(2);
    expect(dominantFrequencyOf(w.channels[0]!.subarray(800), 8000)).toBeCloseTo(400, -1);
    expect(dominantFrequencyOf(w.channels[1]!.subarray(800), 8000)).toBeCloseTo(1000, -1);
    await a.ep.stopPlayback();
    const br = await engine.bridge(a.ep, b.ep);
    const rec2 = await engine.record(br, { file: join(dir, 'br.wav'), mode: 'mono' });
    run(
      600,
      new Map([
        [a.s, tonePcm(400, 1000)],
        [b.s, tonePcm(1200, 1000)],
      ]),
    );
    await rec2.stop();
    const m = decodeWav(readFileSync(join(dir, 'br.wav')));
    expect(m.channels.length).toBe(1);
    const mono = m.channels[0]!.subarray(800);
    expect(goertzelPower(mono, 8000, 400)).toBeGreaterThan(1e5);
    expect(goertzelPower(mono, 8000, 1200)).toBeGreaterThan(1e5);
  });

  it('a recording that cannot be written never takes the call down', async () => {
    const a = await ep();
    await expect(engine.record(a.ep, { file: join(dir, 'no/such/dir.wav'), mode: 'mono' })).rejects.toThrow(
      /recording/,
    );
    void a.ep.play([{ toneHz: 1000, ms: 200 }]);
    run(200);
    expect(a.s.sent.length).toBe(10);
    expect((await engine.stats()).recorderErrors).toBe(1);
  });

  it('fires rtp-timeout once when the peer goes silent, and stops playback with "closed" on close', async () => {
    const { ep: e } = await ep();
    let timeouts = 0;
    let closed = 0;
    e.on('rtp-timeout', () => timeouts++);
    e.on('closed', () => closed++);
    e.on('rtp-timeout', () => {
      throw new Error('a listener that throws must not break the engine');
    });
    const p = e.play([{ toneHz: 300, ms: 10_000 }], { loop: true });
    run(3000);
    expect(timeouts).toBe(1);
    await e.close();
    await e.close();
    expect(await p).toEqual({ reason: 'closed' });
    expect(closed).toBe(1);
    expect(sessions[0]!.closed).toBe(1);
  });
});

describe('prompt ids (EngineClient.loadPrompt)', () => {
  it('asks the core once per path, also for concurrent callers; a failed load is asked again later', async () => {
    const engine = createMediaEngineWithClock({}, new FakeClock(0));
    const dir = mkdtempSync(join(tmpdir(), 'engine-prompts-'));
    // The core's command channel is this unit's boundary: count what crosses it.
    const channel = (engine as unknown as { channel: { call(cmd: string, args: unknown[]): Promise<unknown> } })
      .channel;
    const real = channel.call.bind(channel);
    const asked: string[] = [];
    channel.call = (cmd, args) => {
      if (cmd === 'loadPrompt') asked.push(String(args[0]));
      return real(cmd, args);
    };
    try {
      const { writeFileSync } = await import('node:fs');
      const w = join(dir, 'w.wav');
      writeFileSync(w, encodeWav([tonePcm(400, 100)]));
      const ids = await Promise.all([engine.loadPrompt(w), engine.loadPrompt(w)]);
      expect(ids[0]).toBe(ids[1]);
      expect(await engine.loadPrompt(w)).toBe(ids[0]);
      expect(asked).toEqual([w]);
      const late = join(dir, 'late.wav');
      await expect(engine.loadPrompt(late)).rejects.toThrow();
      writeFileSync(late, encodeWav([tonePcm(400, 100)]));
      expect(await engine.loadPrompt(late)).toMatch(/late\.wav$/);
      expect(asked).toEqual([w, late, late]);
    } finally {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A core with 4 phases whose ticks the test fires itself (tick index, lateness in ms); records what it sends. */
function coreOnManualTicks(): {
  core: EngineCore;
  fire: (k: number, late: number) => void;
  sent: Buffer[];
  sentBy: string[];
} {
  let tick: (k: number, late: number) => void = () => undefined;
  const sent: Buffer[] = [];
  const sentBy: string[] = [];
  const core = new EngineCore(
    { phases: 4 },
    {
      clock: new FakeClock(0),
      ticks: { start: (fn) => (tick = fn), close: () => undefined },
      emit: (e) => {
        if (e.type !== 'xpkt') return;
        sent.push(e.buf);
        sentBy.push(e.ep);
      },
      log: createLogger('test'),
      thread: 'inline',
    },
  );
  return { core, fire: (k, late) => tick(k, late), sent, sentBy };
}

describe('media clock catch-up', () => {
  it('a stalled thread catches up by one frame at most, and ignores backlogged ticks', async () => {
    const { core, fire, sent } = coreOnManualTicks();
    const { id } = await core.createEndpoint('test', {});
    core.handle('setNegotiated', [id, { codec: 'PCMU', payloadType: 0, telephoneEventPt: null, remoteHold: false }]);
    void core.handle('play', [id, [{ toneHz: 300, ms: 10_000 }], {}]);
    for (let k = 0; k < 40; k++) fire(k, 0.1); // 200 ms on time: 10 frames
    expect(sent.length).toBe(10);
    fire(40, 500); // 500 ms late: 100 ticks missed, one frame of catch-up at most
    expect(sent.length).toBeLessThanOrEqual(11);
    const n = sent.length;
    for (let k = 41; k < 140; k++) fire(k, 490 - (k - 41) * 5); // the queued backlog arrives at once
    expect(sent.length - n).toBeLessThanOrEqual(1);
    expect(core.stats().clock.skipped).toBeGreaterThan(90);
    await core.close();
  });
});

describe('media clock: prompts keep to the wall clock', () => {
  it('frames whose time passed while the thread stalled are skipped: the prompt ends on time, seq stays whole', async () => {
    const { core, fire, sent } = coreOnManualTicks();
    const { id } = await core.createEndpoint('test', {});
    core.handle('setNegotiated', [id, { codec: 'PCMU', payloadType: 0, telephoneEventPt: null, remoteHold: false }]);
    let endedAt = -1;
    let k = 0;
    void (core.handle('play', [id, [{ toneHz: 300, ms: 1000 }], {}]) as Promise<unknown>).then(() => (endedAt = k));
    for (; k < 40; k++) fire(k, 0.1); // 200 ms on time: 10 frames
    fire(k, 500); // stalled for 500 ms: 25 frames' time has passed
    k = 141;
    for (; k < 400 && endedAt < 0; k++) {
      fire(k, 0.1);
      await Promise.resolve();
    }
    // 1 s of audio ends about 1 s after it started (tick 200 = 1000 ms), not 500 ms later.
    expect(endedAt).toBeGreaterThanOrEqual(195);
    expect(endedAt).toBeLessThanOrEqual(206);
    const view = new RtpPacketView();
    const heads = sent.map((b) => {
      expect(view.parse(b)).toBe(RtpParseStatus.Ok);
      return { seq: view.sequenceNumber, ts: view.timestamp };
    });
    expect(heads.length).toBeGreaterThanOrEqual(24);
    expect(heads.length).toBeLessThanOrEqual(27);
    const steps = heads.slice(1).map((h, i) => ({
      seq: (h.seq - heads[i]!.seq) & 0xffff,
      ts: (h.ts - heads[i]!.ts) >>> 0,
    }));
    // No sequence gap (nothing was lost on the wire); one timestamp jump over the skipped time (RFC 3550 §5.1).
    expect(steps.every((s) => s.seq === 1)).toBe(true);
    const jumps = steps.filter((s) => s.ts !== 160).map((s) => s.ts);
    expect(jumps).toHaveLength(1);
    expect(jumps[0]).toBeGreaterThanOrEqual(24 * 160);
    expect(jumps[0]).toBeLessThanOrEqual(26 * 160);
    await core.close();
  });

  it('countInPhase counts the ticks of one phase in a range', () => {
    expect(countInPhase(0, 3, 0, 4)).toBe(1);
    expect(countInPhase(0, 7, 3, 4)).toBe(2);
    expect(countInPhase(5, 5, 1, 4)).toBe(1);
    expect(countInPhase(5, 5, 2, 4)).toBe(0);
    expect(countInPhase(6, 5, 2, 4)).toBe(0);
    // Brute force over small ranges.
    for (let lo = 0; lo < 12; lo++)
      for (let hi = lo - 1; hi < 20; hi++)
        for (let ph = 0; ph < 4; ph++) {
          let n = 0;
          for (let t = lo; t <= hi; t++) if (t % 4 === ph) n++;
          expect(countInPhase(lo, hi, ph, 4)).toBe(n);
        }
  });
});

describe('media clock phases', () => {
  it('a new endpoint goes to the least loaded phase, so hang-ups do not leave phases uneven', async () => {
    const { core, fire, sentBy } = coreOnManualTicks();
    const start = async (): Promise<string> => {
      const { id } = await core.createEndpoint('test', {});
      core.handle('setNegotiated', [id, { codec: 'PCMU', payloadType: 0, telephoneEventPt: null, remoteHold: false }]);
      void core.handle('play', [id, [{ toneHz: 300, ms: 10_000 }], {}]);
      return id;
    };
    let k = 0;
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push(await start());
    const first = [0, 1, 2, 3].map(() => {
      sentBy.length = 0;
      fire(k++, 0.1);
      return [...sentBy];
    });
    expect(first.map((p) => p.length)).toEqual([2, 2, 2, 2]);
    // Everyone on phases 0 and 1 hangs up; four new calls must fill those two, not go round-robin.
    for (const id of [...first[0]!, ...first[1]!]) core.handle('closeEndpoint', [id]);
    for (let i = 0; i < 4; i++) await start();
    const after = [0, 1, 2, 3].map(() => {
      sentBy.length = 0;
      fire(k++, 0.1);
      return sentBy.length;
    });
    expect(after).toEqual([2, 2, 2, 2]);
    await core.close();
  });
});
