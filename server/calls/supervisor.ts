/**
 * Supervisor tools (班长, issue 8): ring the lead's seat and put it in the call's conference as a
 * listener (hears both, heard by nobody), a whisperer (heard by the agent only) or a full member
 * (barge). Every start and stop is audited and the agent is told (call:coaching).
 */
import { nextState, type TransitionTable } from '../util/fsm.js';
import type { Call } from './call.js';
import { CallRoom } from './call-room.js';
import type { MediaEndpoint } from '../media/engine/api.js';
import type { UacLeg } from './sip-leg.js';
import { CallControlError, findCall, type CallControlDeps, type ControlActor } from './transfer.js';

export type MonitorMode = 'listen' | 'whisper' | 'barge';

export enum MonitorState {
  Ringing = 'ringing',
  Active = 'active',
  Stopped = 'stopped',
}
export enum MonitorEvent {
  Answer = 'answer',
  Stop = 'stop',
}
export const MONITOR_TABLE: TransitionTable<MonitorState, MonitorEvent> = {
  [MonitorState.Ringing]: { [MonitorEvent.Answer]: MonitorState.Active, [MonitorEvent.Stop]: MonitorState.Stopped },
  [MonitorState.Active]: { [MonitorEvent.Stop]: MonitorState.Stopped },
  [MonitorState.Stopped]: {},
};

export interface CoachingPayload {
  callId: string;
  mode: MonitorMode | 'stopped';
}

export interface SupervisorDeps extends CallControlDeps {
  /** call:coaching to the agent on the call. */
  coach?(agentId: string | null, p: CoachingPayload): void;
}

interface Monitor {
  call: Call;
  lead: string;
  mode: MonitorMode;
  state: MonitorState;
  leg: UacLeg | null;
  abort: AbortController;
}

export interface MonitorView {
  callId: string;
  mode: MonitorMode;
  state: MonitorState;
}

export class SupervisorService {
  /** callId → monitors on it (one per lead). */
  private readonly monitors = new Map<string, Monitor[]>();

  constructor(private readonly d: SupervisorDeps) {}

  private requireLead(actor: ControlActor): void {
    if (actor.role !== 'lead' && actor.role !== 'admin') throw new CallControlError(403, 'lead_only', '仅班长可监听');
  }

  async monitor(callId: string, actor: ControlActor, mode: MonitorMode, seat?: string): Promise<MonitorView> {
    this.requireLead(actor);
    const call = findCall(this.d.calls, callId);
    const list = this.monitors.get(callId) ?? [];
    if (list.some((m) => m.lead === actor.username && m.state !== MonitorState.Stopped))
      throw new CallControlError(409, 'already', '您已在监听该通话');
    const agent = call.agent;
    if (!agent || agent.leg.isEnded) throw new CallControlError(409, 'wrong_state', '通话未与坐席接通');
    const ext = seat ?? (actor.agentId ? (this.d.acd.agent(actor.agentId)?.seat ?? null) : null);
    if (!ext) throw new CallControlError(400, 'no_seat', '请指定班长分机');
    if (!this.d.calls.isRegistered(ext)) throw new CallControlError(409, 'seat_offline', `分机 ${ext} 不在线`);
    const m: Monitor = {
      call,
      lead: actor.username,
      mode,
      state: MonitorState.Ringing,
      leg: null,
      abort: new AbortController(),
    };
    list.push(m);
    this.monitors.set(callId, list);
    call.onEnd(() => this.drop(m));
    this.d.audit?.(actor.username, `monitor_${mode}`, call.id, { seat: ext, agent: agent.id });
    const r = await this.d.calls.ringDevice(call, ext, {
      signal: m.abort.signal,
      displayName: mode === 'listen' ? '12315监听' : mode === 'whisper' ? '12315耳语' : '12315强插',
      fromUser: '12315',
      extraHeaders: [['X-Call-Id', call.id]],
    });
    if (r.result !== 'answered' || !r.leg || call.isEnded || m.state !== MonitorState.Ringing) {
      r.leg?.hangup();
      this.drop(m);
      throw new CallControlError(409, 'no_answer', '班长分机未接听');
    }
    m.leg = r.leg;
    const room = CallRoom.of(call, this.d.room);
    await room.takeOver();
    const agentMedia = call.agent?.leg.media as MediaEndpoint | undefined;
    await room.add(
      { role: 'supervisor', leg: r.leg, name: actor.username },
      {
        listenOnly: mode === 'listen',
        whisperTo: mode === 'whisper' && agentMedia ? agentMedia : null,
      },
    );
    r.leg.once('ended', () => this.stopped(m));
    m.state = nextState('monitor', MONITOR_TABLE, m.state, MonitorEvent.Answer);
    this.d.coach?.(call.agent?.id ?? null, { callId, mode });
    return { callId, mode, state: m.state };
  }

  async stop(callId: string, actor: ControlActor): Promise<MonitorView> {
    this.requireLead(actor);
    findCall(this.d.calls, callId);
    const m = (this.monitors.get(callId) ?? []).find(
      (x) => x.lead === actor.username && x.state !== MonitorState.Stopped,
    );
    if (!m) throw new CallControlError(409, 'not_monitoring', '您没有在监听该通话');
    this.d.audit?.(actor.username, 'monitor_stop', callId, { mode: m.mode });
    m.leg?.hangup();
    this.drop(m);
    return { callId, mode: m.mode, state: MonitorState.Stopped };
  }

  private stopped(m: Monitor): void {
    if (m.state === MonitorState.Stopped) return;
    this.drop(m);
  }

  private drop(m: Monitor): void {
    const was = m.state;
    if (was !== MonitorState.Stopped) m.state = nextState('monitor', MONITOR_TABLE, was, MonitorEvent.Stop);
    m.abort.abort();
    const list = (this.monitors.get(m.call.id) ?? []).filter((x) => x !== m);
    if (list.length) this.monitors.set(m.call.id, list);
    else this.monitors.delete(m.call.id);
    if (was === MonitorState.Active && !m.call.isEnded)
      this.d.coach?.(m.call.agent?.id ?? null, { callId: m.call.id, mode: 'stopped' });
  }
}
