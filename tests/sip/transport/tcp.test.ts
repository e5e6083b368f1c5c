import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { createResponse } from '../../../server/sip/message/build.js';
import { SipRequest } from '../../../server/sip/message/message.js';
import { parseMessage } from '../../../server/sip/parser/index.js';
import { FakeClock } from '../../../server/util/clock.js';
import { Inbox, port, request, sleep, startLayer, tcpClient } from './helpers.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function tcpLayer(extra = {}) {
  const r = await startLayer({ tcpPort: 0, ...extra });
  cleanups.push(() => r.layer.close());
  return { ...r, p: port(r.layer, 'TCP') };
}

describe('TCP transport', () => {
  it('frames pipelined and split messages and tags them with the connection', async () => {
    const { inbox, p } = await tcpLayer();
    const c = await tcpClient(p);
    cleanups.push(() => c.sock.destroy());
    const via = (n: number) => `SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKt${n}`;
    const m1 = request(via(1), { method: 'MESSAGE', body: 'one' });
    const m2 = request(via(2), { method: 'MESSAGE', body: 'two\r\n\r\nstill two' });
    const m3 = request(via(3));
    c.sock.write('\r\n' + m1 + m2 + m3.slice(0, 30));
    await sleep(50);
    c.sock.write(m3.slice(30, 31));
    await sleep(50);
    c.sock.write(m3.slice(31));
    const got = [await inbox.next(), await inbox.next(), await inbox.next()];
    expect(got.map((g) => g.msg.topVia.params.get('branch'))).toEqual(['z9hG4bKt1', 'z9hG4bKt2', 'z9hG4bKt3']);
    expect(got[1]!.msg.body.toString()).toBe('two\r\n\r\nstill two');
    const ids = new Set(got.map((g) => g.source.connectionId));
    expect(ids.size).toBe(1);
    expect(got[0]!.source).toMatchObject({ transport: 'TCP', address: '127.0.0.1', port: c.port });
    expect([...ids][0]).toMatch(/^tcp-/);
    // sent-by port 5070 is the client's listening port; the connection comes from another.
    expect(got[0]!.msg.topVia.params.get('received')).toBeUndefined();
  });

  it('sends the response over the connection the request came on (§18.2.2)', async () => {
    const { layer, inbox, p } = await tcpLayer();
    const c = await tcpClient(p);
    cleanups.push(() => c.sock.destroy());
    c.sock.write(request('SIP/2.0/TCP client.invalid:5070;branch=z9hG4bKr1'));
    const { msg, source } = await inbox.next();
    const used = await layer.sendResponse(createResponse(msg as SipRequest, 200), source);
    expect(used.connectionId).toBe(source.connectionId);
    const data = await c.until((d) => d.includes('\r\n\r\n'));
    expect(data).toMatch(/^SIP\/2\.0 200 OK\r\n/);
    expect(layer.connections()).toHaveLength(1);
  });

  it('finds the connection from received+rport when the caller has no source', async () => {
    const { layer, inbox, p } = await tcpLayer();
    const c = await tcpClient(p);
    cleanups.push(() => c.sock.destroy());
    c.sock.write(request('SIP/2.0/TCP client.invalid:5070;branch=z9hG4bKr2;rport'));
    const { msg } = await inbox.next();
    expect(msg.topVia.params.get('rport')).toBe(String(c.port));
    await layer.sendResponse(createResponse(msg as SipRequest, 180));
    expect(await c.until((d) => d.includes('\r\n\r\n'))).toMatch(/^SIP\/2\.0 180 /);
  });

  it('answers CRLFCRLF keep-alive with CRLF (RFC 5626 §4.4.1)', async () => {
    const { p } = await tcpLayer();
    const c = await tcpClient(p);
    cleanups.push(() => c.sock.destroy());
    c.sock.write('\r\n\r\n');
    expect(await c.until((d) => d.length >= 2)).toBe('\r\n');
  });

  it('answers a missing Content-Length with 400 and closes the connection (§18.3)', async () => {
    const { layer, inbox, p } = await tcpLayer();
    const c = await tcpClient(p);
    c.sock.write(request('SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKnocl', { noLength: true }));
    expect(await c.until((d) => d.includes('\r\n\r\n'))).toMatch(/^SIP\/2\.0 400 /);
    await c.closed;
    expect(await inbox.quiet(50)).toBe(true);
    expect(layer.stats().parseErrors).toBe(1);
  });

  it('closes a connection sending an endless header list, without answering', async () => {
    const { p } = await tcpLayer({ limits: { maxHeaderBytes: 4096 } });
    const c = await tcpClient(p);
    c.sock.write('INVITE sip:x@127.0.0.1 SIP/2.0\r\n');
    for (let i = 0; i < 400 && !c.sock.destroyed; i++) c.sock.write(`X-H${i}: ${'z'.repeat(40)}\r\n`);
    await c.closed;
    expect(c.all()).toBe('');
  });

  it('survives garbage and keeps serving other connections', async () => {
    const { inbox, p } = await tcpLayer();
    const g = await tcpClient(p);
    g.sock.write(Buffer.from([0, 1, 2, 255, 13, 10, 13, 10, 65, 66]));
    g.sock.write('NOT SIP AT ALL\r\nContent-Length: 2\r\n\r\nxx');
    await sleep(100);
    const c = await tcpClient(p);
    cleanups.push(
      () => c.sock.destroy(),
      () => g.sock.destroy(),
    );
    c.sock.write(request('SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKalive'));
    expect((await inbox.next()).msg.topVia.params.get('branch')).toBe('z9hG4bKalive');
  });

  it('opens an outbound connection, reuses it, and delivers the answer coming back on it', async () => {
    const a = await tcpLayer();
    const b = await tcpLayer();
    const req = parseMessage(Buffer.from(request(`SIP/2.0/TCP 127.0.0.1:${a.p};branch=z9hG4bKout`)));
    const used = await a.layer.send(req, { transport: 'TCP', address: '127.0.0.1', port: b.p });
    expect(used.connectionId).toMatch(/^tcp-/);
    const got = await b.inbox.next();
    await b.layer.sendResponse(createResponse(got.msg as SipRequest, 200), got.source);
    const res = await a.inbox.next();
    expect(res.source.connectionId).toBe(used.connectionId);
    const again = await a.layer.send(req, { transport: 'TCP', address: '127.0.0.1', port: b.p });
    expect(again.connectionId).toBe(used.connectionId);
    expect(a.layer.connections()).toHaveLength(1);
  });

  it('concurrent sends to a new peer share one outbound connection', async () => {
    const a = await tcpLayer();
    const b = await tcpLayer();
    const msgs = [1, 2, 3, 4].map((n) =>
      parseMessage(Buffer.from(request(`SIP/2.0/TCP 127.0.0.1:${a.p};branch=z9hG4bKcc${n}`))),
    );
    const used = await Promise.all(
      msgs.map((m) => a.layer.send(m, { transport: 'TCP', address: '127.0.0.1', port: b.p })),
    );
    expect(new Set(used.map((u) => u.connectionId)).size).toBe(1);
    const got = await Promise.all([1, 2, 3, 4].map(() => b.inbox.next()));
    expect(new Set(got.map((g) => g.source.connectionId)).size).toBe(1);
    expect(a.layer.connections()).toHaveLength(1);
  });

  it('fails a send to a closed port and counts it', async () => {
    const a = await tcpLayer();
    const req = parseMessage(Buffer.from(request(`SIP/2.0/TCP 127.0.0.1:${a.p};branch=z9hG4bKrefused`)));
    await expect(a.layer.send(req, { transport: 'TCP', address: '127.0.0.1', port: 1 })).rejects.toThrow();
    expect(a.layer.stats().sendErrors).toBe(1);
  });

  it('caps connections per source address', async () => {
    const { layer, p } = await tcpLayer({ maxConnectionsPerSource: 2 });
    const c1 = await tcpClient(p);
    const c2 = await tcpClient(p);
    cleanups.push(
      () => c1.sock.destroy(),
      () => c2.sock.destroy(),
    );
    await sleep(50);
    const c3 = await tcpClient(p);
    await c3.closed;
    expect(layer.stats()).toMatchObject({ connections: 2, connectionsRejected: 1 });
  });

  it('closes idle connections after idleTimeoutMs of the injected clock', async () => {
    const clock = new FakeClock();
    const closedIds = new Inbox<string>();
    const { layer, inbox, p } = await tcpLayer({
      clock,
      idleTimeoutMs: 1000,
      onConnectionClosed: (e: { connectionId?: string }) => closedIds.push(e.connectionId ?? ''),
    });
    const c = await tcpClient(p);
    c.sock.write(request('SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKidle'));
    const { source } = await inbox.next();
    clock.advance(600);
    c.sock.write('\r\n\r\n'); // activity resets the idle timer
    await c.until((d) => d === '\r\n');
    clock.advance(600);
    expect(layer.connections()).toHaveLength(1);
    clock.advance(500);
    await c.closed;
    expect(await closedIds.next()).toBe(source.connectionId);
    expect(layer.connections()).toHaveLength(0);
  });

  it('close() shuts every connection and the listener, and is idempotent', async () => {
    const { layer } = await startLayer({ tcpPort: 0 });
    const p = port(layer, 'TCP');
    const c = await tcpClient(p);
    await Promise.all([layer.close(), layer.close()]);
    await c.closed;
    await layer.close();
    const refused = await new Promise<string>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: p });
      s.once('connect', () => {
        s.destroy();
        resolve('connected');
      });
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });
});
