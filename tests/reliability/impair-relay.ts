/**
 * A userspace stand-in for `tc qdisc … netem loss 5% delay 0-50ms` (sch_netem is missing from this
 * kernel): a UDP relay on loopback between peers and the server. Each datagram, in either direction,
 * is dropped with probability `loss` or delivered after a uniform random delay in [0, jitterMs]
 * (which also reorders, as netem's jitter does). One upstream socket per client address, so the
 * server sees one source per client and answers it through the relay (peers must ask for rport).
 */
import dgram from 'node:dgram';

export interface ImpairOptions {
  /** Where to forward: the server. */
  target: { host: string; port: number };
  loss: number;
  jitterMs: number;
  /** Deterministic randomness for reproducible runs. */
  random?: () => number;
}

export interface ImpairStats {
  forwarded: number;
  dropped: number;
}

export class ImpairRelay {
  readonly stats = { up: { forwarded: 0, dropped: 0 }, down: { forwarded: 0, dropped: 0 } };
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
      up.on('message', (back) => this.impair(this.stats.down, () => this.front.send(back, from.port, from.address)));
      this.upstream.set(key, up);
    }
    const sock = up;
    this.impair(this.stats.up, () => sock.send(msg, this.o.target.port, this.o.target.host));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.upstream.values()) s.close();
    this.upstream.clear();
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
