export { Directory } from './directory.js';
export * from './devices.js';
export * from './trunks.js';
export * from './web-users.js';
export { mayDial, matchesDialPattern, compileDialPattern } from './patterns.js';
export { hashPassword, verifyPassword, needsRehash, DEFAULT_SCRYPT, type ScryptParams } from './password.js';
export { directoryMigrations } from './schema.js';
export { seedDemo, type DemoSeed } from './seed.js';
