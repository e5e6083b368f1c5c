import { describe, expect, it } from 'vitest';
import type { AgentStatePayload, OfferPayload } from '../../server/api/socket/events.js';
import { legalPairs } from '../../server/util/fsm.js';
import { CALL_TABLE, CallEvent, CallPhase, nextCallPhase } from '../../agent-desktop/src/store/call-machine.js';
import { createDesktopStore, type KeyValueStorage } from '../../agent-desktop/src/store/index.js';
import { queueSummary } from '../../agent-desktop/src/store/queue.js';
import { SESSION_KEY, wrapUpUntilLocal } from '../../agent-desktop/src/store/session.js';

class MemStorage implements KeyValueStorage {
  readonly m = new Map<string, string>();
  getItem(k: string) {
    return this.m.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.m.set(k, v);
  }
  removeItem(k: string) {
    this.m.delete(k);
  }
}

function setup(storage: MemStorage | null = new MemStorage()) {
  let now = 10_000;
  const warnings: string[] = [];
  const store = createDesktopStore({ now: () => now, storage, warn: (m) => warnings.push(m) });
  return {
    store,
    s: () => store.getState(),
    storage,
    warnings,
    advance(ms: number) {
      now += ms;
    },
    get now() {
      return now;
    },
  };
}

const agent = (over: Partial<AgentStatePayload> = {}): AgentStatePayload => ({
  agentId: 'agent01',
  displayName: '座席一',
  state: 'ready',
  reason: null,
  since: 500_000,
  callId: null,
  pendingNotReady: null,
  wrapUpUntil: null,
  seat: '8001',
  queues: { complaint: 1 },
  skills: {},
  callsHandled: 0,
  callQueueId: null,
  ...over,
});

const offer = (over: Partial<OfferPayload> = {}): OfferPayload => ({
  agentId: 'agent01',
  callId: 'c-1',
  queueId: 'complaint',
  queueName: '投诉',
  kind: 'call',
  consumer: '13812345678',
  waitedMs: 4000,
  ivrPath: 'menu:1>queue:complaint',
  ...over,
});

describe('session slice', () => {
  it('keeps the login in storage so a reload resumes it, and forgets it on logout', () => {
    const t = setup();
    t.s().loggedIn('tok-1', { username: 'agent01', role: 'agent', displayName: '座席一' });
    expect(JSON.parse(t.storage!.getItem(SESSION_KEY)!)).toMatchObject({ token: 'tok-1' });
    const reloaded = createDesktopStore({ now: () => 0, storage: t.storage });
    expect(reloaded.getState().token).toBe('tok-1');
    expect(reloaded.getState().user?.username).toBe('agent01');
    reloaded.getState().loggedOut();
    expect(t.storage!.getItem(SESSION_KEY)).toBeNull();
    expect(createDesktopStore({ now: () => 0, storage: t.storage }).getState().token).toBeNull();
  });

  it('ignores a corrupt saved session', () => {
    const st = new MemStorage();
    st.setItem(SESSION_KEY, '{"token": 5');
    expect(createDesktopStore({ now: () => 0, storage: st }).getState().token).toBeNull();
    st.setItem(SESSION_KEY, JSON.stringify({ token: 7, user: {} }));
    expect(createDesktopStore({ now: () => 0, storage: st }).getState().token).toBeNull();
  });

  it('maps server times to local time through the offset learnt from serverNow', () => {
    const t = setup();
    // Server clock is 490_000 ms ahead of ours; the state began 3 s before the event was sent.
    t.s().agentStateChanged({
      agent: agent({ state: 'wrap_up', since: 497_000, wrapUpUntil: 530_000 }),
      from: 'on_call',
      event: 'call_ended',
      at: new Date().toISOString(),
      serverNow: 500_000,
    });
    expect(t.s().clockOffset).toBe(490_000);
    expect(t.s().stateSinceLocal).toBe(7_000);
    expect(wrapUpUntilLocal(t.s())).toBe(40_000);
    // An acknowledgement without server time reuses the offset.
    t.s().agentSynced(agent({ state: 'wrap_up', since: 497_000, wrapUpUntil: 560_000 }));
    expect(wrapUpUntilLocal(t.s())).toBe(70_000);
  });

  it('without an offset, a new stint from an acknowledgement starts now and the countdown is unknown', () => {
    const t = setup();
    t.s().agentSynced(agent({ state: 'not_ready', reason: '小休', since: 1 }));
    expect(t.s().stateSinceLocal).toBe(10_000);
    t.advance(5000);
    t.s().agentSynced(agent({ state: 'not_ready', reason: '小休', since: 1 }));
    expect(t.s().stateSinceLocal).toBe(10_000);
    t.s().agentSynced(agent({ state: 'wrap_up', since: 2, wrapUpUntil: 99 }));
    expect(t.s().stateSinceLocal).toBe(15_000);
    expect(wrapUpUntilLocal(t.s())).toBeNull();
  });

  it('drops a snapshot older than the one shown (an ack overtaken by an event)', () => {
    const t = setup();
    t.s().agentStateChanged({
      agent: agent({ state: 'reserved', since: 600_000 }),
      from: 'ready',
      event: 'offer',
      at: '',
      serverNow: 600_010,
    });
    t.s().agentSynced(agent({ state: 'ready', since: 500_000 }));
    expect(t.s().agent?.state).toBe('reserved');
    expect(t.warnings).toContain('stale agent snapshot ignored');
  });

  it('tracks socket status and resyncs', () => {
    const t = setup();
    t.s().socketStatusChanged('reconnecting', 'transport close');
    expect(t.s()).toMatchObject({ socket: 'reconnecting', socketError: 'transport close' });
    t.s().socketStatusChanged('connected');
    t.s().resynced();
    t.s().resynced();
    expect(t.s()).toMatchObject({ socket: 'connected', socketError: null, resyncs: 2 });
  });
});

describe('call machine', () => {
  it('is total over its own table and throws on anything else', () => {
    for (const { from, event, to } of legalPairs(CALL_TABLE)) expect(nextCallPhase(from, event)).toBe(to);
    expect(() => nextCallPhase(CallPhase.Idle, CallEvent.Answer)).toThrow(/illegal/);
    expect(() => nextCallPhase(CallPhase.Connected, CallEvent.Confirmed)).toThrow(/illegal/);
    expect(() => nextCallPhase(CallPhase.Alerting, CallEvent.Hold)).toThrow(/illegal/);
  });
});

describe('call slice', () => {
  it('offer then INVITE, answer, connected, hold/resume, end, wrap-up, ready clears it', () => {
    const t = setup();
    t.s().offerArrived(offer());
    expect(t.s()).toMatchObject({ phase: CallPhase.Alerting, alertedAt: 10_000 });
    t.advance(30);
    t.s().sipIncoming({ sessionId: 'js-1', remote: '12315' });
    expect(t.s().alertedAt).toBe(10_000);
    t.s().answerRequested();
    expect(t.s().phase).toBe(CallPhase.Answering);
    t.advance(300);
    t.s().callConfirmed();
    expect(t.s()).toMatchObject({ phase: CallPhase.Connected, answeredAt: 10_330 });
    t.s().callHeld(true);
    expect(t.s().phase).toBe(CallPhase.Held);
    t.s().callHeld(false);
    expect(t.s().phase).toBe(CallPhase.Connected);
    t.s().dtmfSentDigit('1');
    t.s().dtmfSentDigit('#');
    expect(t.s().dtmfSent).toBe('1#');
    t.s().callEnded('Terminated');
    expect(t.s()).toMatchObject({ phase: CallPhase.Ended, endCause: 'Terminated' });
    // Wrap-up keeps the finished call on screen; ready clears it.
    t.s().agentSynced(agent({ state: 'wrap_up', since: 600_000 }));
    expect(t.s().phase).toBe(CallPhase.Ended);
    t.s().agentSynced(agent({ state: 'ready', since: 610_000 }));
    expect(t.s()).toMatchObject({ phase: CallPhase.Idle, offer: null, sip: null, dtmfSent: '' });
    expect(t.s().illegalMoves).toBe(0);
  });

  it('an answer pressed before the INVITE waits for it', () => {
    const t = setup();
    t.s().offerArrived(offer());
    t.s().answerRequested();
    expect(t.s()).toMatchObject({ phase: CallPhase.Alerting, answerPending: true });
    t.s().sipIncoming({ sessionId: 'js-1', remote: null });
    // The phone layer sees answerPending and answers; the slice moves on the second request.
    expect(t.s().answerPending).toBe(true);
    t.s().answerRequested();
    expect(t.s()).toMatchObject({ phase: CallPhase.Answering, answerPending: false });
  });

  it('INVITE first, then offer: both fill the notice', () => {
    const t = setup();
    t.s().sipIncoming({ sessionId: 'js-1', remote: '12315' });
    t.advance(20);
    t.s().offerArrived(offer({ queueName: '举报' }));
    expect(t.s()).toMatchObject({ phase: CallPhase.Alerting, alertedAt: 10_000 });
    expect(t.s().offer?.queueName).toBe('举报');
    expect(t.s().sip?.sessionId).toBe('js-1');
  });

  it('a CANCELed call goes back to idle; an offer withdrawn before any INVITE too', () => {
    const t = setup();
    t.s().sipIncoming({ sessionId: 'js-1', remote: null });
    t.s().callFailed('Canceled');
    expect(t.s()).toMatchObject({ phase: CallPhase.Idle, endCause: 'Canceled', sip: null });

    t.s().agentSynced(agent({ state: 'reserved', since: 1 }));
    t.s().offerArrived(offer());
    expect(t.s().phase).toBe(CallPhase.Alerting);
    t.s().agentSynced(agent({ state: 'not_ready', reason: '未接听', since: 2 }));
    expect(t.s()).toMatchObject({ phase: CallPhase.Idle, endCause: 'withdrawn' });
  });

  it('does not withdraw a ringing SIP session because of an agent snapshot', () => {
    const t = setup();
    t.s().sipIncoming({ sessionId: 'js-1', remote: null });
    t.s().agentSynced(agent({ state: 'ready', since: 3 }));
    expect(t.s().phase).toBe(CallPhase.Alerting);
  });

  it('counts an illegal move and leaves the state as it was', () => {
    const t = setup();
    t.s().callConfirmed();
    t.s().callHeld(true);
    expect(t.s()).toMatchObject({ phase: CallPhase.Idle, illegalMoves: 2 });
    expect(t.warnings.some((w) => w.includes('illegal'))).toBe(true);
  });

  it('a new call after the last one ended starts clean', () => {
    const t = setup();
    t.s().sipIncoming({ sessionId: 'js-1', remote: null });
    t.s().answerRequested();
    t.s().callConfirmed();
    t.s().callMuted(true);
    t.s().callEnded('BYE');
    t.advance(1000);
    t.s().offerArrived(offer({ callId: 'c-2' }));
    expect(t.s()).toMatchObject({
      phase: CallPhase.Alerting,
      muted: false,
      sip: null,
      answeredAt: null,
      alertedAt: 11_000,
      endCause: null,
    });
    expect(t.s().offer?.callId).toBe('c-2');
  });

  it('transfer busy / error', () => {
    const t = setup();
    t.s().transferStarted();
    expect(t.s().transferBusy).toBe(true);
    t.s().transferFinished('转接接口尚未提供');
    expect(t.s()).toMatchObject({ transferBusy: false, transferError: '转接接口尚未提供' });
  });
});

describe('phone slice', () => {
  it('registration lifecycle, counting re-registrations', () => {
    const t = setup();
    t.s().phoneUnregistered('disconnected');
    expect(t.s().registration).toBe('unregistered');
    t.s().phoneStarting('8001');
    expect(t.s()).toMatchObject({ registration: 'registering', phoneSeat: '8001' });
    t.s().phoneRegistered();
    t.s().phoneUnregistered('disconnected');
    expect(t.s()).toMatchObject({ registration: 'unregistered', phoneError: 'disconnected' });
    t.s().phoneRegistered();
    expect(t.s()).toMatchObject({ registration: 'registered', registrations: 2, phoneError: null });
    t.s().phoneFailed('Wrong Password');
    expect(t.s().registration).toBe('failed');
    t.s().phoneStopped();
    expect(t.s()).toMatchObject({ registration: 'unregistered', phoneSeat: null });
  });
});

describe('queue slice', () => {
  const q = (queueId: string, waiting: number, longestWaitMs: number) => ({
    queueId,
    name: queueId,
    waiting,
    callbacks: 0,
    longestWaitMs,
    meanHandleMs: 0,
    agents: { offline: 0, ready: 1, not_ready: 0, reserved: 0, on_call: 0, wrap_up: 0 },
  });

  it('replaces the picture on each push, sorted, and sums it', () => {
    const t = setup();
    t.s().queuesUpdated([q('report', 1, 2000), q('complaint', 3, 9000)]);
    expect(t.s().queues.map((x) => x.queueId)).toEqual(['complaint', 'report']);
    expect(t.s().queuesAt).toBe(10_000);
    t.s().queuesUpdated([q('complaint', 0, 0)]);
    expect(t.s().queues).toHaveLength(1);
    const sum = queueSummary([q('report', 1, 2000), q('complaint', 3, 9000), q('consultation', 0, 0)], {
      complaint: 1,
    });
    expect(sum.mine.map((x) => x.queueId)).toEqual(['complaint']);
    expect(sum.others.map((x) => x.queueId)).toEqual(['report', 'consultation']);
    expect(sum).toMatchObject({ waiting: 4, longestWaitMs: 9000 });
    expect(queueSummary([q('a', 2, 1)], null).mine).toEqual([]);
  });
});

describe('ui slice', () => {
  it('language persists; notices and panels', () => {
    const t = setup();
    expect(t.s().lang).toBe('zh');
    t.s().setLang('en');
    expect(createDesktopStore({ now: () => 0, storage: t.storage }).getState().lang).toBe('en');
    t.s().notify('error', '分机 8001 已被工号 agent02 占用');
    expect(t.s().notice).toMatchObject({ kind: 'error', at: 10_000 });
    t.s().clearNotice();
    expect(t.s().notice).toBeNull();
    t.s().openPanel('dialpad');
    t.s().sipIncoming({ sessionId: 'x', remote: null });
    t.s().answerRequested();
    t.s().callConfirmed();
    t.s().callEnded('BYE');
    expect(t.s().panel).toBeNull();
    expect(t.s().notReadyReason).toBe('小休');
  });
});
