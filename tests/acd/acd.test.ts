import { afterEach, describe, expect, it } from 'vitest';
import { Acd, type AgentProfile } from '../../server/acd/acd.js';
import { AgentState as S, REASON_RONA, type Transition } from '../../server/acd/agent-state.js';
import { defaultQueueConfig, type QueueConfig } from '../../server/acd/queue.js';
import { FakeClock } from '../../server/util/clock.js';
import { FakeCallControl, flush } from './fake-call-control.js';

let acd: Acd;
afterEach(() => acd?.close());

function setup(
  queues: Array<Partial<QueueConfig> & { id: string }>,
  agents: AgentProfile[],
  o: { reconcileEveryMs?: number } = {},
) {
  const clock = new FakeClock(1_000_000);
  const cc = new FakeCallControl();
  acd = new Acd({ clock, callControl: cc, reconcileEveryMs: o.reconcileEveryMs ?? 0, callbackRetryMs: 60_000 });
  for (const q of queues) acd.upsertQueue(defaultQueueConfig(q.id, q.id, { skillRelax: [], ...q }));
  for (const a of agents) acd.upsertAgent(a);
  const transitions: Transition[] = [];
  acd.on('agent_state', (t) => transitions.push(t));
  const ready = (...ids: string[]) => {
    for (const id of ids) {
      acd.login(id, `80${id.slice(-2)}`);
      acd.setReady(id);
      clock.advance(1000); // distinct idle times, in the order given
    }
  };
  return { clock, cc, transitions, ready };
}

const agent = (id: string, queues: Record<string, number>, skills: Record<string, number> = {}): AgentProfile => ({
  id,
  queues,
  skills,
});

describe('dispatch', () => {
  it('offers a new caller to the longest-idle ready agent at once, and answering puts both in place', async () => {
    const { cc, ready } = setup(
      [{ id: 'complaint' }],
      [agent('a01', { complaint: 1 }), agent('a02', { complaint: 1 })],
    );
    ready('a02', 'a01');
    const r = acd.enqueue({ callId: 'c1', queueId: 'complaint', consumer: '13812345678' });
    expect(r.accepted).toBe(true);
    expect(cc.rings.map((x) => [x.agent.agentId, x.agent.seat, x.entry.callId])).toEqual([['a02', '8002', 'c1']]);
    expect(acd.agent('a02')!.state).toBe(S.Reserved);
    cc.ringFor('a02').resolve('answered');
    await flush();
    expect(acd.agent('a02')).toMatchObject({ state: S.OnCall, callId: 'c1', callsHandled: 1 });
    expect(acd.entries()).toHaveLength(0);
  });

  it('queues when nobody is ready and offers when an agent becomes ready (no polling)', () => {
    const { cc, clock } = setup([{ id: 'complaint' }], [agent('a01', { complaint: 1 })]);
    acd.login('a01', '8001');
    acd.enqueue({ callId: 'c1', queueId: 'complaint' });
    clock.advance(60_000);
    expect(cc.rings).toHaveLength(0);
    expect(clock.pending).toBe(1); // only the max-wait timer
    acd.setReady('a01');
    expect(cc.rings).toHaveLength(1);
  });

  it('RONA: no answer within the ring timeout → agent not ready (未接听), caller offered to the next agent', () => {
    const { cc, clock, ready } = setup(
      [{ id: 'q', ringTimeoutMs: 15_000 }],
      [agent('a01', { q: 1 }), agent('a02', { q: 1 })],
    );
    ready('a01', 'a02');
    acd.enqueue({ callId: 'c1', queueId: 'q' });
    expect(cc.ringFor('a01')).toBeTruthy();
    clock.advance(15_000);
    expect(acd.agent('a01')).toMatchObject({ state: S.NotReady, reason: REASON_RONA });
    expect(cc.rings[0]!.signal.aborted).toBe(true);
    expect(cc.ringFor('a02').entry.callId).toBe('c1');
    expect(acd.counters.rona).toBe(1);
  });

  it('a rejected offer goes to the next agent; a caller hanging up while ringing frees the agent', async () => {
    const { cc, ready } = setup([{ id: 'q' }], [agent('a01', { q: 1 }), agent('a02', { q: 1 })]);
    ready('a01', 'a02');
    acd.enqueue({ callId: 'c1', queueId: 'q' });
    cc.ringFor('a01').resolve('rejected');
    await flush();
    expect(acd.agent('a01')!.state).toBe(S.NotReady);
    cc.ringFor('a02').resolve('caller_gone');
    await flush();
    expect(acd.agent('a02')!.state).toBe(S.Ready);
    expect(acd.entries()).toHaveLength(0);
    expect(acd.counters.abandoned).toBe(1);
  });

  it('abandon while waiting removes the entry and its timers', () => {
    const { clock } = setup([{ id: 'q' }], []);
    acd.enqueue({ callId: 'c1', queueId: 'q' });
    expect(acd.abandon('c1')).toBe(true);
    expect(acd.entries()).toHaveLength(0);
    expect(clock.pending).toBe(0);
  });

  it('hangup → wrap-up for the queue wrap-up time → ready, and handle time feeds the estimate', async () => {
    const { cc, clock, ready } = setup([{ id: 'q', wrapUpMs: 20_000 }], [agent('a01', { q: 1 })]);
    ready('a01');
    acd.enqueue({ callId: 'c1', queueId: 'q' });
    cc.ringFor('a01').resolve('answered');
    await flush();
    clock.advance(120_000);
    expect(acd.callEnded('c1')).toBe(true);
    expect(acd.agent('a01')!.state).toBe(S.WrapUp);
    acd.extendWrapUp('a01', 10_000);
    clock.advance(29_999);
    expect(acd.agent('a01')!.state).toBe(S.WrapUp);
    clock.advance(1);
    expect(acd.agent('a01')!.state).toBe(S.Ready);
    expect(acd.stats()[0]!.meanHandleMs).toBe(120_000);
  });

  it('ring-all rings every ready member; the first to answer wins, the others are released without blame', async () => {
    const { cc, ready } = setup(
      [{ id: 'q', strategy: 'ring_all' }],
      [agent('a01', { q: 1 }), agent('a02', { q: 1 }), agent('a03', { q: 1 })],
    );
    ready('a01', 'a02', 'a03');
    acd.enqueue({ callId: 'c1', queueId: 'q' });
    expect(
      cc
        .activeRings()
        .map((r) => r.agent.agentId)
        .sort(),
    ).toEqual(['a01', 'a02', 'a03']);
    cc.ringFor('a02').resolve('answered');
    await flush();
    expect(acd.agent('a02')!.state).toBe(S.OnCall);
    expect(acd.agent('a01')!.state).toBe(S.Ready);
    expect(acd.agent('a03')!.state).toBe(S.Ready);
    expect(cc.activeRings()).toHaveLength(0);
  });

  it('ring-all timeout re-rings everyone instead of marking them not ready', () => {
    const { cc, clock, ready } = setup(
      [{ id: 'q', strategy: 'ring_all', ringTimeoutMs: 10_000 }],
      [agent('a01', { q: 1 }), agent('a02', { q: 1 })],
    );
    ready('a01', 'a02');
    acd.enqueue({ callId: 'c1', queueId: 'q' });
    clock.advance(10_000);
    expect(acd.agent('a01')!.state).toBe(S.Reserved);
    expect(cc.activeRings()).toHaveLength(2);
    expect(cc.rings).toHaveLength(4);
  });

  it('round-robin with memory continues after the agent served last', async () => {
    const ids = ['a01', 'a02', 'a03'];
    const { cc, ready } = setup(
      [{ id: 'q', strategy: 'round_robin', wrapUpMs: 0 }],
      ids.map((id) => agent(id, { q: 1 })),
    );
    ready('a03', 'a02', 'a01');
    const served: string[] = [];
    for (let i = 0; i < 5; i++) {
      acd.enqueue({ callId: `c${i}`, queueId: 'q' });
      const r = cc.activeRings()[0]!;
      served.push(r.agent.agentId);
      r.resolve('answered');
      await flush();
      acd.callEnded(`c${i}`);
    }
    expect(served).toEqual(['a01', 'a02', 'a03', 'a01', 'a02']);
  });

  it('fewest-calls picks the agent with the fewest answered calls', async () => {
    const { cc, ready } = setup(
      [{ id: 'q', strategy: 'fewest_calls', wrapUpMs: 0 }],
      [agent('a01', { q: 1 }), agent('a02', { q: 1 })],
    );
    ready('a01', 'a02');
    acd.enqueue({ callId: 'c1', queueId: 'q' });
    cc.ringFor('a01').resolve('answered');
    await flush();
    acd.callEnded('c1'); // a01 is now the most recently idle... and has 1 call
    acd.enqueue({ callId: 'c2', queueId: 'q' });
    expect(cc.activeRings()[0]!.agent.agentId).toBe('a02');
  });

  it('skills: required level filters agents, the best level wins, and the requirement relaxes with the wait', () => {
    const { cc, clock, ready } = setup(
      [
        {
          id: 'english',
          strategy: 'skills',
          ringTimeoutMs: 600_000,
          skillRelax: [
            { afterMs: 30_000, drop: 1 },
            { afterMs: 60_000, drop: 99 },
          ],
        },
      ],
      [agent('a01', { english: 1 }, { en: 2 }), agent('a02', { english: 1 }), agent('a03', { english: 1 }, { en: 4 })],
    );
    ready('a01', 'a02');
    acd.enqueue({ callId: 'c1', queueId: 'english', skills: { en: 3 } });
    expect(cc.rings).toHaveLength(0);
    clock.advance(30_000); // level 2 is enough now: a01
    expect(cc.ringFor('a01').entry.callId).toBe('c1');
    acd.enqueue({ callId: 'c2', queueId: 'english', skills: { en: 3 } });
    ready('a03');
    expect(cc.ringFor('a03').entry.callId).toBe('c2');
    acd.enqueue({ callId: 'c3', queueId: 'english', skills: { en: 5 } });
    clock.advance(59_000);
    expect(cc.activeRings().map((r) => r.entry.callId)).not.toContain('c3');
    clock.advance(1000); // skill no longer required: a02 without any English gets it
    expect(cc.ringFor('a02').entry.callId).toBe('c3');
  });

  it('caller priority is served before earlier callers', () => {
    const { cc, ready } = setup([{ id: 'q' }], [agent('a01', { q: 1 })]);
    acd.enqueue({ callId: 'c1', queueId: 'q' });
    acd.enqueue({ callId: 'vip', queueId: 'q', priority: 5 });
    expect(acd.position(acd.entries()[0]!.id)).toBe(1);
    expect(acd.entries()[0]!.callId).toBe('vip');
    ready('a01');
    expect(cc.rings[0]!.entry.callId).toBe('vip');
  });

  it('membership priority: a secondary member only gets the call when no primary member is free', () => {
    const { cc, ready } = setup([{ id: 'q' }], [agent('a01', { q: 2 }), agent('a02', { q: 1 })]);
    ready('a01', 'a02'); // a01 idle longer, but secondary
    acd.enqueue({ callId: 'c1', queueId: 'q' });
    expect(cc.rings[0]!.agent.agentId).toBe('a02');
    acd.enqueue({ callId: 'c2', queueId: 'q' });
    expect(cc.ringFor('a01').entry.callId).toBe('c2');
  });

  it('an agent in several queues gets the longest weighted wait first', () => {
    const { cc, clock, ready } = setup(
      [
        { id: 'complaint', weight: 2 },
        { id: 'consult', weight: 1 },
      ],
      [agent('a01', { complaint: 1, consult: 1 })],
    );
    acd.enqueue({ callId: 'consult-old', queueId: 'consult' });
    clock.advance(30_000);
    acd.enqueue({ callId: 'complaint-new', queueId: 'complaint' });
    clock.advance(20_000);
    // consult waited 50 s × 1 = 50; complaint 20 s × 2 = 40 → consult first
    ready('a01');
    expect(cc.rings[0]!.entry.callId).toBe('consult-old');
    acd.close();
    const s2 = setup(
      [
        { id: 'complaint', weight: 2 },
        { id: 'consult', weight: 1 },
      ],
      [agent('a01', { complaint: 1, consult: 1 })],
    );
    acd.enqueue({ callId: 'consult-old', queueId: 'consult' });
    s2.clock.advance(10_000);
    acd.enqueue({ callId: 'complaint-new', queueId: 'complaint' });
    s2.clock.advance(20_000);
    // consult 30 × 1 = 30; complaint 20 × 2 = 40 → complaint first
    s2.ready('a01');
    expect(s2.cc.rings[0]!.entry.callId).toBe('complaint-new');
  });
});

describe('queue limits and overflow', () => {
  it('max size refuses with the overflow target', () => {
    setup([{ id: 'q', maxSize: 1, overflow: { kind: 'voicemail' } }], []);
    expect(acd.enqueue({ callId: 'c1', queueId: 'q' }).accepted).toBe(true);
    expect(acd.enqueue({ callId: 'c2', queueId: 'q' })).toEqual({
      accepted: false,
      reason: 'full',
      overflow: { kind: 'voicemail' },
    });
  });

  it('join-empty: unless_none_logged_in refuses until a member logs in', () => {
    setup([{ id: 'q', joinEmpty: 'unless_none_logged_in' }], [agent('a01', { q: 1 })]);
    expect(acd.enqueue({ callId: 'c1', queueId: 'q' })).toMatchObject({ accepted: false, reason: 'empty' });
    acd.login('a01', '8001');
    expect(acd.enqueue({ callId: 'c1', queueId: 'q' }).accepted).toBe(true);
  });

  it('max wait overflows to another queue keeping the original entry time', () => {
    const { cc, clock } = setup(
      [{ id: 'q', maxWaitMs: 60_000, overflow: { kind: 'queue', queueId: 'backup' } }, { id: 'backup' }],
      [],
    );
    acd.enqueue({ callId: 'c1', queueId: 'q' });
    const entered = acd.entries()[0]!.enteredAt;
    clock.advance(60_000);
    expect(acd.entries('backup')).toHaveLength(1);
    expect(acd.entries('backup')[0]!.enteredAt).toBe(entered);
    expect(cc.overflows[0]).toMatchObject({ target: { kind: 'queue', queueId: 'backup' }, reason: 'max_wait' });
  });

  it('max wait to voicemail removes the caller; to callback keeps the place without a live call', () => {
    const { cc, clock } = setup(
      [
        { id: 'vm', maxWaitMs: 10_000, overflow: { kind: 'voicemail' } },
        { id: 'cb', maxWaitMs: 10_000, overflow: { kind: 'callback' } },
      ],
      [],
    );
    acd.enqueue({ callId: 'c1', queueId: 'vm' });
    acd.enqueue({ callId: 'c2', queueId: 'cb', consumer: '13800000000' });
    acd.enqueue({ callId: 'c3', queueId: 'cb', consumer: '13900000000' });
    clock.advance(10_000);
    expect(acd.entries('vm')).toHaveLength(0);
    expect(acd.entries('cb').map((e) => [e.callId, e.kind])).toEqual([
      ['c2', 'callback'],
      ['c3', 'callback'],
    ]);
    expect(cc.overflows.map((o) => o.target?.kind)).toEqual(['voicemail', 'callback', 'callback']);
  });

  it('leave-empty: callers leave when the last member logs out', () => {
    const { cc } = setup([{ id: 'q', leaveEmpty: true, overflow: { kind: 'voicemail' } }], [agent('a01', { q: 1 })]);
    acd.login('a01', '8001');
    acd.enqueue({ callId: 'c1', queueId: 'q' });
    acd.logout('a01');
    expect(acd.entries()).toHaveLength(0);
    expect(cc.overflows[0]).toMatchObject({ reason: 'leave_empty', target: { kind: 'voicemail' } });
  });
});

describe('callbacks', () => {
  it('a callback reserves an agent first, then call control dials the consumer', async () => {
    const { cc, ready } = setup([{ id: 'q' }], [agent('a01', { q: 1 })]);
    acd.enqueue({ callId: 'c1', queueId: 'q', consumer: '13812345678' });
    expect(acd.convertToCallback('c1', '13812345678')).toBe(true);
    ready('a01');
    expect(cc.rings).toHaveLength(0);
    expect(cc.dials).toHaveLength(1);
    expect(acd.agent('a01')!.state).toBe(S.Reserved);
    cc.dials[0]!.resolve('answered');
    await flush();
    expect(acd.agent('a01')!.state).toBe(S.OnCall);
  });

  it('a callback the consumer does not answer frees the agent and is retried later', async () => {
    const { cc, clock, ready } = setup([{ id: 'q' }], [agent('a01', { q: 1 })]);
    acd.enqueue({ callId: 'cb1', queueId: 'q', kind: 'callback', consumer: '13812345678' });
    ready('a01');
    cc.dials[0]!.resolve('no_answer');
    await flush();
    expect(acd.agent('a01')!.state).toBe(S.Ready);
    expect(cc.dials).toHaveLength(1);
    clock.advance(60_000);
    expect(cc.dials).toHaveLength(2);
  });
});

describe('agent actions during offers', () => {
  it('logging out while ringing requeues the caller for another agent', () => {
    const { cc, ready } = setup([{ id: 'q' }], [agent('a01', { q: 1 }), agent('a02', { q: 1 })]);
    ready('a01');
    acd.enqueue({ callId: 'c1', queueId: 'q' });
    acd.logout('a01');
    expect(cc.rings[0]!.signal.aborted).toBe(true);
    ready('a02');
    expect(cc.ringFor('a02').entry.callId).toBe('c1');
  });

  it('state changes are emitted with timestamps and the seat, for metrics and desktops', () => {
    const { transitions, clock } = setup([{ id: 'q' }], [agent('a01', { q: 1 })]);
    const views: Array<string | null> = [];
    acd.on('agent_state', (_t, v) => views.push(v.seat));
    acd.on('agent_state', () => {
      throw new Error('a broken listener must not break the ACD');
    });
    acd.login('a01', '8001');
    clock.advance(5000);
    acd.setReady('a01');
    expect(transitions.map((t) => [t.from, t.to, t.event, t.previousDurationMs])).toEqual([
      ['offline', 'not_ready', 'login', 0],
      ['not_ready', 'ready', 'go_ready', 5000],
    ]);
    expect(transitions[1]!.at).toBe(1_005_000);
    expect(views).toEqual(['8001', '8001']);
  });

  it('illegal actions throw, leave the state alone and are counted', () => {
    setup([{ id: 'q' }], [agent('a01', { q: 1 })]);
    expect(() => acd.setReady('a01')).toThrow();
    expect(acd.agent('a01')!.state).toBe(S.Offline);
    expect(acd.counters.illegal_transitions).toBe(1);
  });

  it('position and estimated wait come from queue order and recent handle times', async () => {
    const { cc, clock, ready } = setup([{ id: 'q', wrapUpMs: 0 }], [agent('a01', { q: 1 })]);
    ready('a01');
    acd.enqueue({ callId: 'c0', queueId: 'q' });
    cc.ringFor('a01').resolve('answered');
    await flush();
    clock.advance(100_000);
    acd.callEnded('c0'); // mean handle 100 s
    acd.setNotReady('a01', '小休');
    const e1 = acd.enqueue({ callId: 'c1', queueId: 'q' });
    const e2 = acd.enqueue({ callId: 'c2', queueId: 'q' });
    expect(e2.accepted && e2.position).toBe(2);
    expect(e1.accepted && e1.estimatedWaitMs).toBe(100_000);
    expect(e2.accepted && e2.estimatedWaitMs).toBe(200_000);
  });
});

describe('consistency check', () => {
  it('repairs drift in both directions and counts each repair', async () => {
    const { cc, clock, ready } = setup([{ id: 'q', wrapUpMs: 0 }], [agent('a01', { q: 1 }), agent('a02', { q: 1 })], {
      reconcileEveryMs: 30_000,
    });
    ready('a01', 'a02');
    acd.enqueue({ callId: 'c1', queueId: 'q' });
    cc.ringFor('a01').resolve('answered');
    await flush();
    // The call control lost c1 (its BYE never reached us) and a02 took a direct call we never heard of.
    cc.live = [{ agentId: 'a02', callId: 'direct-9' }];
    clock.advance(30_000);
    expect(acd.agent('a01')!.state).toBe(S.Ready);
    expect(acd.agent('a02')).toMatchObject({ state: S.OnCall, callId: 'direct-9' });
    expect(acd.counters.repair_stale_on_call).toBe(1);
    expect(acd.counters.repair_missing_on_call).toBe(1);
    // In agreement now: the next run changes nothing.
    expect(acd.reconcile()).toEqual([]);
  });
});

describe('hand-over (assign / release)', () => {
  it('a warm transfer: the target is assigned while the first agent still talks, each is released by name, no repairs', async () => {
    const { cc, clock, transitions, ready } = setup(
      [{ id: 'q', wrapUpMs: 20_000 }],
      [agent('a01', { q: 1 }), agent('a02', { q: 1 })],
      { reconcileEveryMs: 30_000 },
    );
    const repairs: string[] = [];
    acd.on('repair', (kind) => repairs.push(kind));
    ready('a01', 'a02');
    acd.enqueue({ callId: 'c1', queueId: 'q' });
    cc.ringFor('a01').resolve('answered');
    await flush();
    cc.live = [{ agentId: 'a01', callId: 'c1' }];
    // a02 answers the consultation: on the call too.
    expect(acd.assign('a02', 'c1', 'q')).toMatchObject({ state: S.OnCall, callId: 'c1', callQueueId: 'q' });
    expect(transitions.at(-1)).toMatchObject({ agentId: 'a02', from: S.Ready, to: S.OnCall, event: 'assign' });
    cc.live = [
      { agentId: 'a01', callId: 'c1' },
      { agentId: 'a02', callId: 'c1' },
    ];
    clock.advance(30_000);
    // Complete: a01 leaves; releasing names a01, a02 stays on the call.
    expect(acd.release('a01', 'c1')).toMatchObject({ state: S.WrapUp, wrapUpUntil: clock.now() + 20_000 });
    expect(acd.agent('a02')).toMatchObject({ state: S.OnCall, callId: 'c1' });
    cc.live = [{ agentId: 'a02', callId: 'c1' }];
    clock.advance(30_000);
    expect(acd.agent('a01')!.state).toBe(S.Ready);
    acd.release('a02', 'c1', 0);
    cc.live = [];
    expect(acd.agent('a02')!.state).toBe(S.Ready);
    clock.advance(30_000);
    expect(repairs).toEqual([]);
    expect(acd.reconcile()).toEqual([]);
    expect(acd.counters).toMatchObject({ assigned: 1, released: 2 });
  });

  it('assigning a reserved agent withdraws the queue offer, and the caller is offered to someone else', () => {
    const { cc, ready } = setup([{ id: 'q' }], [agent('a01', { q: 1 }), agent('a02', { q: 1 })]);
    ready('a01');
    acd.enqueue({ callId: 'queued', queueId: 'q' });
    const ring = cc.ringFor('a01');
    acd.login('a02', '8002');
    acd.assign('a01', 'transferred');
    expect(ring.signal.aborted).toBe(true);
    expect(acd.agent('a01')).toMatchObject({ state: S.OnCall, callId: 'transferred', callQueueId: null });
    acd.setReady('a02');
    expect(cc.ringFor('a02').entry.callId).toBe('queued');
  });

  it('illegal hand-overs throw, are counted, and change nothing', () => {
    const { ready } = setup([{ id: 'q' }], [agent('a01', { q: 1 }), agent('a02', { q: 1 })]);
    expect(() => acd.assign('a01', 'c1')).toThrow(/assign not allowed in state offline/);
    ready('a01');
    acd.assign('a01', 'c1');
    expect(() => acd.assign('a01', 'c2')).toThrow(/assign not allowed in state on_call/);
    expect(() => acd.release('a01', 'c2')).toThrow(/release not allowed/);
    ready('a02');
    expect(() => acd.release('a02', 'c1')).toThrow(/release not allowed in state ready/);
    expect(acd.agent('a01')).toMatchObject({ state: S.OnCall, callId: 'c1' });
    expect(acd.counters.illegal_transitions).toBe(4);
    expect(acd.counters.assigned).toBe(1);
  });

  it('a rejoin from wrap-up: assigned again, released into a new wrap-up that ends on the clock', () => {
    const { clock, ready } = setup([{ id: 'q', wrapUpMs: 10_000 }], [agent('a01', { q: 1 })]);
    ready('a01');
    acd.assign('a01', 'c1', 'q');
    clock.advance(5000);
    acd.release('a01', 'c1');
    clock.advance(4000);
    expect(acd.agent('a01')!.state).toBe(S.WrapUp);
    acd.assign('a01', 'c1', 'q');
    clock.advance(8000);
    // The first wrap-up's timer must not end the rejoined call.
    expect(acd.agent('a01')).toMatchObject({ state: S.OnCall, callId: 'c1' });
    acd.release('a01', 'c1');
    clock.advance(9999);
    expect(acd.agent('a01')!.state).toBe(S.WrapUp);
    clock.advance(1);
    expect(acd.agent('a01')!.state).toBe(S.Ready);
    expect(acd.stats()[0]!.meanHandleMs).toBe(6500);
  });
});
