/**
 * The lead's actions: REST calls with the session token. Results that the socket also pushes (agent
 * states, the wallboard) are left to the pushes; lists with no push (live calls, agents, reports) are
 * loaded here into the store or returned to the view that asked.
 */
import { api, ApiError } from '../lib/api.js';
import type { DesktopStore } from '../store/index.js';
import { callsReportPath, hotspotsPath, type Hotspots, type ReportQuery, type ReportRow } from './reports.js';
import type { LiveCall, MonitorMode } from './slice.js';

export interface Shift {
  id: number;
  workNo: string;
  startsAt: string;
  endsAt: string;
  note: string;
}

/** GET /api/agents row. */
export interface AgentAdmin {
  agentId: string;
  displayName?: string;
  state: string;
  reason?: string | null;
  seat: string | null;
  queues?: Record<string, number>;
  skills?: Record<string, number>;
  enabled?: boolean;
  shifts?: Shift[];
}

export interface QueueInfo {
  queueId: string;
  name: string;
  waiting: number;
  agents: Record<string, number>;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  detail: Record<string, unknown>;
}

/** Per-queue KPI thresholds (docs/metrics.md): short abandon below, SL target T. */
export interface Thresholds {
  shortAbandonMs: number;
  serviceLevelMs: number;
}

export class LeadController {
  constructor(private readonly store: DesktopStore) {}

  private get token(): string | null {
    return this.store.getState().token;
  }

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return api<T>(method, path, this.token, body);
  }

  notify(text: string): void {
    this.store.getState().notify('info', text);
  }

  fail(text: string): void {
    this.store.getState().notify('error', text);
  }

  /** Runs an action and shows its failure in the notice bar; resolves to undefined on failure. */
  async run<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      this.store.getState().notify('error', err instanceof Error ? err.message : String(err));
      return undefined;
    }
  }

  async loadLiveCalls(): Promise<void> {
    const r = await this.call<{ items: LiveCall[] }>('GET', '/api/calls');
    this.store.getState().liveCallsLoaded(r.items);
  }

  /**
   * Starts listen/whisper/barge. The server allows one monitor per lead and call (409 'already'), so a
   * change of mode, or a move to another call, stops the current one first.
   */
  async monitor(callId: string, mode: MonitorMode, seat?: string): Promise<void> {
    const cur = this.store.getState().monitoring;
    if (cur) await this.monitorStop(cur.callId);
    this.store.getState().monitoringChanged({ callId, mode, phase: 'ringing' });
    try {
      await this.call('POST', `/api/calls/${encodeURIComponent(callId)}/monitor`, seat ? { mode, seat } : { mode });
    } catch (err) {
      if (this.store.getState().monitoring?.callId === callId) this.store.getState().monitoringChanged(null);
      throw err;
    }
    // Stopped while the handset was ringing: the server has dropped it too.
    if (this.store.getState().monitoring?.callId === callId)
      this.store.getState().monitoringChanged({ callId, mode, phase: 'active' });
  }

  async monitorStop(callId: string): Promise<void> {
    try {
      await this.call('POST', `/api/calls/${encodeURIComponent(callId)}/monitor/stop`);
    } catch (err) {
      // The call ended (404) or the lead's handset hung up first (409 not_monitoring): over either way.
      if (!(err instanceof ApiError && (err.status === 404 || err.status === 409))) throw err;
    }
    this.store.getState().monitoringChanged(null);
  }

  agents(): Promise<AgentAdmin[]> {
    return this.call<{ agents: AgentAdmin[] }>('GET', '/api/agents').then((r) => r.agents);
  }

  queues(): Promise<QueueInfo[]> {
    return this.call<{ queues: QueueInfo[] }>('GET', '/api/queues').then((r) => r.queues);
  }

  setQueues(workNo: string, queues: Record<string, number>): Promise<unknown> {
    return this.call('PUT', `/api/agents/${encodeURIComponent(workNo)}/queues`, { queues });
  }

  setSkills(workNo: string, skills: Record<string, number>): Promise<unknown> {
    return this.call('PUT', `/api/agents/${encodeURIComponent(workNo)}/skills`, { skills });
  }

  forceState(workNo: string, state: 'ready' | 'not_ready', reason?: string): Promise<unknown> {
    return this.call('PUT', `/api/agents/${encodeURIComponent(workNo)}/state`, reason ? { state, reason } : { state });
  }

  /** Signs a signed-out agent in at a seat (server/api/routes/lead-seats.ts). */
  assignSeat(workNo: string, seat: string): Promise<unknown> {
    return this.call('PUT', `/api/lead/agents/${encodeURIComponent(workNo)}/seat`, { seat });
  }

  forceLogout(workNo: string): Promise<unknown> {
    return this.call('POST', `/api/agents/${encodeURIComponent(workNo)}/logout`);
  }

  addShift(workNo: string, startsAt: string, endsAt: string, note: string): Promise<Shift> {
    return this.call<Shift>('POST', `/api/agents/${encodeURIComponent(workNo)}/shifts`, { startsAt, endsAt, note });
  }

  removeShift(id: number): Promise<unknown> {
    return this.call('DELETE', `/api/agents/shifts/${id}`);
  }

  audit(limit = 50): Promise<AuditEntry[]> {
    return this.call<{ entries: AuditEntry[] }>('GET', `/api/agents/audit?limit=${limit}`).then((r) => r.entries);
  }

  thresholds(queue: string): Promise<Thresholds> {
    return this.call<Thresholds>('GET', `/api/metrics/thresholds/${encodeURIComponent(queue)}`);
  }

  setThresholds(queue: string, t: Thresholds): Promise<Thresholds> {
    return this.call<Thresholds>('PUT', `/api/metrics/thresholds/${encodeURIComponent(queue)}`, t);
  }

  report(q: ReportQuery): Promise<ReportRow[]> {
    return this.call<{ rows: ReportRow[] }>('GET', callsReportPath(q)).then((r) => r.rows);
  }

  hotspots(from: string, to: string, threshold: number): Promise<Hotspots> {
    return this.call<Hotspots>('GET', hotspotsPath(from, to, 10, threshold));
  }

  /** A file fetched with the session token (a plain link cannot carry it); lead/downloads.ts saves it. */
  async fetchBlob(path: string): Promise<Blob> {
    const res = await fetch(path, { headers: this.token ? { authorization: `Bearer ${this.token}` } : {} });
    if (!res.ok) throw new ApiError(res.status, `http_${res.status}`, `下载失败：HTTP ${res.status}`);
    return res.blob();
  }
}
