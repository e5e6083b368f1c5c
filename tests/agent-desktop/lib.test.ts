import { describe, expect, it } from 'vitest';
import { callerForDisplay, formatDuration, maskPhone, secondsLeft } from '../../agent-desktop/src/lib/format.js';
import { MESSAGES, reasonLabel, translate } from '../../agent-desktop/src/lib/i18n.js';
import { shortcutFor, type ShortcutContext } from '../../agent-desktop/src/lib/shortcuts.js';
import { CallPhase } from '../../agent-desktop/src/store/call-machine.js';

describe('format', () => {
  it('durations', () => {
    expect(formatDuration(0)).toBe('00:00');
    expect(formatDuration(65_999)).toBe('01:05');
    expect(formatDuration(3_725_000)).toBe('1:02:05');
    expect(formatDuration(-5)).toBe('00:00');
  });
  it('seconds left rounds up and stops at zero', () => {
    expect(secondsLeft(10_001, 0)).toBe(11);
    expect(secondsLeft(10_000, 0)).toBe(10);
    expect(secondsLeft(0, 5)).toBe(0);
  });
  it('masks consumer numbers but not short service numbers', () => {
    expect(maskPhone('13812345678')).toBe('138****5678');
    expect(maskPhone('+8613812345678')).toBe('+86138****5678');
    expect(maskPhone('12315')).toBe('12315');
    expect(maskPhone('8001')).toBe('8001');
  });
  it('caller per role: agent masked until answered, lead full, others masked', () => {
    expect(callerForDisplay('13812345678', 'agent', false)).toBe('138****5678');
    expect(callerForDisplay('13812345678', 'agent', true)).toBe('13812345678');
    expect(callerForDisplay('13812345678', 'lead', false)).toBe('13812345678');
    expect(callerForDisplay('13812345678', 'merchant', true)).toBe('138****5678');
    expect(callerForDisplay(null, 'lead', true)).toBeNull();
  });
});

describe('i18n', () => {
  it('both languages have every key, with the same placeholders', () => {
    const zh = MESSAGES.zh;
    const en = MESSAGES.en;
    expect(Object.keys(en).sort()).toEqual(Object.keys(zh).sort());
    for (const k of Object.keys(zh) as (keyof typeof zh)[]) {
      const ph = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
      expect(ph(en[k]), k).toEqual(ph(zh[k]));
    }
  });
  it('fills placeholders and leaves unknown ones', () => {
    expect(translate('zh', 'wrapUpLeft', { s: 12 })).toBe('剩余 12 秒');
    expect(translate('en', 'wrapUpLeft', { s: 12 })).toBe('12 s left');
    expect(translate('en', 'wrapUpLeft')).toBe('{s} s left');
  });
  it('reason labels: Chinese is the stored value, English translates known ones', () => {
    expect(reasonLabel('zh', '用餐')).toBe('用餐');
    expect(reasonLabel('en', '用餐')).toBe('Meal');
    expect(reasonLabel('en', '自定义')).toBe('自定义');
  });
});

describe('shortcuts', () => {
  const ctx = (phase: CallPhase, o: Partial<ShortcutContext> = {}): ShortcutContext => ({
    phase,
    panel: null,
    signedIn: true,
    ...o,
  });
  const key = (k: string, o: { inTextField?: boolean; ctrlKey?: boolean; repeat?: boolean } = {}) => ({
    key: k,
    inTextField: false,
    ...o,
  });

  it('answer with F2 anywhere, with Space/Enter only outside text fields, only while alerting', () => {
    expect(shortcutFor(key('F2'), ctx(CallPhase.Alerting))).toEqual({ type: 'answer' });
    expect(shortcutFor(key('F2', { inTextField: true }), ctx(CallPhase.Alerting))).toEqual({ type: 'answer' });
    expect(shortcutFor(key(' '), ctx(CallPhase.Alerting))).toEqual({ type: 'answer' });
    expect(shortcutFor(key('Enter'), ctx(CallPhase.Alerting))).toEqual({ type: 'answer' });
    expect(shortcutFor(key(' ', { inTextField: true }), ctx(CallPhase.Alerting))).toBeNull();
    expect(shortcutFor(key('F2'), ctx(CallPhase.Idle))).toBeNull();
    expect(shortcutFor(key('Enter'), ctx(CallPhase.Connected))).toBeNull();
  });

  it('in-call keys only in a call; ready toggle only when idle and signed in', () => {
    expect(shortcutFor(key('F4'), ctx(CallPhase.Connected))).toEqual({ type: 'hangup' });
    expect(shortcutFor(key('F4'), ctx(CallPhase.Idle))).toBeNull();
    expect(shortcutFor(key('F6'), ctx(CallPhase.Held))).toEqual({ type: 'toggle_hold' });
    expect(shortcutFor(key('F7'), ctx(CallPhase.Connected))).toEqual({ type: 'toggle_mute' });
    expect(shortcutFor(key('F9'), ctx(CallPhase.Connected))).toEqual({ type: 'open_panel', panel: 'transfer' });
    expect(shortcutFor(key('F6'), ctx(CallPhase.Alerting))).toBeNull();
    expect(shortcutFor(key('F3'), ctx(CallPhase.Idle))).toEqual({ type: 'toggle_ready' });
    expect(shortcutFor(key('F3'), ctx(CallPhase.Idle, { signedIn: false }))).toBeNull();
    expect(shortcutFor(key('F3'), ctx(CallPhase.Connected))).toBeNull();
  });

  it('digits are DTMF only with the keypad open; modifiers and auto-repeat do nothing', () => {
    expect(shortcutFor(key('5'), ctx(CallPhase.Connected))).toBeNull();
    expect(shortcutFor(key('5'), ctx(CallPhase.Connected, { panel: 'dialpad' }))).toEqual({ type: 'dtmf', digit: '5' });
    expect(shortcutFor(key('#'), ctx(CallPhase.Connected, { panel: 'dialpad' }))).toEqual({ type: 'dtmf', digit: '#' });
    expect(shortcutFor(key('5', { inTextField: true }), ctx(CallPhase.Connected, { panel: 'dialpad' }))).toBeNull();
    expect(shortcutFor(key('F2', { ctrlKey: true }), ctx(CallPhase.Alerting))).toBeNull();
    expect(shortcutFor(key('F2', { repeat: true }), ctx(CallPhase.Alerting))).toBeNull();
    expect(shortcutFor(key('Escape'), ctx(CallPhase.Connected, { panel: 'transfer' }))).toEqual({
      type: 'close_panel',
    });
    expect(shortcutFor(key('Escape'), ctx(CallPhase.Connected))).toBeNull();
  });
});
