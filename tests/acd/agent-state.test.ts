import { describe, expect, it } from 'vitest';
import {
  AGENT_STATES,
  AGENT_TRANSITIONS,
  AgentState as S,
  AgentStateMachine,
  IllegalAgentTransition,
  REASON_RONA,
  type AgentEvent,
  type AgentEventType,
} from '../../server/acd/agent-state.js';
import { FakeClock } from '../../server/util/clock.js';

const ev: Record<AgentEventType, AgentEvent> = {
  login: { type: 'login' },
  logout: { type: 'logout' },
  go_ready: { type: 'go_ready' },
  go_not_ready: { type: 'go_not_ready', reason: '小休' },
  offer: { type: 'offer', callId: 'c1' },
  answer: { type: 'answer' },
  ring_timeout: { type: 'ring_timeout' },
  reject: { type: 'reject' },
  caller_gone: { type: 'caller_gone' },
  withdraw: { type: 'withdraw' },
  hangup: { type: 'hangup', wrapUpMs: 30_000 },
  assign: { type: 'assign', callId: 'c2' },
  release: { type: 'release', callId: 'c1', wrapUpMs: 30_000 },
  wrap_up_done: { type: 'wrap_up_done' },
  wrap_up_extend: { type: 'wrap_up_extend', ms: 10_000 },
  force_state: { type: 'force_state', state: S.Offline, by: 'lead01' },
};

/** Drives a machine into a state through legal events. */
function machineIn(state: S, clock = new FakeClock(1000)): AgentStateMachine {
  const m = new AgentStateMachine(
    'a1',
    () => clock.now(),
    () => 0,
  );
  const path: Record<S, AgentEventType[]> = {
    [S.Offline]: [],
    [S.NotReady]: ['login'],
    [S.Ready]: ['login', 'go_ready'],
    [S.Reserved]: ['login', 'go_ready', 'offer'],
    [S.OnCall]: ['login', 'go_ready', 'offer', 'answer'],
    [S.WrapUp]: ['login', 'go_ready', 'offer', 'answer', 'hangup'],
  };
  for (const t of path[state]) m.apply(ev[t]);
  expect(m.state).toBe(state);
  return m;
}

// The expected table, written out independently of the implementation's.
const expected: Record<S, Partial<Record<AgentEventType, S>>> = {
  [S.Offline]: { login: S.NotReady, force_state: S.Offline },
  [S.Ready]: {
    logout: S.Offline,
    go_not_ready: S.NotReady,
    offer: S.Reserved,
    assign: S.OnCall,
    force_state: S.Offline,
  },
  [S.NotReady]: {
    logout: S.Offline,
    go_ready: S.Ready,
    go_not_ready: S.NotReady,
    assign: S.OnCall,
    force_state: S.Offline,
  },
  [S.Reserved]: {
    answer: S.OnCall,
    ring_timeout: S.NotReady,
    reject: S.NotReady,
    caller_gone: S.Ready,
    withdraw: S.Ready,
    assign: S.OnCall,
    go_not_ready: S.Reserved,
    logout: S.Offline,
    force_state: S.Offline,
  },
  // Already talking: a second call cannot be handed over (assign throws); release only names this call.
  [S.OnCall]: { hangup: S.WrapUp, release: S.WrapUp, go_not_ready: S.OnCall, force_state: S.Offline },
  [S.WrapUp]: {
    wrap_up_done: S.Ready,
    wrap_up_extend: S.WrapUp,
    go_ready: S.Ready,
    go_not_ready: S.NotReady,
    assign: S.OnCall,
    logout: S.Offline,
    force_state: S.Offline,
  },
};

describe('agent state table', () => {
  for (const from of AGENT_STATES) {
    for (const type of Object.keys(ev) as AgentEventType[]) {
      const to = expected[from][type];
      it(`${from} + ${type} → ${to ?? 'throws'}`, () => {
        const m = machineIn(from);
        if (to === undefined) {
          expect(() => m.apply(ev[type])).toThrow(IllegalAgentTransition);
          expect(m.state).toBe(from);
        } else {
          expect(m.apply(ev[type]).to).toBe(to);
          expect(m.state).toBe(to);
        }
      });
    }
  }

  it('the implementation table has no extra entries', () => {
    for (const s of AGENT_STATES) {
      expect(Object.keys(AGENT_TRANSITIONS[s]).sort()).toEqual(Object.keys(expected[s]).sort());
    }
  });
});

describe('agent state details', () => {
  it('records timestamps and the length of the previous state', () => {
    const clock = new FakeClock(5000);
    const m = machineIn(S.Ready, clock);
    clock.advance(12_000);
    const t = m.apply(ev.offer);
    expect(t).toMatchObject({ agentId: 'a1', from: S.Ready, to: S.Reserved, at: 17_000, previousDurationMs: 12_000 });
    expect(t.callId).toBe('c1');
    clock.advance(3000);
    const t2 = m.apply(ev.ring_timeout);
    expect(t2).toMatchObject({ to: S.NotReady, reason: REASON_RONA, previousDurationMs: 3000, callId: null });
  });

  it('not-ready asked for during a call is applied after wrap-up', () => {
    const clock = new FakeClock(0);
    const m = machineIn(S.OnCall, clock);
    m.apply({ type: 'go_not_ready', reason: '培训' });
    expect(m.state).toBe(S.OnCall);
    m.apply({ type: 'hangup', wrapUpMs: 0 });
    expect(m.snapshot()).toMatchObject({ state: S.NotReady, reason: '培训', pendingNotReady: null });
  });

  it('wrap-up keeps its start when extended and tracks its end', () => {
    const clock = new FakeClock(0);
    const m = machineIn(S.OnCall, clock);
    clock.advance(1000);
    m.apply({ type: 'hangup', wrapUpMs: 30_000 });
    expect(m.snapshot().wrapUpUntil).toBe(31_000);
    clock.advance(5000);
    m.apply({ type: 'wrap_up_extend', ms: 10_000 });
    expect(m.snapshot()).toMatchObject({ since: 1000, wrapUpUntil: 41_000 });
  });

  it('hangup without wrap-up time goes straight to ready', () => {
    const m = machineIn(S.OnCall);
    expect(m.apply({ type: 'hangup', wrapUpMs: 0 }).to).toBe(S.Ready);
  });

  it('a lead cannot force an offline agent ready; forcing carries who did it', () => {
    const m = machineIn(S.Offline);
    expect(() => m.apply({ type: 'force_state', state: S.Ready, by: 'lead01' })).toThrow(IllegalAgentTransition);
    const m2 = machineIn(S.OnCall);
    const t = m2.apply({ type: 'force_state', state: S.NotReady, by: 'lead01', reason: '质检' });
    expect(t).toMatchObject({ to: S.NotReady, reason: '质检', by: 'lead01', callId: null });
  });

  it('assign carries the handed-over call; release must name that call', () => {
    const m = machineIn(S.Ready);
    expect(m.apply({ type: 'assign', callId: 'x9' })).toMatchObject({ to: S.OnCall, callId: 'x9', event: 'assign' });
    expect(() => m.apply({ type: 'release', callId: 'other', wrapUpMs: 0 })).toThrow(IllegalAgentTransition);
    expect(m.snapshot()).toMatchObject({ state: S.OnCall, callId: 'x9' });
    expect(m.apply({ type: 'release', callId: 'x9', wrapUpMs: 0 }).to).toBe(S.Ready);
  });

  it('a not-ready agent handed a call is not-ready again after it, with the same reason', () => {
    const m = machineIn(S.NotReady);
    m.apply({ type: 'go_not_ready', reason: '培训' });
    m.apply({ type: 'assign', callId: 'x1' });
    expect(m.snapshot()).toMatchObject({ state: S.OnCall, reason: null, pendingNotReady: '培训' });
    m.apply({ type: 'release', callId: 'x1', wrapUpMs: 0 });
    expect(m.snapshot()).toMatchObject({ state: S.NotReady, reason: '培训' });
  });

  it('a rejoin during wrap-up keeps the not-ready asked for earlier; release starts a fresh wrap-up', () => {
    const clock = new FakeClock(0);
    const m = machineIn(S.OnCall, clock);
    m.apply({ type: 'go_not_ready', reason: '小休' });
    m.apply({ type: 'hangup', wrapUpMs: 30_000 });
    clock.advance(5000);
    m.apply({ type: 'assign', callId: 'c1' });
    expect(m.snapshot()).toMatchObject({ state: S.OnCall, wrapUpUntil: null, pendingNotReady: '小休' });
    clock.advance(1000);
    m.apply({ type: 'release', callId: 'c1', wrapUpMs: 10_000 });
    expect(m.snapshot()).toMatchObject({ state: S.WrapUp, wrapUpUntil: 16_000 });
    m.apply({ type: 'wrap_up_done' });
    expect(m.snapshot()).toMatchObject({ state: S.NotReady, reason: '小休' });
  });
});
