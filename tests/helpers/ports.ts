/**
 * Port allocation for external test peers (SIPp, baresip) on 127.0.0.1.
 *
 * Single ports come from the kernel (bind 0, read, close). Between that close and the peer's own bind
 * another process can take the port (test files run side by side in one namespace), so a helper counts
 * a peer as started only when `isPortBoundBy` says the peer itself holds the port, and the SIPp helper
 * starts SIPp again on fresh ports when it lost that race.
 *
 * RTP ranges cannot come from the kernel (a peer wants a whole range), so they are carved out of
 * 10000–31999, below Linux's ephemeral range (32768–60999) so that bind-0 ports never land inside
 * them. vitest runs test files in up to N forks at once; each fork slot (VITEST_POOL_ID) owns its own
 * block, so two files running at the same time never pick overlapping ranges. Inside a block, a
 * counter hands out consecutive ranges, and every range is probed (all its ports bound once) before
 * it is returned, in case a peer from an earlier file in the same slot is still shutting down.
 */
import dgram from 'node:dgram';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';

export const LOOPBACK = '127.0.0.1';

export type PortProto = 'udp' | 'tcp';

/** Binds `port` (0 = any) on 127.0.0.1 and resolves the bound port; rejects if it is taken. */
function bindUdp(port: number): Promise<{ port: number; close: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', (err) => {
      s.close();
      reject(err);
    });
    s.bind(port, LOOPBACK, () => {
      const bound = s.address().port;
      resolve({ port: bound, close: () => new Promise<void>((r) => s.close(() => r())) });
    });
  });
}

function bindTcp(port: number): Promise<{ port: number; close: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen({ port, host: LOOPBACK, exclusive: true }, () => {
      const addr = srv.address();
      if (!addr || typeof addr === 'string') {
        srv.close();
        reject(new Error('no address'));
        return;
      }
      resolve({ port: addr.port, close: () => new Promise<void>((r) => srv.close(() => r())) });
    });
  });
}

function bindProto(proto: PortProto, port: number) {
  return proto === 'udp' ? bindUdp(port) : bindTcp(port);
}

/** True if `port` can be bound right now for every protocol in `protos`. */
export async function isPortFree(port: number, protos: PortProto[] = ['udp', 'tcp']): Promise<boolean> {
  const held: Array<{ close: () => Promise<void> }> = [];
  try {
    for (const p of protos) held.push(await bindProto(p, port));
    return true;
  } catch {
    return false;
  } finally {
    await Promise.all(held.map((h) => h.close()));
  }
}

/**
 * True if process `pid` holds a socket bound to `port` on IPv4. "The port is busy" alone does not say
 * that a freshly started peer bound it: another process may hold it, and the peer is about to fail.
 */
export function isPortBoundBy(pid: number, port: number, proto: PortProto): boolean {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const line of readFileSync(`/proc/net/${proto}`, 'utf8').split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length > 9 && cols[1]!.endsWith(`:${hexPort}`)) inodes.add(cols[9]!);
  }
  if (inodes.size === 0) return false;
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false; // gone
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m && inodes.has(m[1]!)) return true;
    } catch {
      // closed between readdir and readlink
    }
  }
  return false;
}

/** A port the kernel says is free for `proto` on 127.0.0.1. */
export async function freePort(proto: PortProto = 'udp'): Promise<number> {
  const h = await bindProto(proto, 0);
  await h.close();
  return h.port;
}

export const freeUdpPort = (): Promise<number> => freePort('udp');
export const freeTcpPort = (): Promise<number> => freePort('tcp');

/**
 * A port from `pick` that is none of `avoid`. A port picked by bind-0-then-close is free again at once, so the
 * kernel can hand the same number out to the next bind-0: a second pick for one process must skip the first.
 * (It did: baresip's control port came out equal to its SIP port, and neither listener could then bind.)
 */
export async function portOtherThan(avoid: readonly number[], pick: () => Promise<number>): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const p = await pick();
    if (!avoid.includes(p)) return p;
  }
  throw new Error(`portOtherThan: 20 picks all in ${avoid.join(', ')}`);
}

/** Starts in all for a peer that keeps losing its picked ports (see `retryLostPortRace`). */
export const PORT_RACE_ATTEMPTS = 4;

/**
 * Runs `start` again, up to PORT_RACE_ATTEMPTS times in all, while `lostPortRace(err)` says it failed because
 * another process bound one of the ports it was given by bind-0-then-close first (test files run side by side in
 * one namespace). Such a peer fails at start, before it sends anything, so starting it on fresh ports is safe;
 * `lostPortRace` must say false for ports the caller chose, which are never swapped.
 */
export async function retryLostPortRace<T>(
  start: () => Promise<T>,
  lostPortRace: (err: unknown) => boolean,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= PORT_RACE_ATTEMPTS || !lostPortRace(err)) throw err;
    }
  }
}

/**
 * A port free for UDP and TCP at once, and (with `alsoNext`) with port+1 free for TCP too:
 * baresip listens on sip_listen for UDP and TCP, and opens its TLS listener on port+1.
 */
export async function freeSipPort(opts: { alsoNext?: boolean } = {}): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const u = await bindUdp(0);
    try {
      const tcpOk = await isPortFree(u.port, ['tcp']);
      const nextOk = !opts.alsoNext || (u.port < 65535 && (await isPortFree(u.port + 1, ['tcp', 'udp'])));
      if (tcpOk && nextOk) return u.port;
    } finally {
      await u.close();
    }
  }
  throw new Error('freeSipPort: no UDP+TCP port found in 50 attempts');
}

export interface PortRange {
  /** First port, always even (RTP on even, RTCP on odd: RFC 3550 §11). */
  readonly start: number;
  /** Last port, inclusive. */
  readonly end: number;
}

const RANGE_BASE = 10_000;
const RANGE_TOP = 32_000; // below the ephemeral range
const SLOT_SIZE = 4_000;
const SLOTS = Math.floor((RANGE_TOP - RANGE_BASE) / SLOT_SIZE);

/** The fork slot of this vitest worker, 0-based; 0 outside vitest. */
export function poolSlot(): number {
  const id = Number(process.env.VITEST_POOL_ID ?? '1');
  return Number.isFinite(id) && id >= 1 ? (id - 1) % SLOTS : 0;
}

let nextOffset = 0;

/**
 * An RTP port range of `size` ports (rounded up to even) that does not collide with ranges handed out
 * in other vitest forks, nor with earlier ranges of this process. Every port of the range is probed
 * (UDP) before it is returned.
 */
export async function rtpPortRange(size = 40): Promise<PortRange> {
  const n = Math.max(2, size + (size % 2));
  if (n > SLOT_SIZE) throw new Error(`rtpPortRange: ${n} ports do not fit in a slot of ${SLOT_SIZE}`);
  const slotStart = RANGE_BASE + poolSlot() * SLOT_SIZE;
  for (let tries = 0; tries < SLOT_SIZE / n; tries++) {
    if (nextOffset + n > SLOT_SIZE) nextOffset = 0;
    const start = slotStart + nextOffset;
    nextOffset += n;
    if (await rangeFree(start, start + n - 1)) return { start, end: start + n - 1 };
  }
  throw new Error(`rtpPortRange: no free range of ${n} ports in slot ${poolSlot()}`);
}

async function rangeFree(start: number, end: number): Promise<boolean> {
  const held: Array<{ close: () => Promise<void> }> = [];
  try {
    for (let p = start; p <= end; p++) held.push(await bindUdp(p));
    return true;
  } catch {
    return false;
  } finally {
    await Promise.all(held.map((h) => h.close()));
  }
}
