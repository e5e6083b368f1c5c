import type { AgentTarget, CallControl, DialOutcome, RingOutcome } from '../../server/acd/call-control.js';
import type { OverflowTarget, QueueEntry } from '../../server/acd/queue.js';

interface Pending<T> {
  settled: boolean;
  agent: AgentTarget;
  entry: Readonly<QueueEntry>;
  signal: AbortSignal;
  resolve: (r: T) => void;
}

/** Call control stand-in at the ACD's own boundary: records rings, lets the test decide outcomes. */
export class FakeCallControl implements CallControl {
  rings: Pending<RingOutcome>[] = [];
  dials: Pending<DialOutcome>[] = [];
  overflows: Array<{ entry: QueueEntry; target: OverflowTarget | null; reason: string }> = [];
  live: Array<{ agentId: string; callId: string }> = [];

  ringAgent(agent: AgentTarget, entry: Readonly<QueueEntry>, signal: AbortSignal): Promise<RingOutcome> {
    return new Promise((resolve) => this.rings.push(pending(agent, entry, signal, resolve)));
  }
  dialCallback(agent: AgentTarget, entry: Readonly<QueueEntry>, signal: AbortSignal): Promise<DialOutcome> {
    return new Promise((resolve) => this.dials.push(pending(agent, entry, signal, resolve)));
  }
  overflow(entry: Readonly<QueueEntry>, target: OverflowTarget | null, reason: 'max_wait' | 'leave_empty'): void {
    this.overflows.push({ entry: { ...entry }, target, reason });
  }
  liveAgentCalls() {
    return this.live;
  }
  /** Rings still going on (neither answered by the test nor aborted by the ACD). */
  activeRings(): Pending<RingOutcome>[] {
    return this.rings.filter((r) => !r.signal.aborted && !r.settled);
  }
  ringFor(agentId: string): Pending<RingOutcome> {
    const r = this.activeRings().find((x) => x.agent.agentId === agentId);
    if (!r) throw new Error(`no active ring for ${agentId}`);
    return r;
  }
}

/** Lets promise callbacks (ring outcomes) run. */
export const flush = () => new Promise<void>((r) => setImmediate(r));

function pending<T>(
  agent: AgentTarget,
  entry: Readonly<QueueEntry>,
  signal: AbortSignal,
  resolve: (r: T) => void,
): Pending<T> {
  const p: Pending<T> = {
    settled: false,
    agent,
    entry: { ...entry },
    signal,
    resolve: (r) => {
      p.settled = true;
      resolve(r);
    },
  };
  return p;
}
