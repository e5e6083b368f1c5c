/**
 * RTP endpoints created ahead of the INVITEs that need them (issue 4, call-setup rate).
 *
 * Creating an endpoint is a round trip to the media worker (bind two UDP sockets there, reply with the id);
 * the setup trace (CALL_SETUP_TRACE) showed that round trip as one of the two waits between an INVITE and its
 * 200 OK, the other being the SDP answer. A call that takes a ready endpoint skips it; the reserve refills
 * behind it, off the call's path. When the reserve is empty (a burst larger than it, or the worker lagging)
 * the call creates its own, exactly as before.
 *
 * A reserved endpoint is an unnegotiated RTP endpoint: it sends nothing and times out on nothing until an
 * offer/answer gives it a peer, so keeping a few idle costs two bound ports each.
 *
 * The reserve grows with the call rate: it holds `size` endpoints, or `horizonMs` worth of the takes of the last
 * second if that is more (up to `maxSize`). A fixed 32 lasted 80 ms at 400 calls/s, and a worker that was busy
 * for longer left INVITEs waiting for their own endpoint (setup trace: p99 51–104 ms on that step alone; with
 * 128 ready, 1.3 ms). It does not shrink by closing: the extra endpoints are used up by later calls.
 */
import type { Logger } from 'pino';
import type { MediaEndpoint, MediaEngine } from '../media/engine/api.js';

export interface EndpointReserveOptions {
  engine: Pick<MediaEngine, 'createRtpEndpoint'>;
  /** Endpoints kept ready. 0 disables the reserve. */
  size: number;
  log: Logger;
  /** Label the engine records for reserved endpoints. */
  label?: string;
  /** How far ahead the reserve covers the current call rate, ms; default 300. */
  horizonMs?: number;
  /** The most endpoints it keeps however high the rate; default 256. */
  maxSize?: number;
  /** Milliseconds on a monotonic clock (tests inject one). */
  now?: () => number;
}

export class EndpointReserve {
  private readonly ready: MediaEndpoint[] = [];
  private readonly owners = new Map<MediaEndpoint, () => void>();
  private creating = 0;
  private closed = false;
  /** A failed creation stops refilling until the next take: a broken engine must not be hammered. */
  private failing = false;
  readonly stats = { taken: 0, missed: 0, created: 0, failed: 0 };
  /** How many endpoints the reserve aims to hold now (`size` at rest, more while calls come fast). */
  target: number;
  private windowStart: number;
  private windowTakes = 0;
  private readonly now: () => number;

  constructor(private readonly o: EndpointReserveOptions) {
    this.target = o.size;
    this.now = o.now ?? (() => performance.now());
    this.windowStart = this.now();
  }

  /** Starts filling the reserve. */
  start(): this {
    this.refill();
    return this;
  }

  get available(): number {
    return this.ready.length;
  }

  /** A ready endpoint, or null (empty or closed): the caller then creates one itself. */
  take(): MediaEndpoint | null {
    if (this.closed) return null;
    this.failing = false;
    this.countTake();
    const ep = this.ready.shift() ?? null;
    if (ep) {
      this.stats.taken++;
      const gone = this.owners.get(ep);
      this.owners.delete(ep);
      if (gone) ep.off('closed', gone);
    } else this.stats.missed++;
    this.refill();
    return ep;
  }

  /** Takes (hits and misses) per one-second window; each full window sets the target for the next. */
  private countTake(): void {
    const now = this.now();
    const elapsed = now - this.windowStart;
    if (elapsed >= 1000) {
      const perMs = this.windowTakes / elapsed;
      const wanted = Math.ceil(perMs * (this.o.horizonMs ?? 300));
      const cap = Math.max(this.o.size, this.o.maxSize ?? 256);
      this.target = Math.min(Math.max(this.o.size, wanted), cap);
      this.windowStart = now;
      this.windowTakes = 0;
    }
    this.windowTakes++;
  }

  private refill(): void {
    while (!this.closed && !this.failing && this.ready.length + this.creating < this.target) {
      this.creating++;
      this.o.engine
        .createRtpEndpoint({ label: this.o.label ?? 'in:reserve' })
        .then(
          (ep) => {
            this.stats.created++;
            if (this.closed) {
              void ep.close().catch(() => undefined);
              return;
            }
            // The engine may close it while it waits (media worker failed): never hand out a dead one.
            const gone = () => {
              const i = this.ready.indexOf(ep);
              if (i >= 0) this.ready.splice(i, 1);
            };
            ep.on('closed', gone);
            this.ready.push(ep);
            this.owners.set(ep, gone);
          },
          (err: unknown) => {
            this.stats.failed++;
            this.failing = true;
            this.o.log.warn({ err }, 'could not create a reserve RTP endpoint');
          },
        )
        .finally(() => {
          this.creating--;
        });
    }
  }

  /** Closes the idle endpoints; those still being created are closed as they arrive. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    const idle = this.ready.splice(0);
    this.owners.clear();
    await Promise.all(idle.map((ep) => ep.close().catch(() => undefined)));
  }
}
