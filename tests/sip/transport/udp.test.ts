import { afterEach, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import net from 'node:net';
import { createResponse } from '../../../server/sip/message/build.js';
import { SipRequest, SipResponse } from '../../../server/sip/message/message.js';
import { parseMessage } from '../../../server/sip/parser/index.js';
import { FakeClock } from '../../../server/util/clock.js';
import type { TransportLayer } from '../../../server/sip/transport/index.js';
import { Inbox, port, request, startLayer, udpClient } from './helpers.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function layerWithClient(host = '127.0.0.1', type: 'udp4' | 'udp6' = 'udp4', extra = {}) {
  const { layer, inbox } = await startLayer({ host, udpPort: 0, ...extra });
  const client = await udpClient(type);
  cleanups.push(
    () => layer.close(),
    () => client.close(),
  );
  return { layer, inbox, client, p: port(layer, 'UDP') };
}

describe('UDP transport', () => {
  it('stamps received and rport on a request and routes the response to rport (RFC 3581 §4)', async () => {
    const { layer, inbox, client, p } = await layerWithClient();
    // sent-by says 192.0.2.1:5999 (a NATed phone); the packet comes from 127.0.0.1:<ephemeral>.
    await client.send(request('SIP/2.0/UDP 192.0.2.1:5999;branch=z9hG4bKudp1;rport'), p);
    const { msg, source } = await inbox.next();
    expect(msg).toBeInstanceOf(SipRequest);
    expect(source).toEqual({ transport: 'UDP', address: '127.0.0.1', port: client.port });
    expect(msg.source).toEqual(source);
    const via = msg.topVia;
    expect(via.params.get('received')).toBe('127.0.0.1');
    expect(via.params.get('rport')).toBe(String(client.port));
    expect(via.params.get('branch')).toBe('z9hG4bKudp1');

    const used = await layer.sendResponse(createResponse(msg as SipRequest, 200));
    expect(used).toEqual({ transport: 'UDP', address: '127.0.0.1', port: client.port });
    const res = parseMessage(Buffer.from(await client.inbox.next(), 'latin1'));
    expect(res).toBeInstanceOf(SipResponse);
    expect((res as SipResponse).status).toBe(200);
    expect(res.topVia.params.get('received')).toBe('127.0.0.1');
    expect(res.topVia.params.get('rport')).toBe(String(client.port));
    expect(layer.stats()).toMatchObject({ received: 1, sent: 1 });
  });

  it('adds no received when sent-by is the source address and rport was not asked for (§18.2.1)', async () => {
    const { inbox, client, p } = await layerWithClient();
    await client.send(request(`SIP/2.0/UDP 127.0.0.1:${client.port};branch=z9hG4bKudp2`), p);
    const { msg } = await inbox.next();
    expect(msg.topVia.params.has('received')).toBe(false);
    expect(msg.topVia.params.has('rport')).toBe(false);
  });

  it('adds received for a domain-name sent-by and answers to received + sent-by port (§18.2.2)', async () => {
    const { layer, inbox, client, p } = await layerWithClient();
    await client.send(request(`SIP/2.0/UDP phone.example.test:${client.port};branch=z9hG4bKudp3`), p);
    const { msg } = await inbox.next();
    expect(msg.topVia.params.get('received')).toBe('127.0.0.1');
    await layer.sendResponse(createResponse(msg as SipRequest, 486));
    expect(await client.inbox.next()).toMatch(/^SIP\/2\.0 486 /);
  });

  it('works over IPv6 (::1), with a bare IPv6 received', async () => {
    const { layer, inbox, client, p } = await layerWithClient('::1', 'udp6');
    await client.send(request('SIP/2.0/UDP [2001:db8::9]:5060;branch=z9hG4bKudp6;rport'), p);
    const { msg, source } = await inbox.next();
    expect(source.address).toBe('::1');
    expect(msg.topVia.params.get('received')).toBe('::1');
    expect(msg.topVia.params.get('rport')).toBe(String(client.port));
    await layer.sendResponse(createResponse(msg as SipRequest, 200));
    expect(await client.inbox.next()).toMatch(/^SIP\/2\.0 200 /);
    expect(layer.viaFor('UDP')).toEqual({ transport: 'UDP', host: '[::1]', port: p });
  });

  it('answers an oversize datagram with 513 when its headers are readable, else drops it', async () => {
    const { layer, inbox, client, p } = await layerWithClient('127.0.0.1', 'udp4', { maxUdpBytes: 2000 });
    const big = request(`SIP/2.0/UDP 127.0.0.1:${client.port};branch=z9hG4bKbig`, {
      method: 'MESSAGE',
      body: 'x'.repeat(3000),
    });
    await client.send(big, p);
    const reply = await client.inbox.next();
    expect(reply).toMatch(/^SIP\/2\.0 513 /);
    expect(reply).toContain('branch=z9hG4bKbig');
    await client.send(Buffer.alloc(4000, 0x41), p); // no header section at all
    expect(await client.inbox.quiet(300)).toBe(true);
    expect(await inbox.quiet(50)).toBe(true);
    expect(layer.stats().oversize).toBe(2);
  });

  it('answers a malformed request with 400, drops a malformed response, survives garbage', async () => {
    const { layer, inbox, client, p } = await layerWithClient();
    const bad = request(`SIP/2.0/UDP 127.0.0.1:${client.port};branch=z9hG4bKbad`).replace(
      'CSeq: ',
      'CSeq: notanumber ',
    );
    await client.send(bad, p);
    expect(await client.inbox.next()).toMatch(/^SIP\/2\.0 400 /);
    await client.send('SIP/2.0 200 OK\r\nVia: nonsense\r\n\r\n', p);
    for (let i = 0; i < 50; i++) {
      const junk = Buffer.from(Array.from({ length: 1 + ((i * 37) % 900) }, (_, j) => (i * 31 + j * 7) % 256));
      await client.send(junk, p);
    }
    expect(await client.inbox.quiet(300)).toBe(true);
    await client.send(request(`SIP/2.0/UDP 127.0.0.1:${client.port};branch=z9hG4bKok`), p);
    const { msg } = await inbox.next();
    expect(msg.topVia.params.get('branch')).toBe('z9hG4bKok');
    expect(layer.stats().parseErrors).toBeGreaterThanOrEqual(2);
  });

  it('drops responses whose top Via is not ours (§18.1.2) and delivers ours', async () => {
    const { layer, inbox, client, p } = await layerWithClient();
    const resp = (via: string) =>
      `SIP/2.0 200 OK\r\nVia: ${via}\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: r1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;
    await client.send(resp('SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKx'), p);
    expect(await inbox.quiet(200)).toBe(true);
    expect(layer.stats().foreignResponses).toBe(1);
    await client.send(resp(`SIP/2.0/UDP 127.0.0.1:${p};branch=z9hG4bKy`), p);
    const { msg } = await inbox.next();
    expect(msg).toBeInstanceOf(SipResponse);
  });

  it('rate-limits a flood from one source before parsing, per source', async () => {
    // The bucket's clock stands still, so exactly the burst gets through.
    const clock = new FakeClock();
    const { layer, inbox, client, p } = await layerWithClient('127.0.0.1', 'udp4', {
      clock,
      rateLimit: { perSecond: 5, burst: 10 },
    });
    for (let i = 0; i < 60; i++)
      await client.send(request(`SIP/2.0/UDP 127.0.0.1:${client.port};branch=z9hG4bKf${i}`), p);
    await client.send(Buffer.from('garbage that would count as a parse error'), p);
    // Another source address (127.0.0.2, still loopback) has its own budget.
    const other = dgram.createSocket('udp4');
    cleanups.push(() => other.close());
    await new Promise<void>((r) => other.bind(0, '127.0.0.2', () => r()));
    await new Promise<void>((r) =>
      other.send(request('SIP/2.0/UDP 127.0.0.2;branch=z9hG4bKother'), p, '127.0.0.1', () => r()),
    );
    let fromOther = await inbox.next();
    while (fromOther.source.address !== '127.0.0.2') fromOther = await inbox.next();
    expect(fromOther.msg.topVia.params.get('branch')).toBe('z9hG4bKother');
    await new Promise((r) => setTimeout(r, 100));
    expect(layer.stats()).toMatchObject({ received: 11, rateLimited: 51, parseErrors: 0 });
    clock.advance(200); // one token back at 5/s
    await client.send(request(`SIP/2.0/UDP 127.0.0.1:${client.port};branch=z9hG4bKlater`), p);
    await client.send(request(`SIP/2.0/UDP 127.0.0.1:${client.port};branch=z9hG4bKlater2`), p);
    await new Promise((r) => setTimeout(r, 100));
    expect(layer.stats()).toMatchObject({ received: 12, rateLimited: 52 });
  });

  it('sends a request over 1300 bytes by TCP with the Via rewritten, UDP when TCP fails (§18.1.1)', async () => {
    const { layer } = await startLayer({ udpPort: 0, tcpPort: 0 });
    cleanups.push(() => layer.close());
    // A peer listening on the same port number for both TCP and UDP.
    const tcpPeer = net.createServer();
    const tcpData = new Inbox<string>();
    const peerSockets: net.Socket[] = [];
    tcpPeer.on('connection', (s) => {
      peerSockets.push(s);
      s.on('data', (d) => tcpData.push(d.toString('latin1')));
    });
    await new Promise<void>((r) => tcpPeer.listen(0, '127.0.0.1', () => r()));
    const peerPort = (tcpPeer.address() as net.AddressInfo).port;
    const udpPeer = dgram.createSocket('udp4');
    const udpData = new Inbox<string>();
    udpPeer.on('message', (m) => udpData.push(m.toString('latin1')));
    await new Promise<void>((r) => udpPeer.bind(peerPort, '127.0.0.1', () => r()));
    cleanups.push(() => udpPeer.close());

    const req = parseMessage(
      Buffer.from(
        request(`SIP/2.0/UDP 127.0.0.1:${port(layer, 'UDP')};branch=z9hG4bKlarge`, {
          method: 'MESSAGE',
          body: 'y'.repeat(1500),
        }),
      ),
    );
    const used = await layer.send(req, { transport: 'UDP', address: '127.0.0.1', port: peerPort });
    expect(used.transport).toBe('TCP');
    expect(await tcpData.next()).toContain(`Via: SIP/2.0/TCP 127.0.0.1:${port(layer, 'TCP')};branch=z9hG4bKlarge`);

    for (const s of peerSockets) s.destroy();
    await new Promise<void>((r) => tcpPeer.close(() => r()));
    for (const c of layer.connections()) expect(c.transport).toBe('TCP');
    await closeAll(layer);
    const again = await layer.send(req, { transport: 'UDP', address: '127.0.0.1', port: peerPort });
    expect(again.transport).toBe('UDP');
    expect(await udpData.next()).toContain(`Via: SIP/2.0/UDP 127.0.0.1:${port(layer, 'UDP')};branch=z9hG4bKlarge`);
  });

  it('close() twice is fine and later sends fail', async () => {
    const { layer } = await startLayer({ udpPort: 0, tcpPort: 0 });
    await layer.close();
    await layer.close();
    const req = parseMessage(Buffer.from(request('SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKc')));
    await expect(layer.send(req, { transport: 'UDP', address: '127.0.0.1', port: 9 })).rejects.toThrow(/closed/);
    await expect(layer.listen()).rejects.toThrow();
  });
});

/** Waits until the peer-closed TCP connection has left the table. */
async function closeAll(layer: TransportLayer): Promise<void> {
  for (let i = 0; i < 50 && layer.connections().length > 0; i++) await new Promise((r) => setTimeout(r, 20));
}
