/**
 * A userspace stand-in for `tc qdisc … netem loss 5% delay 0-50ms` (sch_netem is missing from this
 * kernel): a UDP relay on loopback between peers and the server. Each datagram, in either direction,
 * is dropped with probability `loss` or delivered after a uniform random delay in [0, jitterMs]
 * (which also reorders, as netem's jitter does). One upstream socket per client address, so the
 * server sees one source per client and answers it through the relay (peers must ask for rport).
 *
 * With `media: true` the relay also carries RTP, as an SBC would: it rewrites the audio address of
 * every SDP body that passes (per Call-ID) to a relay socket, so both sides send their RTP through
 * it and both directions get the same loss and jitter. RTCP is not relayed.
 */
import dgram from 'node:dgram';

export interface ImpairOptions {
  /** Where to forward: the server. */
  target: { host: string; port: number };
  loss: number;
  jitterMs: number;
  /** Deterministic randomness for reproducible runs. */
  random?: () => number;
  /** Relay (and impair) RTP too, by rewriting SDP. */
  media?: boolean;
}

/** One call's RTP path: the client talks to `clientSide`, the server to `serverSide`. */
interface MediaPair {
  clientSide: dgram.Socket;
  serverSide: dgram.Socket;
  client: { address: string; port: number } | null;
  server: { address: string; port: number } | null;
}

export interface ImpairStats {
  forwarded: number;
  dropped: number;
}

export class ImpairRelay {
  readonly stats = { up: { forwarded: 0, dropped: 0 }, down: { forwarded: 0, dropped: 0 } };
  /** RTP only (with `media`): up = client → server. */
  readonly mediaStats = { up: { forwarded: 0, dropped: 0 }, down: { forwarded: 0, dropped: 0 } };
  /** Call-IDs of the INVITEs that came in from clients: the calls this relay carried. */
  readonly inviteCallIds = new Set<string>();
  private readonly media = new Map<string, MediaPair>();
  private readonly front = dgram.createSocket('udp4');
  private readonly upstream = new Map<string, dgram.Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  private readonly rnd: () => number;

  private constructor(private readonly o: ImpairOptions) {
    this.rnd = o.random ?? Math.random;
  }

  static async start(o: ImpairOptions): Promise<ImpairRelay> {
    const r = new ImpairRelay(o);
    await new Promise<void>((res) => r.front.bind(0, '127.0.0.1', res));
    r.front.on('message', (msg, from) => r.fromClient(msg, from));
    return r;
  }

  get port(): number {
    return this.front.address().port;
  }

  private impair(dir: ImpairStats, send: () => void): void {
    if (this.rnd() < this.o.loss) {
      dir.dropped++;
      return;
    }
    dir.forwarded++;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.closed) send();
    }, this.rnd() * this.o.jitterMs);
    this.timers.add(t);
  }

  private fromClient(msg: Buffer, from: dgram.RemoteInfo): void {
    const key = `${from.address}:${from.port}`;
    let up = this.upstream.get(key);
    if (!up) {
      up = dgram.createSocket('udp4');
      up.bind(0, '127.0.0.1');
      up.on('message', (back) => {
        void this.maybeRewrite(back, 'toClient').then((out) =>
          this.impair(this.stats.down, () => this.front.send(out, from.port, from.address)),
        );
      });
      this.upstream.set(key, up);
    }
    const sock = up;
    if (msg.subarray(0, 7).toString('latin1') === 'INVITE ') {
      const callId = /^(?:Call-ID|i)\s*:\s*(\S+)/im.exec(msg.toString('latin1'))?.[1];
      if (callId) this.inviteCallIds.add(callId);
    }
    void this.maybeRewrite(msg, 'toServer').then((out) =>
      this.impair(this.stats.up, () => sock.send(out, this.o.target.port, this.o.target.host)),
    );
  }

  private async maybeRewrite(msg: Buffer, dir: 'toServer' | 'toClient'): Promise<Buffer> {
    if (!this.o.media) return msg;
    const callId = /^(?:Call-ID|i)\s*:\s*(\S+)/im.exec(msg.toString('latin1'))?.[1];
    if (callId && !this.media.has(callId) && msg.includes('\r\nm=audio ')) await this.openPair(callId);
    return this.rewriteSdp(msg, dir);
  }

  /**
   * Points the SDP's audio at our relay socket for the side that receives the message, and remembers
   * where the sender wants its RTP. Content-Length follows the body's new size.
   */
  private rewriteSdp(msg: Buffer, dir: 'toServer' | 'toClient'): Buffer {
    const text = msg.toString('latin1');
    const split = text.indexOf('\r\n\r\n');
    if (split < 0) return msg;
    const head = text.slice(0, split);
    let body = text.slice(split + 4);
    if (!/^v=0/m.test(body) || !/^m=audio /m.test(body)) return msg;
    const callId = /^(?:Call-ID|i)\s*:\s*(\S+)/im.exec(head)?.[1];
    const addr = /^c=IN IP4 (\S+)/m.exec(body)?.[1];
    const port = Number(/^m=audio (\d+)/m.exec(body)?.[1]);
    if (!callId || !addr || !port) return msg;
    const pair = this.media.get(callId);
    if (!pair) return msg;
    const local = dir === 'toServer' ? pair.serverSide : pair.clientSide;
    if (dir === 'toServer') pair.client = { address: addr, port };
    else pair.server = { address: addr, port };
    body = body
      .replace(/^c=IN IP4 \S+/gm, 'c=IN IP4 127.0.0.1')
      .replace(/^m=audio \d+/m, `m=audio ${local.address().port}`);
    const newHead = head.replace(/^(Content-Length|l)\s*:\s*\d+/im, `$1: ${Buffer.byteLength(body, 'latin1')}`);
    return Buffer.from(`${newHead}\r\n\r\n${body}`, 'latin1');
  }

  private async openPair(callId: string): Promise<void> {
    const bound = async () => {
      const s = dgram.createSocket('udp4');
      await new Promise<void>((res) => s.bind(0, '127.0.0.1', res));
      return s;
    };
    const [clientSide, serverSide] = await Promise.all([bound(), bound()]);
    if (this.closed || this.media.has(callId)) {
      clientSide.close();
      serverSide.close();
      return;
    }
    const p: MediaPair = { clientSide, serverSide, client: null, server: null };
    clientSide.on('message', (rtp) => {
      const to = p.server;
      if (to) this.impair(this.mediaStats.up, () => serverSide.send(rtp, to.port, to.address));
    });
    serverSide.on('message', (rtp) => {
      const to = p.client;
      if (to) this.impair(this.mediaStats.down, () => clientSide.send(rtp, to.port, to.address));
    });
    this.media.set(callId, p);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.upstream.values()) s.close();
    this.upstream.clear();
    for (const p of this.media.values()) {
      p.clientSide.close();
      p.serverSide.close();
    }
    this.media.clear();
    this.front.close();
  }
}

/** A small seeded PRNG (mulberry32) so a failing run can be replayed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
