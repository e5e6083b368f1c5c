import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import type { WebRole, WebUser, WebUserRepository } from '../../directory/web-users.js';
import { LoginThrottle, type LockoutOptions } from './lockout.js';
import { SessionStore, type SessionOptions } from './sessions.js';

/** What a route sees of the logged-in person. */
export interface AuthUser {
  id: number;
  username: string;
  role: WebRole;
  displayName: string;
  /** Merchant station extension (merchants only). */
  stationExtension: string | null;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler: 401 unless the request carries a live session token. */
    authenticate: preHandlerHookHandler;
    /** preHandler: 401 without a session, 403 unless the user has one of the roles. */
    requireRole: (...roles: WebRole[]) => preHandlerHookHandler;
    auth: AuthService;
  }
  interface FastifyRequest {
    user: AuthUser | null;
    sessionId: string | null;
  }
}

export interface AuthDeps {
  webUsers: WebUserRepository;
  sessions: SessionStore;
  throttle: LoginThrottle;
}

/**
 * Resolves tokens to users; shared by the HTTP hooks and the socket.io handshake so both apply the
 * same rules (expired session, disabled account, role changed since login).
 */
export class AuthService {
  constructor(readonly deps: AuthDeps) {}

  static create(
    webUsers: WebUserRepository,
    db: ConstructorParameters<typeof SessionStore>[0],
    o: { sessions?: SessionOptions; lockout?: LockoutOptions } = {},
  ): AuthService {
    return new AuthService({
      webUsers,
      sessions: new SessionStore(db, o.sessions),
      throttle: new LoginThrottle(o.lockout),
    });
  }

  /** The user behind a token, or null. Re-reads the user so a disabled account stops at once. */
  resolve(token: string | undefined | null): { user: AuthUser; sessionId: string } | null {
    if (!token) return null;
    const s = this.deps.sessions.resolve(token);
    if (!s) return null;
    const u = this.deps.webUsers.getById(s.userId);
    if (!u || !u.enabled) {
      this.deps.sessions.revoke(s.id);
      return null;
    }
    return { user: toAuthUser(u), sessionId: s.id };
  }
}

export function toAuthUser(u: WebUser): AuthUser {
  return {
    id: u.id,
    username: u.username,
    role: u.role,
    displayName: u.displayName,
    stationExtension: u.stationExtension,
  };
}

/** `Authorization: Bearer <token>`. */
export function bearerToken(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return null;
  const m = /^Bearer\s+(\S+)$/i.exec(h.trim());
  return m ? m[1]! : null;
}

/** Paths reachable without a session. Everything else under /api/ needs one (deny by default). */
export const PUBLIC_API_PATHS: ReadonlySet<string> = new Set(['/api/auth/login', '/api/health']);

const unauthorized = { error: 'unauthorized', message: '请先登录' };
const forbidden = { error: 'forbidden', message: '没有权限执行此操作' };

export interface AuthPluginOptions {
  auth: AuthService;
}

const plugin: FastifyPluginAsync<AuthPluginOptions> = async (app: FastifyInstance, opts) => {
  const svc = opts.auth;
  app.decorate('auth', svc);
  app.decorateRequest('user', null);
  app.decorateRequest('sessionId', null);

  const authenticate = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (req.user) return;
    const r = svc.resolve(bearerToken(req));
    if (!r) {
      await reply.code(401).send(unauthorized);
      return;
    }
    req.user = r.user;
    req.sessionId = r.sessionId;
  };
  app.decorate('authenticate', authenticate as preHandlerHookHandler);
  app.decorate('requireRole', (...roles: WebRole[]): preHandlerHookHandler => {
    const allowed = new Set(roles);
    return async function requireRole(this: FastifyInstance, req: FastifyRequest, reply: FastifyReply) {
      await authenticate(req, reply);
      if (reply.sent) return;
      if (!allowed.has(req.user!.role)) await reply.code(403).send(forbidden);
    } as preHandlerHookHandler;
  });

  // Deny by default: a domain that forgets its preHandler still does not leak data. Decided on the
  // matched route pattern, not the raw URL: the router decodes %61pi → api, a raw-URL check would not.
  app.addHook('onRequest', async (req, reply) => {
    const route = req.routeOptions.url;
    if (route === undefined) return; // no route: 404 follows, nothing to protect
    if (!route.startsWith('/api/') || PUBLIC_API_PATHS.has(route)) return;
    await authenticate(req, reply);
  });
};
// Same effect as fastify-plugin: the decorators and the hook reach every sibling plugin.
(plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
export const authPlugin = plugin;
