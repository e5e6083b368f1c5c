import { describe, expect, it } from 'vitest';
import { formatVia, parseVia } from '../../../server/sip/message/grammar.js';
import { normalizeAddress, sameAddress } from '../../../server/sip/transport/address.js';
import { defaultPort, routeResponse, stampVia } from '../../../server/sip/transport/routing.js';
import { headerSection } from '../../../server/sip/transport/index.js';

const udpFrom = (address: string, port: number) => ({ transport: 'UDP' as const, address, port });

describe('stampVia (§18.2.1, RFC 3581 §4)', () => {
  it('leaves a Via alone when sent-by is the source IP and no rport was asked', () => {
    const v = parseVia('SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1');
    expect(stampVia(v, udpFrom('10.0.0.1', 5062))).toBe(false);
    expect(formatVia(v)).toBe('SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1');
  });
  it('adds received for another IP or a domain name', () => {
    const v = parseVia('SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1');
    expect(stampVia(v, udpFrom('203.0.113.5', 5060))).toBe(true);
    expect(v.params.get('received')).toBe('203.0.113.5');
    const d = parseVia('SIP/2.0/UDP pc33.example.com;branch=z9hG4bK2');
    stampVia(d, udpFrom('203.0.113.5', 5060));
    expect(d.params.get('received')).toBe('203.0.113.5');
  });
  it('fills an empty rport and adds received even for the same address', () => {
    const v = parseVia('SIP/2.0/UDP 10.0.0.1:5060;rport;branch=z9hG4bK1');
    stampVia(v, udpFrom('10.0.0.1', 40000));
    expect(formatVia(v)).toBe('SIP/2.0/UDP 10.0.0.1:5060;rport=40000;branch=z9hG4bK1;received=10.0.0.1');
  });
  it('does not touch an rport that already has a value', () => {
    const v = parseVia('SIP/2.0/UDP 10.0.0.1:5060;rport=1234;branch=z9hG4bK1');
    stampVia(v, udpFrom('10.0.0.1', 40000));
    expect(v.params.get('rport')).toBe('1234');
  });
  it('treats two spellings of one IPv6 address as the same', () => {
    const v = parseVia('SIP/2.0/UDP [2001:db8:0:0::1]:5060;branch=z9hG4bK1');
    expect(stampVia(v, udpFrom('2001:db8::1', 5060))).toBe(false);
    expect(sameAddress('::ffff:10.1.2.3', '10.1.2.3')).toBe(true);
    expect(normalizeAddress('[2001:DB8::1]')).toBe('2001:db8::1');
  });
});

describe('routeResponse (§18.2.2, RFC 3581 §4)', () => {
  it('UDP: maddr first, then received+rport, then received+sent-by port, then sent-by', () => {
    expect(routeResponse(parseVia('SIP/2.0/UDP h.example:5070;maddr=239.1.1.1;received=10.0.0.2;rport=9'))).toEqual({
      kind: 'datagram',
      dest: udpFrom('239.1.1.1', 5070),
    });
    expect(routeResponse(parseVia('SIP/2.0/UDP 10.0.0.1:5070;received=10.0.0.2;rport=4000'))).toEqual({
      kind: 'datagram',
      dest: udpFrom('10.0.0.2', 4000),
    });
    expect(routeResponse(parseVia('SIP/2.0/UDP h.example:5070;received=10.0.0.2'))).toEqual({
      kind: 'datagram',
      dest: udpFrom('10.0.0.2', 5070),
    });
    expect(routeResponse(parseVia('SIP/2.0/UDP [::1]'))).toEqual({ kind: 'datagram', dest: udpFrom('::1', 5060) });
  });
  it('refuses to guess when only a domain name is left (no DNS here)', () => {
    expect(() => routeResponse(parseVia('SIP/2.0/UDP pc33.example.com:5060'))).toThrow(/DNS/);
  });
  it('reliable: the request connection, a look-up key, and where to reopen', () => {
    const r = routeResponse(parseVia('SIP/2.0/TLS h.example;received=10.0.0.2;rport=33000'), {
      transport: 'TLS',
      address: '10.0.0.2',
      port: 33000,
      connectionId: 'tls-4',
    });
    expect(r).toEqual({
      kind: 'connection',
      transport: 'TLS',
      connectionId: 'tls-4',
      lookup: { address: '10.0.0.2', port: 33000 },
      reopen: { transport: 'TLS', address: '10.0.0.2', port: 5061 },
    });
  });
  it('WebSocket clients can never be reconnected to (RFC 7118 §5)', () => {
    const r = routeResponse(parseVia('SIP/2.0/WSS abc.invalid;received=10.0.0.2'));
    expect(r.kind === 'connection' && r.reopen).toBe(null);
  });
  it('default ports', () => {
    expect([defaultPort('udp'), defaultPort('TCP'), defaultPort('TLS'), defaultPort('WSS')]).toEqual([
      5060, 5060, 5061, 5061,
    ]);
  });
});

describe('headerSection', () => {
  it('finds the empty line with CRLF or bare LF, or returns null', () => {
    expect(headerSection(Buffer.from('A\r\nB: c\r\n\r\nbody'))?.toString()).toBe('A\r\nB: c\r\n\r\n');
    expect(headerSection(Buffer.from('A\nB: c\n\nbody'))?.toString()).toBe('A\nB: c\n\n');
    expect(headerSection(Buffer.from('A\r\nB: c\r\n'))).toBeNull();
  });
});
