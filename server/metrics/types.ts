/**
 * Rows of the metrics event log. Times are epoch milliseconds (wall time). One `QueueVisit` per caller
 * visit to a queue; a call that overflows to a second queue has two visits, the first ending
 * `transferred`. Pure types: KPI functions take arrays of these, the store reads and writes them.
 */

export type LeaveReason =
  | 'answered'
  /** Hung up while waiting, including while an agent's phone rang. */
  | 'abandoned'
  /** Max wait reached with no overflow queue (Asterisk EXITWITHTIMEOUT). */
  | 'timeout'
  /** Left the queue with a key other than the callback key (Asterisk EXITWITHKEY). */
  | 'exit_key'
  /** Chose (or was overflowed to) a callback: the live call ends, a callback visit may follow. */
  | 'callback'
  | 'full'
  /** The queue is disabled or unknown. */
  | 'closed'
  | 'joinempty'
  | 'leaveempty'
  /** Overflowed into another queue; the call continues as a visit there. */
  | 'transferred'
  /** Removed for another reason (a callback that failed every attempt, an administrative removal). */
  | 'other';

export const LEAVE_REASONS: readonly LeaveReason[] = [
  'answered',
  'abandoned',
  'timeout',
  'exit_key',
  'callback',
  'full',
  'closed',
  'joinempty',
  'leaveempty',
  'transferred',
  'other',
];

export interface QueueVisit {
  /** ACD entry id + queue (unique per visit). */
  id: string;
  callId: string;
  queue: string;
  kind: 'call' | 'callback';
  /** When the caller first entered any queue on this call (kept through overflow). */
  callEnteredAt: number;
  /** When this visit began. */
  enteredAt: number;
  leftAt: number | null;
  leaveReason: LeaveReason | null;
  answeredAt: number | null;
  agentId: string | null;
  talkMs: number | null;
  holdMs: number | null;
  acwMs: number | null;
}

export type RingResult = 'answered' | 'no_answer' | 'rejected' | 'caller_gone' | 'withdrawn' | 'cancelled';

export interface RingAttempt {
  visitId: string;
  callId: string;
  queue: string;
  agentId: string;
  startedAt: number;
  endedAt: number;
  result: RingResult;
}

export type AgentStateName = 'offline' | 'ready' | 'not_ready' | 'reserved' | 'on_call' | 'wrap_up';

/** One stretch of one agent in one state (and, for not-ready, one reason). */
export interface AgentInterval {
  agentId: string;
  state: AgentStateName;
  reason: string | null;
  start: number;
  end: number;
  callId: string | null;
}
