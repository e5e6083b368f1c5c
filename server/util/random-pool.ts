import { randomBytes } from 'node:crypto';

/**
 * Random bytes from the CSPRNG, drawn a few KiB at a time. A synchronous crypto call costs microseconds and
 * a Buffer; a call centre opens hundreds of dialogs and media streams a second, each wanting several random
 * identifiers (branches, tags, Call-IDs; SSRCs, initial sequence numbers and timestamps, CNAMEs).
 */
export class RandomPool {
  private bytes: Buffer;
  private pos = 0;

  constructor(private readonly size = 4096) {
    this.bytes = randomBytes(size);
  }

  /** Offset of `n` fresh bytes in `this.bytes`. */
  private take(n: number): number {
    if (n > this.size) throw new RangeError(`at most ${this.size} random bytes at once`);
    if (this.pos + n > this.size) {
      this.bytes = randomBytes(this.size);
      this.pos = 0;
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /** `n` random bytes as text: base64url (token characters only, RFC 3261 §25.1) or hex. */
  token(n: number, encoding: 'base64url' | 'hex' = 'base64url'): string {
    const at = this.take(n);
    return this.bytes.toString(encoding, at, at + n);
  }

  uint32(): number {
    return this.bytes.readUInt32BE(this.take(4));
  }

  uint16(): number {
    return this.bytes.readUInt16BE(this.take(2));
  }
}

/** This thread's pool (each worker thread loads its own). */
export const randomPool = new RandomPool();
