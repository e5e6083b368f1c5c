import type { FastifyInstance } from 'fastify';
import { buildHttpApp, type HttpAppDeps } from '../../server/api/app.js';
import { AuthService } from '../../server/api/auth/plugin.js';
import type { LockoutOptions } from '../../server/api/auth/lockout.js';
import type { SessionOptions } from '../../server/api/auth/sessions.js';
import { Directory } from '../../server/directory/directory.js';
import { openDatabase, type Database } from '../../server/storage/database.js';

export const FAST_SCRYPT = { N: 1024, r: 8, p: 1 };
export const PASSWORD = 'secret-12315';

export interface AuthFixture {
  db: Database;
  directory: Directory;
  auth: AuthService;
  clock: { t: number; now: () => number };
  close(): void;
}

/** In-memory database with one user per role (password PASSWORD), and an AuthService on a settable wall clock. */
export async function authFixture(
  o: { sessions?: SessionOptions; lockout?: LockoutOptions } = {},
): Promise<AuthFixture> {
  const db = openDatabase(':memory:');
  const directory = new Directory(db, { scrypt: FAST_SCRYPT });
  directory.devices.create({ extension: '3001', kind: 'station', password: 'station3001', realm: 'r' });
  for (const [username, role] of [
    ['agent01', 'agent'],
    ['agent02', 'agent'],
    ['agent03', 'agent'],
    ['lead01', 'lead'],
    ['admin', 'admin'],
  ] as const) {
    await directory.webUsers.create({ username, password: PASSWORD, role, displayName: `用户${username}` });
  }
  await directory.webUsers.create({
    username: 'm3001',
    password: PASSWORD,
    role: 'merchant',
    stationExtension: '3001',
  });
  const clock = { t: 1_700_000_000_000, now: () => clock.t };
  const auth = AuthService.create(directory.webUsers, db, {
    sessions: { now: clock.now, ...o.sessions },
    lockout: { now: clock.now, ...o.lockout },
  });
  return { db, directory, auth, clock, close: () => db.close() };
}

export async function buildApp(f: AuthFixture, extra: Partial<HttpAppDeps> = {}): Promise<FastifyInstance> {
  const app = await buildHttpApp({ health: { startedAt: Date.now(), transports: () => [] }, auth: f.auth, ...extra });
  await app.ready();
  return app;
}

export async function login(app: FastifyInstance, username: string, password = PASSWORD): Promise<string> {
  const r = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } });
  if (r.statusCode !== 200) throw new Error(`login ${username}: ${r.statusCode} ${r.body}`);
  return (r.json() as { token: string }).token;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
