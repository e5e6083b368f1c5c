/**
 * The socket.io contract between the server and the browser desktops (agent, lead wallboard,
 * merchant). Types and constants only, no runtime imports: the desktop bundle imports this file.
 *
 * Connect: `io({ path: SOCKET_PATH, auth: { token } })` with the token from POST /api/auth/login.
 * A bad or expired token fails the handshake with connect_error message 'unauthorized'.
 * Requests use acknowledgements: `socket.emit('agent:set_state', {state: 'ready'}, (r: Ack<AgentStatePayload>) => …)`.
 */

export const SOCKET_PATH = '/socket.io';

export type Role = 'agent' | 'lead' | 'merchant' | 'admin';
export type AgentStateName = 'offline' | 'ready' | 'not_ready' | 'reserved' | 'on_call' | 'wrap_up';

/**
 * Every acknowledgement carries `serverNow`: the server clock (the one `since`/`wrapUpUntil` are on) when
 * the answer left, so the desktop corrects its timers on every request, not only on pushed state changes.
 */
export type Ack<T> =
  { ok: true; data: T; serverNow: number } | { ok: false; error: string; message: string; serverNow: number };

/** An agent as the desktop shows it; `since` and `wrapUpUntil` are server clock ms, compare with `serverNow`. */
export interface AgentStatePayload {
  agentId: string;
  displayName: string;
  state: AgentStateName;
  reason: string | null;
  since: number;
  callId: string | null;
  pendingNotReady: string | null;
  wrapUpUntil: number | null;
  seat: string | null;
  queues: Record<string, number>;
  skills: Record<string, number>;
  callsHandled: number;
  callQueueId: string | null;
}

export interface AgentStateChange {
  agent: AgentStatePayload;
  from: AgentStateName;
  event: string;
  /** Wall time of the change (ISO). */
  at: string;
  /** The lead who forced it, if one did. */
  by?: string;
  serverNow: number;
}

export interface OfferPayload {
  agentId: string;
  callId: string;
  queueId: string;
  queueName: string;
  kind: 'call' | 'callback';
  /** The consumer's number, for the agent's screen only. */
  consumer: string | null;
  waitedMs: number;
  /** The caller's walk through the IVR, e.g. `menu:1>queue:complaint`. */
  ivrPath: string | null;
}

export interface QueueStatsPayload {
  queueId: string;
  name: string;
  waiting: number;
  callbacks: number;
  longestWaitMs: number;
  meanHandleMs: number;
  agents: Record<AgentStateName, number>;
}

/** Call figures over a window (rates 0–1, null when nothing counts yet). docs/metrics.md defines them. */
export interface WallboardWindow {
  offered: number;
  answered: number;
  abandoned: number;
  shortAbandoned: number;
  /** 接通率 = answered / (offered − shortAbandoned). */
  answerRate: number | null;
  abandonRate: number | null;
  /** SL = answered within the queue's target / (offered − shortAbandoned). */
  serviceLevel: number | null;
  asaMs: number | null;
}

/** The lead's wallboard, pushed as `wallboard:update` (on change, ≤ 4/s, and a heartbeat every second). */
export interface WallboardPayload {
  /** Server wall time (epoch ms) the picture was taken. */
  serverNow: number;
  queues: Array<{
    queueId: string;
    name: string;
    waiting: number;
    callbacks: number;
    longestWaitMs: number;
    agents: Record<AgentStateName, number>;
    /** The last 30 minutes (by time of entering the queue). */
    rolling30: WallboardWindow;
    /** Since 00:00 Beijing time. */
    today: WallboardWindow;
  }>;
  totals: { waiting: number; longestWaitMs: number; rolling30: WallboardWindow; today: WallboardWindow };
  /** Logged-in agents. */
  agents: Array<{
    agentId: string;
    displayName: string;
    state: AgentStateName;
    reason: string | null;
    seat: string | null;
    timeInStateMs: number;
    callsHandled: number;
    callQueueId: string | null;
  }>;
}

export interface ServerToClientEvents {
  /** To leads and admins: the wallboard picture (metrics, issue 8). */
  'wallboard:update': (p: WallboardPayload) => void;
  /** To the agent's own room and to leads/admins. */
  'agent:state': (p: AgentStateChange) => void;
  /** To the agent's room: a call (or callback) is being offered; the seat rings at the same time. */
  'agent:offer': (p: OfferPayload) => void;
  /** To everyone but merchants, coalesced: at most one push per change burst. */
  'queue:stats': (p: { queues: QueueStatsPayload[] }) => void;
  /** To the agent who set up the three-way call and to leads/admins, on every change. */
  'call:conference': (p: CallConferencePayload) => void;
  /** To the agent on the call: a lead started (listen/whisper/barge) or stopped monitoring it. */
  'call:coaching': (p: { callId: string; mode: 'listen' | 'whisper' | 'barge' | 'stopped' }) => void;
}

export interface CallConferencePayload {
  callId: string;
  state: 'ringing' | 'consulting' | 'conference' | 'agent_left' | 'two_party' | 'ended' | 'failed';
  parties: Array<{ role: 'consumer' | 'agent' | 'station'; name?: string; muted?: boolean }>;
}

export interface ClientToServerEvents {
  'agent:me': (p: Record<string, never>, ack: (r: Ack<AgentStatePayload>) => void) => void;
  'agent:login': (p: { seat: string }, ack: (r: Ack<AgentStatePayload>) => void) => void;
  'agent:logout': (p: Record<string, never>, ack: (r: Ack<AgentStatePayload>) => void) => void;
  'agent:set_state': (
    p: { state: 'ready' | 'not_ready'; reason?: string },
    ack: (r: Ack<AgentStatePayload>) => void,
  ) => void;
  'agent:wrap_up_extend': (p: { seconds: number }, ack: (r: Ack<AgentStatePayload>) => void) => void;
  'queues:get': (p: Record<string, never>, ack: (r: Ack<{ queues: QueueStatsPayload[] }>) => void) => void;
  'lead:agents': (p: Record<string, never>, ack: (r: Ack<{ agents: AgentStatePayload[] }>) => void) => void;
  /** The wallboard picture now (a board's first paint; updates follow as `wallboard:update`). */
  'wallboard:get': (p: Record<string, never>, ack: (r: Ack<WallboardPayload>) => void) => void;
  'lead:force_state': (
    p: { workNo: string; state: 'ready' | 'not_ready' | 'offline'; reason?: string },
    ack: (r: Ack<AgentStatePayload>) => void,
  ) => void;
}

/** Which roles may send each event; the server checks this on every event, same rules as REST. */
export const EVENT_ROLES: Readonly<Record<keyof ClientToServerEvents, readonly Role[]>> = {
  'agent:me': ['agent', 'lead'],
  'agent:login': ['agent', 'lead'],
  'agent:logout': ['agent', 'lead'],
  'agent:set_state': ['agent', 'lead'],
  'agent:wrap_up_extend': ['agent', 'lead'],
  'queues:get': ['agent', 'lead', 'admin'],
  'lead:agents': ['lead', 'admin'],
  'wallboard:get': ['lead', 'admin'],
  'lead:force_state': ['lead', 'admin'],
};

export const rooms = {
  role: (r: Role) => `role:${r}`,
  user: (username: string) => `user:${username}`,
  agent: (workNo: string) => `agent:${workNo}`,
} as const;
