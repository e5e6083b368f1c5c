export {
  Acd,
  type AcdEvents,
  type AcdOptions,
  type AgentProfile,
  type AgentView,
  type EnqueueInput,
  type EnqueueResult,
  type LeaveReason,
  type QueueStats,
} from './acd.js';
export * from './agent-state.js';
export type { AgentTarget, CallControl, DialOutcome, RingOutcome } from './call-control.js';
export * from './queue.js';
export { AcdService, AcdError, type AcdServiceDeps, type Actor } from './service.js';
export { AcdStore, acdMigrations, type AgentRecord, type AuditRecord, type Shift } from './store.js';
