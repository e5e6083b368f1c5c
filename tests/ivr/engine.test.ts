import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { IvrSessionState } from '../../server/ivr/engine.js';
import { IvrStore } from '../../server/ivr/services.js';
import { openDatabase } from '../../server/storage/index.js';
import { FLOWS_DIR, harness, runToEnd, ScriptedPort, flush } from './helpers.js';

const MAIN_MENU = ['main_menu', 'english_option'];

describe('12315 flow on the engine', () => {
  it('menu 1 during business hours queues a complaint with skills, IVR path and variables', async () => {
    const h = harness();
    const port = new ScriptedPort(h.clock, [{ onPrompt: 'main_menu', keys: '1', afterMs: 500 }]);
    const r = await runToEnd(h.clock, h.engine.start(port, { flowId: '12315' }));
    expect(r.outcome).toBe('connected');
    expect(r.queue).toBe('complaint');
    expect(port.played).toEqual(['welcome', 'main_menu', 'complaint_intro']);
    expect(port.enqueued).toHaveLength(1);
    const req = port.enqueued[0]!;
    expect(req).toMatchObject({ queue: 'complaint', priority: 0, skills: ['complaint', 'zh'], callId: 'call-1' });
    expect(req.ivrPath).toEqual(['menu:1', 'queue:complaint']);
    expect(req.vars.category).toBe('complaint');
    expect(req.vars.channel).toBe('hotline');
    // The complaint prompt is not interruptible; the menu is (barge-in stopped it half-way).
    expect(port.events).toContain('play:complaint_intro');
    expect(port.stops).toBe(1);
  });

  it('a key pressed during the welcome stops it and answers the menu without playing it (typeahead)', async () => {
    const h = harness();
    const port = new ScriptedPort(h.clock, [{ onPrompt: 'welcome', keys: '3', afterMs: 300 }]);
    const r = await runToEnd(h.clock, h.engine.start(port, { flowId: '12315' }));
    expect(port.stops).toBe(1);
    expect(port.played).toEqual(['welcome', 'consult_intro']);
    expect(r.ivrPath).toEqual(['menu:3', 'queue:consultation']);
  });

  it('silence: timeout re-prompt once, then falls back to an agent, at the configured times', async () => {
    const h = harness();
    const port = new ScriptedPort(h.clock, []);
    const session = h.engine.start(port, { flowId: '12315' });
    const r = await runToEnd(h.clock, session);
    expect(port.played).toEqual(['welcome', ...MAIN_MENU, 'menu_timeout', ...MAIN_MENU, 'to_agent']);
    expect(r.ivrPath).toEqual(['menu:timeout', 'queue:consultation']);
    expect(port.enqueued[0]!.queue).toBe('consultation');
    // welcome 1 s + menu 2 s + 6 s timeout + re-prompt 3 s + 6 s timeout = 18 s, then the agent prompt.
    const fake = h.clock.now();
    expect(fake).toBeGreaterThanOrEqual(19_000);
    expect(fake).toBeLessThan(19_200);
    expect(h.engine.stats.menuTimeouts).toBe(2);
    expect(h.engine.stats.menuFallbacks).toBe(1);
  });

  it('an invalid key re-prompts with the error prompt; a valid one then wins', async () => {
    const h = harness();
    const port = new ScriptedPort(h.clock, [
      { onPrompt: 'main_menu', keys: '7', afterMs: 200 },
      { onPrompt: 'menu_invalid', keys: '2', afterMs: 2500, nth: 1 },
    ]);
    const r = await runToEnd(h.clock, h.engine.start(port, { flowId: '12315' }));
    expect(port.played).toEqual(['welcome', 'main_menu', 'menu_invalid', ...MAIN_MENU, 'report_intro']);
    expect(r.ivrPath).toEqual(['menu:2', 'queue:report']);
    expect(h.engine.stats.menuInvalid).toBe(1);
  });

  it('two invalid keys fall back to an agent', async () => {
    const h = harness();
    const port = new ScriptedPort(h.clock, [
      { onPrompt: 'main_menu', keys: '8', afterMs: 100 },
      { onPrompt: 'main_menu', keys: '*', afterMs: 100, nth: 2 },
    ]);
    const r = await runToEnd(h.clock, h.engine.start(port, { flowId: '12315' }));
    expect(r.ivrPath).toEqual(['menu:invalid', 'queue:consultation']);
  });

  it('queue failure offers callback or voicemail', async () => {
    const h = harness();
    const port = new ScriptedPort(h.clock, [
      { onPrompt: 'main_menu', keys: '0' },
      { onPrompt: 'offline_menu', keys: '2', afterMs: 100 },
    ]);
    port.enqueueResult = { outcome: 'failed', reason: 'full' };
    const r = await runToEnd(h.clock, h.engine.start(port, { flowId: '12315' }));
    expect(port.played.slice(0, 5)).toEqual(['welcome', 'main_menu', 'to_agent', 'queue_busy', 'offline_menu']);
    expect(r.outcome).toBe('hangup');
    expect(r.vars.queue_fail).toBe('full');
    expect(r.ivrPath).toEqual(['menu:0', 'queue:consultation', 'offline:2', 'voicemail']);
  });
});

describe('after hours and the holiday calendar', () => {
  it('after 17:30 a caller leaves a voicemail that becomes a case draft', async () => {
    const h = harness({ at: new Date('2026-11-30T19:00:00+08:00') });
    const port = new ScriptedPort(h.clock, [{ onPrompt: 'offline_menu', keys: '2', afterMs: 400 }]);
    const r = await runToEnd(h.clock, h.engine.start(port, { flowId: '12315' }));
    expect(port.played).toEqual([
      'welcome',
      'after_hours',
      'offline_menu',
      'voicemail_intro',
      'beep',
      'voicemail_thanks',
    ]);
    expect(port.events).toContain('record:120000');
    expect(port.events.at(-1)).toBe('hangup:ivr');
    expect(h.voicemail.messages).toHaveLength(1);
    expect(h.voicemail.messages[0]).toMatchObject({
      callId: 'call-1',
      caller: '13812345678',
      file: '/var/spool/vm/1.wav',
    });
    expect(r.vars.voicemail_draft).toBe('VM-1');
    expect(port.enqueued).toHaveLength(0);
  });

  it('on a statutory holiday weekday the holiday prompt plays; on a 调休 Saturday the menu does', async () => {
    const calendar = { holidays: ['2026-10-01', '2026-10-02'], makeupWorkdays: ['2026-10-10'] };
    const hol = harness({ at: new Date('2026-10-02T10:00:00+08:00'), calendar });
    const p1 = new ScriptedPort(hol.clock, [
      { onPrompt: 'offline_menu', keys: '9' },
      { onPrompt: 'menu_invalid', keys: '9' },
    ]);
    const r1 = await runToEnd(hol.clock, hol.engine.start(p1, { flowId: '12315' }));
    expect(p1.played.slice(0, 3)).toEqual(['welcome', 'holiday_closed', 'offline_menu']);
    expect(r1.ivrPath).toEqual(['offline:invalid']);
    expect(p1.played.at(-1)).toBe('goodbye');

    const sat = harness({ at: new Date('2026-10-10T10:00:00+08:00'), calendar });
    const p2 = new ScriptedPort(sat.clock, [{ onPrompt: 'main_menu', keys: '1' }]);
    const r2 = await runToEnd(sat.clock, sat.engine.start(p2, { flowId: '12315' }));
    expect(r2.outcome).toBe('connected');

    // An ordinary Saturday is closed.
    const plain = harness({ at: new Date('2026-10-17T10:00:00+08:00'), calendar });
    const p3 = new ScriptedPort(plain.clock);
    const r3 = await runToEnd(plain.clock, plain.engine.start(p3, { flowId: '12315' }));
    expect(p3.played.slice(0, 2)).toEqual(['welcome', 'after_hours']);
    expect(r3.ivrPath).toEqual(['offline:timeout']);
  });

  it('a callback to another number in the afternoon window of the next working day, read back', async () => {
    // Friday 20:00 → the next working day is Monday (weekend skipped).
    const h = harness({ at: new Date('2026-11-27T20:00:00+08:00') });
    const port = new ScriptedPort(h.clock, [
      { onPrompt: 'offline_menu', keys: '1' },
      { onPrompt: 'callback_number_menu', keys: '2' },
      { onPrompt: 'callback_enter_number', keys: '02161234567#', afterMs: 200 },
      { onPrompt: 'callback_window_menu', keys: '2' },
    ]);
    const r = await runToEnd(h.clock, h.engine.start(port, { flowId: '12315' }));
    expect(h.store.callbacks).toHaveLength(1);
    const cb = h.store.callbacks[0]!;
    expect(cb.number).toBe('02161234567');
    expect(cb.windowStart.toISOString()).toBe(new Date('2026-11-30T13:30:00+08:00').toISOString());
    expect(cb.windowEnd.toISOString()).toBe(new Date('2026-11-30T17:30:00+08:00').toISOString());
    const readBack = port.played.slice(port.played.indexOf('callback_confirm_1'));
    expect(readBack).toEqual([
      'callback_confirm_1',
      ...['say_2', 'say_0', 'say_2', 'say_6', 'say_nian', 'say_shi', 'say_1', 'say_yue', 'say_3', 'say_shi', 'say_ri'],
      'callback_pm',
      'callback_confirm_2',
    ]);
    expect(r.ivrPath).toEqual(['offline:1', 'cb_number:2', 'window:2', 'callback:pm']);
    expect(r.outcome).toBe('hangup');
  });

  it('a morning callback requested before the window closes today stays today, from now', async () => {
    const h = harness({ at: new Date('2026-11-30T07:00:00+08:00') });
    const port = new ScriptedPort(h.clock, [
      { onPrompt: 'offline_menu', keys: '1' },
      { onPrompt: 'callback_number_menu', keys: '1' },
      { onPrompt: 'callback_window_menu', keys: '1' },
    ]);
    await runToEnd(h.clock, h.engine.start(port, { flowId: '12315' }));
    const cb = h.store.callbacks[0]!;
    expect(cb.number).toBe('13812345678');
    expect(cb.windowStart.toISOString()).toBe(new Date('2026-11-30T09:00:00+08:00').toISOString());
  });
});

describe('case progress lookup (menu 4)', () => {
  const cases = {
    '20261120000015': {
      caseId: 'C-15',
      status: 'processing' as const,
      acceptedOn: '2026-11-20',
      updatedOn: '2026-11-25',
    },
  };

  it('reads back the number, the registration date and the status, then returns to the main menu', async () => {
    const h = harness({ cases });
    const port = new ScriptedPort(h.clock, [
      { onPrompt: 'main_menu', keys: '4' },
      { onPrompt: 'lookup_enter', keys: '20261120000015#', afterMs: 500 },
      { onPrompt: 'main_menu', keys: '0', nth: 2 },
    ]);
    const r = await runToEnd(h.clock, h.engine.start(port, { flowId: '12315' }));
    const from = port.played.indexOf('lookup_case');
    const to = port.played.indexOf('back_to_menu');
    expect(port.played.slice(from, to + 1)).toEqual([
      'lookup_case',
      ...'20261120000015'.split('').map((d) => `say_${d}`),
      'lookup_accepted_on',
      ...['say_2', 'say_0', 'say_2', 'say_6', 'say_nian', 'say_shi', 'say_1', 'say_yue', 'say_2', 'say_shi', 'say_ri'],
      'lookup_status_is',
      'status_processing',
      'back_to_menu',
    ]);
    expect(port.played.slice(to + 1, to + 2)).toEqual(['main_menu']);
    expect(r.ivrPath).toEqual(['menu:4', 'flow:12315-lookup', 'menu:0', 'queue:consultation']);
    // The agent sees the case the caller asked about.
    expect(port.enqueued[0]!.vars).toMatchObject({
      case_no: '20261120000015',
      case_id: 'C-15',
      case_status: 'processing',
    });
  });

  it('an unknown number says so; the 14th digit submits without #', async () => {
    const h = harness({ cases });
    const port = new ScriptedPort(h.clock, [
      { onPrompt: 'main_menu', keys: '4' },
      { onPrompt: 'lookup_enter', keys: '20261120999999', afterMs: 200 },
      { onPrompt: 'main_menu', keys: '1', nth: 2 },
    ]);
    const r = await runToEnd(h.clock, h.engine.start(port, { flowId: '12315' }));
    expect(r.vars.case_no).toBe('20261120999999');
    expect(port.played).toContain('lookup_not_found');
    expect(port.played).not.toContain('lookup_case');
  });

  it('a pause of more than the inter-digit timeout ends a short entry, which is re-asked', async () => {
    const h = harness({ cases });
    const port = new ScriptedPort(h.clock, [
      { onPrompt: 'main_menu', keys: '4' },
      { onPrompt: 'lookup_enter', keys: '2026112000001', afterMs: 200 },
      { onPrompt: 'lookup_invalid', keys: '1', afterMs: 1500 },
      { onPrompt: 'main_menu', keys: '1', nth: 2 },
    ]);
    const session = h.engine.start(port, { flowId: '12315' });
    const r = await runToEnd(h.clock, session);
    const i = port.played.indexOf('lookup_invalid');
    expect(i).toBeGreaterThan(0);
    expect(port.played.slice(i, i + 2)).toEqual(['lookup_invalid', 'lookup_enter']);
    // The second attempt got only "1": invalid again, so the sub-flow gives up and returns to the menu.
    expect(r.ivrPath).toEqual(['menu:4', 'flow:12315-lookup', 'ask:invalid', 'menu:1', 'queue:complaint']);
  });

  it('too few digits re-prompts with the error prompt', async () => {
    const h = harness({ cases });
    const port = new ScriptedPort(h.clock, [
      { onPrompt: 'main_menu', keys: '4' },
      { onPrompt: 'lookup_enter', keys: '123#', afterMs: 200 },
      { onPrompt: 'lookup_enter', keys: '20261120000015#', afterMs: 200, nth: 2 },
      { onPrompt: 'main_menu', keys: '1', nth: 2 },
    ]);
    await runToEnd(h.clock, h.engine.start(port, { flowId: '12315' }));
    expect(port.played).toContain('lookup_invalid');
    expect(port.played).toContain('status_processing');
  });
});

describe('English sub-flow', () => {
  it('menu 9 goes to the English flow, which queues for English-speaking agents', async () => {
    const h = harness();
    const port = new ScriptedPort(h.clock, [
      { onPrompt: 'main_menu', keys: '9' },
      { onPrompt: 'en_menu', keys: '1' },
    ]);
    const r = await runToEnd(h.clock, h.engine.start(port, { flowId: '12315' }));
    expect(r.flowId).toBe('en');
    expect(r.ivrPath).toEqual(['menu:9', 'flow:en', 'en:1', 'queue:english']);
    expect(port.enqueued[0]).toMatchObject({ queue: 'english', skills: ['english'] });
    expect(port.enqueued[0]!.vars).toMatchObject({ category: 'complaint', language: 'en' });
  });

  it('reads a case status back in English', async () => {
    const h = harness({
      cases: {
        '20260305000001': { caseId: 'C-1', status: 'closed', acceptedOn: '2026-03-05', updatedOn: '2026-04-01' },
      },
    });
    const port = new ScriptedPort(h.clock, [
      { onPrompt: 'main_menu', keys: '9' },
      { onPrompt: 'en_menu', keys: '4' },
      { onPrompt: 'en_lookup_enter', keys: '20260305000001#' },
      { onPrompt: 'en_menu', keys: '0', nth: 2 },
    ]);
    await runToEnd(h.clock, h.engine.start(port, { flowId: '12315' }));
    const from = port.played.indexOf('en_lookup_accepted_on');
    expect(port.played.slice(from, from + 7)).toEqual([
      'en_lookup_accepted_on',
      'month_3',
      'say_5',
      'say_20',
      'say_20',
      'say_6',
      'en_lookup_status_is',
    ]);
    expect(port.played[from + 7]).toBe('status_closed');
  });
});

describe('post-call survey', () => {
  it('stores the score against the call and the case in SQLite', async () => {
    const db = openDatabase(':memory:');
    const surveys = new IvrStore(db);
    const h = harness({ surveys });
    const port = new ScriptedPort(h.clock, [{ onPrompt: 'survey_question', keys: '4', afterMs: 3000 }]);
    const s = h.engine.startSurvey(port, { flowId: '12315', vars: { case_id: 'C-77' }, ivrPath: ['menu:1'] });
    expect(s).not.toBeNull();
    expect(s!.state).toBe(IvrSessionState.Surveying);
    const r = await runToEnd(h.clock, s!);
    expect(r.outcome).toBe('hangup');
    expect(r.ivrPath).toEqual(['menu:1', 'survey:4']);
    expect(port.played).toEqual(['survey_question', 'survey_thanks']);
    expect(surveys.surveyFor('call-1')).toMatchObject({ callId: 'call-1', caseId: 'C-77', score: 4 });
    db.close();
  });

  it('a key outside 1–5 re-asks once; silence after that stores nothing', async () => {
    const h = harness();
    const port = new ScriptedPort(h.clock, [{ onPrompt: 'survey_question', keys: '9' }]);
    const r = await runToEnd(h.clock, h.engine.startSurvey(port, { flowId: '12315' })!);
    expect(port.played).toEqual(['survey_question', 'survey_invalid', 'survey_question', 'survey_thanks']);
    expect(h.store.surveys).toHaveLength(0);
    expect(r.ivrPath).toEqual(['survey:none']);
  });

  it('flows without a survey entry return null', () => {
    const h = harness();
    expect(h.engine.startSurvey(new ScriptedPort(h.clock), { flowId: 'test-7000' })).toBeNull();
  });
});

describe('session lifecycle', () => {
  it('test-7000 plays one 1 s prompt and hangs up', async () => {
    const h = harness();
    const port = new ScriptedPort(h.clock);
    const r = await runToEnd(h.clock, h.engine.start(port, { flowId: 'test-7000' }));
    expect(port.events).toEqual(['play:test_1s', 'hangup:ivr']);
    expect(r.outcome).toBe('hangup');
    expect(h.clock.now()).toBeGreaterThanOrEqual(1000);
    expect(h.clock.now()).toBeLessThan(1100);
  });

  it('caller hangup mid-menu ends the walk, leaves no timer and no listener behind', async () => {
    const h = harness();
    const port = new ScriptedPort(h.clock);
    const session = h.engine.start(port, { flowId: '12315' });
    h.clock.advance(1500);
    await flush();
    h.clock.advance(3000);
    await flush();
    port.callerHangsUp();
    const r = await session.done;
    expect(r.outcome).toBe('caller-hangup');
    expect(session.state).toBe(IvrSessionState.Ended);
    expect(h.clock.pending).toBe(0);
    expect(port.listenerCount).toBe(0);
    expect(h.engine.stats.outcomes['caller-hangup']).toBe(1);
  });

  it('close() stops the walk and is safe twice', async () => {
    const h = harness();
    const port = new ScriptedPort(h.clock);
    const session = h.engine.start(port, { flowId: '12315' });
    await flush();
    session.close();
    session.close();
    const r = await session.done;
    expect(r.outcome).toBe('ended');
    expect(port.listenerCount).toBe(0);
    expect(session.state).toBe(IvrSessionState.Ended);
  });

  it('a goto loop without input is cut off, counted as an error and hung up', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ivr-loop-'));
    fs.cpSync(path.join(FLOWS_DIR, 'prompts'), path.join(dir, 'prompts'), { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'loop.yaml'),
      'id: loop\nlanguage: zh\nstart: a\nnodes:\n  a: { type: set, vars: { x: 1 }, next: b }\n  b: { type: goto, node: a }\n',
    );
    const h = harness({ dir });
    const port = new ScriptedPort(h.clock);
    const r = await runToEnd(h.clock, h.engine.start(port, { flowId: 'loop' }));
    expect(r.outcome).toBe('error');
    expect(port.events).toEqual(['hangup:ivr error']);
    expect(h.engine.stats.errors).toBe(1);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a call keeps the flow it started with when the flows are reloaded', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ivr-reload-'));
    fs.cpSync(FLOWS_DIR, dir, { recursive: true });
    const h = harness({ dir });
    const port = new ScriptedPort(h.clock, [{ onPrompt: 'main_menu', keys: '2', afterMs: 1500 }]);
    const session = h.engine.start(port, { flowId: '12315' });
    await flush();
    const text = fs.readFileSync(path.join(dir, '12315.yaml'), 'utf8').replace("'2': report", "'2': consult");
    fs.writeFileSync(path.join(dir, '12315.yaml'), text);
    expect(h.registry.reload().ok).toBe(true);
    const r = await runToEnd(h.clock, session);
    expect(r.queue).toBe('report');
    // A new call gets the new flow.
    const port2 = new ScriptedPort(h.clock, [{ onPrompt: 'main_menu', keys: '2' }], '13900000000', 1000, 'call-2');
    const r2 = await runToEnd(h.clock, h.engine.start(port2, { flowId: '12315' }));
    expect(r2.queue).toBe('consultation');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
