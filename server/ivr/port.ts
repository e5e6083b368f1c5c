/**
 * The IVR's boundary. The engine drives one call through `IvrCallPort` (implemented by call control on top
 * of the media engine, by the text simulator, and by scripted fakes in tests) and reaches the rest of the
 * system through `IvrServices`. Nothing in server/ivr imports call control or media.
 *
 * Digit timing (first-digit and inter-digit timeouts, typeahead, barge-in) is done by the engine on its
 * injected Clock, not by the port: the port only reports DTMF as it arrives and plays audio, which keeps
 * every timeout testable on a FakeClock and identical across ports.
 */
import type { IvrCalendar } from './calendar.js';

export interface IvrPrompt {
  /** Catalogue name, e.g. `welcome`, `say_7`. */
  name: string;
  language: string;
  /** Absolute path of the 8 kHz mono 16-bit WAV. */
  file: string;
  /** The text the recording says (simulator, logs of the flow author, accessibility). */
  text: string;
}

/** How a play ended: all prompts played, stopped by the engine (barge-in), or the caller hung up. */
export type PlayOutcome = 'done' | 'stopped' | 'hangup';

export interface IvrEnqueueRequest {
  callId: string;
  queue: string;
  /** 0 normal … 9 most urgent. */
  priority: number;
  skills: string[];
  /** The caller's walk through the IVR (`main:1`, `flow:en` …), shown to the agent with the call. */
  ivrPath: string[];
  /** Flow variables (menu choices, case number entered …) for the agent's screen pop. */
  vars: Record<string, string>;
}

export type IvrEnqueueResult =
  | { outcome: 'connected'; agent?: string }
  | { outcome: 'failed'; reason: 'closed' | 'full' | 'timeout' | 'no-agents' | 'error' }
  | { outcome: 'hangup' };

export interface IvrCallPort {
  readonly callId: string;
  /** Calling number. Personal data: never log it in clear (maskPhone). */
  readonly caller: string;
  readonly dialled: string;
  /** Plays the prompts back to back. Resolves when they end, when `stopPlayback()` is called, or on hangup. */
  play(prompts: readonly IvrPrompt[], opts: { bargeIn: boolean }): Promise<PlayOutcome>;
  /** Stops the current play (barge-in); no-op when nothing plays. */
  stopPlayback(): void;
  /** Every DTMF digit (RFC 4733, SIP INFO or in-band, already de-duplicated). Returns an unsubscribe function. */
  onDigit(listener: (digit: string) => void): () => void;
  /** The caller hung up. Fires at most once. Returns an unsubscribe function. */
  onHangup(listener: () => void): () => void;
  hangup(reason: string): Promise<void>;
  /** Blind transfer (e.g. to a merchant station or another hotline); ok false when it failed. */
  transfer(target: string): Promise<{ ok: boolean }>;
  /** Hands the call to the ACD. Resolves once an agent answered, or the queue gave up on the caller. */
  enqueue(req: IvrEnqueueRequest): Promise<IvrEnqueueResult>;
  /** Records the caller until `#`, silence or `maxMs`. `file` null when nothing usable was recorded. */
  recordVoicemail(opts: { maxMs: number }): Promise<{ file: string | null; durationMs: number }>;
}

/** Case progress as the IVR may read it to a caller who proves only that they know the case number. */
export type IvrCaseStatusCode =
  'received' | 'accepted' | 'transferred' | 'processing' | 'mediating' | 'closed' | 'rejected';
export const IVR_CASE_STATUS_CODES: readonly IvrCaseStatusCode[] = [
  'received',
  'accepted',
  'transferred',
  'processing',
  'mediating',
  'closed',
  'rejected',
];

export interface IvrCaseStatus {
  caseId: string;
  status: IvrCaseStatusCode;
  /** `YYYY-MM-DD` the case was registered. */
  acceptedOn: string;
  /** `YYYY-MM-DD` of the last status change. */
  updatedOn: string;
}

export interface CaseStatusLookup {
  statusForIvr(caseNumber: string): Promise<IvrCaseStatus | null>;
}

export interface CallbackRequest {
  callId: string;
  /** Personal data. */
  number: string;
  windowStart: Date;
  windowEnd: Date;
  ivrPath: string[];
  requestedAt: Date;
}
export interface CallbackStore {
  requestCallback(req: CallbackRequest): Promise<{ id: string }>;
}

export interface SurveyResult {
  callId: string;
  caseId: string | null;
  /** 1 (very dissatisfied) … 5 (very satisfied). */
  score: number;
  at: Date;
}
export interface SurveyStore {
  recordSurvey(result: SurveyResult): Promise<void>;
}

export interface VoicemailMessage {
  callId: string;
  /** Personal data. */
  caller: string;
  file: string;
  durationMs: number;
  ivrPath: string[];
  receivedAt: Date;
}
/** Opens a case draft (工单草稿) holding the recording, for an agent to complete on the next shift. */
export interface VoicemailSink {
  attachVoicemail(msg: VoicemailMessage): Promise<{ draftId: string }>;
}

export interface IvrServices {
  calendar: IvrCalendar;
  cases: CaseStatusLookup;
  callbacks: CallbackStore;
  surveys: SurveyStore;
  voicemail: VoicemailSink;
  /** Wall-clock time (business hours, dates read back); separate from the monotonic Clock for timers. */
  wallClock(): Date;
}
