import type { Logger } from 'pino';
import type { Directory } from '../directory/directory.js';
import type { WebRole } from '../directory/web-users.js';
import type { Database } from '../storage/database.js';
import { createLogger } from '../util/log.js';
import type { Acd, AgentView, QueueStats } from './acd.js';
import { AgentState, IllegalAgentTransition } from './agent-state.js';
import { DEFAULT_QUEUES, STRATEGIES, type QueueConfig } from './queue.js';
import { AcdStore, type AgentRecord, type AuditRecord, type Shift } from './store.js';

/**
 * The ACD as the API sees it: SQLite-backed seats, skills, memberships, shifts and queues applied live
 * to the in-memory Acd, with the permission-relevant rules (own agent only, leads' actions audited)
 * in one place, so REST and socket.io behave the same.
 */

export class AcdError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AcdError';
  }
}

export interface Actor {
  id: number;
  username: string;
  role: WebRole;
  displayName: string;
}

export interface AcdServiceDeps {
  db: Database;
  directory: Directory;
  acd: Acd;
  /** Queues from configuration; inserted when missing, never overwriting a lead's changes. */
  queues?: readonly QueueConfig[];
  /** Queues (and membership priority) an agent gets when first seen. Default: 投诉, 举报, 咨询 at priority 1. */
  defaultMemberships?: Record<string, number>;
  wallNow?: () => number;
  log?: Logger;
}

const STATE_LABEL: Record<AgentState, string> = {
  [AgentState.Offline]: '未签入',
  [AgentState.Ready]: '就绪',
  [AgentState.NotReady]: '未就绪',
  [AgentState.Reserved]: '振铃中',
  [AgentState.OnCall]: '通话中',
  [AgentState.WrapUp]: '话后处理',
};

/** Web roles that take calls (a lead may log in at a seat too). */
const CALL_TAKING: ReadonlySet<WebRole> = new Set(['agent', 'lead']);

export class AcdService {
  readonly store: AcdStore;
  readonly acd: Acd;
  private readonly log: Logger;
  private readonly directory: Directory;
  private readonly defaultMemberships: Record<string, number>;

  constructor(d: AcdServiceDeps) {
    this.acd = d.acd;
    this.directory = d.directory;
    this.log = d.log ?? createLogger('acd');
    this.store = new AcdStore(d.db, d.wallNow);
    this.store.seedQueues(d.queues ?? DEFAULT_QUEUES);
    this.store.clearSeatLogins();
    this.defaultMemberships = d.defaultMemberships ?? { complaint: 1, report: 1, consultation: 1 };
    for (const q of this.store.queues()) this.acd.upsertQueue(q);
    for (const a of this.store.agents()) if (a.enabled) this.acd.upsertAgent(profile(a));
  }

  // ------------------------------------------------------------ the agent's own actions

  /** The agent (工号) of a web user; created on first use for call-taking roles. */
  agentFor(user: Actor): string {
    if (!CALL_TAKING.has(user.role)) throw new AcdError(403, 'not_an_agent', '该账号不是座席');
    const rec = this.store.agentByUser(user.id);
    if (rec) {
      if (!rec.enabled) throw new AcdError(403, 'agent_disabled', '座席已停用，请联系班长');
      return rec.workNo;
    }
    if (this.store.agent(user.username)) {
      throw new AcdError(409, 'work_no_taken', `工号 ${user.username} 已被其他账号使用，请联系管理员`);
    }
    const queues = Object.fromEntries(
      Object.entries(this.defaultMemberships).filter(([q]) => this.acd.queueConfig(q) !== null),
    );
    const created = this.store.createAgent({
      workNo: user.username,
      webUserId: user.id,
      displayName: user.displayName || user.username,
      skills: {},
      queues,
    });
    this.acd.upsertAgent(profile(created));
    this.log.info({ agent: created.workNo }, 'agent created for web user');
    return created.workNo;
  }

  me(user: Actor): AgentView {
    return this.acd.agent(this.agentFor(user))!;
  }

  login(user: Actor, seat: string): AgentView {
    const id = this.agentFor(user);
    const dev = this.directory.devices.get(seat);
    if (!dev || dev.kind !== 'seat' || !dev.enabled)
      throw new AcdError(400, 'bad_seat', `分机 ${seat} 不是可用的座席分机`);
    const other = this.acd.agentAtSeat(seat);
    if (other !== null && other !== id) throw new AcdError(409, 'seat_taken', `分机 ${seat} 已被工号 ${other} 占用`);
    const v = this.guard(() => this.acd.login(id, seat));
    this.store.seatLogin(seat, id);
    return v;
  }

  logout(user: Actor): AgentView {
    const id = this.agentFor(user);
    const v = this.guard(() => this.acd.logout(id));
    this.store.seatLogout(id);
    return v;
  }

  setState(user: Actor, state: 'ready' | 'not_ready', reason?: string): AgentView {
    const id = this.agentFor(user);
    if (state === 'not_ready' && !reason) throw new AcdError(400, 'reason_required', '请选择未就绪原因');
    return this.guard(() => (state === 'ready' ? this.acd.setReady(id) : this.acd.setNotReady(id, reason!)));
  }

  extendWrapUp(user: Actor, seconds: number): AgentView {
    const id = this.agentFor(user);
    return this.guard(() => this.acd.extendWrapUp(id, seconds * 1000));
  }

  // ------------------------------------------------------------ leads (every action audited)

  agents(): Array<AgentView & { enabled: boolean; webUserId: number | null; shifts: Shift[] }> {
    const live = new Map(this.acd.agentList().map((a) => [a.agentId, a]));
    return this.store.agents().map((r) => ({
      ...(live.get(r.workNo) ?? offlineView(r)),
      enabled: r.enabled,
      webUserId: r.webUserId,
      shifts: this.store.shifts(r.workNo),
    }));
  }

  /** A lead registers an agent with an explicit 工号, optionally linked to a web user (agent or lead). */
  createAgent(
    actor: Actor,
    a: {
      workNo: string;
      username?: string;
      displayName?: string;
      skills?: Record<string, number>;
      queues?: Record<string, number>;
    },
  ): AgentRecord {
    if (this.store.agent(a.workNo)) throw new AcdError(409, 'work_no_taken', `工号 ${a.workNo} 已存在`);
    let webUserId: number | null = null;
    if (a.username) {
      const u = this.directory.webUsers.get(a.username);
      if (!u || !CALL_TAKING.has(u.role))
        throw new AcdError(400, 'bad_user', `账号 ${a.username} 不存在或不是座席/班长`);
      if (this.store.agentByUser(u.id)) throw new AcdError(409, 'user_linked', `账号 ${a.username} 已绑定其他工号`);
      webUserId = u.id;
    }
    const queues = a.queues ?? this.defaultMemberships;
    for (const q of Object.keys(queues)) {
      if (!this.acd.queueConfig(q)) throw new AcdError(400, 'unknown_queue', `没有队列 ${q}`);
    }
    const rec = this.store.createAgent({
      workNo: a.workNo,
      webUserId,
      displayName: a.displayName ?? a.username ?? a.workNo,
      skills: a.skills ?? {},
      queues,
    });
    this.acd.upsertAgent(profile(rec));
    this.store.audit(actor.username, 'create_agent', a.workNo, { username: a.username ?? null });
    return rec;
  }

  setSkills(actor: Actor, workNo: string, skills: Record<string, number>): AgentRecord {
    const rec = this.mustAgent(workNo);
    this.store.setSkills(workNo, skills);
    this.store.audit(actor.username, 'set_skills', workNo, { before: rec.skills, after: skills });
    return this.refresh(workNo);
  }

  setQueues(actor: Actor, workNo: string, queues: Record<string, number>): AgentRecord {
    const rec = this.mustAgent(workNo);
    for (const q of Object.keys(queues)) {
      if (!this.acd.queueConfig(q)) throw new AcdError(400, 'unknown_queue', `没有队列 ${q}`);
    }
    this.store.setQueues(workNo, queues);
    this.store.audit(actor.username, 'set_queues', workNo, { before: rec.queues, after: queues });
    return this.refresh(workNo);
  }

  forceState(actor: Actor, workNo: string, state: 'ready' | 'not_ready' | 'offline', reason?: string): AgentView {
    this.mustAgent(workNo);
    const target =
      state === 'ready' ? AgentState.Ready : state === 'not_ready' ? AgentState.NotReady : AgentState.Offline;
    const before = this.acd.agent(workNo)?.state ?? AgentState.Offline;
    const v = this.guard(() => this.acd.forceState(workNo, target, actor.username, reason));
    if (target === AgentState.Offline) this.store.seatLogout(workNo);
    this.store.audit(actor.username, state === 'offline' ? 'force_logout' : 'force_state', workNo, {
      from: before,
      to: v.state,
      reason: reason ?? null,
    });
    return v;
  }

  addShift(actor: Actor, s: Omit<Shift, 'id'>): Shift {
    this.mustAgent(s.workNo);
    if (!(Date.parse(s.endsAt) > Date.parse(s.startsAt)))
      throw new AcdError(400, 'bad_shift', '班次结束时间必须晚于开始时间');
    const shift = this.store.addShift(s);
    this.store.audit(actor.username, 'add_shift', s.workNo, { ...shift });
    return shift;
  }

  removeShift(actor: Actor, id: number): void {
    if (!this.store.removeShift(id)) throw new AcdError(404, 'no_shift', '班次不存在');
    this.store.audit(actor.username, 'remove_shift', String(id));
  }

  updateQueue(actor: Actor, id: string, patch: Partial<Omit<QueueConfig, 'id'>>): QueueConfig {
    const cur = this.acd.queueConfig(id);
    if (!cur) throw new AcdError(404, 'unknown_queue', `没有队列 ${id}`);
    if (patch.strategy && !STRATEGIES.includes(patch.strategy))
      throw new AcdError(400, 'bad_strategy', '未知的分配策略');
    if (
      patch.overflow?.kind === 'queue' &&
      (patch.overflow.queueId === id || !this.acd.queueConfig(patch.overflow.queueId))
    ) {
      throw new AcdError(400, 'bad_overflow', '溢出目标队列无效');
    }
    const next: QueueConfig = { ...cur, ...patch, id };
    this.store.saveQueue(next);
    this.acd.upsertQueue(next);
    this.store.audit(actor.username, 'update_queue', id, { patch });
    return next;
  }

  queues(): Array<QueueStats & { config: QueueConfig }> {
    return this.acd.stats().map((s) => ({ ...s, config: { ...this.acd.queueConfig(s.queueId)! } }));
  }

  auditLog(limit?: number): AuditRecord[] {
    return this.store.auditLog(limit);
  }

  stateLabel(s: AgentState): string {
    return STATE_LABEL[s];
  }

  private refresh(workNo: string): AgentRecord {
    const rec = this.store.agent(workNo)!;
    if (rec.enabled) this.acd.upsertAgent(profile(rec));
    return rec;
  }

  private mustAgent(workNo: string): AgentRecord {
    const rec = this.store.agent(workNo);
    if (!rec) throw new AcdError(404, 'unknown_agent', `没有工号 ${workNo}`);
    if (!this.acd.agent(workNo) && rec.enabled) this.acd.upsertAgent(profile(rec));
    return rec;
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof IllegalAgentTransition) {
        throw new AcdError(409, 'illegal_state', `当前状态“${STATE_LABEL[err.state]}”下不能执行此操作`);
      }
      throw err;
    }
  }
}

function profile(a: AgentRecord) {
  return { id: a.workNo, displayName: a.displayName, skills: a.skills, queues: a.queues };
}

function offlineView(r: AgentRecord): AgentView {
  return {
    agentId: r.workNo,
    displayName: r.displayName,
    state: AgentState.Offline,
    reason: null,
    since: 0,
    callId: null,
    pendingNotReady: null,
    wrapUpUntil: null,
    seat: null,
    queues: r.queues,
    skills: r.skills,
    callsHandled: 0,
    callQueueId: null,
  };
}
