/**
 * RFC 3261 timer values (§17.1.1.1, Table 4 in Appendix A) and RFC 6026 Timers L and M.
 * All durations in milliseconds. T1/T2/T4 are configurable because deployments behind slow links
 * (and tests) tune them; every derived timer is computed here so the machines never hard-code one.
 */
export interface TimerConfig {
  /** RTT estimate, default 500 ms (§17.1.1.1). */
  T1: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses, default 4 s. */
  T2: number;
  /** Maximum time a message remains in the network, default 5 s. */
  T4: number;
  /** Timer D for unreliable transports: "at least 32 seconds" (§17.1.1.2). */
  D: number;
  /** Delay before an INVITE server transaction sends 100 Trying on its own (§17.2.1: 200 ms). */
  trying: number;
}

export const DEFAULT_TIMERS: Readonly<TimerConfig> = Object.freeze({
  T1: 500,
  T2: 4000,
  T4: 5000,
  D: 32_000,
  trying: 200,
});

export function timerConfig(partial?: Partial<TimerConfig>): TimerConfig {
  return { ...DEFAULT_TIMERS, ...partial };
}

/** Timer A initial value: T1, only for unreliable transports (§17.1.1.2). */
export const timerA = (c: TimerConfig): number => c.T1;
/** Timer B: INVITE transaction timeout, 64·T1 (§17.1.1.2). */
export const timerB = (c: TimerConfig): number => 64 * c.T1;
/** Timer D: wait for response retransmits, ≥ 32 s unreliable, 0 reliable (§17.1.1.2). */
export const timerD = (c: TimerConfig, reliable: boolean): number => (reliable ? 0 : Math.max(c.D, 0));
/** Timer E initial value: T1, unreliable only (§17.1.2.2). */
export const timerE = (c: TimerConfig): number => c.T1;
/** Timer F: non-INVITE transaction timeout, 64·T1 (§17.1.2.2). */
export const timerF = (c: TimerConfig): number => 64 * c.T1;
/** Timer G initial value: T1, unreliable only (§17.2.1). */
export const timerG = (c: TimerConfig): number => c.T1;
/** Timer H: wait for ACK, 64·T1 (§17.2.1). */
export const timerH = (c: TimerConfig): number => 64 * c.T1;
/** Timer I: wait for ACK retransmits, T4 unreliable, 0 reliable (§17.2.1). */
export const timerI = (c: TimerConfig, reliable: boolean): number => (reliable ? 0 : c.T4);
/** Timer J: wait for request retransmits, 64·T1 unreliable, 0 reliable (§17.2.2). */
export const timerJ = (c: TimerConfig, reliable: boolean): number => (reliable ? 0 : 64 * c.T1);
/** Timer K: wait for response retransmits, T4 unreliable, 0 reliable (§17.1.2.2). */
export const timerK = (c: TimerConfig, reliable: boolean): number => (reliable ? 0 : c.T4);
/** Timer L: Accepted → Terminated in the INVITE server transaction, 64·T1 (RFC 6026 §8.7). */
export const timerL = (c: TimerConfig): number => 64 * c.T1;
/** Timer M: Accepted → Terminated in the INVITE client transaction, 64·T1 (RFC 6026 §8.4). */
export const timerM = (c: TimerConfig): number => 64 * c.T1;
