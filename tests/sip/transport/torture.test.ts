import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import type { TransportLayer } from '../../../server/sip/transport/index.js';
import { Inbox, port, request, startLayer, tcpClient, udpClient, type Received } from './helpers.js';

/** RFC 4475 torture messages through real sockets: valid requests arrive, nothing crashes the layer. */
const dir = path.resolve('tests/fixtures/rfc4475');
const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')) as Record<string, { class: string }>;
const files = Object.keys(index);

let layer: TransportLayer;
let inbox: Inbox<Received>;
beforeAll(async () => {
  ({ layer, inbox } = await startLayer({ udpPort: 0, tcpPort: 0 }));
});
afterAll(() => layer.close());

const isRequest = (data: Buffer) => !data.subarray(0, 8).toString('latin1').startsWith('SIP/');
const callIdOf = (data: Buffer) => /^(?:call-id|i)[ \t]*:[ \t]*(\S+)/im.exec(data.toString('latin1'))?.[1];

/** Skips what earlier (semantic-class) files delivered, up to the message with this Call-ID. */
async function deliveredWith(callId: string | undefined): Promise<Received> {
  for (;;) {
    const r = await inbox.next();
    if (r.msg.callId === callId) return r;
  }
}

describe('RFC 4475 messages through the transport layer', () => {
  it('UDP: every valid request is delivered with a stamped Via; invalid ones never crash it', async () => {
    const client = await udpClient();
    try {
      const p = port(layer, 'UDP');
      for (const name of files) {
        const data = fs.readFileSync(path.join(dir, `${name}.dat`));
        await client.send(data, p);
        if (index[name]!.class === 'valid' && isRequest(data)) {
          const { msg, source } = await deliveredWith(callIdOf(data));
          expect(source.port, name).toBe(client.port);
          // Every torture Via names a host other than 127.0.0.1, so received must be there.
          expect(msg.topVia.params.get('received'), name).toBe('127.0.0.1');
        }
      }
      // Drain what the semantic cases delivered, then prove the layer still serves.
      while (!(await inbox.quiet(100)));
      await client.send(request(`SIP/2.0/UDP 127.0.0.1:${client.port};branch=z9hG4bKafter`), p);
      expect((await inbox.next()).msg.topVia.params.get('branch')).toBe('z9hG4bKafter');
    } finally {
      client.close();
    }
  });

  it('TCP: each file on its own connection; valid requests with Content-Length are delivered', async () => {
    const p = port(layer, 'TCP');
    for (const name of files) {
      const data = fs.readFileSync(path.join(dir, `${name}.dat`));
      const c = await tcpClient(p);
      c.sock.write(data);
      const hasLength = /^(content-length|l)\s*:/im.test(data.toString('latin1'));
      if (index[name]!.class === 'valid' && isRequest(data) && hasLength) {
        const { source } = await deliveredWith(callIdOf(data));
        expect(source.transport, name).toBe('TCP');
      }
      c.sock.destroy();
    }
    while (!(await inbox.quiet(100)));
    const c = await tcpClient(p);
    c.sock.write(request('SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKtcpafter'));
    expect((await inbox.next()).msg.topVia.params.get('branch')).toBe('z9hG4bKtcpafter');
    c.sock.destroy();
  });
});
