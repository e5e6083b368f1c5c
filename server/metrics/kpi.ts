/**
 * Contact-centre KPIs as pure functions over event-log rows. docs/metrics.md gives each formula and which
 * visits count; the tests check them against hand-worked figures. Only visits of kind 'call' count
 * (callbacks are outbound work); a visit that overflowed to another queue (`transferred`) is not offered
 * in the queue it left — the call counts once, in the queue where it ended.
 */
import type { AgentInterval, AgentStateName, LeaveReason, QueueVisit, RingAttempt } from './types.js';

export interface QueueThresholds {
  /** A caller who hangs up before this wait is a short abandon (SAb): excluded from the base. */
  shortAbandonMs: number;
  /** Service-level target T. */
  serviceLevelMs: number;
}

export const DEFAULT_THRESHOLDS: QueueThresholds = { shortAbandonMs: 5_000, serviceLevelMs: 20_000 };

export type ThresholdsOf = (queue: string) => QueueThresholds;

export interface CallKpis {
  /** O: call visits that ended (any reason but `transferred`). */
  offered: number;
  /** A */
  answered: number;
  /** Ab: hung up waiting, including while an agent rang. */
  abandoned: number;
  /** SAb: abandoned before the queue's short-abandon threshold. */
  shortAbandoned: number;
  timedOut: number;
  callbacks: number;
  exitKey: number;
  /** full + joinempty + closed: turned away at the door. */
  refused: number;
  leaveEmpty: number;
  other: number;
  /** Left for another queue (not in `offered`). */
  transferredOut: number;
  /** Still waiting (entered in the period, no outcome yet; not in `offered`). */
  inProgress: number;
  /** 接通率 = A / (O − SAb). Null when the base is 0. */
  answerRate: number | null;
  /** (Ab − SAb) / (O − SAb). */
  abandonRate: number | null;
  /** SL(T) = answered within T / (O − SAb). */
  serviceLevel: number | null;
  answeredWithinSl: number;
  abandonedWithinSl: number;
  /** Asterisk SL: answered within T / answered. */
  asteriskSl1: number | null;
  /** Asterisk SL2: (answered within T + abandoned within T) / (answered + abandoned). */
  asteriskSl2: number | null;
  /** ASA: mean wait of answered calls (ms). */
  asaMs: number | null;
  /** Mean wait of abandoned calls, short abandons excluded (ms). */
  avgAbandonMs: number | null;
  /** Longest wait of any offered call, whatever the outcome (ms). */
  longestWaitMs: number;
  /** AHT = (talk + hold + after-call work) / calls whose handling is complete (ms). */
  ahtMs: number | null;
  avgTalkMs: number | null;
  avgHoldMs: number | null;
  avgAcwMs: number | null;
  /** Calls whose talk (and wrap-up) are done: the AHT base. */
  handled: number;
}

/** Caller's wait: from first entering any queue on this call to leaving this visit. */
export function waitMs(v: QueueVisit): number {
  return (v.leftAt ?? v.enteredAt) - v.callEnteredAt;
}

const REFUSED: ReadonlySet<LeaveReason> = new Set(['full', 'joinempty', 'closed']);

const ratio = (n: number, d: number): number | null => (d > 0 ? n / d : null);
const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

export function callKpis(visits: readonly QueueVisit[], thresholds: ThresholdsOf = () => DEFAULT_THRESHOLDS): CallKpis {
  let offered = 0;
  let answered = 0;
  let abandoned = 0;
  let sab = 0;
  let timedOut = 0;
  let callbacks = 0;
  let exitKey = 0;
  let refused = 0;
  let leaveEmpty = 0;
  let other = 0;
  let transferredOut = 0;
  let inProgress = 0;
  let answeredInSl = 0;
  let abandonedInSl = 0;
  let longest = 0;
  const answerWaits: number[] = [];
  const abandonWaits: number[] = [];
  const talk: number[] = [];
  const hold: number[] = [];
  const acw: number[] = [];
  const handle: number[] = [];
  for (const v of visits) {
    if (v.kind !== 'call') continue;
    if (v.leaveReason === null) {
      inProgress++;
      continue;
    }
    if (v.leaveReason === 'transferred') {
      transferredOut++;
      continue;
    }
    const th = thresholds(v.queue);
    const w = waitMs(v);
    offered++;
    longest = Math.max(longest, w);
    switch (v.leaveReason) {
      case 'answered':
        answered++;
        answerWaits.push(w);
        if (w <= th.serviceLevelMs) answeredInSl++;
        if (v.talkMs !== null && v.acwMs !== null) {
          talk.push(v.talkMs);
          hold.push(v.holdMs ?? 0);
          acw.push(v.acwMs);
          handle.push(v.talkMs + (v.holdMs ?? 0) + v.acwMs);
        }
        break;
      case 'abandoned':
        abandoned++;
        if (w < th.shortAbandonMs) sab++;
        else abandonWaits.push(w);
        if (w <= th.serviceLevelMs) abandonedInSl++;
        break;
      case 'timeout':
        timedOut++;
        break;
      case 'callback':
        callbacks++;
        break;
      case 'exit_key':
        exitKey++;
        break;
      case 'leaveempty':
        leaveEmpty++;
        break;
      default:
        if (REFUSED.has(v.leaveReason)) refused++;
        else other++;
    }
  }
  const base = offered - sab;
  return {
    offered,
    answered,
    abandoned,
    shortAbandoned: sab,
    timedOut,
    callbacks,
    exitKey,
    refused,
    leaveEmpty,
    other,
    transferredOut,
    inProgress,
    answerRate: ratio(answered, base),
    abandonRate: ratio(abandoned - sab, base),
    serviceLevel: ratio(answeredInSl, base),
    answeredWithinSl: answeredInSl,
    abandonedWithinSl: abandonedInSl,
    asteriskSl1: ratio(answeredInSl, answered),
    asteriskSl2: ratio(answeredInSl + abandonedInSl, answered + abandoned),
    asaMs: mean(answerWaits),
    avgAbandonMs: mean(abandonWaits),
    longestWaitMs: longest,
    ahtMs: mean(handle),
    avgTalkMs: mean(talk),
    avgHoldMs: mean(hold),
    avgAcwMs: mean(acw),
    handled: handle.length,
  };
}

export interface AgentKpis {
  agentId: string;
  /** Time logged in (every state but offline), within the period (ms). */
  loggedInMs: number;
  stateMs: Record<Exclude<AgentStateName, 'offline'>, number>;
  /** Not-ready time by reason code. */
  pauseByReason: Record<string, number>;
  /** (reserved + on_call + wrap_up) / (ready + reserved + on_call + wrap_up): busy share of available time. */
  occupancy: number | null;
  ringAttempts: number;
  ringsAnswered: number;
  ringsNoAnswer: number;
  ringsRejected: number;
  /** Answered / (answered + no_answer + rejected): rings the caller or the ACD cut short do not count. */
  answerRate: number | null;
  callsAnswered: number;
  ahtMs: number | null;
}

/** Part of [start, end) inside [from, to). */
export function overlapMs(start: number, end: number, from: number, to: number): number {
  return Math.max(0, Math.min(end, to) - Math.max(start, from));
}

export function agentKpis(
  intervals: readonly AgentInterval[],
  rings: readonly RingAttempt[],
  visits: readonly QueueVisit[],
  from: number,
  to: number,
): AgentKpis[] {
  const by = new Map<string, AgentKpis>();
  const get = (agentId: string) => {
    let k = by.get(agentId);
    if (!k) {
      k = {
        agentId,
        loggedInMs: 0,
        stateMs: { ready: 0, not_ready: 0, reserved: 0, on_call: 0, wrap_up: 0 },
        pauseByReason: {},
        occupancy: null,
        ringAttempts: 0,
        ringsAnswered: 0,
        ringsNoAnswer: 0,
        ringsRejected: 0,
        answerRate: null,
        callsAnswered: 0,
        ahtMs: null,
      };
      by.set(agentId, k);
    }
    return k;
  };
  for (const i of intervals) {
    if (i.state === 'offline') continue;
    const ms = overlapMs(i.start, i.end, from, to);
    if (ms <= 0) continue;
    const k = get(i.agentId);
    k.stateMs[i.state] += ms;
    k.loggedInMs += ms;
    if (i.state === 'not_ready') {
      const r = i.reason ?? '';
      k.pauseByReason[r] = (k.pauseByReason[r] ?? 0) + ms;
    }
  }
  for (const r of rings) {
    if (r.startedAt < from || r.startedAt >= to) continue;
    const k = get(r.agentId);
    k.ringAttempts++;
    if (r.result === 'answered') k.ringsAnswered++;
    else if (r.result === 'no_answer') k.ringsNoAnswer++;
    else if (r.result === 'rejected') k.ringsRejected++;
  }
  const handles = new Map<string, number[]>();
  for (const v of visits) {
    if (v.kind !== 'call' || v.leaveReason !== 'answered' || !v.agentId) continue;
    if (v.enteredAt < from || v.enteredAt >= to) continue;
    get(v.agentId).callsAnswered++;
    if (v.talkMs !== null && v.acwMs !== null) {
      const list = handles.get(v.agentId) ?? [];
      list.push(v.talkMs + (v.holdMs ?? 0) + v.acwMs);
      handles.set(v.agentId, list);
    }
  }
  for (const k of by.values()) {
    const s = k.stateMs;
    k.occupancy = ratio(s.reserved + s.on_call + s.wrap_up, s.ready + s.reserved + s.on_call + s.wrap_up);
    k.answerRate = ratio(k.ringsAnswered, k.ringsAnswered + k.ringsNoAnswer + k.ringsRejected);
    k.ahtMs = mean(handles.get(k.agentId) ?? []);
  }
  return [...by.values()].sort((a, b) => (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0));
}

/** Occupancy of a whole team: summed busy time over summed available time. */
export function teamOccupancy(agents: readonly AgentKpis[]): number | null {
  let busy = 0;
  let avail = 0;
  for (const a of agents) {
    const s = a.stateMs;
    busy += s.reserved + s.on_call + s.wrap_up;
    avail += s.ready + s.reserved + s.on_call + s.wrap_up;
  }
  return ratio(busy, avail);
}

// ---------------------------------------------------------------------- periods

export type Granularity = '15m' | 'hour' | 'day';

const STEP: Record<Granularity, number> = { '15m': 15 * 60_000, hour: 3600_000, day: 86_400_000 };

/** Start of the bucket holding `t`, in a fixed-offset time zone (Beijing, UTC+8, has no DST). */
export function bucketStart(t: number, g: Granularity, tzOffsetMin = 480): number {
  const off = tzOffsetMin * 60_000;
  return Math.floor((t + off) / STEP[g]) * STEP[g] - off;
}

/** Local midnight (tz offset) of the day holding `t`. */
export function dayStart(t: number, tzOffsetMin = 480): number {
  return bucketStart(t, 'day', tzOffsetMin);
}

/** Bucket starts covering [from, to). */
export function buckets(from: number, to: number, g: Granularity, tzOffsetMin = 480): number[] {
  const out: number[] = [];
  for (let b = bucketStart(from, g, tzOffsetMin); b < to; b += STEP[g]) out.push(b);
  return out;
}

export function bucketMs(g: Granularity): number {
  return STEP[g];
}
