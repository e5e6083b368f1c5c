export * from './types.js';
export * from './kpi.js';
export * from './case-kpi.js';
export * from './exports.js';
export { MetricsStore } from './store.js';
export { MetricsRecorder, type QueueCounters, type RecorderOptions } from './recorder.js';
export { CoalescingPusher } from './wallboard.js';
export {
  MetricsService,
  type MetricsServiceDeps,
  type ReportRow,
  type Summary,
  type WallboardPayload,
  type WindowFigures,
} from './service.js';
export { metricsMigrations } from './schema.js';
