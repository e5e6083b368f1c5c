/**
 * The shift lead's part of the store: the wallboard picture (fed only by 'wallboard:update' pushes and the
 * 'wallboard:get' first paint), the live-call list, which call the lead is monitoring, and — for the agent's
 * own desk — whether a lead is coaching the agent's call ('call:coaching').
 *
 * Times: the payload's `timeInStateMs` is as of its `serverNow`; the local clock at arrival is kept so the
 * agent list can tick between pushes without trusting the browser's wall clock.
 */
import type { WallboardPayload } from '../../../server/api/socket/events.js';
import type { Slice } from '../store/types.js';

export type LeadView = 'wallboard' | 'allocation' | 'calls' | 'reports';
export type MonitorMode = 'listen' | 'whisper' | 'barge';

/** One row of GET /api/calls (server/calls/call-manager.ts LiveCallInfo; caller already masked). */
export interface LiveCall {
  id: string;
  state: string;
  caller: string;
  dialled: string;
  ivrPath: string;
  queue: string | null;
  startedAt: number;
  answeredAt: number | null;
  waitingSeconds: number | null;
}

export interface Coaching {
  callId: string;
  mode: MonitorMode;
}

export interface LeadSlice {
  leadView: LeadView;
  wallboard: WallboardPayload | null;
  /** Local clock (deps.now) when the shown wallboard arrived. */
  wallboardAtLocal: number | null;
  /** Pushes applied (stale ones are not counted). */
  wallboardUpdates: number;
  liveCalls: LiveCall[];
  /**
   * The call this lead is monitoring. 'ringing' while POST /monitor waits for the lead's handset to
   * answer (the request only returns then), 'active' once the server confirmed.
   */
  monitoring: (Coaching & { phase: 'ringing' | 'active'; since: number }) | null;
  /** Agent view: a lead is listening/coaching/barged into this call. */
  coaching: Coaching | null;
  showLeadView(v: LeadView): void;
  wallboardUpdated(p: WallboardPayload): void;
  liveCallsLoaded(items: LiveCall[]): void;
  monitoringChanged(m: (Coaching & { phase: 'ringing' | 'active' }) | null): void;
  coachingChanged(p: { callId: string; mode: MonitorMode | 'stopped' }): void;
}

export const createLeadSlice: Slice<LeadSlice> = (deps) => (set, get) => ({
  leadView: 'wallboard',
  wallboard: null,
  wallboardAtLocal: null,
  wallboardUpdates: 0,
  liveCalls: [],
  monitoring: null,
  coaching: null,
  showLeadView(v) {
    set({ leadView: v });
  },
  wallboardUpdated(p) {
    const cur = get().wallboard;
    // A 'wallboard:get' answer can arrive after a newer push; the older picture must not win.
    if (cur && p.serverNow < cur.serverNow) {
      deps.warn?.('stale wallboard ignored', { have: cur.serverNow, got: p.serverNow });
      return;
    }
    set({ wallboard: p, wallboardAtLocal: deps.now(), wallboardUpdates: get().wallboardUpdates + 1 });
  },
  liveCallsLoaded(items) {
    const calls = [...items].sort((a, b) => a.startedAt - b.startedAt);
    const m = get().monitoring;
    // The monitored call has ended: the server tears the monitor down with it.
    set({ liveCalls: calls, monitoring: m && calls.some((c) => c.id === m.callId) ? m : null });
  },
  monitoringChanged(m) {
    set({ monitoring: m ? { ...m, since: deps.now() } : null });
  },
  coachingChanged(p) {
    if (p.mode === 'stopped') {
      if (get().coaching?.callId === p.callId) set({ coaching: null });
      return;
    }
    set({ coaching: { callId: p.callId, mode: p.mode } });
  },
});

/** An agent's time in state now: the server's figure plus the local time since the picture arrived. */
export function timeInStateNow(timeInStateMs: number, atLocal: number | null, nowLocal: number): number {
  return timeInStateMs + (atLocal === null ? 0 : Math.max(0, nowLocal - atLocal));
}

/** The longest current wait, ticking the same way. 0 stays 0 (nobody waiting). */
export function longestWaitNow(longestWaitMs: number, waiting: number, atLocal: number | null, now: number): number {
  return waiting > 0 ? timeInStateNow(longestWaitMs, atLocal, now) : 0;
}

/** Rate 0–1 → "87.5%"; null (nothing counts yet) → "—". */
export function pct(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return '—';
  return `${(Math.round(rate * 1000) / 10).toFixed(1)}%`;
}

/** Which tone a figure gets on the board: SL/接通率 below target is a warning, far below is an alarm. */
export function rateTone(rate: number | null, target: number): 'ok' | 'warn' | 'alarm' | 'none' {
  if (rate === null) return 'none';
  if (rate >= target) return 'ok';
  return rate >= target - 0.1 ? 'warn' : 'alarm';
}

/** Agents sorted the way a lead scans them: on call, ringing, wrap-up, ready, not ready; longest first. */
const STATE_ORDER: Record<string, number> = { on_call: 0, reserved: 1, wrap_up: 2, ready: 3, not_ready: 4 };
export function sortAgents<T extends { state: string; timeInStateMs: number; agentId: string }>(agents: T[]): T[] {
  return [...agents].sort(
    (a, b) =>
      (STATE_ORDER[a.state] ?? 9) - (STATE_ORDER[b.state] ?? 9) ||
      b.timeInStateMs - a.timeInStateMs ||
      a.agentId.localeCompare(b.agentId),
  );
}

/** The ms → "m:ss" / "h:mm:ss" the board shows. */
export function clock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
