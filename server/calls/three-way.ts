/**
 * Three-way calls with a merchant station (维权站, issue 7): the consumer is held (notice, then music)
 * while the station rings and the agent consults it privately; join puts all three in the call's
 * conference; the agent may leave (consumer and merchant keep talking, still recorded) and rejoin.
 */
import { nextState, type TransitionTable } from '../util/fsm.js';
import { CallEvent, CallState, type Call } from './call.js';
import { CallRoom } from './call-room.js';
import type { UacLeg } from './sip-leg.js';
import {
  authorize,
  busyCalls,
  CallControlError,
  findCall,
  type CallControlDeps,
  type ControlActor,
} from './transfer.js';

export interface Station {
  id: string;
  name: string;
  extension?: string;
  externalNumber?: string;
}

/** The merchant directory (someone else's); the default treats the id as a station's extension. */
export interface StationResolver {
  resolve(id: string): Station | null;
}

export enum ThreeWayState {
  Ringing = 'ringing',
  Consulting = 'consulting',
  Conference = 'conference',
  AgentLeft = 'agent_left',
  TwoParty = 'two_party',
  Ended = 'ended',
  Failed = 'failed',
}
export enum ThreeWayEvent {
  StationAnswer = 'station_answer',
  StationFail = 'station_fail',
  Join = 'join',
  AgentLeave = 'agent_leave',
  AgentRejoin = 'agent_rejoin',
  StationGone = 'station_gone',
  End = 'end',
}
const S = ThreeWayState;
const E = ThreeWayEvent;
export const THREE_WAY_TABLE: TransitionTable<ThreeWayState, ThreeWayEvent> = {
  [S.Ringing]: {
    [E.StationAnswer]: S.Consulting,
    [E.StationFail]: S.Failed,
    [E.AgentLeave]: S.Ringing,
    [E.End]: S.Ended,
  },
  [S.Consulting]: {
    [E.Join]: S.Conference,
    [E.StationGone]: S.TwoParty,
    [E.AgentLeave]: S.AgentLeft,
    [E.End]: S.Ended,
  },
  [S.Conference]: { [E.AgentLeave]: S.AgentLeft, [E.StationGone]: S.TwoParty, [E.End]: S.Ended },
  [S.AgentLeft]: { [E.AgentRejoin]: S.Conference, [E.StationGone]: S.Ended, [E.End]: S.Ended },
  [S.TwoParty]: { [E.End]: S.Ended },
  [S.Ended]: {},
  [S.Failed]: {},
};

export interface ConferencePayload {
  callId: string;
  state: ThreeWayState;
  parties: Array<{ role: 'consumer' | 'agent' | 'station'; name?: string; muted?: boolean }>;
}

export interface ThreeWayDeps extends CallControlDeps {
  stations: StationResolver;
  /** THREE_WAY_AGENT_HANGUP: the agent hangs up while the station rings → consumer back to the queue, or kept for the station. */
  agentHangup: 'queue' | 'keep';
  /** call:conference to the agent (by 工号, null when none) and the leads. */
  publish?(agentId: string | null, p: ConferencePayload): void;
  /** The station did not answer or was busy: a note for the case. */
  onStationFailed?(call: Call, station: Station, reason: string): void;
  ringTimeoutMs?: number;
}

interface Session {
  call: Call;
  station: Station;
  state: ThreeWayState;
  stationLeg: UacLeg | null;
  agentId: string | null;
  abort: AbortController;
  settle: () => void;
}

const STATION_FAILURE: Record<string, string> = {
  busy: '忙线',
  'no-answer': '无人接听',
  unavailable: '未登记在线',
  failed: '呼叫失败',
};

/** The case note for a station that did not join (issue 7): who, why, and that the call went on with two. */
export function stationFailedNote(station: Station, reason: string): string {
  return `三方通话未建立：${station.name}${STATION_FAILURE[reason] ?? `未接通（${reason}）`}，已恢复为坐席与消费者双方通话。`;
}

export const defaultStationResolver = (isRegistered: (ext: string) => boolean): StationResolver => ({
  resolve: (id) => (/^[0-9]{2,15}$/.test(id) && isRegistered(id) ? { id, name: `维权站 ${id}`, extension: id } : null),
});

export class ThreeWayService {
  private readonly sessions = new Map<string, Session>();
  readonly stats = { started: 0, joined: 0, stationFailed: 0 };

  constructor(private readonly d: ThreeWayDeps) {}

  state(callId: string): ThreeWayState | null {
    return this.sessions.get(callId)?.state ?? null;
  }

  private room(call: Call): CallRoom {
    return CallRoom.of(call, this.d.room);
  }

  private move(s: Session, e: ThreeWayEvent): void {
    s.state = nextState('three-way', THREE_WAY_TABLE, s.state, e);
    this.publish(s);
  }

  private publish(s: Session): void {
    this.d.publish?.(s.agentId, { callId: s.call.id, state: s.state, parties: this.room(s.call).view() });
  }

  private session(callId: string, actor: ControlActor, states: ThreeWayState[]): Session {
    const call = findCall(this.d.calls, callId);
    const s = this.sessions.get(callId);
    // Lets an agent who left still act on the call they set up.
    if (!(s && actor.role === 'agent' && actor.agentId === s.agentId)) authorize(call, actor);
    if (!s || !states.includes(s.state)) throw new CallControlError(409, 'wrong_state', '当前三方通话状态不允许该操作');
    return s;
  }

  async start(callId: string, actor: ControlActor, stationId: string): Promise<ConferencePayload> {
    const call = findCall(this.d.calls, callId);
    authorize(call, actor);
    if (call.state !== CallState.Connected || !call.agent || call.agent.leg.isEnded)
      throw new CallControlError(409, 'wrong_state', '通话未与坐席接通');
    if (busyCalls.has(call)) throw new CallControlError(409, 'busy', '该通话正在转接或三方通话中');
    const station = this.d.stations.resolve(stationId);
    if (!station) throw new CallControlError(404, 'no_station', `维权站 ${stationId} 不存在`);
    if (!station.extension || !this.d.calls.isRegistered(station.extension))
      throw new CallControlError(409, 'station_offline', `维权站 ${station.name} 不在线`);
    let settle!: () => void;
    const s: Session = {
      call,
      station,
      state: S.Ringing,
      stationLeg: null,
      agentId: call.agent.id,
      abort: new AbortController(),
      settle: () => undefined,
    };
    call.handover = new Promise<void>((r) => (settle = r));
    s.settle = () => {
      busyCalls.delete(call);
      call.handover = null;
      settle();
    };
    busyCalls.set(call, 'three-way');
    this.sessions.set(call.id, s);
    this.stats.started++;
    this.d.audit?.(actor.username, 'three_way', call.id, { station: station.id });
    call.onEnd(() => {
      s.abort.abort();
      if (s.state !== S.Ended && s.state !== S.Failed) {
        s.state = S.Ended;
        this.publish(s);
      }
      s.settle();
      this.sessions.delete(call.id);
    });
    const room = this.room(call);
    await room.takeOver();
    await room.hold();
    const agentLeg = call.agent.leg;
    agentLeg.once('ended', () => this.agentGone(s, agentLeg));
    this.publish(s);
    void this.ringStation(s).catch((err: unknown) => {
      this.d.log.warn({ err, call: call.id }, 'ringing the station failed');
      void this.stationFailed(s, 'failed');
    });
    return this.payload(s);
  }

  private payload(s: Session): ConferencePayload {
    return { callId: s.call.id, state: s.state, parties: this.room(s.call).view() };
  }

  private async ringStation(s: Session): Promise<void> {
    const call = s.call;
    const r = await this.d.calls.ringDevice(call, s.station.extension!, {
      signal: s.abort.signal,
      ringTimeoutMs: this.d.ringTimeoutMs,
      displayName: '12315三方通话',
      // The merchant sees the hotline, never the consumer's number.
      fromUser: '12315',
      extraHeaders: [['X-Call-Id', call.id]],
    });
    if (call.isEnded || s.state !== S.Ringing) {
      r.leg?.hangup();
      return;
    }
    if (r.result !== 'answered' || !r.leg) return this.stationFailed(s, r.result);
    s.stationLeg = r.leg;
    await this.room(call).add({ role: 'station', leg: r.leg, name: s.station.name });
    r.leg.once('ended', () => this.stationGone(s));
    if (!call.agent || call.agent.leg.isEnded) {
      // The agent hung up while it rang (THREE_WAY_AGENT_HANGUP=keep): consumer and merchant talk.
      this.move(s, E.StationAnswer);
      await this.room(call).unhold();
      call.agent = { id: null, leg: r.leg };
      this.move(s, E.AgentLeave);
      if (call.state === CallState.Connected) call.move(CallEvent.Conference);
      s.settle();
      return;
    }
    this.move(s, E.StationAnswer);
  }

  private async stationFailed(s: Session, reason: string): Promise<void> {
    if (s.state !== S.Ringing) return;
    this.stats.stationFailed++;
    this.move(s, E.StationFail);
    this.d.onStationFailed?.(s.call, s.station, reason);
    await this.room(s.call).unhold();
    this.publish({ ...s, state: S.TwoParty });
    this.sessions.delete(s.call.id);
    s.settle();
  }

  private stationGone(s: Session): void {
    if (s.call.isEnded || s.state === S.Ended || s.state === S.TwoParty) return;
    if (s.state === S.AgentLeft) {
      // Nobody is left for the consumer: the IVR's survey/hangup takes over (call.agent was the station).
      this.move(s, E.StationGone);
      s.settle();
      return;
    }
    void this.room(s.call).unhold();
    this.move(s, E.StationGone);
    if (s.call.state === CallState.Conference) s.call.move(CallEvent.Connect);
    s.settle();
  }

  private agentGone(s: Session, leg: UacLeg): void {
    if (s.call.isEnded || s.call.agent?.leg !== leg) return;
    if (s.state === S.Ringing) {
      if (this.d.agentHangup === 'keep') return; // ringStation hands the consumer to the station
      s.abort.abort();
      s.state = S.Failed;
      this.publish(s);
      this.sessions.delete(s.call.id);
      void this.backToQueue(s);
      return;
    }
    if (s.state === S.Consulting || s.state === S.Conference) {
      void this.leaveNow(s).catch((err: unknown) => this.d.log.warn({ err }, 'three-way leave failed'));
    }
  }

  private async backToQueue(s: Session): Promise<void> {
    const call = s.call;
    const room = this.room(call);
    await room.unhold();
    call.agent = null;
    const prev = this.d.acdBridge.requestOf(call);
    s.settle();
    if (!prev || call.isEnded) return;
    call.ivrPath = [...prev.ivrPath, 'three-way:agent-gone'];
    call.handover = this.d.acdBridge
      .enqueue(call, room.consumerMedia, { ...prev, priority: 9, ivrPath: call.ivrPath })
      .then(() => {
        call.handover = null;
      });
  }

  async join(callId: string, actor: ControlActor): Promise<ConferencePayload> {
    const s = this.session(callId, actor, [S.Consulting]);
    await this.room(s.call).unhold();
    this.move(s, E.Join);
    if (s.call.state === CallState.Connected) s.call.move(CallEvent.Conference);
    this.stats.joined++;
    return this.payload(s);
  }

  async leave(callId: string, actor: ControlActor): Promise<ConferencePayload> {
    const s = this.session(callId, actor, [S.Consulting, S.Conference]);
    await this.leaveNow(s);
    return this.payload(s);
  }

  private async leaveNow(s: Session): Promise<void> {
    const call = s.call;
    const agentLeg = call.agent?.leg ?? null;
    const room = this.room(call);
    await room.unhold();
    // The station now serves the consumer: the IVR waits for its leg before the survey.
    call.agent = { id: null, leg: s.stationLeg! };
    if (call.state === CallState.Connected) call.move(CallEvent.Conference);
    if (agentLeg && !agentLeg.isEnded) {
      await room.remove(agentLeg);
      agentLeg.hangup();
    }
    if (s.state !== S.AgentLeft) this.move(s, E.AgentLeave);
  }

  async rejoin(callId: string, actor: ControlActor): Promise<ConferencePayload> {
    const s = this.session(callId, actor, [S.AgentLeft]);
    const agentId = actor.role === 'agent' ? actor.agentId : (s.agentId ?? actor.agentId);
    const seat = agentId ? this.d.acd.agent(agentId)?.seat : null;
    if (!agentId || !seat) throw new CallControlError(409, 'no_seat', '坐席未签入分机，无法回到通话');
    const r = await this.d.calls.ringDevice(s.call, seat, { displayName: '12315三方通话', fromUser: '12315' });
    if (r.result !== 'answered' || !r.leg) throw new CallControlError(409, 'no_answer', '分机未接听');
    if (s.state !== S.AgentLeft || s.call.isEnded) {
      r.leg.hangup();
      throw new CallControlError(409, 'wrong_state', '通话已变化');
    }
    await this.room(s.call).add({ role: 'agent', leg: r.leg, agentId });
    s.agentId = agentId;
    s.call.agent = { id: agentId, leg: r.leg };
    this.d.acdBridge.attachAgent(s.call, agentId, r.leg);
    const leg = r.leg;
    leg.once('ended', () => this.agentGone(s, leg));
    this.move(s, E.AgentRejoin);
    return this.payload(s);
  }

  /** Ends the call for everyone. */
  async end(callId: string, actor: ControlActor): Promise<ConferencePayload> {
    const call = findCall(this.d.calls, callId);
    const s = this.sessions.get(callId);
    if (!(s && actor.role === 'agent' && actor.agentId === s.agentId)) authorize(call, actor);
    const payload = s ? { ...this.payload(s), state: S.Ended } : { callId, state: S.Ended, parties: [] };
    call.hangupBy ??= 'callee';
    call.inbound.hangup();
    return payload;
  }
}
