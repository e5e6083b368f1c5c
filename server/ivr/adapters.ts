/**
 * Adapters from the IVR's service interfaces to the real calendar (server/calendar) and case store
 * (server/cases). Type-only imports of those modules: the IVR stays usable (simulator, tests) without them.
 */
import type { BusinessHours, WorkingCalendar } from '../calendar/index.js';
import type { CaseRepository } from '../cases/repository.js';
import type { IvrCalendar } from './calendar.js';
import type { CaseStatusLookup, IvrCaseStatusCode, VoicemailSink } from './port.js';

/**
 * The hotline's calendar: `schedules` names the opening hours a branch may ask for (`schedule:` in a flow);
 * `default` is used when a branch names none.
 */
export function ivrCalendarFrom(cal: WorkingCalendar, schedules: Record<string, BusinessHours>): IvrCalendar {
  if (!schedules.default) throw new Error('ivrCalendarFrom: schedules must include "default"');
  const shanghaiDay = (at: Date) => new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
  return {
    isOpen(at, schedule = 'default') {
      const hours = schedules[schedule];
      if (!hours) throw new Error(`unknown schedule "${schedule}"`);
      return cal.isOpen(at, hours);
    },
    isHoliday: (at) => cal.holidayName(shanghaiDay(at)) !== null,
    isWorkday: (at) => cal.isWorkingDay(at),
  };
}

/**
 * Case workflow status → what the IVR may say. A caller hears the stage, not the internal step: 核查/立案
 * are "processing", a mediation that ended (either way) is "closed" because the case is then 办结 or about to be.
 */
const STATUS_FOR_IVR: Record<string, IvrCaseStatusCode> = {
  registered: 'received',
  accepted: 'accepted',
  dispatched: 'transferred',
  verifying: 'processing',
  filed: 'processing',
  mediating: 'mediating',
  mediation_succeeded: 'closed',
  mediation_terminated: 'closed',
  closed: 'closed',
  rejected: 'rejected',
  not_filed: 'rejected',
};

/** `statusForIvr` of the case store. The registration date is the one in the case number (YYYYMMDD-NNNNNN). */
export function caseLookupFrom(repo: Pick<CaseRepository, 'statusForIvr'>): CaseStatusLookup {
  return {
    async statusForIvr(caseNumber) {
      const r = repo.statusForIvr(caseNumber);
      if (!r.found) return null;
      const status = STATUS_FOR_IVR[r.status];
      if (!status) return null;
      const m = /^(\d{4})(\d{2})(\d{2})-/.exec(r.number);
      const day = m ? `${m[1]}-${m[2]}-${m[3]}` : '';
      return { caseId: r.number, status, acceptedOn: day, updatedOn: day };
    },
  };
}

/** A voicemail becomes a 草稿 case for the caller, with the recording linked, for the next shift to complete. */
export function voicemailSinkFrom(repo: Pick<CaseRepository, 'createDraftForCall' | 'addLink'>): VoicemailSink {
  return {
    async attachVoicemail(msg) {
      const draft = repo.createDraftForCall({
        callId: msg.callId,
        callerNumber: msg.caller,
        ivrPath: msg.ivrPath,
        queue: 'voicemail',
        agentId: null,
      });
      repo.addLink(
        draft.id,
        { kind: 'voicemail', ref: msg.file, note: `留言 ${Math.round(msg.durationMs / 1000)} 秒` },
        { id: null, role: 'system' },
      );
      return { draftId: draft.number };
    },
  };
}
