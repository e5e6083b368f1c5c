import { describe, expect, it } from 'vitest';
import { defaultCalendar, DEFAULT_HOTLINE_HOURS } from '../../server/calendar/index.js';
import { caseLookupFrom, ivrCalendarFrom, voicemailSinkFrom } from '../../server/ivr/adapters.js';
import { completeComplaint, tempCaseRepo } from '../cases/helpers.js';
import { harness, runToEnd, ScriptedPort } from './helpers.js';

const bj = (s: string) => new Date(`${s}+08:00`);

describe('IVR on the real calendar (server/calendar, 2026 holiday notice)', () => {
  const cal = ivrCalendarFrom(defaultCalendar(), {
    default: DEFAULT_HOTLINE_HOURS,
    always: { days: 'everyday', intervals: [{ from: '00:00', to: '23:59' }] },
  });

  it('国庆 is a holiday, the 调休 Saturday after it a working day, lunch is closed', () => {
    expect(cal.isHoliday(bj('2026-10-05T10:00'))).toBe(true);
    expect(cal.isOpen(bj('2026-10-05T10:00'))).toBe(false);
    expect(cal.isWorkday(bj('2026-10-10T10:00'))).toBe(true);
    expect(cal.isOpen(bj('2026-10-10T10:00'))).toBe(true);
    expect(cal.isOpen(bj('2026-11-30T12:30'))).toBe(false);
    expect(cal.isOpen(bj('2026-10-05T03:00'), 'always')).toBe(true);
    expect(() => cal.isOpen(bj('2026-10-05T03:00'), 'nope')).toThrow(/unknown schedule/);
  });
});

describe('IVR on the real case store (server/cases)', () => {
  it('menu 4 reads back a registered case keyed as 14 digits; a voicemail becomes a draft with the recording', async () => {
    const t = tempCaseRepo('2026-03-02T02:00:00Z');
    try {
      const c = t.repo.create(completeComplaint(), { id: 7, role: 'agent' });
      const lookup = caseLookupFrom(t.repo);
      const st = await lookup.statusForIvr(c.number.replace('-', ''));
      expect(st).toEqual({ caseId: c.number, status: 'received', acceptedOn: '2026-03-02', updatedOn: '2026-03-02' });
      expect(await lookup.statusForIvr('20260302999999')).toBeNull();

      const h = harness({ services: { cases: lookup } });
      const port = new ScriptedPort(h.clock, [
        { onPrompt: 'main_menu', keys: '4' },
        { onPrompt: 'lookup_enter', keys: `${c.number.replace('-', '')}#` },
        { onPrompt: 'main_menu', keys: '1', nth: 2 },
      ]);
      await runToEnd(h.clock, h.engine.start(port, { flowId: '12315' }));
      expect(port.played).toContain('status_received');
      const date = port.played.slice(
        port.played.indexOf('lookup_accepted_on') + 1,
        port.played.indexOf('lookup_status_is'),
      );
      expect(date).toEqual(['say_2', 'say_0', 'say_2', 'say_6', 'say_nian', 'say_3', 'say_yue', 'say_2', 'say_ri']);

      const sink = voicemailSinkFrom(t.repo);
      const { draftId } = await sink.attachVoicemail({
        callId: 'call-vm-1',
        caller: '13912345678',
        file: '/var/spool/hotline/vm/call-vm-1.wav',
        durationMs: 21_400,
        ivrPath: ['offline:2', 'voicemail'],
        receivedAt: new Date(),
      });
      const draft = t.repo.getByNumber(draftId);
      expect(draft.status).toBe('draft');
      expect(draft.links.map((l) => [l.kind, l.ref])).toContainEqual([
        'voicemail',
        '/var/spool/hotline/vm/call-vm-1.wav',
      ]);
    } finally {
      t.cleanup();
    }
  });
});
