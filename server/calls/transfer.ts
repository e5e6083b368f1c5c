/**
 * Transfers (issue 4): from the desktop/API (cold or warm, to an agent, a queue or a number) and from
 * SIP phones by REFER (RFC 3515 blind transfer, RFC 3891 Replaces for attended transfer). All of them
 * run on the call's room (call-room.ts): the consumer is held in the call's conference while the
 * target rings, and the target joins that conference when it answers.
 */
import type { Logger } from 'pino';
import type { Acd } from '../acd/acd.js';
import { AgentState } from '../acd/agent-state.js';
import type { Clock } from '../util/clock.js';
import { nextState, type TransitionTable } from '../util/fsm.js';
import type { AcdCallBridge } from './acd-bridge.js';
import { CallState, type Call } from './call.js';
import type { CallManager, RingResult } from './call-manager.js';
import { CallRoom, type CallRoomDeps } from './call-room.js';
import type { ReferRequest, SipLeg, UacLeg } from './sip-leg.js';

/** An API failure with its HTTP status (404 unknown call, 409 wrong state, 403 not your call, 400 bad target). */
export class CallControlError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Who asks: a web user; agents carry their 工号. */
export interface ControlActor {
  username: string;
  role: 'agent' | 'lead' | 'admin' | 'merchant';
  agentId: string | null;
}

export interface CallControlDeps {
  calls: CallManager;
  acdBridge: AcdCallBridge;
  acd: Acd;
  room: CallRoomDeps;
  clock: Clock;
  log: Logger;
  /** Access numbers: a Refer-To/number target equal to one of these means "back to the queue". */
  accessNumbers: string[];
  /**
   * Outbound to a number through the toll-fraud guard (trunk dial patterns). Absent: only numbers that
   * are registered extensions can be reached.
   */
  dialNumber?(call: Call, number: string, signal: AbortSignal): Promise<RingResult>;
  /** Audit log (leads' actions, transfers). */
  audit?(actor: string, action: string, target: string, detail?: Record<string, unknown>): void;
}

export function authorize(call: Call, actor: ControlActor): void {
  if (actor.role === 'lead' || actor.role === 'admin') return;
  if (actor.role === 'agent' && actor.agentId !== null && call.agent?.id === actor.agentId) return;
  throw new CallControlError(403, 'not_your_call', '这不是您正在处理的通话');
}

export function findCall(calls: CallManager, id: string): Call {
  const call = calls.calls.get(id);
  if (!call || call.isEnded) throw new CallControlError(404, 'no_call', `通话 ${id} 不存在或已结束`);
  return call;
}

/** Calls that one control operation (transfer, three-way) holds; a second one is refused with 409. */
export const busyCalls = new WeakMap<Call, string>();

export enum TransferState {
  Ringing = 'ringing',
  Consulting = 'consulting',
  Completed = 'completed',
  Cancelled = 'cancelled',
  Failed = 'failed',
}
export enum TransferEvent {
  Answer = 'answer',
  Complete = 'complete',
  Cancel = 'cancel',
  Fail = 'fail',
}
const TS = TransferState;
const TE = TransferEvent;
export const TRANSFER_TABLE: TransitionTable<TransferState, TransferEvent> = {
  [TS.Ringing]: {
    [TE.Answer]: TS.Consulting,
    [TE.Complete]: TS.Completed,
    [TE.Cancel]: TS.Cancelled,
    [TE.Fail]: TS.Failed,
  },
  [TS.Consulting]: { [TE.Complete]: TS.Completed, [TE.Cancel]: TS.Cancelled, [TE.Fail]: TS.Failed },
  [TS.Completed]: {},
  [TS.Cancelled]: {},
  [TS.Failed]: {},
};

export type TransferTarget = { kind: 'agent' | 'queue' | 'number'; value: string };

export interface TransferView {
  callId: string;
  state: TransferState;
  mode: 'cold' | 'warm';
  target: TransferTarget;
  reason: string | null;
}

interface Transfer {
  call: Call;
  mode: 'cold' | 'warm';
  target: TransferTarget;
  state: TransferState;
  reason: string | null;
  from: { id: string | null; leg: UacLeg } | null;
  targetLeg: UacLeg | null;
  targetAgent: string | null;
  abort: AbortController;
  settle: () => void;
}

const legGone = (l: SipLeg): Promise<void> =>
  l.isEnded ? Promise.resolve() : new Promise<void>((r) => l.once('ended', () => r()));

export class TransferService {
  private readonly active = new Map<string, Transfer>();
  readonly stats = { started: 0, completed: 0, failed: 0, cancelled: 0, refers: 0 };

  constructor(private readonly d: CallControlDeps) {
    // Every leg may carry a REFER from a phone.
    const prev = d.calls.onLeg;
    d.calls.onLeg = (call, leg) => {
      prev?.(call, leg);
      leg.on('refer', (r) => void this.onRefer(call, leg, r).catch((err: unknown) => this.referFailed(r, err)));
    };
  }

  view(callId: string): TransferView | null {
    const t = this.active.get(callId);
    return t ? this.toView(t) : null;
  }

  private toView(t: Transfer): TransferView {
    return { callId: t.call.id, state: t.state, mode: t.mode, target: t.target, reason: t.reason };
  }

  private move(t: Transfer, e: TransferEvent): void {
    t.state = nextState('transfer', TRANSFER_TABLE, t.state, e);
  }

  /** POST /api/calls/{id}/transfer. Resolves with the state once the transfer has started. */
  async transfer(
    callId: string,
    actor: ControlActor,
    target: TransferTarget,
    mode: 'cold' | 'warm',
  ): Promise<TransferView> {
    const call = findCall(this.d.calls, callId);
    authorize(call, actor);
    if (call.state !== CallState.Connected) throw new CallControlError(409, 'wrong_state', '通话未接通，不能转接');
    if (busyCalls.has(call)) throw new CallControlError(409, 'busy', '该通话正在转接或三方通话中');
    if (mode === 'warm' && target.kind === 'queue')
      throw new CallControlError(400, 'bad_target', '转队列只能直接转接（cold）');
    const from = call.agent && !call.agent.leg.isEnded ? call.agent : null;
    this.d.audit?.(actor.username, `transfer_${mode}`, call.id, { target });
    return this.start(call, from, target, mode);
  }

  private async start(
    call: Call,
    from: Transfer['from'],
    target: TransferTarget,
    mode: 'cold' | 'warm',
    /** Runs once the transfer is under way, before the transferor's leg ends (REFER: NOTIFY 200). */
    accepted?: () => void,
  ): Promise<TransferView> {
    const ring = this.ringPlan(call, target);
    let settle!: () => void;
    const t: Transfer = {
      call,
      mode,
      target,
      state: TS.Ringing,
      reason: null,
      from,
      targetLeg: null,
      targetAgent: ring.agentId,
      abort: new AbortController(),
      settle: () => undefined,
    };
    call.handover = new Promise<void>((r) => (settle = r));
    t.settle = () => {
      this.active.delete(call.id);
      busyCalls.delete(call);
      call.handover = null;
      settle();
    };
    this.active.set(call.id, t);
    busyCalls.set(call, 'transfer');
    this.stats.started++;
    call.onEnd(() => {
      t.abort.abort();
      if (this.active.get(call.id) === t) t.settle();
    });

    const room = CallRoom.of(call, this.d.room);
    await room.takeOver();
    await room.hold();
    accepted?.();
    if (mode === 'cold' && from) {
      // The agent is done with this caller: wrap-up starts now (the ACD sees the leg end).
      from.leg.hangup();
    }
    if (ring.kind === 'queue') {
      void this.toQueue(t, ring.queue);
      return this.toView(t);
    }
    if (from) {
      from.leg.once('ended', () => {
        // An agent who hangs up during a warm transfer hands the caller over (attended → blind).
        if (this.active.get(call.id) !== t) return;
        if (t.state === TS.Consulting) void this.complete(call.id, null).catch(() => undefined);
      });
    }
    void this.ringTarget(t, ring).catch((err: unknown) => {
      this.d.log.warn({ err, call: call.id }, 'transfer ringing failed');
      void this.fail(t, 'error');
    });
    return this.toView(t);
  }

  private ringPlan(
    call: Call,
    target: TransferTarget,
  ):
    | { kind: 'device'; ext: string; agentId: string | null }
    | { kind: 'queue'; queue: string; agentId: null }
    | { kind: 'number'; number: string; agentId: null } {
    if (target.kind === 'agent') {
      const a = this.d.acd.agent(target.value);
      if (!a) throw new CallControlError(404, 'no_agent', `工号 ${target.value} 不存在`);
      if (!a.seat || a.state === AgentState.Offline)
        throw new CallControlError(409, 'agent_offline', `工号 ${target.value} 未签入`);
      if (a.state === AgentState.OnCall || a.state === AgentState.Reserved)
        throw new CallControlError(409, 'agent_busy', `工号 ${target.value} 正在通话`);
      if (call.agent?.id === target.value) throw new CallControlError(409, 'same_agent', '不能转给自己');
      return { kind: 'device', ext: a.seat, agentId: a.agentId };
    }
    if (target.kind === 'queue') {
      const q = this.d.accessNumbers.includes(target.value)
        ? (this.d.acdBridge.requestOf(call)?.queue ?? null)
        : target.value;
      if (!q || !this.d.acd.queueConfig(q)) throw new CallControlError(404, 'no_queue', `队列 ${target.value} 不存在`);
      return { kind: 'queue', queue: q, agentId: null };
    }
    if (!/^[0-9+*#]{2,20}$/.test(target.value)) throw new CallControlError(400, 'bad_number', '号码格式不正确');
    if (this.d.accessNumbers.includes(target.value)) return this.ringPlan(call, { kind: 'queue', value: target.value });
    if (this.d.calls.isRegistered(target.value)) {
      return { kind: 'device', ext: target.value, agentId: this.d.acd.agentAtSeat(target.value) };
    }
    if (!this.d.dialNumber)
      throw new CallControlError(409, 'no_route', '该号码无法外呼（未配置出局中继或不在允许范围）');
    return { kind: 'number', number: target.value, agentId: null };
  }

  private async ringTarget(
    t: Transfer,
    ring: { kind: 'device'; ext: string } | { kind: 'number'; number: string },
  ): Promise<void> {
    const call = t.call;
    const r =
      ring.kind === 'device'
        ? await this.d.calls.ringDevice(call, ring.ext, {
            signal: t.abort.signal,
            displayName: '12315转接',
            extraHeaders: [['X-Call-Id', call.id]],
          })
        : await this.d.dialNumber!(call, ring.number, t.abort.signal);
    if (this.active.get(call.id) !== t) {
      r.leg?.hangup();
      return;
    }
    if (r.result !== 'answered' || !r.leg) {
      await this.fail(t, r.result);
      return;
    }
    t.targetLeg = r.leg;
    // The target agent is on the call from their answer (consultation included): the ACD must not
    // offer them a queue call meanwhile. Released into wrap-up when their leg ends (cancel or later).
    if (t.targetAgent) this.d.acdBridge.attachAgent(call, t.targetAgent, r.leg);
    const room = CallRoom.of(call, this.d.room);
    await room.add({ role: 'target', leg: r.leg, agentId: t.targetAgent });
    r.leg.once('ended', () => {
      if (this.active.get(call.id) !== t) return;
      // The target hung up during the consultation: the agent keeps the caller.
      void this.fail(t, 'target-hangup');
    });
    if (t.mode === 'cold' || !t.from || t.from.leg.isEnded) {
      await this.finish(t);
      return;
    }
    this.move(t, TE.Answer);
  }

  /** POST /transfer/complete: the consumer meets the target, the agent leaves. */
  async complete(callId: string, actor: ControlActor | null): Promise<TransferView> {
    const call = findCall(this.d.calls, callId);
    if (actor) authorize(call, actor);
    const t = this.active.get(callId);
    if (!t || t.state !== TS.Consulting) throw new CallControlError(409, 'wrong_state', '没有可完成的咨询转接');
    const view = await this.finish(t);
    return view;
  }

  private async finish(t: Transfer): Promise<TransferView> {
    const call = t.call;
    const leg = t.targetLeg!;
    this.move(t, TE.Complete);
    call.agent = { id: t.targetAgent, leg };
    const room = CallRoom.of(call, this.d.room);
    await room.unhold();
    const from = t.from;
    if (from && !from.leg.isEnded) {
      await room.remove(from.leg);
      from.leg.hangup();
    }
    this.stats.completed++;
    const view = this.toView(t);
    t.settle();
    this.d.log.info({ call: call.id, mode: t.mode, target: t.target.kind }, 'transfer completed');
    return view;
  }

  /** POST /transfer/cancel: the target is dropped, the agent and the consumer talk again. */
  async cancel(callId: string, actor: ControlActor): Promise<TransferView> {
    const call = findCall(this.d.calls, callId);
    authorize(call, actor);
    const t = this.active.get(callId);
    if (!t || t.mode !== 'warm' || (t.state !== TS.Ringing && t.state !== TS.Consulting))
      throw new CallControlError(409, 'wrong_state', '没有可取消的转接');
    this.move(t, TE.Cancel);
    t.abort.abort();
    t.targetLeg?.hangup();
    this.stats.cancelled++;
    await CallRoom.of(call, this.d.room).unhold();
    const view = this.toView(t);
    t.settle();
    return view;
  }

  private async fail(t: Transfer, reason: string): Promise<void> {
    if (this.active.get(t.call.id) !== t) return;
    this.move(t, TE.Fail);
    t.reason = reason;
    this.stats.failed++;
    t.targetLeg?.hangup();
    const call = t.call;
    this.d.log.info({ call: call.id, reason }, 'transfer failed');
    if (t.from && !t.from.leg.isEnded) {
      // Back to the agent who asked.
      await CallRoom.of(call, this.d.room).unhold();
      t.settle();
      return;
    }
    // Nobody to go back to: the caller waits in their queue again rather than being cut off.
    const q = this.d.acdBridge.requestOf(call)?.queue;
    if (q && !call.isEnded) {
      await this.toQueue(t, q, true);
      return;
    }
    t.settle();
  }

  /** Back into a queue, ahead of new callers, with the IVR path kept. */
  private async toQueue(t: Transfer, queue: string, afterFailure = false): Promise<void> {
    const call = t.call;
    const prev = this.d.acdBridge.requestOf(call);
    const room = CallRoom.of(call, this.d.room);
    await room.unhold();
    // Leave the room: the queue plays its own music and the next agent is bridged as usual.
    call.agent = null;
    if (t.from) await legGone(t.from.leg);
    if (call.isEnded) return t.settle();
    if (!afterFailure) {
      this.move(t, TE.Complete);
      this.stats.completed++;
    }
    const path = [...(prev?.ivrPath ?? call.ivrPath), `transfer:queue:${queue}`];
    call.ivrPath = path;
    const outcome = this.d.acdBridge.enqueue(call, room.consumerMedia, {
      queue,
      priority: 9,
      skills: prev?.skills ?? [],
      ivrPath: path,
      vars: prev?.vars ?? {},
      language: prev?.language ?? 'zh',
    });
    t.settle();
    // The new agent (if any) becomes call.agent in the bridge; keep the IVR waiting until then.
    call.handover = outcome.then(() => {
      call.handover = null;
    });
  }

  // ---- REFER from SIP phones

  private referFailed(r: ReferRequest, err: unknown): void {
    const status = err instanceof CallControlError ? (err.status === 404 ? 404 : 503) : 500;
    this.d.log.info({ err: err instanceof Error ? err.message : String(err) }, 'REFER could not be carried out');
    r.notify(status, status === 404 ? 'Not Found' : status === 503 ? 'Service Unavailable' : 'Server Error');
  }

  private async onRefer(call: Call, leg: SipLeg, r: ReferRequest): Promise<void> {
    this.stats.refers++;
    if (call.isEnded) return r.notify(481, 'Call Does Not Exist');
    if (r.replaces) return this.attended(call, leg, r);
    if (!r.user) return r.notify(400, 'Bad Request');
    if (busyCalls.has(call)) return r.notify(491, 'Request Pending');
    // The transferor is the agent side when an agent's phone refers; a consumer phone may not transfer.
    if (leg === call.inbound && call.caller.kind === 'trunk') return r.notify(603, 'Decline');
    const from = call.agent?.leg === leg ? call.agent : { id: null, leg: leg as UacLeg };
    const target: TransferTarget = { kind: 'number', value: r.user };
    this.d.audit?.(`sip:${from.id ?? 'phone'}`, 'transfer_refer', call.id, { target: r.user });
    if (leg === call.inbound) {
      // A seat that called in refers its own caller-side leg: nothing to hand over to.
      return r.notify(501, 'Not Implemented');
    }
    // Blind transfer: the transferee's fate is ours now; the transferor is released (§2.4.5 sipfrag).
    await this.start(call, from, target, 'cold', () => r.notify(200, 'OK'));
  }

  /**
   * RFC 3891 via REFER: the phone holds call X (our leg `leg`) and call Y (dialog named by Replaces);
   * X's consumer meets Y's other party, both of the phone's legs end.
   */
  private async attended(call: Call, leg: SipLeg, r: ReferRequest): Promise<void> {
    const rep = r.replaces!;
    let other: { call: Call; leg: SipLeg } | null = null;
    for (const c of this.d.calls.calls.values()) {
      for (const l of c.legs) {
        const id = l.dialog?.id;
        if (!id || id.callId !== rep.callId) continue;
        const same =
          (id.localTag === rep.toTag && id.remoteTag === rep.fromTag) ||
          (id.localTag === rep.fromTag && id.remoteTag === rep.toTag);
        if (same) other = { call: c, leg: l };
      }
    }
    if (!other || other.call === call) return r.notify(481, 'Call/Transaction Does Not Exist');
    const y = other.call;
    const peer = [...y.outbound].find((l) => l !== other.leg && l.isUp);
    if (!peer || other.leg !== y.inbound) return r.notify(501, 'Not Implemented');
    if (busyCalls.has(call)) return r.notify(491, 'Request Pending');
    // Y's far party moves into X; ending Y must not hang it up.
    y.outbound.delete(peer);
    call.outbound.add(peer);
    y.hangupBy ??= 'caller';
    const room = CallRoom.of(call, this.d.room);
    await room.takeOver();
    const from = call.agent?.leg === leg ? call.agent : null;
    const peerExt = /^sips?:([^@;]+)@/.exec((peer as UacLeg).target ?? '')?.[1] ?? null;
    const agentId = peerExt ? this.d.acd.agentAtSeat(peerExt) : null;
    await room.add({ role: 'agent', leg: peer, agentId });
    call.agent = { id: agentId, leg: peer as UacLeg };
    await room.remove(leg);
    // §2.4.5: the final NOTIFY goes out on the REFER's dialog while it still exists; the transferor
    // waits for it (JsSIP's 'accepted') and a BYE first would leave it with no outcome.
    r.notify(200, 'OK');
    leg.hangup();
    other.leg.hangup();
    this.stats.completed++;
    if (!agentId) {
      // Not an agent (a seat-to-seat call): nobody's ACD hand-over ends the call when this party hangs up.
      peer.once('ended', () => {
        if (call.isEnded || call.agent?.leg !== peer) return;
        call.hangupBy ??= 'callee';
        call.inbound.hangup();
      });
    }
    if (agentId) {
      await legGone(leg);
      if (from?.id !== agentId && !peer.isEnded) this.d.acdBridge.attachAgent(call, agentId, peer as UacLeg);
    }
    this.d.log.info({ call: call.id }, 'attended transfer (REFER with Replaces) completed');
  }
}
