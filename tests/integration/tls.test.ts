/**
 * With TLS_CERT/TLS_KEY the server offers SIP over TLS, HTTPS and SIP over WSS; a missing or
 * mismatched certificate stops the start with an error that names the file.
 */
import { execFileSync } from 'node:child_process';
import https from 'node:https';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { freeTcpPort } from '../helpers/ports.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';

let dir: string;
let ts: TestServer;
let cert: Buffer;

function makeCert(name: string): { cert: string; key: string } {
  const key = path.join(dir, `${name}.key`);
  const crt = path.join(dir, `${name}.crt`);
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
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      crt,
    ],
    { stdio: 'ignore' },
  );
  return { cert: crt, key };
}

beforeAll(async () => {
  dir = makeTempDir('tls-test-');
  const c = makeCert('server');
  cert = fs.readFileSync(c.cert);
  ts = await startTestServer({ TLS_CERT: c.cert, TLS_KEY: c.key, SIP_TLS_PORT: String(await freeTcpPort()) });
});
afterAll(async () => {
  await ts?.stop();
  removeTempDir(dir);
});

it('serves HTTPS and lists SIP over TLS and WSS', async () => {
  const port = ts.server.listening().http!.port;
  const body = await new Promise<string>((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port, path: '/api/health', ca: cert }, (res) => {
        let d = '';
        res.on('data', (c) => (d += c));
        res.on('end', () => resolve(d));
      })
      .on('error', reject);
  });
  const health = JSON.parse(body) as { sip: { transport: string }[] };
  expect(health.sip.map((s) => s.transport)).toEqual(expect.arrayContaining(['UDP', 'TCP', 'TLS', 'WSS']));
});

it('answers OPTIONS over WSS (subprotocol sip) with a verified certificate', async () => {
  const port = ts.server.listening().http!.port;
  const ws = new WebSocket(`wss://127.0.0.1:${port}/sip`, 'sip', { ca: cert });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const reply = new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())));
  ws.send(
    [
      `OPTIONS sip:127.0.0.1 SIP/2.0`,
      'Via: SIP/2.0/WSS abc.invalid;branch=z9hG4bKwss1',
      'Max-Forwards: 70',
      'From: <sip:probe@abc.invalid>;tag=1',
      'To: <sip:127.0.0.1>',
      'Call-ID: wss-options-1',
      'CSeq: 1 OPTIONS',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
  expect((await reply).split('\r\n')[0]).toBe('SIP/2.0 200 OK');
  ws.close();
});

it('a missing certificate or a key of another certificate stops the start with a clear error', async () => {
  await expect(
    startTestServer({ TLS_CERT: path.join(dir, 'nope.crt'), TLS_KEY: path.join(dir, 'nope.key') }),
  ).rejects.toThrow(/nope\.crt cannot be read/);
  const other = makeCert('other');
  const first = path.join(dir, 'server.crt');
  await expect(startTestServer({ TLS_CERT: first, TLS_KEY: other.key })).rejects.toThrow(/does not match/);
});
