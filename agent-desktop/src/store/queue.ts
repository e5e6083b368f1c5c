/** Waiting callers per queue, replaced whole by each 'queue:stats' push (the server coalesces them). */
import type { QueueStatsPayload } from '../../../server/api/socket/events.js';
import type { Slice } from './types.js';

export interface QueueSlice {
  queues: QueueStatsPayload[];
  queuesAt: number | null;
  queuesUpdated(queues: QueueStatsPayload[]): void;
}

export const createQueueSlice: Slice<QueueSlice> = (deps) => (set) => ({
  queues: [],
  queuesAt: null,
  queuesUpdated(queues) {
    set({ queues: [...queues].sort((a, b) => a.queueId.localeCompare(b.queueId)), queuesAt: deps.now() });
  },
});

/** Queues the agent belongs to first, then the rest; totals for the header. */
export function queueSummary(
  queues: readonly QueueStatsPayload[],
  memberOf: Record<string, number> | null,
): { mine: QueueStatsPayload[]; others: QueueStatsPayload[]; waiting: number; longestWaitMs: number } {
  const mine = queues.filter((q) => memberOf && q.queueId in memberOf);
  const others = queues.filter((q) => !(memberOf && q.queueId in memberOf));
  return {
    mine,
    others,
    waiting: queues.reduce((n, q) => n + q.waiting, 0),
    longestWaitMs: queues.reduce((m, q) => Math.max(m, q.longestWaitMs), 0),
  };
}
