/**
 * Operations settings (issue 9) from the environment: admission limits, drain, retention, backups.
 * Kept beside config.ts rather than in it so that the core configuration stays the product contract.
 */
import { DEFAULT_LIMITS, type AdmissionLimits } from './overload.js';

export interface RetentionConfig {
  /** Recording files and their CDR reference are deleted after this many days; 0 keeps them. */
  recordingDays: number;
  /** CDR rows older than this are deleted; 0 keeps them. */
  cdrDays: number;
}

export interface OpsConfig {
  admission: AdmissionLimits;
  /** How long live calls may go on after SIGTERM before they are hung up. */
  drainTimeoutMs: number;
  retention: RetentionConfig;
}

function num(env: NodeJS.ProcessEnv, name: string, dflt: number, min = 0): number {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number ≥ ${min}, got "${v}"`);
  return n;
}

export function loadOpsConfig(env: NodeJS.ProcessEnv = process.env): OpsConfig {
  // An in-process test server shares its event loop and CPU with the test runner and with every other
  // suite on the machine: load shedding there would refuse calls for reasons that are not the server's.
  // Tests that exercise shedding inject probes or set the variables explicitly.
  const inTestRunner = env.VITEST !== undefined;
  return {
    admission: {
      ...DEFAULT_LIMITS,
      maxCalls: num(env, 'MAX_CALLS', DEFAULT_LIMITS.maxCalls, 1),
      maxLagMs: num(env, 'OVERLOAD_MAX_LAG_MS', inTestRunner ? Infinity : DEFAULT_LIMITS.maxLagMs, 1),
      maxCpuCores: num(env, 'OVERLOAD_MAX_CPU', inTestRunner ? Infinity : DEFAULT_LIMITS.maxCpuCores, 0.05),
      retryAfterS: num(env, 'RETRY_AFTER_S', DEFAULT_LIMITS.retryAfterS, 1),
      sampleMs: num(env, 'OVERLOAD_SAMPLE_MS', DEFAULT_LIMITS.sampleMs, 10),
    },
    drainTimeoutMs: num(env, 'DRAIN_TIMEOUT_MS', 30_000),
    retention: {
      recordingDays: num(env, 'RECORDING_RETENTION_DAYS', 180),
      cdrDays: num(env, 'CDR_RETENTION_DAYS', 730),
    },
  };
}
