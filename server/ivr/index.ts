/** The IVR: flows (YAML/JSON) run by an engine against a per-call port. See docs in each module. */
export { caseLookupFrom, ivrCalendarFrom, voicemailSinkFrom } from './adapters.js';
export { beijingDate, SimpleCalendar, type IvrCalendar, type SimpleCalendarOptions } from './calendar.js';
export {
  IllegalTransition,
  IvrEngine,
  IvrSession,
  IvrSessionState,
  SessionClosed,
  type IvrEngineOptions,
  type IvrOutcome,
  type IvrResult,
  type StartOptions,
} from './engine.js';
export { FlowError, NODE_TYPES, validateFlow, type Flow, type FlowNode, type NodeType } from './flow.js';
export { lintFlows, type LintIssue, type LintReport } from './lint.js';
export type * from './port.js';
export { IVR_CASE_STATUS_CODES } from './port.js';
export { loadPromptCatalog, promptFile, resolvePrompt, type PromptCatalog } from './prompts.js';
export { FlowRegistry, parseFlowFile, type FlowSet, type ReloadReport } from './registry.js';
export { compose, SayError } from './say.js';
export { IvrStore, ivrMigrations, MemoryIvrStore, MemoryVoicemailSink, StaticCaseStatusTable } from './services.js';
