/**
 * RTP/RTCP port pairs: even port for RTP, the next odd one for RTCP (RFC 3550 §11). Ports are handed out
 * round-robin, so a port just released is not reused at once and late packets of the previous call do not
 * land in the next one. A port another process holds is skipped.
 */
import { createSocket, type Socket } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';

export interface PortPair {
  port: number;
  rtp: Socket;
  rtcp: Socket;
}

export class RtpPortPool {
  private readonly inUse = new Set<number>();
  private cursor: number;
  readonly capacity: number;

  constructor(
    private readonly min = 20000,
    private readonly max = 29999,
    private readonly bindAddress = '0.0.0.0',
  ) {
    if (min % 2 !== 0) this.min = min + 1;
    if (this.min + 1 > max) throw new RangeError(`RTP port range ${min}-${max} holds no even/odd pair`);
    this.capacity = Math.floor((max - this.min + 1) / 2);
    this.cursor = this.min;
  }

  get used(): number {
    return this.inUse.size;
  }

  async allocate(): Promise<PortPair> {
    for (let tried = 0; tried < this.capacity; tried++) {
      const port = this.cursor;
      this.cursor += 2;
      if (this.cursor + 1 > this.max) this.cursor = this.min;
      if (this.inUse.has(port)) continue;
      this.inUse.add(port);
      const pair = await this.bindPair(port);
      if (pair) return pair;
      this.inUse.delete(port);
    }
    throw new Error(`no free RTP port pair in ${this.min}-${this.max}`);
  }

  release(port: number): void {
    this.inUse.delete(port);
  }

  private async bindPair(port: number): Promise<PortPair | null> {
    const type = this.bindAddress.includes(':') ? 'udp6' : 'udp4';
    const rtp = createSocket({ type, lookup: fastLookup });
    const rtcp = createSocket({ type, lookup: fastLookup });
    try {
      await bind(rtp, port, this.bindAddress);
      await bind(rtcp, port + 1, this.bindAddress);
      return { port, rtp, rtcp };
    } catch {
      rtp.close();
      rtcp.close();
      return null;
    }
  }
}

function bind(s: Socket, port: number, address: string): Promise<void> {
  return new Promise((res, rej) => {
    const onError = (err: Error) => rej(err);
    s.once('error', onError);
    s.bind(port, address, () => {
      s.off('error', onError);
      res();
    });
  });
}

/**
 * dgram resolves the destination of EVERY send through `lookup`; the default (dns.lookup) answers even an IP
 * literal on the next tick, an allocation and a deferral per RTP packet. SDP almost always carries literals,
 * so answer those synchronously and resolve only real host names.
 */
function fastLookup(
  host: string,
  opts: unknown,
  cb: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const fam = isIP(host);
  if (fam !== 0) cb(null, host, fam);
  else dnsLookup(host, opts as number, cb);
}
