export { AuthService, authPlugin, bearerToken, toAuthUser, PUBLIC_API_PATHS, type AuthUser } from './plugin.js';
export { SessionStore, hashToken, authMigrations, type Session, type SessionOptions } from './sessions.js';
export { LoginThrottle, type LockoutOptions, type LockVerdict } from './lockout.js';
