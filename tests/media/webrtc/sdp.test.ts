import { describe, expect, it } from 'vitest';
import { parseSdp, serializeSdp } from '../../../server/media/sdp/sdp.js';
import {
  applyCandidatePolicy,
  candidatePriority,
  checkWebRtcOffer,
  keepOnlyG711,
  parseCandidate,
  readNegotiated,
  rewriteLocalSdp,
} from '../../../server/media/webrtc/sdp.js';
import { IllegalWebRtcTransition, WebRtcState, checkWebRtcTransition } from '../../../server/media/webrtc/endpoint.js';

/** Shape of JsSIP's offer in Chromium (trimmed): opus first, G.711, telephone-event, host + tcp candidates. */
const CHROME_OFFER = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'a=msid-semantic: WMS',
  'm=audio 50000 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
  'c=IN IP4 127.0.0.1',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=candidate:1 1 udp 2113937151 127.0.0.1 50000 typ host generation 0',
  'a=candidate:2 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active generation 0',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  'a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF',
  'a=setup:actpass',
  'a=mid:0',
  'a=sendrecv',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:13 CN/8000',
  'a=rtpmap:110 telephone-event/48000',
  'a=rtpmap:126 telephone-event/8000',
  '',
].join('\r\n');

/** Shape of werift's answer: host candidates on two interfaces, end-of-candidates. */
const WERIFT_ANSWER = [
  'v=0',
  'o=- 1 0 IN IP4 0.0.0.0',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'm=audio 40000 UDP/TLS/RTP/SAVPF 0 8 126',
  'c=IN IP4 10.0.0.5',
  'a=candidate:aa 1 udp 2130706431 127.0.0.1 40000 typ host',
  'a=candidate:bb 1 udp 2130706431 10.0.0.5 40002 typ host',
  'a=candidate:cc 1 udp 2130706431 172.17.0.1 40004 typ host',
  'a=candidate:dd 1 tcp 1671430143 10.0.0.5 40006 typ host tcptype passive',
  'a=end-of-candidates',
  'a=mid:0',
  'a=sendrecv',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:126 telephone-event/8000',
  '',
].join('\r\n');

function candidates(sdp: string): string[] {
  return sdp.split('\r\n').filter((l) => l.startsWith('a=candidate:'));
}

describe('candidate policy', () => {
  it('keeps only the named host addresses and drops TCP', () => {
    const out = rewriteLocalSdp(WERIFT_ANSWER, { hostAddresses: ['10.0.0.5'] });
    expect(candidates(out)).toEqual(['a=candidate:bb 1 udp 2130706431 10.0.0.5 40002 typ host']);
    expect(out).toContain('a=end-of-candidates');
  });

  it('keeps every UDP host when no addresses are named', () => {
    const out = rewriteLocalSdp(WERIFT_ANSWER, {});
    expect(candidates(out).map((c) => parseCandidate(c.slice(12))!.address)).toEqual([
      '127.0.0.1',
      '10.0.0.5',
      '172.17.0.1',
    ]);
  });

  it('adds a srflx candidate for a 1:1 NAT public address with the host port, below the host priority', () => {
    const out = rewriteLocalSdp(WERIFT_ANSWER, { hostAddresses: ['10.0.0.5'], publicAddress: '203.0.113.7' });
    const cands = candidates(out).map((c) => parseCandidate(c.slice('a=candidate:'.length))!);
    expect(cands).toHaveLength(2);
    const [host, pub] = cands;
    expect(pub).toMatchObject({
      address: '203.0.113.7',
      port: 40002,
      type: 'srflx',
      transport: 'udp',
      rest: 'raddr 10.0.0.5 rport 40002',
    });
    expect(pub!.priority).toBe(candidatePriority(100, 65535, 1));
    expect(pub!.priority).toBeLessThan(host!.priority);
    expect(pub!.foundation).not.toBe(host!.foundation);
    // Added before end-of-candidates, and c= points at the reachable address.
    const lines = out.split('\r\n');
    expect(lines.indexOf('a=end-of-candidates')).toBeGreaterThan(lines.findIndex((l) => l.includes('203.0.113.7 ')));
    expect(out).toContain('c=IN IP4 203.0.113.7');
  });

  it('drops unparsable candidate lines instead of passing them to the browser', () => {
    const d = parseSdp(WERIFT_ANSWER.replace('a=candidate:aa 1 udp', 'a=candidate:aa x udp'));
    applyCandidatePolicy(d, {});
    expect(serializeSdp(d)).not.toContain('candidate:aa');
  });

  it('computes RFC 8445 priorities', () => {
    expect(candidatePriority(126, 65535, 1)).toBe(2130706431); // werift's / Chromium's host UDP value
    expect(parseCandidate('1 1 udp 2113937151 127.0.0.1 50000 typ host generation 0')).toMatchObject({
      component: 1,
      priority: 2113937151,
      port: 50000,
      type: 'host',
      rest: 'generation 0',
    });
    expect(parseCandidate('1 1 udp 2113937151 127.0.0.1 50000 host')).toBeNull();
  });
});

describe('negotiation', () => {
  it('accepts a Chromium/JsSIP offer and rejects offers werift could not answer with G.711', () => {
    expect(() => checkWebRtcOffer(parseSdp(CHROME_OFFER))).not.toThrow();
    const opusOnly = CHROME_OFFER.replace('SAVPF 111 63 9 0 8 13 110 126', 'SAVPF 111 126');
    expect(() => checkWebRtcOffer(parseSdp(opusOnly))).toThrow(/neither PCMU nor PCMA/);
    const plainRtp = CHROME_OFFER.replace('UDP/TLS/RTP/SAVPF', 'RTP/AVP');
    expect(() => checkWebRtcOffer(parseSdp(plainRtp))).toThrow(/not a WebRTC/);
    try {
      checkWebRtcOffer(parseSdp(opusOnly));
    } catch (e) {
      expect((e as { status: number }).status).toBe(488);
    }
  });

  it('reads codec and telephone-event from the answer, hold from the remote side', () => {
    const answer = parseSdp(WERIFT_ANSWER);
    const offer = parseSdp(CHROME_OFFER);
    expect(readNegotiated(answer, answer, offer)).toEqual({
      codec: 'PCMU',
      payloadType: 0,
      telephoneEventPt: 126,
      direction: 'sendrecv',
      remoteHold: false,
    });
    const pcmaFirst = parseSdp(WERIFT_ANSWER.replace('SAVPF 0 8 126', 'SAVPF 8 0'));
    const held = parseSdp(CHROME_OFFER.replace('a=sendrecv', 'a=sendonly'));
    expect(readNegotiated(pcmaFirst, pcmaFirst, held)).toMatchObject({
      codec: 'PCMA',
      payloadType: 8,
      telephoneEventPt: null,
      remoteHold: true,
    });
    // telephone-event/48000 is not ours: only the 8 kHz one counts.
    const te48 = parseSdp(
      WERIFT_ANSWER.replace('SAVPF 0 8 126', 'SAVPF 0 110').replace(
        '126 telephone-event/8000',
        '110 telephone-event/48000',
      ),
    );
    expect(readNegotiated(te48, te48, offer).telephoneEventPt).toBeNull();
    const noG711 = parseSdp(CHROME_OFFER);
    expect(() => readNegotiated(noG711, noG711, offer)).not.toThrow(); // opus first but PCMU present: PCMU
    expect(readNegotiated(noG711, noG711, offer).codec).toBe('PCMU');
    const opusOnly = parseSdp(CHROME_OFFER.replace('SAVPF 111 63 9 0 8 13 110 126', 'SAVPF 111'));
    expect(() => readNegotiated(opusOnly, opusOnly, offer)).toThrow(/no G.711/);
  });
});

describe('keepOnlyG711', () => {
  it('drops telephone-event/48000 and anything not G.711 with its attribute lines', () => {
    const echoed = WERIFT_ANSWER.replace('SAVPF 0 8 126', 'SAVPF 0 8 110 126 111').replace(
      'a=rtpmap:126 telephone-event/8000',
      'a=rtpmap:110 telephone-event/48000\r\na=rtpmap:126 telephone-event/8000\r\na=fmtp:126 0-16\r\na=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\na=fmtp:111 minptime=10',
    );
    const out = serializeSdp(keepOnlyG711(parseSdp(echoed)));
    expect(out).toMatch(/^m=audio 40000 UDP\/TLS\/RTP\/SAVPF 0 8 126\r$/m);
    expect(out).not.toMatch(/:110 |:111 /);
    expect(out).toContain('a=fmtp:126 0-16');
    expect(out).toContain('a=rtpmap:8 PCMA/8000');
  });
});

describe('WebRTC endpoint state machine', () => {
  it('allows the answer, offer and failure paths', () => {
    expect(() => checkWebRtcTransition(WebRtcState.New, WebRtcState.Connecting)).not.toThrow();
    expect(() => checkWebRtcTransition(WebRtcState.New, WebRtcState.Offering)).not.toThrow();
    expect(() => checkWebRtcTransition(WebRtcState.Offering, WebRtcState.Connecting)).not.toThrow();
    expect(() => checkWebRtcTransition(WebRtcState.Connecting, WebRtcState.Connected)).not.toThrow();
    expect(() => checkWebRtcTransition(WebRtcState.Connected, WebRtcState.Connected)).not.toThrow(); // re-offer
    expect(() => checkWebRtcTransition(WebRtcState.Connected, WebRtcState.Failed)).not.toThrow();
    expect(() => checkWebRtcTransition(WebRtcState.Failed, WebRtcState.Closed)).not.toThrow();
  });

  it('throws on illegal moves', () => {
    expect(() => checkWebRtcTransition(WebRtcState.New, WebRtcState.Connected)).toThrow(IllegalWebRtcTransition);
    expect(() => checkWebRtcTransition(WebRtcState.Closed, WebRtcState.Connecting)).toThrow(IllegalWebRtcTransition);
    expect(() => checkWebRtcTransition(WebRtcState.Failed, WebRtcState.Connected)).toThrow(/failed → connected/);
    expect(() => checkWebRtcTransition(WebRtcState.Connected, WebRtcState.Offering)).toThrow(IllegalWebRtcTransition);
  });
});
