/**
 * The seat's softphone: one JsSIP UA registered over ws(s)://<this host>/sip. The server INVITEs the seat
 * (WebRTC offer) when it offers a call; that session's events feed the call slice. JsSIP reconnects its
 * WebSocket by itself (connection_recovery_*) and re-registers on every reconnect.
 */
import * as JsSIP from 'jssip';
import type { RTCSession } from 'jssip/lib/RTCSession';
import type { DesktopStore } from '../store/index.js';

export interface PhoneConfig {
  wsUrl: string;
  extension: string;
  realm: string;
  password?: string;
  ha1?: string;
  displayName?: string;
}

const RAW_AUDIO = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

export class Phone {
  private ua: JsSIP.UA | null = null;
  private session: RTCSession | null = null;
  private closed = false;

  constructor(
    private readonly store: DesktopStore,
    private readonly audio: HTMLAudioElement,
    /** Test builds turn echo cancellation etc. off so a tone arrives at its true level. */
    private readonly audioConstraints: MediaTrackConstraints | boolean = RAW_AUDIO,
  ) {}

  start(c: PhoneConfig): void {
    this.stopUa();
    this.closed = false;
    const s = () => this.store.getState();
    const socket = new JsSIP.WebSocketInterface(c.wsUrl);
    const ua = new JsSIP.UA({
      sockets: [socket],
      uri: `sip:${c.extension}@${c.realm}`,
      authorization_user: c.extension,
      realm: c.realm,
      ...(c.password ? { password: c.password } : { ha1: c.ha1 }),
      display_name: c.displayName,
      register: true,
      register_expires: 120,
      session_timers: false,
      connection_recovery_min_interval: 1,
      connection_recovery_max_interval: 10,
      user_agent: 'hotline12315-desktop',
    });
    this.ua = ua;
    s().phoneStarting(c.extension);
    ua.on('registered', () => s().phoneRegistered());
    ua.on('unregistered', (e: { cause?: unknown }) => s().phoneUnregistered(e?.cause ? String(e.cause) : null));
    ua.on('registrationFailed', (e) => s().phoneFailed(String(e.cause ?? 'failed')));
    ua.on('disconnected', () => {
      if (!this.closed) s().phoneUnregistered('disconnected');
    });
    ua.on('newRTCSession', (e: { originator: string; session: unknown }) => {
      if (e.originator !== 'remote') return;
      this.adopt(e.session as RTCSession);
    });
    ua.start();
  }

  private adopt(session: RTCSession): void {
    const s = () => this.store.getState();
    if (this.session && !this.session.isEnded()) {
      // One call at a time per seat: the ACD never offers a second one, so this is a stray INVITE.
      session.terminate({ status_code: 486, reason_phrase: 'Busy Here' });
      return;
    }
    this.session = session;
    session.on('peerconnection', (ev) => this.watchTracks(ev.peerconnection));
    session.on('confirmed', () => {
      if (session.connection) this.watchTracks(session.connection);
      s().callConfirmed();
    });
    session.on('hold', (ev) => {
      if (ev.originator === 'local') s().callHeld(true);
    });
    session.on('unhold', (ev) => {
      if (ev.originator === 'local') s().callHeld(false);
    });
    session.on('muted', () => s().callMuted(true));
    session.on('unmuted', () => s().callMuted(false));
    session.on('failed', (ev) => {
      if (this.session === session) this.session = null;
      s().callFailed(String(ev.cause ?? 'failed'));
    });
    session.on('ended', (ev) => {
      if (this.session === session) this.session = null;
      this.audio.srcObject = null;
      s().callEnded(String(ev.cause ?? 'ended'));
    });
    const from = session.remote_identity?.uri?.user ?? null;
    s().sipIncoming({ sessionId: session.id, remote: from });
    if (s().answerPending) {
      s().answerRequested();
      this.answer();
    }
  }

  /** Remote audio must be played by an element or Chromium does not decode it. */
  private watchTracks(pc: RTCPeerConnection): void {
    const attach = () => {
      const tracks = pc
        .getReceivers()
        .map((r) => r.track)
        .filter((t): t is MediaStreamTrack => !!t);
      if (tracks.length === 0) return;
      this.audio.srcObject = new MediaStream(tracks);
      void this.audio.play().catch(() => undefined);
    };
    pc.addEventListener('track', attach);
    attach();
  }

  /** Answers the ringing session; false when there is none yet (the INVITE has not arrived). */
  answer(): boolean {
    if (!this.session || this.session.isEnded()) return false;
    try {
      this.session.answer({
        mediaConstraints: { audio: this.audioConstraints, video: false },
        pcConfig: { iceServers: [] },
      });
      return true;
    } catch (err) {
      this.store.getState().notify('error', (err as Error).message);
      return false;
    }
  }

  hangup(): void {
    this.session?.terminate();
  }

  setHold(hold: boolean): void {
    if (!this.session) return;
    if (hold) this.session.hold();
    else this.session.unhold();
  }

  setMute(mute: boolean): void {
    if (!this.session) return;
    if (mute) this.session.mute({ audio: true });
    else this.session.unmute({ audio: true });
  }

  /** SIP INFO (JsSIP's default); the server reads INFO and RFC 4733 alike. */
  dtmf(digit: string): void {
    if (!this.session) return;
    this.session.sendDTMF(digit, { duration: 120, interToneGap: 70 });
    this.store.getState().dtmfSentDigit(digit);
  }

  get hasSession(): boolean {
    return this.session !== null && !this.session.isEnded();
  }

  private stopUa(): void {
    this.closed = true;
    if (this.session && !this.session.isEnded()) this.session.terminate();
    this.session = null;
    if (this.ua) {
      const ua = this.ua;
      this.ua = null;
      (ua as unknown as { removeAllListeners(): void }).removeAllListeners();
      ua.stop();
    }
  }

  /** Unregisters and closes the WebSocket; safe to call twice. */
  close(): void {
    this.stopUa();
    this.store.getState().phoneStopped();
  }
}
