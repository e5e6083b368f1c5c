/**
 * The desktop's actions: what a click or a shortcut does. Each one talks to the server (REST or a socket
 * request) or to JsSIP and lets the resulting events update the store; nothing here sets agent state
 * directly, because the server decides it.
 */
import { CallPhase } from '../store/call-machine.js';
import type { DesktopStore } from '../store/index.js';
import type { ShortcutAction } from './shortcuts.js';
import { api, ApiError, type LoginResult, type SipCredentials, type TransferMode, type TransferTarget } from './api.js';
import { Phone } from './phone.js';
import { Ringer } from './ring.js';
import { connectSocket, type SocketLink } from './socket.js';

const SEAT_KEY = 'hotline12315.desktop.seat';

export interface DesktopEnv {
  store: DesktopStore;
  audio: HTMLAudioElement;
  storage: Storage | null;
  /** ws(s)://host origin of this page. */
  wsOrigin: string;
  audioConstraints?: MediaTrackConstraints | boolean;
}

interface SavedSeat {
  seat: string;
  /** Only when the agent typed it (no credentials API); sessionStorage, gone with the tab. */
  password?: string;
}

export class DesktopController {
  readonly store: DesktopStore;
  readonly ringer = new Ringer();
  readonly phone: Phone;
  private link: SocketLink | null = null;
  private readonly unsubscribe: () => void;
  private ringSoon: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly env: DesktopEnv) {
    this.store = env.store;
    this.phone = new Phone(env.store, env.audio, env.audioConstraints);
    this.unsubscribe = this.store.subscribe((s, prev) => {
      if (s.phase === prev.phase) return;
      if (s.phase === CallPhase.Alerting) {
        // The tone starts in the next task: this listener runs before React's, and building the first
        // burst's WebAudio nodes would hold back the notice the agent sees.
        this.ringSoon ??= setTimeout(() => {
          this.ringSoon = null;
          if (this.s.phase === CallPhase.Alerting) this.ringer.start();
        }, 0);
      } else {
        this.cancelRingSoon();
        this.ringer.stop();
      }
    });
  }

  private get s() {
    return this.store.getState();
  }

  private cancelRingSoon(): void {
    if (this.ringSoon !== null) clearTimeout(this.ringSoon);
    this.ringSoon = null;
  }

  private fail(err: unknown): void {
    this.s.notify('error', err instanceof Error ? err.message : String(err));
  }

  /** After a reload: the token in sessionStorage resumes the session, and a seat still signed in re-registers. */
  resume(): void {
    if (this.s.token) this.connect();
  }

  async login(username: string, password: string): Promise<boolean> {
    this.ringer.unlock();
    try {
      const r = await api<LoginResult>('POST', '/api/auth/login', null, { username, password });
      this.s.loggedIn(r.token, r.user);
      this.s.clearNotice();
      this.connect();
      return true;
    } catch (err) {
      this.fail(err);
      return false;
    }
  }

  private connect(): void {
    this.link?.close();
    const token = this.s.token!;
    this.link = connectSocket(token, this.store, {
      onUnauthorized: () => {
        this.s.notify('error', '登录已过期，请重新登录');
        this.teardown();
        this.s.loggedOut();
      },
      onResynced: () => this.restorePhone(),
    });
  }

  /** Re-registers the seat the server says we are signed in to (after a reload or reconnect). */
  private restorePhone(): void {
    const seat = this.s.agent?.seat ?? null;
    if (seat === null || this.s.phoneSeat === seat) return;
    void this.startPhone(seat, this.savedSeat()?.seat === seat ? this.savedSeat()?.password : undefined);
  }

  private savedSeat(): SavedSeat | null {
    try {
      const raw = this.env.storage?.getItem(SEAT_KEY);
      return raw ? (JSON.parse(raw) as SavedSeat) : null;
    } catch {
      return null;
    }
  }

  lastSeat(): string {
    return this.savedSeat()?.seat ?? '';
  }

  /** The seat's SIP credentials: the server's API first, else the password the agent typed. */
  private async credentials(seat: string, typed?: string): Promise<SipCredentials | null> {
    try {
      const c = await api<SipCredentials>('GET', '/api/agents/me/sip-credentials', this.s.token);
      if (c.extension === seat) return c;
    } catch (err) {
      if (!(err instanceof ApiError) || (err.status !== 404 && err.status !== 501)) throw err;
    }
    return typed ? { extension: seat, realm: '', password: typed } : null;
  }

  private async startPhone(seat: string, typedPassword?: string): Promise<void> {
    try {
      const c = await this.credentials(seat, typedPassword);
      if (!c) {
        this.s.phoneFailed('缺少分机密码');
        return;
      }
      this.phone.start({
        wsUrl: `${this.env.wsOrigin}${c.wsPath ?? '/sip'}`,
        extension: c.extension,
        // JsSIP needs the realm only with an HA1; with a password it answers whatever realm challenges it.
        realm: c.realm || location.hostname,
        password: c.password,
        ha1: c.ha1,
        displayName: this.s.user?.displayName,
      });
    } catch (err) {
      this.fail(err);
    }
  }

  async signIn(seat: string, sipPassword?: string): Promise<void> {
    if (!this.link) return;
    try {
      const v = await this.link.request('agent:login', { seat });
      this.s.agentSynced(v);
      const saved: SavedSeat = { seat, ...(sipPassword ? { password: sipPassword } : {}) };
      this.env.storage?.setItem(SEAT_KEY, JSON.stringify(saved));
      await this.startPhone(seat, sipPassword);
    } catch (err) {
      this.fail(err);
    }
  }

  async signOut(): Promise<void> {
    if (!this.link) return;
    try {
      this.s.agentSynced(await this.link.request('agent:logout', {}));
    } catch (err) {
      this.fail(err);
    }
    this.phone.close();
  }

  async setReady(): Promise<void> {
    await this.stateRequest({ state: 'ready' });
  }

  async setNotReady(reason = this.s.notReadyReason): Promise<void> {
    await this.stateRequest({ state: 'not_ready', reason });
  }

  private async stateRequest(p: { state: 'ready' | 'not_ready'; reason?: string }): Promise<void> {
    if (!this.link) return;
    try {
      this.s.agentSynced(await this.link.request('agent:set_state', p));
    } catch (err) {
      this.fail(err);
    }
  }

  async toggleReady(): Promise<void> {
    if (this.s.agent?.state === 'ready') await this.setNotReady();
    else await this.setReady();
  }

  answer(): void {
    this.ringer.stop();
    this.s.answerRequested();
    if (this.s.phase === CallPhase.Answering && !this.phone.answer()) this.s.callFailed('answer_failed');
  }

  hangup(): void {
    this.phone.hangup();
  }

  toggleHold(): void {
    this.phone.setHold(this.s.phase !== CallPhase.Held);
  }

  toggleMute(): void {
    this.phone.setMute(!this.s.muted);
  }

  dtmf(digit: string): void {
    this.phone.dtmf(digit);
  }

  async transfer(target: TransferTarget, mode: TransferMode): Promise<boolean> {
    const callId = this.s.offer?.callId ?? this.s.agent?.callId;
    if (!callId) return false;
    this.s.transferStarted();
    try {
      await api('POST', `/api/calls/${encodeURIComponent(callId)}/transfer`, this.s.token, { target, mode });
      this.s.transferFinished(null);
      this.s.openPanel(null);
      return true;
    } catch (err) {
      const msg =
        err instanceof ApiError && err.status === 404 && err.code !== 'no_call'
          ? '转接接口尚未提供（POST /api/calls/{id}/transfer）'
          : (err as Error).message;
      this.s.transferFinished(msg);
      return false;
    }
  }

  async extendWrapUp(seconds = 30): Promise<void> {
    if (!this.link) return;
    try {
      this.s.agentSynced(await this.link.request('agent:wrap_up_extend', { seconds }));
    } catch (err) {
      this.fail(err);
    }
  }

  /** Ends wrap-up early: the disposition stays on screen for the case form; the server takes ready. */
  async finishWrapUp(): Promise<void> {
    await this.setReady();
    this.s.chooseDisposition(null);
  }

  async logout(): Promise<void> {
    if (this.s.agent && this.s.agent.state !== 'offline') await this.signOut();
    try {
      await api('POST', '/api/auth/logout', this.s.token);
    } catch {
      // The session may already be gone; logging out locally is what matters.
    }
    this.teardown();
    this.s.loggedOut();
  }

  run(a: ShortcutAction): void {
    switch (a.type) {
      case 'answer':
        return this.answer();
      case 'hangup':
        return this.hangup();
      case 'toggle_hold':
        return this.toggleHold();
      case 'toggle_mute':
        return this.toggleMute();
      case 'toggle_ready':
        void this.toggleReady();
        return;
      case 'open_panel':
        return this.s.openPanel(this.s.panel === a.panel ? null : a.panel);
      case 'close_panel':
        return this.s.openPanel(null);
      case 'dtmf':
        return this.dtmf(a.digit);
    }
  }

  private teardown(): void {
    this.link?.close();
    this.link = null;
    this.phone.close();
    this.cancelRingSoon();
    this.ringer.stop();
  }

  close(): void {
    this.unsubscribe();
    this.teardown();
    this.ringer.close();
  }
}
