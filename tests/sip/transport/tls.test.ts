import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import type net from 'node:net';
import tls from 'node:tls';
import WebSocket from 'ws';
import { createResponse } from '../../../server/sip/message/build.js';
import { SipRequest } from '../../../server/sip/message/message.js';
import { parseMessage } from '../../../server/sip/parser/index.js';
import { loadTlsContext, TransportLayer } from '../../../server/sip/transport/index.js';
import { Inbox, port, request, startLayer } from './helpers.js';

let dir = '';
const file = (n: string) => path.join(dir, n);

function selfSigned(name: string): void {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.crt`),
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sip-tls-'));
  selfSigned('a');
  selfSigned('b');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('TLS transport', () => {
  it('accepts a TLS client, frames its request and answers on the same connection', async () => {
    const { layer, inbox } = await startLayer({ tls: { port: 0, certFile: file('a.crt'), keyFile: file('a.key') } });
    cleanups.push(() => layer.close());
    const p = port(layer, 'TLS');
    const sock = tls.connect({ host: '127.0.0.1', port: p, ca: fs.readFileSync(file('a.crt')) });
    cleanups.push(() => sock.destroy());
    await new Promise<void>((r, j) => {
      sock.once('secureConnect', () => r());
      sock.once('error', j);
    });
    const data = new Inbox<string>();
    sock.on('data', (d) => data.push(d.toString()));
    sock.write(request('SIP/2.0/TLS client.invalid:5061;branch=z9hG4bKtls1', { method: 'MESSAGE', body: '加密' }));
    const { msg, source } = await inbox.next();
    expect(source.transport).toBe('TLS');
    expect(source.connectionId).toMatch(/^tls-/);
    expect(msg.body.toString()).toBe('加密');
    expect(layer.reliable(source)).toBe(true);
    await layer.sendResponse(createResponse(msg as SipRequest, 200), source);
    expect(await data.next()).toMatch(/^SIP\/2\.0 200 OK\r\n/);
  });

  it('connects out over TLS, verifying the peer against caFile', async () => {
    const b = await startLayer({ tls: { port: 0, certFile: file('b.crt'), keyFile: file('b.key') } });
    const a = await startLayer({
      tls: { port: 0, certFile: file('a.crt'), keyFile: file('a.key'), caFile: file('b.crt') },
    });
    cleanups.push(
      () => a.layer.close(),
      () => b.layer.close(),
    );
    const req = parseMessage(Buffer.from(request(`SIP/2.0/TLS 127.0.0.1:${port(a.layer, 'TLS')};branch=z9hG4bKtls2`)));
    const used = await a.layer.send(req, { transport: 'TLS', address: '127.0.0.1', port: port(b.layer, 'TLS') });
    expect(used.transport).toBe('TLS');
    const got = await b.inbox.next();
    expect(got.msg.topVia.params.get('branch')).toBe('z9hG4bKtls2');

    // A peer whose certificate we do not trust is refused.
    const c = await startLayer({
      tls: { port: 0, certFile: file('a.crt'), keyFile: file('a.key'), caFile: file('a.crt') },
    });
    cleanups.push(() => c.layer.close());
    await expect(
      c.layer.send(req, { transport: 'TLS', address: '127.0.0.1', port: port(b.layer, 'TLS') }),
    ).rejects.toThrow();
  });

  it('carries SIP over WSS on an HTTPS server', async () => {
    const server = https.createServer({ cert: fs.readFileSync(file('a.crt')), key: fs.readFileSync(file('a.key')) });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const { layer, inbox } = await startLayer({});
    layer.attachWebSocket(server, '/sip', true);
    cleanups.push(
      () => layer.close(),
      () => new Promise<void>((r) => server.close(() => r())),
    );
    const p = (server.address() as net.AddressInfo).port;
    const ws = new WebSocket(`wss://127.0.0.1:${p}/sip`, ['sip'], { ca: fs.readFileSync(file('a.crt')) });
    cleanups.unshift(() => ws.terminate());
    const replies = new Inbox<string>();
    ws.on('message', (d) => replies.push(d.toString()));
    await new Promise((r, j) => {
      ws.once('open', r);
      ws.once('error', j);
    });
    ws.send(request('SIP/2.0/WSS a1b2.invalid;branch=z9hG4bKwss', { method: 'REGISTER', noLength: true }));
    const { msg, source } = await inbox.next();
    expect(source.transport).toBe('WSS');
    expect(layer.info().map((i) => i.transport)).toEqual(['WSS']);
    await layer.sendResponse(createResponse(msg as SipRequest, 200), source);
    expect(await replies.next()).toMatch(/^SIP\/2\.0 200 OK/);
  });

  it('gives clear errors for missing files and a key that does not match', async () => {
    expect(() => loadTlsContext(file('missing.crt'), file('a.key'))).toThrow(
      /certificate file .*missing\.crt cannot be read \(ENOENT\)/,
    );
    expect(() => loadTlsContext(file('a.crt'), file('missing.key'))).toThrow(/private key file .*missing\.key/);
    expect(() => loadTlsContext(file('a.crt'), file('b.key'))).toThrow(/does not match certificate/);
    const layer = new TransportLayer({
      host: '127.0.0.1',
      udpPort: 0,
      tls: { port: 0, certFile: file('a.crt'), keyFile: file('b.key') },
      onMessage: () => undefined,
    });
    await expect(layer.listen()).rejects.toThrow(/does not match/);
    expect(layer.info()).toEqual([]);
    await layer.close();
  });
});
