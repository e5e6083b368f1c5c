import dgram from 'node:dgram';
import net from 'node:net';
import type { Endpoint } from '../../../server/sip/message/types.js';
import { TransportLayer, type SipMsg, type TransportLayerOptions } from '../../../server/sip/transport/index.js';

/** A queue that test code can await items from. */
export class Inbox<T> {
  private readonly items: T[] = [];
  private readonly waiters: ((v: T) => void)[] = [];
  push(v: T): void {
    const w = this.waiters.shift();
    if (w) w(v);
    else this.items.push(v);
  }
  get length(): number {
    return this.items.length;
  }
  next(ms = 3000): Promise<T> {
    const v = this.items.shift();
    if (v !== undefined) return Promise.resolve(v);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        const i = this.waiters.indexOf(done);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error('timed out waiting'));
      }, ms);
      const done = (x: T) => {
        clearTimeout(t);
        resolve(x);
      };
      this.waiters.push(done);
    });
  }
  /** Resolves true if nothing arrives within ms. */
  async quiet(ms = 300): Promise<boolean> {
    try {
      await this.next(ms);
      return false;
    } catch {
      return true;
    }
  }
}

export interface Received {
  msg: SipMsg;
  source: Endpoint;
}

export async function startLayer(
  opts: Partial<TransportLayerOptions> = {},
): Promise<{ layer: TransportLayer; inbox: Inbox<Received> }> {
  const inbox = new Inbox<Received>();
  const layer = new TransportLayer({
    host: '127.0.0.1',
    ...opts,
    onMessage: (msg, source) => inbox.push({ msg, source }),
  });
  await layer.listen();
  return { layer, inbox };
}

export function port(layer: TransportLayer, t: Endpoint['transport']): number {
  const i = layer.info().find((x) => x.transport === t);
  if (!i) throw new Error(`no ${t}`);
  return i.port;
}

let seq = 0;
/** A minimal valid request. `via` is the whole Via value. */
export function request(
  via: string,
  opts: { method?: string; body?: string; extra?: string; noLength?: boolean } = {},
) {
  const method = opts.method ?? 'OPTIONS';
  const body = opts.body ?? '';
  const n = ++seq;
  return (
    `${method} sip:12315@127.0.0.1 SIP/2.0\r\n` +
    `Via: ${via}\r\n` +
    `Max-Forwards: 70\r\n` +
    `From: <sip:agent${n}@example.test>;tag=f${n}\r\n` +
    `To: <sip:12315@127.0.0.1>\r\n` +
    `Call-ID: call-${n}@test\r\n` +
    `CSeq: ${n} ${method}\r\n` +
    (opts.extra ?? '') +
    (opts.noLength ? '' : `Content-Length: ${Buffer.byteLength(body)}\r\n`) +
    `\r\n${body}`
  );
}

export async function udpClient(type: 'udp4' | 'udp6' = 'udp4') {
  const sock = dgram.createSocket(type);
  const inbox = new Inbox<string>();
  sock.on('message', (m) => inbox.push(m.toString('latin1')));
  await new Promise<void>((r) => sock.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', () => r()));
  const send = (data: string | Buffer, p: number) =>
    new Promise<void>((r, j) => sock.send(data, p, type === 'udp4' ? '127.0.0.1' : '::1', (e) => (e ? j(e) : r())));
  return { sock, port: sock.address().port, inbox, send, close: () => sock.close() };
}

export async function tcpClient(p: number) {
  const sock = net.connect({ host: '127.0.0.1', port: p });
  await new Promise<void>((r, j) => {
    sock.once('connect', () => r());
    sock.once('error', j);
  });
  sock.on('error', () => undefined);
  let data = '';
  const chunks = new Inbox<string>();
  sock.on('data', (d) => {
    data += d.toString('latin1');
    chunks.push(d.toString('latin1'));
  });
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  /** Waits until the accumulated data satisfies pred. */
  const until = async (pred: (all: string) => boolean, ms = 3000) => {
    const end = Date.now() + ms;
    while (!pred(data)) {
      if (Date.now() > end) throw new Error(`timed out; got ${JSON.stringify(data.slice(0, 200))}`);
      await chunks.next(end - Date.now()).catch(() => undefined);
    }
    return data;
  };
  return { sock, port: sock.localPort!, until, closed, all: () => data };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
