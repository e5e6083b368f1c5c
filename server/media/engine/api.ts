/**
 * Public API of the media engine: RTP endpoints, prompt playback, DTMF, echo, two-party bridges, conferences and
 * recordings, all paced by ONE media clock.
 *
 * Every method that reaches the engine is async and command-style (ids and plain data in, plain data out), so
 * the engine can run in a worker thread or in the calling thread behind the same interface (see index.ts for
 * which one is the default and why). Call control (server/calls) and the WebRTC module only use this file.
 *
 * Lifetimes: closing an endpoint removes it from its bridge/conference and stops its recordings; closing the
 * engine closes everything. Every `close()` is idempotent.
 */
import type { SessionDescription } from '../sdp/sdp.js';

/** A loaded prompt (WAV → 8 kHz, pre-encoded to PCMU and PCMA at load). */
export type PromptId = string;

export type EndpointKind = 'rtp' | 'webrtc' | (string & {});

export type PlayItem =
  | PromptId
  | { silenceMs: number }
  /** A tone (one or two frequencies summed, e.g. [440, 480] ring-back) at −10 dBFS-ish. */
  | { toneHz: number | readonly number[]; ms: number };

export interface PlayOptions {
  /** Start again at the first item when the list ends (music on hold); ends only by stop/barge-in/close. */
  loop?: boolean;
  /** A DTMF digit (any path) stops playback and is returned; default false. */
  bargeIn?: boolean;
}

export interface PlayResult {
  reason: 'done' | 'stopped' | 'barge-in' | 'closed';
  digit?: string;
}

export type DtmfVia = 'rfc4733' | 'info' | 'inband';

export interface EndpointEvents {
  /** Each key press once, whichever path it came by. */
  dtmf: (digit: string, via: DtmfVia) => void;
  /** No RTP from the peer for `rtpTimeoutMs` while it should be sending (not on hold). */
  'rtp-timeout': () => void;
  closed: () => void;
}

export interface EndpointStats {
  id: string;
  kind: EndpointKind;
  codec: 'PCMU' | 'PCMA' | null;
  localPort: number | null;
  /** Latched remote RTP address "ip:port" (symmetric RTP), else the SDP one. */
  remote: string | null;
  rxPackets: number;
  txPackets: number;
  rxBytes: number;
  txBytes: number;
  /** RFC 3550 §A.3 cumulative loss of the current source. */
  lost: number;
  /** §A.8 interarrival jitter of what we receive, ms. */
  jitterMs: number;
  /** From the peer's RTCP report blocks about our stream. */
  remoteLost: number | null;
  remoteJitterMs: number | null;
  rttMs: number | null;
  /** Packets dropped: unknown source while latched, bad header, unknown payload type. */
  dropped: number;
  /** Number of times the remote source (5-tuple) changed. */
  relatches: number;
  rtcpSent: number;
  rtcpReceived: number;
}

export interface MediaEndpoint {
  readonly id: string;
  readonly kind: EndpointKind;
  readonly label: string | undefined;
  /**
   * Answers an SDP offer (initial INVITE or re-INVITE: hold/resume/new address). Throws SdpNegotiationError → 488.
   * `parsedOffer`, when the caller has it, is `parseSdp(remoteOfferSdp)`: it spares a second parse.
   */
  answer(remoteOfferSdp: string, parsedOffer?: SessionDescription): Promise<string>;
  /** Our offer (calls to agents and stations, re-INVITE for hold); `direction` e.g. 'sendonly' to hold the peer. */
  createOffer(opts?: { direction?: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive' }): Promise<string>;
  applyAnswer(remoteAnswerSdp: string): Promise<void>;
  /**
   * Plays the items in order. A new play() or stopPlayback() ends the current one with 'stopped'. While playing,
   * the player owns what the peer hears (bridge/conference/echo audio resumes afterwards).
   */
  play(items: readonly PlayItem[], opts?: PlayOptions): Promise<PlayResult>;
  stopPlayback(): void;
  /** Loops the peer's own audio back after `delayMs` (default 200 ms) until stopEcho() (extension 9196). */
  echo(delayMs?: number): void;
  stopEcho(): void;
  /** RFC 4733 events when negotiated, else in-band tones; resolves when the last digit has been sent. */
  sendDtmf(digits: string, opts?: { durationMs?: number }): Promise<void>;
  /** Call control feeds SIP INFO bodies here; returns false when the body is not a DTMF body. */
  receiveInfoDtmf(body: string, contentType: string | undefined): boolean;
  /** Enables the Goertzel detector on received audio (gateways that send tones in-band). */
  setInbandDtmf(on: boolean): void;
  on<E extends keyof EndpointEvents>(event: E, listener: EndpointEvents[E]): this;
  off<E extends keyof EndpointEvents>(event: E, listener: EndpointEvents[E]): this;
  stats(): Promise<EndpointStats>;
  close(): Promise<void>;
}

export interface Bridge {
  readonly id: string;
  readonly a: MediaEndpoint;
  readonly b: MediaEndpoint;
  /** Ends the bridge; both endpoints stay up and go quiet. Idempotent. */
  close(): Promise<void>;
}

export interface MemberOptions {
  /** Heard by nobody, hears everyone. */
  muted?: boolean;
  /** Hears everyone, heard by nobody (班长 listen). */
  listenOnly?: boolean;
}

export interface ConferenceMemberInfo {
  endpointId: string;
  muted: boolean;
  listenOnly: boolean;
  whisperTo: string | null;
}

export interface Conference {
  readonly id: string;
  /** An endpoint is in at most one bridge or conference; joining takes it out of a bridge. */
  join(ep: MediaEndpoint, opts?: MemberOptions): Promise<void>;
  leave(ep: MediaEndpoint): Promise<void>;
  setMuted(ep: MediaEndpoint, muted: boolean): Promise<void>;
  setListenOnly(ep: MediaEndpoint, listenOnly: boolean): Promise<void>;
  /** `ep` is heard only by `target` (班长 coaching an agent); null makes it public again. */
  setWhisper(ep: MediaEndpoint, target: MediaEndpoint | null): Promise<void>;
  members(): Promise<ConferenceMemberInfo[]>;
  close(): Promise<void>;
}

export interface RecordOptions {
  file: string;
  /**
   * mono: everything mixed. stereo: endpoint → left what the peer sends, right what we send to it;
   * bridge → left a, right b; conference → left the first member that joined (the consumer), right everyone else.
   */
  mode: 'mono' | 'stereo';
}

export interface RecordingResult {
  file: string;
  durationMs: number;
  /** Set when a write failed (full disk ...): the call went on, the file holds what was written. */
  error: string | null;
}

export interface Recording {
  readonly id: string;
  readonly file: string;
  /** Stops, flushes and closes the file. Idempotent (returns the same result). */
  stop(): Promise<RecordingResult>;
}

/** Payload path of an endpoint whose packets do not travel over our own UDP socket (WebRTC via werift). */
export interface PacketTransport {
  /** One plain RTP packet (the transport encrypts if it must). */
  send(rtp: Buffer): void;
  /** Replaces the previous handler. Whole plain RTP packets from the peer. */
  onPacket(cb: (rtp: Buffer) => void): void;
  close(): void | Promise<void>;
}

export interface NegotiatedMedia {
  codec: 'PCMU' | 'PCMA';
  payloadType: number;
  telephoneEventPt: number | null;
  /** The peer asked us not to send (hold). */
  remoteHold: boolean;
}

/**
 * The signalling half of a foreign endpoint kind: it owns SDP (ICE/DTLS for WebRTC) and hands the engine plain
 * RTP. `negotiated` is read after each answer/createOffer+applyAnswer. server/media/webrtc's WebRtcEndpoint fits
 * this shape as it is.
 */
export interface ExternalMediaSession extends PacketTransport {
  answer(remoteOfferSdp: string): Promise<string>;
  createOffer(): Promise<string>;
  applyAnswer(remoteAnswerSdp: string): Promise<void>;
  readonly negotiated: NegotiatedMedia | null;
}

export type EndpointKindFactory = (opts: { label?: string }) => ExternalMediaSession | Promise<ExternalMediaSession>;

export interface EngineStats {
  endpoints: number;
  bridges: number;
  conferences: number;
  recordings: number;
  ports: { inUse: number; capacity: number };
  clock: {
    ticks: number;
    /** How late the media clock ticks fired, ms (p50/p99/max over the last ~10 s). */
    lateP50Ms: number;
    lateP99Ms: number;
    lateMaxMs: number;
    /**
     * How long one tick's sends took, ms (p50/p99/max over the same window). The last packet of a tick leaves this
     * much after the first, so its spread is pacing error too.
     */
    workP50Ms: number;
    workP99Ms: number;
    workMaxMs: number;
    /** Ticks whose work did not finish before the next one was due. */
    overruns: number;
    /** Ticks dropped because they arrived more than two tick periods late (a stalled thread catching up). */
    skipped: number;
  };
  packets: { rx: number; tx: number; dropped: number };
  recorderErrors: number;
  /** Where the engine runs. */
  thread: 'worker' | 'inline';
}

export interface MediaEngine {
  readonly thread: 'worker' | 'inline';
  createRtpEndpoint(opts?: { label?: string; inbandDtmf?: boolean }): Promise<MediaEndpoint>;
  /** Adds an endpoint kind (e.g. 'webrtc'); its sessions run in the calling thread, packets cross to the engine. */
  registerEndpointKind(kind: string, factory: EndpointKindFactory): void;
  createEndpoint(kind: string, opts?: { label?: string; inbandDtmf?: boolean }): Promise<MediaEndpoint>;
  /** Two-way; relays payload without decoding when both sides use one codec, else PCMU↔PCMA per packet. */
  bridge(a: MediaEndpoint, b: MediaEndpoint): Promise<Bridge>;
  createConference(opts?: { label?: string }): Promise<Conference>;
  record(target: MediaEndpoint | Bridge | Conference, opts: RecordOptions): Promise<Recording>;
  /** Loads a WAV once (cached by path). */
  loadPrompt(file: string): Promise<PromptId>;
  stats(): Promise<EngineStats>;
  close(): Promise<void>;
}

export interface MediaEngineOptions {
  /** Address the RTP sockets bind to; default '0.0.0.0'. */
  bindAddress?: string;
  /** Address written into our SDP c= line; default bindAddress (or 127.0.0.1 for 0.0.0.0). */
  advertiseAddress?: string;
  /** Even RTP ports from this range, RTCP on +1; default 20000–29999. */
  portMin?: number;
  portMax?: number;
  /** Codecs we accept/offer in preference order; default PCMU, PCMA. */
  codecs?: ('PCMU' | 'PCMA')[];
  /** 'rtp-timeout' after this much silence from a peer that should send; default 30 s; 0 disables. */
  rtpTimeoutMs?: number;
  /** RTCP report interval, ms (RFC 3550 §6.2 minimum 5 s); default 5000. */
  rtcpIntervalMs?: number;
  /** Sends spread over this many phases of the 20 ms frame (1 = everyone at once); default 4. */
  phases?: number;
  /** 'worker' runs the engine in a worker thread; default see index.ts. */
  thread?: 'worker' | 'inline';
  /**
   * Where a worker engine's clock comes from: 'self' (the worker's own timer + Atomics.wait) or 'ticker' (a ticker
   * thread posting to the worker). Default see index.ts; env MEDIA_PACING overrides it. Inline engines always
   * use the ticker thread (they must not block the control loop).
   */
  pacing?: 'self' | 'ticker';
  /** With pacing 'self': how long before each tick the timer hands over to Atomics.wait, ms; default 1.5. */
  pacingGuardMs?: number;
  /**
   * With pacing 'ticker' in a worker: the ticker posts each tick this much early and the worker waits for the due
   * time itself (absorbs the hand-off's wake-up latency); default see index.ts; env MEDIA_TICK_LEAD_MS.
   */
  tickLeadMs?: number;
  /**
   * SCHED_FIFO priority (1–99) for the threads that keep the media clock (the media worker; the ticker thread
   * when there is one); 0 = ordinary scheduling (default; env MEDIA_RT_PRIORITY). Needs root or CAP_SYS_NICE.
   */
  realtimePriority?: number;
  /**
   * CPUs (a taskset list, e.g. "1" or "2-3") the media clock's threads (the media worker and its ticker) are kept
   * on; unset = anywhere (default; env MEDIA_CPUS). With the rest of the server elsewhere (taskset on the process),
   * call set-up, SQLite and other processes stop competing with the 20 ms sends for one core.
   */
  cpus?: string;
}
