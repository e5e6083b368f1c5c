import { createRequire } from 'node:module';

/**
 * Fastify compiles every route's JSON schemas (ajv validators, fast-json-stringify serializers) while it
 * gets ready, before it listens: ~100 routes cost about a quarter of a restart's CPU (docs/reliability.md,
 * "Crash (kill -9)"), and after a kill -9 phones and agents are waiting for exactly that restart.
 *
 * These compiler factories wrap Fastify's own (the same @fastify/ajv-compiler and
 * @fastify/fast-json-stringify-compiler, with the same options and shared schemas), but hand Fastify a
 * stand-in per schema that compiles on first use. `warm()` then compiles the rest in the background, a
 * few per event-loop turn, so the first request to a rarely used route does not pay for it and a broken
 * schema still shows up in the log soon after start rather than at its first request.
 *
 * One difference from the default: Fastify treats a custom validator compiler as opaque and no longer
 * lower-cases the property names of a `headers` schema for it. No route here validates headers; one that
 * does must write the header names in lower case.
 */

type RouteSchemaDef = { schema: unknown; method?: string; url?: string; httpPart?: string; httpStatus?: string };
type Compiled = ((...args: unknown[]) => unknown) & { errors?: unknown };
type Compiler = (def: RouteSchemaDef) => Compiled;
type Builder = (externalSchemas: unknown, options?: unknown) => Compiler;

/** Fastify's default builders, resolved from fastify's own location (they are its dependencies, not ours). */
function defaultBuilders(): { validator: Builder; serializer: Builder } {
  const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));
  const ajv = fromFastify('@fastify/ajv-compiler') as () => Builder;
  const fjs = fromFastify('@fastify/fast-json-stringify-compiler') as () => Builder;
  return { validator: ajv(), serializer: fjs() };
}

export interface LazySchemaStats {
  /** Stand-ins handed to Fastify so far. */
  deferred: number;
  /** Of those, compiled (by a request or by warm()). */
  compiled: number;
}

export class LazySchemas {
  private readonly pending = new Set<() => void>();
  private readonly builders = defaultBuilders();
  private deferred = 0;
  private warming: NodeJS.Immediate | null = null;
  private closed = false;

  /** For Fastify's `schemaController.compilersFactory` option. */
  factory(): { buildValidator: Builder; buildSerializer: Builder } {
    return {
      buildValidator: (ext, opts) => this.lazyBuilder(this.builders.validator, ext, opts),
      buildSerializer: (ext, opts) => this.lazyBuilder(this.builders.serializer, ext, opts),
    };
  }

  stats(): LazySchemaStats {
    return { deferred: this.deferred, compiled: this.deferred - this.pending.size };
  }

  /**
   * Compiles everything not compiled yet, one schema per event-loop turn (each takes a few ms), so
   * requests and SIP keep being served meanwhile. Failures go to onError (the route then fails at its
   * first request, as it would have failed the start without this).
   */
  warm(onError: (err: unknown) => void, done?: () => void): void {
    if (this.warming || this.closed) return;
    const step = () => {
      this.warming = null;
      const next = this.pending.values().next();
      if (this.closed || next.done) {
        done?.();
        return;
      }
      try {
        next.value();
      } catch (err) {
        onError(err);
      }
      this.warming = setImmediate(step);
    };
    this.warming = setImmediate(step);
  }

  /** Compiles everything now; returns the errors (tests: every route's schema compiles). */
  compileAll(): unknown[] {
    const errors: unknown[] = [];
    for (const compile of [...this.pending]) {
      try {
        compile();
      } catch (err) {
        errors.push(err);
      }
    }
    return errors;
  }

  /** Stops warming; safe to call twice. Stand-ins still compile on use. */
  close(): void {
    this.closed = true;
    if (this.warming) clearImmediate(this.warming);
    this.warming = null;
  }

  private lazyBuilder(build: Builder, externalSchemas: unknown, options: unknown): Compiler {
    // Building the compiler (a new Ajv with the shared schemas) is itself deferred.
    let compiler: Compiler | null = null;
    const getCompiler = () => (compiler ??= build(externalSchemas, options));
    return (def) => {
      let fn: Compiled | null = null;
      let failure: unknown = null;
      const compile = () => {
        if (fn || failure) return;
        this.pending.delete(compile);
        try {
          fn = getCompiler()(def);
        } catch (err) {
          failure = err;
          throw err;
        }
      };
      const standIn: Compiled = function (this: unknown, ...args: unknown[]) {
        compile();
        if (!fn) throw failure;
        const result = fn.apply(this, args);
        // Fastify reads a failed validation's details off the function it called.
        standIn.errors = fn.errors;
        return result;
      };
      this.pending.add(compile);
      this.deferred++;
      return standIn;
    };
  }
}
