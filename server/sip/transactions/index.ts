export * from './fsm.js';
export * from './timers.js';
export type { ClientTransactionHandlers, ServerTransactionHandlers } from './base.js';
export * from './client-invite.js';
export * from './client-non-invite.js';
export * from './server-invite.js';
export * from './server-non-invite.js';
export * from './matching.js';
export * from './layer.js';
