import type { OverflowTarget, QueueEntry } from './queue.js';

/** The seams between the ACD and the call layer (implemented by call control over SIP; by tests with fakes). */

export type RingOutcome = 'answered' | 'no_answer' | 'rejected' | 'caller_gone';
export type DialOutcome = 'answered' | 'no_answer' | 'failed';

export interface AgentTarget {
  agentId: string;
  /** SIP extension of the seat the agent is logged in at. */
  seat: string | null;
}

export interface CallControl {
  /**
   * Ring the agent's seat with the queued call. Resolve when the agent answers, rejects, the caller hangs
   * up, or the seat gives up. The ACD aborts `signal` on RONA, on ring-all losers and when the caller
   * leaves; the promise should then settle soon (any outcome is ignored after abort).
   */
  ringAgent(agent: AgentTarget, entry: Readonly<QueueEntry>, signal: AbortSignal): Promise<RingOutcome>;
  /** Callback whose turn has come: an agent is already reserved; dial the consumer and bridge. */
  dialCallback(agent: AgentTarget, entry: Readonly<QueueEntry>, signal: AbortSignal): Promise<DialOutcome>;
  /**
   * The caller left the queue for an overflow target (callback: tell them they will be called back and
   * hang up; voicemail: record; queue: nothing, the ACD moved the entry) or because the queue is empty.
   */
  overflow(entry: Readonly<QueueEntry>, target: OverflowTarget | null, reason: 'max_wait' | 'leave_empty'): void;
  /** Calls with an agent on them now, for the consistency check. */
  liveAgentCalls(): Array<{ agentId: string; callId: string }>;
}
