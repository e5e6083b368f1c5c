/**
 * socket.io connection to the server: pushes go straight into store actions, and every (re)connect
 * re-reads the agent's state and the queue picture, because events sent while the desktop was away
 * are not replayed.
 */
import { io, type Socket } from 'socket.io-client';
import {
  SOCKET_PATH,
  type Ack,
  type ClientToServerEvents,
  type ServerToClientEvents,
} from '../../../server/api/socket/events.js';
import type { DesktopStore } from '../store/index.js';

export type DesktopSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export class AckError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AckError';
  }
}

type Args<E extends keyof ClientToServerEvents> = Parameters<ClientToServerEvents[E]>;
type AckData<E extends keyof ClientToServerEvents> = Args<E>[1] extends (r: Ack<infer T>) => void ? T : never;

export interface SocketLink {
  readonly socket: DesktopSocket;
  /** Emits with an acknowledgement; rejects with AckError on `{ok:false}` or after `timeoutMs`. */
  request<E extends keyof ClientToServerEvents>(event: E, payload: Args<E>[0], timeoutMs?: number): Promise<AckData<E>>;
  close(): void;
}

export function connectSocket(
  token: string,
  store: DesktopStore,
  hooks: { onUnauthorized(): void; onResynced?(): void },
): SocketLink {
  const socket: DesktopSocket = io({
    path: SOCKET_PATH,
    auth: { token },
    transports: ['websocket', 'polling'],
    reconnection: true,
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
  });
  const s = () => store.getState();
  s().socketStatusChanged('connecting');

  const request: SocketLink['request'] = (event, payload, timeoutMs = 5000) =>
    new Promise((resolve, reject) => {
      // socket.io-client's typed emit cannot name an event chosen at run time; the contract is checked above.
      const timed = socket.timeout(timeoutMs) as unknown as {
        emit(e: string, p: unknown, cb: (err: Error | null, r: Ack<unknown>) => void): void;
      };
      timed.emit(event, payload, (err, r) => {
        if (err) reject(new AckError('timeout', '服务器无响应'));
        else if (r.ok) resolve(r.data as never);
        else reject(new AckError(r.error, r.message));
      });
    });

  const isLead = () => s().user?.role === 'lead' || s().user?.role === 'admin';
  const resync = async () => {
    try {
      // Admins are never agents (agent:me is not theirs to ask); a lead may be one.
      if (s().user?.role !== 'admin') {
        const me = await request('agent:me', {});
        s().agentSynced(me);
      }
    } catch (err) {
      // A web user that is not an agent (no seat) still sees queues; other failures are shown.
      if (!(err instanceof AckError && err.code === 'not_an_agent')) s().notify('error', (err as Error).message);
    }
    try {
      const q = await request('queues:get', {});
      s().queuesUpdated(q.queues);
    } catch (err) {
      s().notify('error', (err as Error).message);
    }
    if (isLead()) {
      try {
        s().wallboardUpdated(await request('wallboard:get', {}));
      } catch (err) {
        s().notify('error', (err as Error).message);
      }
    }
    s().resynced();
    hooks.onResynced?.();
  };

  socket.on('connect', () => {
    s().socketStatusChanged('connected');
    void resync();
  });
  socket.on('disconnect', (reason) => {
    if (reason === 'io client disconnect') return;
    s().socketStatusChanged('reconnecting', reason);
    // socket.io does not retry after the server closed the socket (a graceful restart, or a revoked
    // session): connect again by hand; a dead token then fails the handshake with 'unauthorized'.
    if (reason === 'io server disconnect') setTimeout(() => socket.connect(), 1000);
  });
  socket.on('connect_error', (err) => {
    if (err.message === 'unauthorized') {
      s().socketStatusChanged('failed', err.message);
      hooks.onUnauthorized();
    } else s().socketStatusChanged('reconnecting', err.message);
  });
  // Leads get every agent's 'agent:state' (their wallboard uses it); only their own may move their desk.
  socket.on('agent:state', (change) => {
    if (isLead() && s().agent?.agentId !== change.agent.agentId) return;
    s().agentStateChanged(change);
  });
  socket.on('agent:offer', (offer) => s().offerArrived(offer));
  socket.on('queue:stats', (p) => s().queuesUpdated(p.queues));
  socket.on('call:conference', (p) => s().conferenceUpdated(p));
  socket.on('wallboard:update', (p) => s().wallboardUpdated(p));
  socket.on('call:coaching', (p) => s().coachingChanged(p));

  let closed = false;
  return {
    socket,
    request,
    close() {
      if (closed) return;
      closed = true;
      socket.removeAllListeners();
      socket.disconnect();
    },
  };
}
