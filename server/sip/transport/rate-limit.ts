import type { Clock } from '../../util/clock.js';

/**
 * Per-source token bucket, checked before a message is parsed so that a flood costs us a map
 * look-up per packet and nothing more. Pure: time comes from the injected clock.
 *
 * Memory is bounded: the map is kept in least-recently-seen order; a source idle long enough to
 * have refilled its bucket is indistinguishable from a new one, so it is dropped without changing
 * any decision. If more than `maxSources` are active at once, the least recently seen are evicted
 * anyway (a forgetful limiter is better than an unbounded one under a spoofed-address flood).
 */
export interface RateLimitOptions {
  /** Sustained messages per second per source. */
  perSecond: number;
  /** Bucket size: messages a source may send back to back. */
  burst: number;
  /** Upper bound on tracked sources. */
  maxSources?: number;
}

interface Bucket {
  tokens: number;
  last: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxSources: number;
  /** Time after which an untouched bucket is full again. */
  private readonly refillMs: number;
  private lastSweep: number;
  private dropped = 0;

  constructor(
    private readonly opts: RateLimitOptions,
    private readonly clock: Clock,
  ) {
    if (!(opts.perSecond > 0) || !(opts.burst >= 1)) throw new Error('rate limit needs perSecond > 0 and burst >= 1');
    this.maxSources = opts.maxSources ?? 10_000;
    this.refillMs = (opts.burst / opts.perSecond) * 1000;
    this.lastSweep = clock.now();
  }

  /** Takes one token for `key`; false means the message is over budget and must be dropped. */
  allow(key: string): boolean {
    const now = this.clock.now();
    if (now - this.lastSweep >= this.refillMs) this.sweep(now);
    let b = this.buckets.get(key);
    if (b) {
      this.buckets.delete(key);
      b.tokens = Math.min(this.opts.burst, b.tokens + ((now - b.last) * this.opts.perSecond) / 1000);
      b.last = now;
    } else {
      b = { tokens: this.opts.burst, last: now };
      while (this.buckets.size >= this.maxSources) {
        const oldest = this.buckets.keys().next().value as string;
        this.buckets.delete(oldest);
      }
    }
    // Re-insert: Map iteration order is then least recently seen first.
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return true;
    }
    this.dropped++;
    return false;
  }

  get size(): number {
    return this.buckets.size;
  }

  get droppedCount(): number {
    return this.dropped;
  }

  /** Drops sources whose bucket has refilled; oldest first, so it stops at the first recent one. */
  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [key, b] of this.buckets) {
      if (now - b.last < this.refillMs) break;
      this.buckets.delete(key);
    }
  }
}
