import { describe, expect, it } from 'vitest';
import {
  LocalSdpSession,
  SdpNegotiationError,
  answerDirection,
  answerOffer,
  classifyOffer,
  createOffer,
  isHold,
  processAnswer,
} from '../../../server/media/sdp/offer-answer.js';
import {
  SdpParseError,
  getAttribute,
  mediaDirection,
  parseSdp,
  rtpMaps,
  serializeSdp,
} from '../../../server/media/sdp/sdp.js';

const crlf = (s: string) =>
  s
    .trim()
    .split('\n')
    .map((l) => l.trim())
    .join('\r\n') + '\r\n';

// The SIPp uac_media.xml offer (sip-test-peers.md §2.2), as SIPp fills it in.
const SIPP = crlf(`
  v=0
  o=user1 53655765 2353687637 IN IP4 127.0.0.1
  s=-
  c=IN IP4 127.0.0.1
  t=0 0
  m=audio 17000 RTP/AVP 8 101
  a=rtpmap:8 PCMA/8000
  a=rtpmap:101 telephone-event/8000
`);

// baresip-style offer: several codecs, PCMU after G722, rtcp attribute, ptime.
const BARESIP = crlf(`
  v=0
  o=- 1727 2121 IN IP4 127.0.0.1
  s=-
  c=IN IP4 127.0.0.1
  t=0 0
  m=audio 10002 RTP/AVP 9 0 8 101
  b=AS:64
  a=rtpmap:9 G722/8000
  a=rtpmap:101 telephone-event/8000
  a=fmtp:101 0-15
  a=rtcp:10005
  a=ptime:30
  a=sendrecv
  a=label:1
`);

// JsSIP in Chromium (webrtc-jssip-werift.md §4): opus first, UDP/TLS/RTP/SAVPF, ICE/DTLS.
const WEBRTC = crlf(`
  v=0
  o=- 4611731400430051336 2 IN IP4 127.0.0.1
  s=-
  t=0 0
  a=group:BUNDLE 0
  a=msid-semantic: WMS
  m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
  c=IN IP4 0.0.0.0
  a=rtcp:9 IN IP4 0.0.0.0
  a=candidate:1 1 udp 2113937151 127.0.0.1 50000 typ host generation 0
  a=ice-ufrag:abcd
  a=ice-pwd:abcdefghijklmnopqrstuvwx
  a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF
  a=setup:actpass
  a=mid:0
  a=sendrecv
  a=rtcp-mux
  a=rtpmap:111 opus/48000/2
  a=rtpmap:63 red/48000/2
  a=rtpmap:9 G722/8000
  a=rtpmap:0 PCMU/8000
  a=rtpmap:8 PCMA/8000
  a=rtpmap:13 CN/8000
  a=rtpmap:110 telephone-event/48000
  a=rtpmap:126 telephone-event/8000
`);

describe('SDP parse/serialize (RFC 4566)', () => {
  it('parses the SIPp offer', () => {
    const d = parseSdp(SIPP);
    expect(d.origin).toEqual({
      username: 'user1',
      sessionId: '53655765',
      sessionVersion: '2353687637',
      netType: 'IN',
      addrType: 'IP4',
      address: '127.0.0.1',
    });
    expect(d.connection?.address).toBe('127.0.0.1');
    expect(d.media).toHaveLength(1);
    const m = d.media[0]!;
    expect([m.type, m.port, m.proto, m.formats]).toEqual(['audio', 17000, 'RTP/AVP', ['8', '101']]);
    const maps = rtpMaps(m);
    expect(maps.get(8)).toEqual({ payloadType: 8, encoding: 'PCMA', clockRate: 8000, channels: 1 });
    expect(maps.get(101)?.encoding).toBe('telephone-event');
    expect(mediaDirection(d, m)).toBe('sendrecv');
  });
  it('round-trips a WebRTC offer losslessly (modulo line order already canonical)', () => {
    const d = parseSdp(WEBRTC);
    expect(serializeSdp(d)).toBe(WEBRTC);
    expect(parseSdp(serializeSdp(parseSdp(BARESIP)))).toEqual(parseSdp(BARESIP));
    expect(rtpMaps(d.media[0]!).get(111)).toEqual({
      payloadType: 111,
      encoding: 'opus',
      clockRate: 48000,
      channels: 2,
    });
    expect(getAttribute(d.media[0]!.attributes, 'rtcp-mux')).toBeNull();
    expect(getAttribute(d.attributes, 'group')).toBe('BUNDLE 0');
  });
  it('accepts LF-only line ends, keeps 64-bit origin numbers, strips c= TTL', () => {
    const d = parseSdp(
      'v=0\no=- 18446744073709551615 18446744073709551615 IN IP4 ::1\ns= \nc=IN IP4 224.2.1.1/127\nt=0 0\n',
    );
    expect(d.origin.sessionVersion).toBe('18446744073709551615');
    expect(d.connection?.address).toBe('224.2.1.1');
  });
  it('rejects malformed descriptions', () => {
    expect(() => parseSdp('o=- 1 1 IN IP4 1.2.3.4\r\n')).toThrow(SdpParseError);
    expect(() => parseSdp('v=0\r\ns=-\r\nt=0 0\r\n')).toThrow(/o=/);
    expect(() => parseSdp('v=0\r\no=- x 1 IN IP4 h\r\ns=-\r\n')).toThrow(/o=/);
    expect(() => parseSdp(SIPP.replace('m=audio 17000', 'm=audio 70000'))).toThrow(/port/);
    expect(() => parseSdp(SIPP + 'garbage\r\n')).toThrow(/malformed/);
    expect(() => parseSdp('v=0\r\n' + 'a=x\r\n'.repeat(20000))).toThrow(/too large/);
  });
});

describe('offer/answer (RFC 3264)', () => {
  const local = { address: '127.0.0.1', port: 40000 };

  it('a session restored from another copy carries on its o= version (§8): same body same version, changed body +1', () => {
    const here = new LocalSdpSession('127.0.0.1', '-', '1000');
    const first = serializeSdp(answerOffer(parseSdp(SIPP), local, here).answer);
    const there = new LocalSdpSession('127.0.0.1', '-', '1000');
    there.restore(here.state);
    expect(serializeSdp(answerOffer(parseSdp(SIPP), local, there).answer)).toBe(first);
    const moved = serializeSdp(answerOffer(parseSdp(SIPP), { ...local, port: 40002 }, there).answer);
    expect(moved).toContain('o=- 1000 1001 IN IP4 127.0.0.1\r\n');
    // Without the restore the copy would start over and repeat version 1000 for a different body.
    const fresh = new LocalSdpSession('127.0.0.1', '-', '1000');
    expect(serializeSdp(answerOffer(parseSdp(SIPP), { ...local, port: 40002 }, fresh).answer)).toContain(
      'o=- 1000 1000 IN IP4',
    );
  });

  it('answers SIPp with PCMA and its telephone-event PT', () => {
    const s = new LocalSdpSession('127.0.0.1', '-', '1000');
    const { answer, audio } = answerOffer(parseSdp(SIPP), local, s);
    expect(audio).toMatchObject({
      codec: 'PCMA',
      payloadType: 8,
      telephoneEventPt: 101,
      remoteAddress: '127.0.0.1',
      remotePort: 17000,
      remoteRtcpPort: 17001,
      rtcpMux: false,
      direction: 'sendrecv',
      remoteHold: false,
      ptime: 20,
    });
    const text = serializeSdp(answer);
    expect(text).toContain('m=audio 40000 RTP/AVP 8 101\r\n');
    expect(text).toContain('a=rtpmap:101 telephone-event/8000\r\n');
    expect(text).toContain('o=- 1000 1000 IN IP4 127.0.0.1\r\n');
    expect(text).toContain('c=IN IP4 127.0.0.1\r\n');
    // The answer is itself valid SDP.
    expect(parseSdp(text).media[0]!.port).toBe(40000);
  });
  it("follows the offerer's order among our codecs, skipping ones we lack; honours ptime and a=rtcp", () => {
    const { audio } = answerOffer(parseSdp(BARESIP), local, new LocalSdpSession('127.0.0.1'));
    expect(audio.codec).toBe('PCMU');
    expect(audio.ptime).toBe(30);
    expect(audio.remoteRtcpPort).toBe(10005);
    const pcmaOnly = answerOffer(parseSdp(BARESIP), { ...local, codecs: ['PCMA'] }, new LocalSdpSession('127.0.0.1'));
    expect(pcmaOnly.audio.codec).toBe('PCMA');
    const noTe = answerOffer(parseSdp(BARESIP), { ...local, telephoneEvent: false }, new LocalSdpSession('127.0.0.1'));
    expect(noTe.audio.telephoneEventPt).toBeNull();
    expect(noTe.answer.media[0]!.formats).toEqual(['0']);
  });
  it('keeps m= line count and order, rejecting video and extra audio with port 0', () => {
    const offer = parseSdp(
      SIPP +
        crlf(`
        m=video 17002 RTP/AVP 96
        a=rtpmap:96 H264/90000
        m=audio 17004 RTP/AVP 0
      `),
    );
    const { answer, audio } = answerOffer(offer, local, new LocalSdpSession('127.0.0.1'));
    expect(answer.media.map((m) => [m.type, m.port])).toEqual([
      ['audio', 40000],
      ['video', 0],
      ['audio', 0],
    ]);
    expect(audio.mediaIndex).toBe(0);
  });
  it('488 when nothing is acceptable; a first unusable stream does not stop a later good one', () => {
    const g729 = SIPP.replace('RTP/AVP 8 101', 'RTP/AVP 18 101').replace(
      'a=rtpmap:8 PCMA/8000',
      'a=rtpmap:18 G729/8000',
    );
    expect(() => answerOffer(parseSdp(g729), local, new LocalSdpSession('127.0.0.1'))).toThrow(SdpNegotiationError);
    try {
      answerOffer(parseSdp(g729), local, new LocalSdpSession('127.0.0.1'));
    } catch (e) {
      expect((e as SdpNegotiationError).status).toBe(488);
    }
    const two = parseSdp(g729 + 'm=audio 17010 RTP/AVP 0\r\n');
    const { answer, audio } = answerOffer(two, local, new LocalSdpSession('127.0.0.1'));
    expect(audio).toMatchObject({ mediaIndex: 1, codec: 'PCMU', remotePort: 17010, telephoneEventPt: null });
    expect(answer.media.map((m) => m.port)).toEqual([0, 40000]);
  });
  it('direction answers (§6.1) and hold detection', () => {
    expect(answerDirection('sendrecv')).toBe('sendrecv');
    expect(answerDirection('sendonly')).toBe('recvonly');
    expect(answerDirection('recvonly')).toBe('sendonly');
    expect(answerDirection('inactive')).toBe('inactive');
    expect(answerDirection('sendrecv', 'sendonly')).toBe('sendonly');
    expect(answerDirection('sendonly', 'sendonly')).toBe('inactive');

    const hold = parseSdp(SIPP + 'a=sendonly\r\n');
    const r = answerOffer(hold, local, new LocalSdpSession('127.0.0.1'));
    expect(r.audio.direction).toBe('recvonly');
    expect(r.audio.remoteHold).toBe(true);
    expect(getAttribute(r.answer.media[0]!.attributes, 'recvonly')).toBeNull();
    const legacy = parseSdp(SIPP.replace('c=IN IP4 127.0.0.1', 'c=IN IP4 0.0.0.0'));
    expect(isHold(legacy)).toBe(true);
    expect(answerOffer(legacy, local, new LocalSdpSession('127.0.0.1')).audio.direction).toBe('recvonly');
    const inactive = parseSdp(SIPP.replace('t=0 0', 't=0 0\r\na=inactive'));
    expect(answerOffer(inactive, local, new LocalSdpSession('127.0.0.1')).audio).toMatchObject({
      direction: 'inactive',
      remoteHold: true,
    });
    expect(isHold(parseSdp(SIPP))).toBe(false);
  });
  it('recognises WebRTC offers and does not answer them as plain RTP', () => {
    expect(classifyOffer(parseSdp(WEBRTC))).toBe('webrtc');
    expect(classifyOffer(parseSdp(SIPP))).toBe('rtp');
    expect(classifyOffer(parseSdp(SIPP.replace('RTP/AVP', 'RTP/SAVP')))).toBe('srtp-sdes');
    expect(classifyOffer(parseSdp(SIPP.replace('m=audio 17000', 'm=audio 0')))).toBe('none');
    expect(() => answerOffer(parseSdp(WEBRTC), local, new LocalSdpSession('127.0.0.1'))).toThrow(SdpNegotiationError);
  });
  it('accepts rtcp-mux when offered over plain RTP/AVPF', () => {
    const avpf = parseSdp(SIPP.replace('RTP/AVP', 'RTP/AVPF') + 'a=rtcp-mux\r\n');
    const { answer, audio } = answerOffer(avpf, local, new LocalSdpSession('127.0.0.1'));
    expect(audio.rtcpMux).toBe(true);
    expect(audio.remoteRtcpPort).toBe(17000);
    expect(answer.media[0]!.proto).toBe('RTP/AVPF');
    expect(getAttribute(answer.media[0]!.attributes, 'rtcp-mux')).toBeNull();
  });
});

describe('our offers and the o= version', () => {
  it('createOffer → remote answer → negotiated audio', () => {
    const s = new LocalSdpSession('127.0.0.1', '-', '77');
    const offer = createOffer({ address: '127.0.0.1', port: 30000 }, s);
    const text = serializeSdp(offer);
    expect(text).toContain('m=audio 30000 RTP/AVP 0 8 101\r\n');
    expect(text).toContain('a=fmtp:101 0-16\r\n');
    expect(text).toContain('a=ptime:20\r\n');
    expect(text).toContain('a=sendrecv\r\n');
    // The agent's phone answers with PCMA and its own idea of telephone-event.
    const answer = parseSdp(
      crlf(`
      v=0
      o=agent 1 1 IN IP4 127.0.0.1
      s=-
      c=IN IP4 127.0.0.1
      t=0 0
      m=audio 31000 RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a=recvonly
    `),
    );
    expect(processAnswer(offer, answer)).toMatchObject({
      codec: 'PCMA',
      payloadType: 8,
      telephoneEventPt: 101,
      remotePort: 31000,
      direction: 'sendonly',
      remoteHold: false,
    });
    const refused = parseSdp(serializeSdp(answer).replace('m=audio 31000', 'm=audio 0'));
    expect(() => processAnswer(offer, refused)).toThrow(/rejected/);
    const wrongCodec = parseSdp(serializeSdp(answer).replace('RTP/AVP 8 101', 'RTP/AVP 9 101'));
    expect(() => processAnswer(offer, wrongCodec)).toThrow(/no G.711/);
  });
  it('version increments when the description changes (re-offer for hold) and not when it repeats', () => {
    const s = new LocalSdpSession('127.0.0.1', '-', '500');
    const p = { address: '127.0.0.1', port: 30000 };
    expect(createOffer(p, s).origin.sessionVersion).toBe('500');
    expect(createOffer(p, s).origin.sessionVersion).toBe('500');
    const hold = createOffer({ ...p, direction: 'sendonly' }, s);
    expect(hold.origin.sessionVersion).toBe('501');
    expect(hold.origin.sessionId).toBe('500');
    expect(createOffer(p, s).origin.sessionVersion).toBe('502');
    const v6 = new LocalSdpSession('::1');
    expect(serializeSdp(createOffer({ address: '::1', port: 1 }, v6))).toContain('c=IN IP6 ::1\r\n');
    expect(/^\d+$/.test(v6.sessionId)).toBe(true);
  });
});
