/**
 * The one media machinery behind transfers, three-way calls and supervisor monitoring: once call
 * control takes a call over, its parties meet in a conference (mix-minus: everyone hears the others,
 * nobody hears themselves) instead of a two-party bridge, and legs come and go. The consumer is the
 * first member, so a stereo recording keeps them on the left; one recording covers the whole call,
 * including after the agent leaves.
 *
 * Hold = the consumer stays a member but muted (heard by nobody) while the player owns what they hear
 * (notice, then music on hold): the agent can consult privately and nothing of it reaches the consumer.
 */
import type { Logger } from 'pino';
import type {
  Conference,
  MediaEndpoint,
  MediaEngine,
  MemberOptions,
  PlayItem,
  Recording,
} from '../media/engine/api.js';
import type { Call } from './call.js';
import type { SipLeg } from './sip-leg.js';
import { safePlay } from './acd-bridge.js';

export type PartyRole = 'consumer' | 'agent' | 'target' | 'station' | 'supervisor';

export interface Party {
  role: PartyRole;
  leg: SipLeg;
  media: MediaEndpoint;
  name?: string;
  /** Agent id for agents and transfer targets that are agents. */
  agentId?: string | null;
  muted: boolean;
  listenOnly: boolean;
  whisperTo: MediaEndpoint | null;
}

export interface CallRoomDeps {
  engine: MediaEngine;
  log: Logger;
  /** Where the call recording goes; null: not recorded. */
  recordingFile(call: Call): string | null;
  /** Notice + music on hold for a held consumer (looped after the notice). */
  holdItems(call: Call): Promise<{ notice: PlayItem[]; music: PlayItem[] }>;
  /** Told when the recording started (CDR link). */
  onRecording?(call: Call, file: string): void;
  /** Told when the consumer is put on hold or taken off it, also off at close (metrics: hold time). */
  onHoldChange?(call: Call, held: boolean): void;
}

const rooms = new WeakMap<Call, CallRoom>();

export class CallRoom {
  private conference: Promise<Conference> | null = null;
  private recording: Recording | null = null;
  readonly parties: Party[] = [];
  private held = false;
  private closed = false;

  private constructor(
    readonly call: Call,
    private readonly d: CallRoomDeps,
  ) {}

  /** The room of a call (created on first use; closed with the call). */
  static of(call: Call, d: CallRoomDeps): CallRoom {
    let r = rooms.get(call);
    if (!r) {
      r = new CallRoom(call, d);
      rooms.set(call, r);
      const room = r;
      call.onEnd(() => room.close());
    }
    return r;
  }

  static existing(call: Call): CallRoom | null {
    return rooms.get(call) ?? null;
  }

  get consumerMedia(): MediaEndpoint {
    return this.call.inbound.media as MediaEndpoint;
  }

  get isHeld(): boolean {
    return this.held;
  }

  private conf(): Promise<Conference> {
    this.conference ??= (async () => {
      const c = await this.d.engine.createConference({ label: `call:${this.call.id}` });
      // The consumer first: the recording's left channel and the mixer's anchor.
      await c.join(this.consumerMedia);
      this.parties.push({
        role: 'consumer',
        leg: this.call.inbound,
        media: this.consumerMedia,
        muted: false,
        listenOnly: false,
        whisperTo: null,
      });
      const file = this.d.recordingFile(this.call);
      if (file) {
        try {
          this.recording = await this.d.engine.record(c, { file, mode: 'stereo' });
          this.d.onRecording?.(this.call, file);
        } catch (err) {
          this.d.log.warn({ err, call: this.call.id }, 'call recording could not start; the call goes on');
        }
      }
      return c;
    })();
    return this.conference;
  }

  /** Moves the call into the room: the consumer and its current agent (taken out of their bridge). */
  async takeOver(): Promise<void> {
    const c = await this.conf();
    // After a trip through a queue the consumer was bridged to a new agent: back into the room.
    await c.join(this.consumerMedia);
    const a = this.call.agent;
    if (a && !a.leg.isEnded && !this.find(a.leg)) {
      await this.add({ role: 'agent', leg: a.leg, agentId: a.id });
    }
  }

  find(leg: SipLeg): Party | undefined {
    return this.parties.find((p) => p.leg === leg);
  }

  byRole(role: PartyRole): Party[] {
    return this.parties.filter((p) => p.role === role && !p.leg.isEnded);
  }

  /** Adds an answered leg; its party leaves the room when its leg ends. */
  async add(
    p: { role: PartyRole; leg: SipLeg; name?: string; agentId?: string | null },
    opts: MemberOptions & { whisperTo?: MediaEndpoint | null } = {},
  ): Promise<Party> {
    const c = await this.conf();
    const media = p.leg.media as MediaEndpoint;
    media.stopPlayback();
    await c.join(media, { muted: opts.muted, listenOnly: opts.listenOnly });
    if (opts.whisperTo) await c.setWhisper(media, opts.whisperTo);
    const party: Party = {
      ...p,
      media,
      muted: !!opts.muted,
      listenOnly: !!opts.listenOnly,
      whisperTo: opts.whisperTo ?? null,
    };
    this.parties.push(party);
    p.leg.once('ended', () => {
      const i = this.parties.indexOf(party);
      if (i >= 0) this.parties.splice(i, 1);
    });
    return party;
  }

  async remove(leg: SipLeg): Promise<void> {
    const p = this.find(leg);
    if (!p) return;
    this.parties.splice(this.parties.indexOf(p), 1);
    if (this.conference) await (await this.conference).leave(p.media).catch(() => undefined);
  }

  async setMode(leg: SipLeg, opts: { listenOnly?: boolean; whisperTo?: MediaEndpoint | null }): Promise<void> {
    const p = this.find(leg);
    if (!p) throw new Error('not in the room');
    const c = await this.conf();
    if (opts.listenOnly !== undefined) {
      await c.setListenOnly(p.media, opts.listenOnly);
      p.listenOnly = opts.listenOnly;
    }
    if (opts.whisperTo !== undefined) {
      await c.setWhisper(p.media, opts.whisperTo);
      p.whisperTo = opts.whisperTo;
    }
  }

  /** The consumer hears a notice then music, and nobody hears the consumer (private consultation). */
  async hold(): Promise<void> {
    const c = await this.conf();
    if (this.held) return;
    this.held = true;
    this.holdChanged(true);
    await c.setMuted(this.consumerMedia, true);
    const { notice, music } = await this.d.holdItems(this.call);
    void (async () => {
      if (notice.length) {
        const r = await safePlay(this.consumerMedia, notice);
        if (r.reason !== 'done' || !this.held) return;
      }
      if (this.held) await safePlay(this.consumerMedia, music, { loop: true });
    })();
  }

  async unhold(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    this.holdChanged(false);
    this.consumerMedia.stopPlayback();
    const c = await this.conf();
    await c.setMuted(this.consumerMedia, false).catch(() => undefined);
  }

  private holdChanged(held: boolean): void {
    try {
      this.d.onHoldChange?.(this.call, held);
    } catch (err) {
      this.d.log.error({ err, call: this.call.id }, 'hold listener failed');
    }
  }

  /** Who is in, for the desktops. */
  view(): Array<{ role: 'consumer' | 'agent' | 'station'; name?: string; muted?: boolean }> {
    const out: Array<{ role: 'consumer' | 'agent' | 'station'; name?: string; muted?: boolean }> = [];
    for (const p of this.parties) {
      if (p.leg.isEnded || p.role === 'supervisor') continue;
      const role = p.role === 'target' ? 'agent' : p.role;
      out.push({ role, ...(p.name ? { name: p.name } : {}), ...(p.role === 'consumer' ? { muted: this.held } : {}) });
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.held) this.holdChanged(false);
    this.held = false;
    const rec = this.recording;
    this.recording = null;
    if (rec) await rec.stop().catch(() => undefined);
    const c = this.conference;
    this.conference = null;
    if (c) await (await c.catch(() => null))?.close();
  }
}
