/**
 * The station's softphone: a JsSIP UA registered over ws(s)://<this host>/sip with the device's HA1.
 * The agent desktop's Phone is bound to the desk's call state machine (offers, ACD states); a station
 * only answers the three-way INVITE and hangs up, so this is the small subset it needs.
 */
import * as JsSIP from 'jssip';
import type { RTCSession } from 'jssip/lib/RTCSession';
import type { MerchantStore } from './store.js';

export interface StationCredentials {
  extension: string;
  realm: string;
  ha1: string;
  wsPath: string;
}

export class StationPhone {
  private ua: JsSIP.UA | null = null;
  private session: RTCSession | null = null;
  /** Called when an INVITE arrives, so the portal fetches the case summary at once. */
  onIncoming: () => void = () => undefined;

  constructor(
    private readonly store: MerchantStore,
    private readonly audio: HTMLAudioElement,
  ) {}

  start(wsOrigin: string, c: StationCredentials): void {
    this.close();
    const set = this.store.setState;
    const ua = new JsSIP.UA({
      sockets: [new JsSIP.WebSocketInterface(`${wsOrigin}${c.wsPath}`)],
      uri: `sip:${c.extension}@${c.realm}`,
      authorization_user: c.extension,
      realm: c.realm,
      ha1: c.ha1,
      register: true,
      register_expires: 120,
      session_timers: false,
      connection_recovery_min_interval: 1,
      connection_recovery_max_interval: 10,
      user_agent: 'hotline12315-merchant',
    });
    this.ua = ua;
    set({ phone: 'registering' });
    ua.on('registered', () => set({ phone: 'registered' }));
    ua.on('unregistered', () => set({ phone: 'off' }));
    ua.on('registrationFailed', () => set({ phone: 'failed' }));
    ua.on('newRTCSession', (e: { originator: string; session: unknown }) => {
      if (e.originator === 'remote') this.adopt(e.session as RTCSession);
    });
    ua.start();
  }

  private adopt(session: RTCSession): void {
    const set = this.store.setState;
    if (this.session && !this.session.isEnded()) {
      session.terminate({ status_code: 486, reason_phrase: 'Busy Here' });
      return;
    }
    this.session = session;
    set({ callState: 'ringing' });
    const done = () => {
      if (this.session === session) this.session = null;
      this.audio.srcObject = null;
      set({ callState: 'idle' });
    };
    session.on('confirmed', () => {
      set({ callState: 'talking' });
      const pc = session.connection;
      if (pc) {
        const attach = () => {
          const tracks = pc
            .getReceivers()
            .map((r) => r.track)
            .filter((t): t is MediaStreamTrack => !!t);
          if (tracks.length) {
            this.audio.srcObject = new MediaStream(tracks);
            void this.audio.play().catch(() => undefined);
          }
        };
        pc.addEventListener('track', attach);
        attach();
      }
    });
    session.on('ended', done);
    session.on('failed', done);
    this.onIncoming();
  }

  answer(): void {
    this.session?.answer({ mediaConstraints: { audio: true, video: false }, pcConfig: { iceServers: [] } });
  }

  hangup(): void {
    if (this.session && !this.session.isEnded()) this.session.terminate();
  }

  /** Unregisters and closes the WebSocket; safe to call twice. */
  close(): void {
    this.hangup();
    this.session = null;
    const ua = this.ua;
    this.ua = null;
    if (ua) {
      (ua as unknown as { removeAllListeners(): void }).removeAllListeners();
      ua.stop();
    }
    this.store.setState({ phone: 'off', callState: 'idle' });
  }
}
