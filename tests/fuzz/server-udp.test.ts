/**
 * Issue 9: a running server under malformed traffic. Thousands of mutated RFC 4475 messages, random
 * datagrams and garbage TCP streams go to the real server (in-process, loopback); after every batch
 * an OPTIONS must still get 200, and at the end the process is alive and its heap bounded.
 * Run inside a loopback namespace: `unshare -n bash -c 'ip link set lo up; npx vitest run tests/fuzz'`.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { mutatedArb, rfc4475Corpus } from './harness.js';

let ts: TestServer;
let sock: dgram.Socket;
let localPort = 0;
const replies: string[] = [];

beforeAll(async () => {
  ts = await startTestServer({}, { mediaThread: 'inline' });
  sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  localPort = sock.address().port;
  sock.on('message', (m) => replies.push(m.toString('latin1')));
}, 30_000);
afterAll(async () => {
  sock?.close();
  await ts?.stop();
});

function options(tag: string): Buffer {
  return Buffer.from(
    [
      `OPTIONS sip:127.0.0.1:${ts.sipPort} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${localPort};branch=z9hG4bK${tag};rport`,
      'Max-Forwards: 70',
      'From: <sip:probe@127.0.0.1>;tag=1',
      'To: <sip:127.0.0.1>',
      `Call-ID: ${tag}@probe`,
      'CSeq: 1 OPTIONS',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
}

/** OPTIONS, retransmitted like a UAC would (§17.1.2.2 Timer E, 500 ms): the socket buffer may have dropped one. */
async function optionsAnswered(tag: string): Promise<boolean> {
  for (let i = 0; i < 150; i++) {
    if (i % 25 === 0) sock.send(options(tag), ts.sipPort, '127.0.0.1');
    if (replies.some((r) => r.startsWith('SIP/2.0 200') && r.includes(`${tag}@probe`))) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

describe('server under malformed traffic', () => {
  it('keeps answering OPTIONS through 4 000 mutated and random datagrams', async () => {
    const corpus = rfc4475Corpus();
    const gen = fc.oneof(
      { weight: 4, arbitrary: mutatedArb(corpus) },
      { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 1500 }).map((b) => Buffer.from(b)) },
    );
    const inputs = fc.sample(gen, { numRuns: 4000, seed: 12315 }).map((b) => b.subarray(0, 60_000));
    const heap0 = process.memoryUsage().heapUsed;
    let batches = 0;
    for (let i = 0; i < inputs.length; i += 200) {
      for (const b of inputs.slice(i, i + 200)) if (b.length) sock.send(b, ts.sipPort, '127.0.0.1');
      expect(await optionsAnswered(`fz${i}`), `OPTIONS after datagram ${i + 200}`).toBe(true);
      batches++;
    }
    expect(batches).toBe(20);
    // Answers to malformed requests are 400/505/513 (or nothing): never a 500 from a handler that threw.
    const statuses = replies.map((r) => /^SIP\/2\.0 (\d{3})/.exec(r)?.[1]).filter(Boolean);
    expect(statuses.filter((s) => s!.startsWith('5') && !['503', '505', '513'].includes(s!))).toEqual([]);
    expect(process.memoryUsage().heapUsed - heap0).toBeLessThan(200 * 1024 * 1024);
  }, 60_000);

  it('garbage TCP streams are closed or ignored, and a new connection still works', async () => {
    const corpus = rfc4475Corpus();
    const streams = fc.sample(fc.array(mutatedArb(corpus), { minLength: 1, maxLength: 5 }), {
      numRuns: 40,
      seed: 4475,
    });
    for (const parts of streams) {
      const c = net.connect(ts.sipPort, '127.0.0.1');
      c.on('error', () => {});
      await new Promise<void>((r) => c.once('connect', () => r()));
      for (const p of parts) c.write(p);
      c.end();
    }
    expect(await optionsAnswered('after-tcp')).toBe(true);
    // And OPTIONS over TCP itself
    const c = net.connect(ts.sipPort, '127.0.0.1');
    let got = '';
    c.on('data', (d) => (got += d.toString('latin1')));
    await new Promise<void>((r) => c.once('connect', () => r()));
    c.write(options('tcp-ok').toString('latin1').replace('SIP/2.0/UDP', 'SIP/2.0/TCP'));
    for (let i = 0; i < 100 && !got.includes('SIP/2.0 200'); i++) await new Promise((r) => setTimeout(r, 20));
    c.destroy();
    expect(got).toContain('SIP/2.0 200');
  }, 60_000);
});
