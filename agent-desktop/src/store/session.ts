/**
 * Who is logged in and what the server says the agent is doing. The server is the source of truth: the
 * agent's state only changes when an 'agent:state' event or an acknowledgement brings a new snapshot.
 *
 * Server times (`since`, `wrapUpUntil`) are on the server's clock; 'agent:state' carries `serverNow`,
 * from which the offset to the local clock is learnt. Acknowledgements carry no server time, so until
 * the first event a snapshot's `since` is taken as "now" when it starts a new stint.
 */
import type { AgentStateChange, AgentStatePayload, Role } from '../../../server/api/socket/events.js';
import type { Slice } from './types.js';

export interface SessionUser {
  username: string;
  role: Role;
  displayName: string;
}

export type SocketStatus = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'failed';

export interface SessionSlice {
  token: string | null;
  user: SessionUser | null;
  agent: AgentStatePayload | null;
  /** serverClock − localClock, from the latest event's serverNow; null until one arrives. */
  clockOffset: number | null;
  /** Local time at which the current state began. */
  stateSinceLocal: number | null;
  socket: SocketStatus;
  socketError: string | null;
  /** How many times the desktop re-read its state after (re)connecting. */
  resyncs: number;
  loggedIn(token: string, user: SessionUser): void;
  loggedOut(): void;
  /** A snapshot from an acknowledgement (agent:me, agent:login, agent:set_state …). */
  agentSynced(agent: AgentStatePayload): void;
  /** A pushed 'agent:state' event. */
  agentStateChanged(change: AgentStateChange): void;
  socketStatusChanged(status: SocketStatus, error?: string | null): void;
  resynced(): void;
}

export const SESSION_KEY = 'hotline12315.desktop.session';

interface Persisted {
  token: string;
  user: SessionUser;
}

function restore(storage: { getItem(k: string): string | null } | null): Persisted | null {
  try {
    const raw = storage?.getItem(SESSION_KEY);
    if (!raw) return null;
    const p = JSON.parse(raw) as Partial<Persisted>;
    if (typeof p.token !== 'string' || !p.user || typeof p.user.username !== 'string') return null;
    return { token: p.token, user: p.user };
  } catch {
    return null;
  }
}

export const createSessionSlice: Slice<SessionSlice> = (deps) => (set, get) => {
  const saved = restore(deps.storage);

  /** Applies a snapshot unless it is older than what is shown (an ack can overtake an event). */
  const apply = (agent: AgentStatePayload, serverNow: number | null) => {
    const cur = get().agent;
    if (cur && cur.agentId === agent.agentId && agent.since < cur.since) {
      deps.warn?.('stale agent snapshot ignored', { have: cur.since, got: agent.since });
      return;
    }
    const offset = serverNow !== null ? serverNow - deps.now() : get().clockOffset;
    const newStint = !cur || cur.since !== agent.since || cur.state !== agent.state;
    let stateSinceLocal = get().stateSinceLocal;
    if (offset !== null) stateSinceLocal = agent.since - offset;
    else if (newStint) stateSinceLocal = deps.now();
    set({ agent, clockOffset: offset, stateSinceLocal });
  };

  return {
    token: saved?.token ?? null,
    user: saved?.user ?? null,
    agent: null,
    clockOffset: null,
    stateSinceLocal: null,
    socket: 'idle',
    socketError: null,
    resyncs: 0,
    loggedIn(token, user) {
      deps.storage?.setItem(SESSION_KEY, JSON.stringify({ token, user } satisfies Persisted));
      set({ token, user, agent: null, socketError: null });
    },
    loggedOut() {
      deps.storage?.removeItem(SESSION_KEY);
      set({ token: null, user: null, agent: null, clockOffset: null, stateSinceLocal: null, socket: 'idle' });
    },
    agentSynced(agent) {
      apply(agent, null);
    },
    agentStateChanged(change) {
      apply(change.agent, change.serverNow);
    },
    socketStatusChanged(status, error = null) {
      set({ socket: status, socketError: error });
    },
    resynced() {
      set({ resyncs: get().resyncs + 1 });
    },
  };
};

/** Local time (ms) at which wrap-up ends, or null (not in wrap-up, or no clock offset known yet). */
export function wrapUpUntilLocal(s: Pick<SessionSlice, 'agent' | 'clockOffset'>): number | null {
  if (!s.agent || s.agent.state !== 'wrap_up' || s.agent.wrapUpUntil === null || s.clockOffset === null) return null;
  return s.agent.wrapUpUntil - s.clockOffset;
}
