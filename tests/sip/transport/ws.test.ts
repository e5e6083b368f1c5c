import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type net from 'node:net';
import WebSocket from 'ws';
import { createResponse } from '../../../server/sip/message/build.js';
import { SipRequest, SipResponse } from '../../../server/sip/message/message.js';
import { parseMessage } from '../../../server/sip/parser/index.js';
import { FakeClock } from '../../../server/util/clock.js';
import { Inbox, request, startLayer } from './helpers.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function wsSetup(extra = {}) {
  const server = http.createServer((_req, res) => res.end('http ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  const { layer, inbox } = await startLayer(extra);
  cleanups.push(() => layer.close());
  layer.attachWebSocket(server, '/sip', false);
  const p = (server.address() as net.AddressInfo).port;
  return { server, layer, inbox, p };
}

async function wsClient(p: number, protocols: string[] | undefined = ['sip'], path = '/sip') {
  const ws = new WebSocket(`ws://127.0.0.1:${p}${path}`, protocols);
  const inbox = new Inbox<{ text: string; binary: boolean }>();
  ws.on('message', (d, isBinary) => inbox.push({ text: d.toString(), binary: isBinary }));
  ws.on('error', () => undefined);
  const closed = new Promise<void>((r) => ws.once('close', () => r()));
  const opened = await new Promise<true | number>((resolve) => {
    ws.once('open', () => resolve(true));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
  });
  cleanups.push(() => ws.terminate());
  return { ws, inbox, opened, closed };
}

describe('SIP over WebSocket (RFC 7118)', () => {
  it('accepts the sip subprotocol, delivers text frames without Content-Length, answers on the same connection', async () => {
    const { layer, inbox, p } = await wsSetup();
    const c = await wsClient(p);
    expect(c.opened).toBe(true);
    expect(c.ws.protocol).toBe('sip');
    c.ws.send(
      request('SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKws1;rport', { method: 'REGISTER', noLength: true }),
    );
    const { msg, source } = await inbox.next();
    expect(msg).toBeInstanceOf(SipRequest);
    expect(source).toMatchObject({ transport: 'WS', address: '127.0.0.1' });
    expect(source.connectionId).toMatch(/^ws-/);
    expect(msg.topVia.params.get('received')).toBe('127.0.0.1');
    expect(msg.topVia.params.get('rport')).toBe(String(source.port));

    const used = await layer.sendResponse(createResponse(msg as SipRequest, 200), source);
    expect(used.connectionId).toBe(source.connectionId);
    const reply = await c.inbox.next();
    expect(reply.binary).toBe(false);
    expect(reply.text).toMatch(/^SIP\/2\.0 200 OK\r\n/);

    // An in-dialog request toward the client: only its own connection reaches it.
    const viaWs = layer.viaFor('WS');
    expect(viaWs).toEqual({ transport: 'WS', host: '127.0.0.1', port: p });
    const bye = parseMessage(Buffer.from(request(`SIP/2.0/WS 127.0.0.1:${p};branch=z9hG4bKws2`, { method: 'BYE' })));
    await layer.send(bye, source);
    expect((await c.inbox.next()).text).toMatch(/^BYE /);
  });

  it('delivers binary frames and answers a CRLF keep-alive', async () => {
    const { inbox, p } = await wsSetup();
    const c = await wsClient(p);
    c.ws.send(Buffer.from(request('SIP/2.0/WSS x.invalid;branch=z9hG4bKbin', { method: 'MESSAGE', body: 'hi' })), {
      binary: true,
    });
    const { msg } = await inbox.next();
    expect(msg.body.toString()).toBe('hi');
    c.ws.send('\r\n\r\n');
    expect((await c.inbox.next()).text).toBe('\r\n');
  });

  it('refuses a handshake without the sip subprotocol (RFC 7118 §4) and leaves other paths alone', async () => {
    const { server, p } = await wsSetup();
    expect((await wsClient(p, [])).opened).toBe(400);
    expect((await wsClient(p, ['chat'])).opened).toBe(400);
    // Another upgrade handler on the same server still gets its own path.
    let otherPath = '';
    server.on('upgrade', (req, socket) => {
      if (req.url === '/other') {
        otherPath = req.url;
        socket.end('HTTP/1.1 418 Teapot\r\nContent-Length: 0\r\n\r\n');
      }
    });
    expect((await wsClient(p, ['sip'], '/other')).opened).toBe(418);
    expect(otherPath).toBe('/other');
  });

  it('cannot send to a WebSocket client without its connection, and reports the close', async () => {
    const closed = new Inbox<string>();
    const { layer, inbox, p } = await wsSetup({
      onConnectionClosed: (e: { connectionId?: string }) => closed.push(e.connectionId!),
    });
    const c = await wsClient(p);
    c.ws.send(request('SIP/2.0/WS h.invalid;branch=z9hG4bKgone', { noLength: true }));
    const { msg, source } = await inbox.next();
    c.ws.close();
    expect(await closed.next()).toBe(source.connectionId);
    await expect(layer.sendResponse(createResponse(msg as SipRequest, 200), source)).rejects.toThrow(/no open WS/);
    expect(layer.stats().sendErrors).toBe(1);
  });

  it('answers garbage requests with 400 on the connection and survives junk frames', async () => {
    const { inbox, p } = await wsSetup();
    const c = await wsClient(p);
    c.ws.send(request('SIP/2.0/WS h.invalid;branch=z9hG4bKbad', { noLength: true }).replace('CSeq: ', 'CSeq: x'));
    expect((await c.inbox.next()).text).toMatch(/^SIP\/2\.0 400 /);
    c.ws.send(Buffer.from([0xff, 0xfe, 0, 1, 2]));
    c.ws.send('garbage');
    c.ws.send(request('SIP/2.0/WS h.invalid;branch=z9hG4bKfine', { noLength: true }));
    expect((await inbox.next()).msg.topVia.params.get('branch')).toBe('z9hG4bKfine');
  });

  it('drops a peer that misses a pong (ping interval from the injected clock)', async () => {
    const clock = new FakeClock();
    const { layer, p } = await wsSetup({ clock, wsPingIntervalMs: 1000 });
    await wsClient(p);
    await new Promise((r) => setTimeout(r, 50));
    expect(layer.connections()).toHaveLength(1);
    clock.advance(1000); // ping sent; the real client answers automatically
    await new Promise((r) => setTimeout(r, 100));
    clock.advance(1000);
    expect(layer.connections()).toHaveLength(1);
    // A client that does not answer pings:
    const silent = new WebSocket(`ws://127.0.0.1:${p}/sip`, ['sip'], { autoPong: false });
    await new Promise((r) => silent.once('open', r));
    cleanups.push(() => silent.terminate());
    await new Promise((r) => setTimeout(r, 50));
    expect(layer.connections()).toHaveLength(2);
    clock.advance(1000);
    await new Promise((r) => setTimeout(r, 100));
    clock.advance(1000);
    await new Promise((r) => setTimeout(r, 50));
    expect(layer.connections()).toHaveLength(1);
  });

  it('routes a response with a WSS Via back over a plain WS connection (TLS-terminating proxy)', async () => {
    const { layer, inbox, p } = await wsSetup();
    const c = await wsClient(p);
    c.ws.send(request('SIP/2.0/WSS proxied.invalid;branch=z9hG4bKpx;rport', { noLength: true }));
    const { msg } = await inbox.next();
    // No source passed: found from received + rport.
    const used = await layer.sendResponse(createResponse(msg as SipRequest, 200));
    expect(used.transport).toBe('WS');
    expect((await c.inbox.next()).text).toMatch(/^SIP\/2\.0 200 /);
  });

  it('close() terminates WebSocket connections and stops taking upgrades', async () => {
    const { layer, p } = await wsSetup();
    const c = await wsClient(p);
    await layer.close();
    await layer.close();
    await c.closed;
    const late = await wsClient(p);
    expect(late.opened).not.toBe(true);
    void SipResponse;
  });
});
