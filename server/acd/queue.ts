/**
 * Queue configuration and the pure parts of queueing: ordering, skill requirements relaxing with the
 * wait, agent choice per strategy, position and estimated wait.
 */

export type Strategy = 'longest_idle' | 'round_robin' | 'fewest_calls' | 'ring_all' | 'skills';
export const STRATEGIES: readonly Strategy[] = ['longest_idle', 'round_robin', 'fewest_calls', 'ring_all', 'skills'];

export type OverflowTarget = { kind: 'queue'; queueId: string } | { kind: 'callback' } | { kind: 'voicemail' };

/**
 * join_empty (as in Asterisk's joinempty): 'always' lets callers wait in a queue nobody staffs;
 * 'unless_none_logged_in' refuses when no member is logged in; 'unless_none_ready' also when none is ready.
 */
export type JoinEmpty = 'always' | 'unless_none_logged_in' | 'unless_none_ready';

export interface SkillRelaxStep {
  /** After this much waiting ... */
  afterMs: number;
  /** ... every required level drops by this much; a level at or below 0 means the skill is not required. */
  drop: number;
}

export interface QueueConfig {
  id: string;
  /** Chinese display name (投诉 ...). */
  name: string;
  strategy: Strategy;
  /** Weight in cross-queue fairness: a caller's wait counts `weight` times (≥ 0.1). */
  weight: number;
  /** 0 = no limit. */
  maxWaitMs: number;
  overflow: OverflowTarget | null;
  /** 0 = no limit. */
  maxSize: number;
  joinEmpty: JoinEmpty;
  /** Waiting callers leave (to overflow) when the last member logs out. */
  leaveEmpty: boolean;
  wrapUpMs: number;
  /** RONA timer. */
  ringTimeoutMs: number;
  skillRelax: SkillRelaxStep[];
  enabled: boolean;
}

export const DEFAULT_QUEUES: readonly QueueConfig[] = [
  q('complaint', '投诉', { weight: 1.5 }),
  q('report', '举报', { weight: 1.2 }),
  q('consultation', '咨询', { weight: 1 }),
  q('english', 'English', { weight: 1, strategy: 'skills', skillRelax: [{ afterMs: 60_000, drop: 99 }] }),
];

function q(id: string, name: string, o: Partial<QueueConfig>): QueueConfig {
  return {
    id,
    name,
    strategy: 'longest_idle',
    weight: 1,
    maxWaitMs: 5 * 60_000,
    overflow: { kind: 'callback' },
    maxSize: 50,
    joinEmpty: 'always',
    leaveEmpty: false,
    wrapUpMs: 30_000,
    ringTimeoutMs: 20_000,
    skillRelax: [
      { afterMs: 30_000, drop: 1 },
      { afterMs: 90_000, drop: 99 },
    ],
    enabled: true,
    ...o,
  };
}

export function defaultQueueConfig(id: string, name: string, o: Partial<QueueConfig> = {}): QueueConfig {
  return q(id, name, o);
}

export type EntryKind = 'call' | 'callback';

export interface QueueEntry {
  id: string;
  /** Call id of the live call; for a callback, an id call control can tie the outbound call to. */
  callId: string;
  queueId: string;
  kind: EntryKind;
  /** Higher is served first (e.g. 2 for a repeat caller, 5 for a VIP line). */
  priority: number;
  /** Clock ms; kept when the entry moves to an overflow queue or becomes a callback, so nobody loses their place. */
  enteredAt: number;
  /** When it entered the current queue (max-wait and relaxation count from here). */
  queueEnteredAt: number;
  /** skill → required level (1–5). */
  skills: Record<string, number>;
  /** Masked or raw consumer number; never logged in clear (maskPhone). */
  consumer: string | null;
  /** Free data for call control (IVR choices ...). */
  data?: Record<string, unknown>;
  callbackAttempts: number;
}

/** Required levels after `waitedMs` in the queue. */
export function effectiveSkills(
  entry: QueueEntry,
  relax: readonly SkillRelaxStep[],
  waitedMs: number,
): Record<string, number> {
  let drop = 0;
  for (const s of relax) if (waitedMs >= s.afterMs) drop = Math.max(drop, s.drop);
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(entry.skills)) if (v - drop > 0) out[k] = v - drop;
  return out;
}

/** The next relaxation instant after `waitedMs`, or null. */
export function nextRelaxAt(relax: readonly SkillRelaxStep[], waitedMs: number): number | null {
  let best: number | null = null;
  for (const s of relax) if (s.afterMs > waitedMs && (best === null || s.afterMs < best)) best = s.afterMs;
  return best;
}

export function meetsSkills(agentSkills: ReadonlyMap<string, number>, required: Record<string, number>): boolean {
  for (const [k, v] of Object.entries(required)) if ((agentSkills.get(k) ?? 0) < v) return false;
  return true;
}

/** What a strategy sees of a candidate agent. */
export interface Candidate {
  agentId: string;
  /** Clock ms the agent last became ready (idle since). */
  idleSince: number;
  callsHandled: number;
  /** Membership priority in this queue: 1 = primary; larger = serves this queue only when nobody better is free. */
  memberPriority: number;
  /** Position in the queue's membership list, for round-robin. */
  order: number;
  skills: ReadonlyMap<string, number>;
}

/**
 * Picks the agent(s) to offer an entry to. Only the best membership tier competes (lowest
 * memberPriority), then the strategy decides. ring_all returns the whole tier.
 */
export function pickAgents(
  strategy: Strategy,
  candidates: readonly Candidate[],
  required: Record<string, number>,
  lastRoundRobinOrder: number | null,
): Candidate[] {
  if (candidates.length === 0) return [];
  let tier = Infinity;
  for (const c of candidates) tier = Math.min(tier, c.memberPriority);
  const pool = candidates.filter((c) => c.memberPriority === tier);
  const idle = (a: Candidate, b: Candidate) => a.idleSince - b.idleSince || (a.agentId < b.agentId ? -1 : 1);
  switch (strategy) {
    case 'ring_all':
      return [...pool].sort(idle);
    case 'longest_idle':
      return [pool.reduce((a, b) => (idle(a, b) <= 0 ? a : b))];
    case 'fewest_calls':
      return [pool.reduce((a, b) => ((a.callsHandled - b.callsHandled || idle(a, b)) <= 0 ? a : b))];
    case 'round_robin': {
      // Next in membership order after the one served last, wrapping around.
      const last = lastRoundRobinOrder ?? -Infinity;
      const sorted = [...pool].sort((a, b) => a.order - b.order);
      return [sorted.find((c) => c.order > last) ?? sorted[0]!];
    }
    case 'skills': {
      const score = (c: Candidate) => {
        let s = 0;
        for (const k of Object.keys(required)) s += c.skills.get(k) ?? 0;
        return s;
      };
      return [pool.reduce((a, b) => ((score(b) - score(a) || idle(a, b)) <= 0 ? a : b))];
    }
  }
}

/** Order within one queue: priority first, then who came first (ids break ties for determinism). */
export function compareInQueue(a: QueueEntry, b: QueueEntry): number {
  return b.priority - a.priority || a.enteredAt - b.enteredAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Cross-queue order for an agent who serves several queues: caller priority, then wait × queue weight. */
export function crossQueueScore(e: QueueEntry, weight: number, now: number): [number, number] {
  return [e.priority, (now - e.enteredAt) * weight];
}

/**
 * Estimated wait: callers ahead divided among the staffed agents, times the recent mean handle time.
 * Deliberately simple (announcements round it to minutes); 0 when an agent is free now.
 */
export function estimateWaitMs(position: number, staffed: number, freeNow: number, meanHandleMs: number): number {
  if (freeNow >= position) return 0;
  const agents = Math.max(1, staffed);
  return Math.round(Math.ceil((position - freeNow) / agents) * meanHandleMs);
}

/** Rolling mean of the last N handle times. */
export class HandleTimes {
  private readonly xs: number[] = [];
  constructor(
    private readonly defaultMs = 180_000,
    private readonly keep = 50,
  ) {}
  add(ms: number): void {
    this.xs.push(ms);
    if (this.xs.length > this.keep) this.xs.shift();
  }
  mean(): number {
    if (this.xs.length === 0) return this.defaultMs;
    return this.xs.reduce((a, b) => a + b, 0) / this.xs.length;
  }
}
