import type { Server as HttpServer } from 'node:http';
import type { Logger } from 'pino';
import { Server, type Socket } from 'socket.io';
import type { AgentView } from '../../acd/acd.js';
import { AcdError, type AcdService } from '../../acd/service.js';
import { createLogger, guardListener } from '../../util/log.js';
import type { AuthService, AuthUser } from '../auth/plugin.js';
import type { Clock } from '../../util/clock.js';
import { CoalescingPusher } from '../../metrics/wallboard.js';
import {
  EVENT_ROLES,
  rooms,
  SOCKET_PATH,
  type Ack,
  type AgentStatePayload,
  type ClientToServerEvents,
  type QueueStatsPayload,
  type ServerToClientEvents,
  type WallboardPayload,
} from './events.js';

interface SocketData {
  user: AuthUser;
  token: string;
  agentId: string | null;
}

type IoServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type IoSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

export interface SocketHubDeps {
  auth: AuthService;
  acd?: AcdService;
  log?: Logger;
  /** Server clock, sent with state changes so desktops can show "in this state for …". */
  now?: () => number;
  /** The lead wallboard feed (metrics, issue 8): `wallboard:update` pushes and `wallboard:get`. */
  wallboard?: WallboardSource;
}

export interface WallboardSource {
  snapshot(): WallboardPayload;
  onChange(fn: () => void): () => void;
  /** Coalescing (≤ 4/s) and the 1 s heartbeat run on this clock. */
  clock: Clock;
}

export interface SocketHub {
  readonly io: IoServer;
  close(): Promise<void>;
}

/**
 * socket.io on the Fastify HTTP server at /socket.io. The handshake carries the same session token as
 * REST; every incoming event re-checks the session (a logout or disabled account stops it at once) and
 * the role table EVENT_ROLES.
 */
export function attachSocketServer(httpServer: HttpServer, deps: SocketHubDeps): SocketHub {
  const log = deps.log ?? createLogger('socket');
  const now = deps.now ?? (() => performance.now());
  const io: IoServer = new Server(httpServer, {
    path: SOCKET_PATH,
    serveClient: false,
    maxHttpBufferSize: 64 * 1024,
    // The same HTTP server carries SIP over WebSocket at /sip; engine.io must leave other upgrades alone.
    destroyUpgrade: false,
  });
  const svc = deps.acd;

  io.use((socket, next) => {
    const auth = socket.handshake.auth as { token?: unknown } | undefined;
    const token = typeof auth?.token === 'string' ? auth.token : null;
    const r = deps.auth.resolve(token);
    if (!r) {
      next(new Error('unauthorized'));
      return;
    }
    socket.data.user = r.user;
    socket.data.token = token!;
    socket.data.agentId = null;
    next();
  });

  io.on(
    'connection',
    guardListener('socket.connection', log, (socket: IoSocket) => {
      const u = socket.data.user;
      void socket.join([rooms.role(u.role), rooms.user(u.username)]);
      if (svc && (u.role === 'agent' || (u.role === 'lead' && svc.store.agentByUser(u.id)))) {
        try {
          socket.data.agentId = svc.agentFor(u);
          void socket.join(rooms.agent(socket.data.agentId));
        } catch (err) {
          if (!(err instanceof AcdError)) throw err;
        }
      }
      if (svc) registerAcdHandlers(socket, svc, deps.auth, log, now);
    }),
  );

  const unsubscribe: Array<() => void> = [];
  if (svc) {
    unsubscribe.push(
      svc.acd.on('agent_state', (t, view) => {
        io.to([rooms.agent(t.agentId), rooms.role('lead'), rooms.role('admin')]).emit('agent:state', {
          agent: toPayload(view),
          from: t.from,
          event: t.event,
          at: t.wallTime,
          ...(t.by ? { by: t.by } : {}),
          serverNow: now(),
        });
      }),
      svc.acd.on('offer', (agentId, entry) => {
        io.to(rooms.agent(agentId)).emit('agent:offer', {
          agentId,
          callId: entry.callId,
          queueId: entry.queueId,
          queueName: svc.acd.queueConfig(entry.queueId)?.name ?? entry.queueId,
          kind: entry.kind,
          consumer: entry.consumer,
          waitedMs: Math.max(0, now() - entry.enteredAt),
          ivrPath: Array.isArray(entry.data?.ivrPath) ? (entry.data.ivrPath as string[]).join('>') : null,
        });
      }),
    );
    // Coalesce: one offer can change a queue several times in one tick; push the picture once.
    let pending = false;
    unsubscribe.push(
      svc.acd.on('queue_changed', () => {
        if (pending) return;
        pending = true;
        setImmediate(() => {
          pending = false;
          io.to([rooms.role('agent'), rooms.role('lead'), rooms.role('admin')]).emit('queue:stats', {
            queues: queueStats(svc),
          });
        });
      }),
    );
  }

  // --- wallboard (metrics, issue 8): pushed on change (coalesced, ≤ 4/s) and every second to leads ---
  if (deps.wallboard) {
    const wb = deps.wallboard;
    const leadRooms = [rooms.role('lead'), rooms.role('admin')];
    const pusher = new CoalescingPusher(wb.clock, () => {
      // Nobody watching: do not build the picture at all.
      if (!leadRooms.some((r) => (io.sockets.adapter.rooms.get(r)?.size ?? 0) > 0)) return;
      io.to(leadRooms).emit('wallboard:update', wb.snapshot());
    });
    unsubscribe.push(
      wb.onChange(() => pusher.changed()),
      () => pusher.close(),
    );
    io.on(
      'connection',
      guardListener('socket.wallboard', log, (socket: IoSocket) => {
        socket.on('wallboard:get', (payload, ack) => {
          const reply = typeof ack === 'function' ? ack : () => undefined;
          const r = deps.auth.resolve(socket.data.token);
          const base = { serverNow: now() };
          if (!r) {
            (reply as (x: unknown) => void)({
              ok: false,
              error: 'unauthorized',
              message: '登录已过期，请重新登录',
              ...base,
            });
            return;
          }
          if (!EVENT_ROLES['wallboard:get'].includes(r.user.role)) {
            (reply as (x: unknown) => void)({ ok: false, error: 'forbidden', message: '没有权限执行此操作', ...base });
            return;
          }
          void payload;
          (reply as (x: unknown) => void)({ ok: true, data: wb.snapshot(), ...base });
        });
      }),
    );
  }

  let closed: Promise<void> | null = null;
  return {
    io,
    close() {
      closed ??= (async () => {
        for (const u of unsubscribe) u();
        io.disconnectSockets(true);
        // Not io.close(): that would also close the HTTP server, which Fastify owns.
        io.engine.close();
      })();
      return closed;
    },
  };
}

function registerAcdHandlers(
  socket: IoSocket,
  svc: AcdService,
  auth: AuthService,
  log: Logger,
  now: () => number,
): void {
  /** Every event: session still valid, role allowed, payload an object; errors go back in the ack. */
  const on = <E extends keyof ClientToServerEvents>(
    event: E,
    fn: (p: Record<string, unknown>, u: AuthUser) => unknown,
  ) => {
    (socket as unknown as { on(e: string, l: (...a: unknown[]) => void): void }).on(
      event,
      guardListener(`socket.${event}`, log, (payload: unknown, ack: unknown) => {
        const send = (typeof ack === 'function' ? ack : () => undefined) as (r: Ack<unknown>) => void;
        type Body = { ok: true; data: unknown } | { ok: false; error: string; message: string };
        const reply = (r: Body) => send({ ...r, serverNow: now() });
        const r = auth.resolve(socket.data.token);
        if (!r) {
          reply({ ok: false, error: 'unauthorized', message: '登录已过期，请重新登录' });
          socket.disconnect(true);
          return;
        }
        socket.data.user = r.user;
        if (!EVENT_ROLES[event].includes(r.user.role)) {
          reply({ ok: false, error: 'forbidden', message: '没有权限执行此操作' });
          return;
        }
        if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
          reply({ ok: false, error: 'bad_request', message: '请求格式错误' });
          return;
        }
        try {
          reply({ ok: true, data: fn(payload as Record<string, unknown>, r.user) });
        } catch (err) {
          if (err instanceof AcdError) reply({ ok: false, error: err.code, message: err.message });
          else if (err instanceof BadRequest) reply({ ok: false, error: 'bad_request', message: err.message });
          else {
            reply({ ok: false, error: 'internal', message: '服务器内部错误' });
            throw err;
          }
        }
      }),
    );
  };
  const joinAgent = (v: AgentView) => {
    if (socket.data.agentId !== v.agentId) {
      socket.data.agentId = v.agentId;
      void socket.join(rooms.agent(v.agentId));
    }
    return toPayload(v);
  };

  on('agent:me', (_p, u) => joinAgent(svc.me(u)));
  on('agent:login', (p, u) => joinAgent(svc.login(u, str(p.seat, 'seat', /^[0-9]{2,15}$/))));
  on('agent:logout', (_p, u) => toPayload(svc.logout(u)));
  on('agent:set_state', (p, u) => {
    const state = p.state;
    if (state !== 'ready' && state !== 'not_ready') throw new BadRequest('state 必须是 ready 或 not_ready');
    const reason = p.reason === undefined ? undefined : str(p.reason, 'reason', /^.{1,32}$/u);
    return toPayload(svc.setState(u, state, reason));
  });
  on('agent:wrap_up_extend', (p, u) => {
    const s = p.seconds;
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 1 || s > 600) throw new BadRequest('seconds 无效');
    return toPayload(svc.extendWrapUp(u, s));
  });
  on('queues:get', () => ({ queues: queueStats(svc) }));
  on('lead:agents', () => ({ agents: svc.agents().map(toPayload) }));
  on('lead:force_state', (p, u) => {
    const state = p.state;
    if (state !== 'ready' && state !== 'not_ready' && state !== 'offline') throw new BadRequest('state 无效');
    const reason = p.reason === undefined ? undefined : str(p.reason, 'reason', /^.{1,32}$/u);
    return toPayload(svc.forceState(u, str(p.workNo, 'workNo', /^.{1,32}$/u), state, reason));
  });
}

class BadRequest extends Error {}

function str(v: unknown, name: string, re: RegExp): string {
  if (typeof v !== 'string' || !re.test(v)) throw new BadRequest(`${name} 无效`);
  return v;
}

function toPayload(v: AgentView): AgentStatePayload {
  return {
    agentId: v.agentId,
    displayName: v.displayName,
    state: v.state,
    reason: v.reason,
    since: v.since,
    callId: v.callId,
    pendingNotReady: v.pendingNotReady,
    wrapUpUntil: v.wrapUpUntil,
    seat: v.seat,
    queues: v.queues,
    skills: v.skills,
    callsHandled: v.callsHandled,
    callQueueId: v.callQueueId,
  };
}

function queueStats(svc: AcdService): QueueStatsPayload[] {
  return svc.acd.stats().map((s) => ({
    queueId: s.queueId,
    name: s.name,
    waiting: s.waiting,
    callbacks: s.callbacks,
    longestWaitMs: s.longestWaitMs,
    meanHandleMs: s.meanHandleMs,
    agents: s.agents,
  }));
}
