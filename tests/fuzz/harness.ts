/**
 * Shared pieces of the parser fuzzers: the fixed time budget, a per-input time bound, the RFC 4475
 * corpus and byte-level mutations of it.
 *
 * Budget: FUZZ_BUDGET_MS (default 20 000) is split between the properties of a run, so CI spends a
 * fixed time whatever the machine; a longer local run is `FUZZ_BUDGET_MS=600000 npx vitest run tests/fuzz`.
 * A failure prints fast-check's seed and path; FUZZ_SEED replays it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';

export const BUDGET_MS = Number(process.env.FUZZ_BUDGET_MS ?? 20_000);
export const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;

/**
 * No single input may take longer than this. Linear parsing of 64 KiB takes well under 5 ms; a
 * catastrophic regex on a crafted header takes seconds. Generous because other suites share the cores.
 */
export const PER_INPUT_MS = 250;

/** fast-check parameters for one property that gets `share` of the run's budget. */
export function budget(share: number): fc.Parameters<unknown> {
  return {
    numRuns: 1_000_000_000,
    interruptAfterTimeLimit: Math.max(500, Math.floor(BUDGET_MS * share)),
    markInterruptAsFailure: false,
    seed: SEED,
    endOnFailure: true,
  };
}

/** Runs fn, and throws when it took longer than PER_INPUT_MS (the "no hang" bound). */
export function timed<T>(label: string, fn: () => T, limitMs = PER_INPUT_MS): T {
  const t0 = performance.now();
  const out = fn();
  const ms = performance.now() - t0;
  if (ms > limitMs) throw new Error(`${label}: one input took ${ms.toFixed(1)} ms (limit ${limitMs} ms)`);
  return out;
}

/** The RFC 4475 torture messages (valid and invalid), raw bytes as in the RFC. */
export function rfc4475Corpus(): Buffer[] {
  const dir = fileURLToPath(new URL('../fixtures/rfc4475/', import.meta.url));
  return readdirSync(dir)
    .filter((n) => n.endsWith('.dat'))
    .sort()
    .map((n) => readFileSync(dir + n));
}

type Mutation = (b: Buffer) => Buffer;

/** One byte-level mutation of a message: the usual set of a mutational fuzzer (AFL's "havoc" stage). */
export function mutationArb(): fc.Arbitrary<Mutation> {
  const pos = fc.double({ min: 0, max: 1, noNaN: true });
  return fc.oneof(
    fc.tuple(pos, fc.integer({ min: 0, max: 255 })).map(([p, v]): Mutation => (b) => {
      const c = Buffer.from(b);
      if (c.length) c[Math.floor(p * c.length) % c.length] = v;
      return c;
    }),
    fc.tuple(pos, fc.uint8Array({ maxLength: 64 })).map(([p, ins]): Mutation => (b) => {
      const i = Math.floor(p * b.length);
      return Buffer.concat([b.subarray(0, i), Buffer.from(ins), b.subarray(i)]);
    }),
    fc.tuple(pos, fc.integer({ min: 1, max: 200 })).map(([p, n]): Mutation => (b) => {
      const i = Math.floor(p * b.length);
      return Buffer.concat([b.subarray(0, i), b.subarray(i + n)]);
    }),
    fc
      .tuple(pos, fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 200 }))
      .map(([p, n, times]): Mutation => (b) => {
        // repeat a slice many times: long runs are what catastrophic regexes choke on
        const i = Math.floor(p * b.length);
        const slice = b.subarray(i, i + n);
        return Buffer.concat([b.subarray(0, i), ...Array<Buffer>(times).fill(slice), b.subarray(i)]);
      }),
    pos.map(
      (p): Mutation =>
        (b) =>
          b.subarray(0, Math.floor(p * b.length)),
    ),
    fc.constant<Mutation>((b) => Buffer.from(b.toString('latin1').replace(/\r\n/g, '\n'), 'latin1')),
    fc
      .tuple(
        pos,
        fc.constantFrom(' ', '\t', ',', ';', '"', '\\', '<', '>', ':', '=', '@', '%', '\r\n ', '\0'),
        fc.integer({ min: 1, max: 20_000 }),
      )
      .map(([p, ch, n]): Mutation => (b) => {
        const i = Math.floor(p * b.length);
        return Buffer.concat([b.subarray(0, i), Buffer.from(ch.repeat(n), 'latin1'), b.subarray(i)]);
      }),
  );
}

/** Applies 1–6 mutations to one corpus entry. */
export function mutatedArb(corpus: Buffer[]): fc.Arbitrary<Buffer> {
  return fc
    .tuple(fc.constantFrom(...corpus), fc.array(mutationArb(), { minLength: 1, maxLength: 6 }))
    .map(([seed, ms]) => ms.reduce((b, m) => m(b), seed));
}

/** Heap in use after a collection when the runtime allows one (node --expose-gc), else as is. */
export function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}
