import { describe, expect, it } from 'vitest';
import { canonicalHeaderName, compactHeaderName } from '../../../server/sip/message/headers.js';
import { SipHeaders } from '../../../server/sip/message/message.js';

describe('canonicalHeaderName', () => {
  it('expands every compact form of §7.3.3 and the registered extensions', () => {
    const expected: Record<string, string> = {
      i: 'Call-ID',
      m: 'Contact',
      e: 'Content-Encoding',
      l: 'Content-Length',
      c: 'Content-Type',
      f: 'From',
      s: 'Subject',
      k: 'Supported',
      t: 'To',
      v: 'Via',
      o: 'Event',
      u: 'Allow-Events',
      r: 'Refer-To',
      b: 'Referred-By',
      x: 'Session-Expires',
      y: 'Identity',
    };
    for (const [k, v] of Object.entries(expected)) {
      expect(canonicalHeaderName(k)).toBe(v);
      expect(canonicalHeaderName(k.toUpperCase())).toBe(v);
      expect(compactHeaderName(v)).toBe(k);
    }
  });

  it('is case-insensitive and spells well-known names canonically', () => {
    expect(canonicalHeaderName('call-id')).toBe('Call-ID');
    expect(canonicalHeaderName('CSEQ')).toBe('CSeq');
    expect(canonicalHeaderName('www-authenticate')).toBe('WWW-Authenticate');
    expect(canonicalHeaderName('MaX-fOrWaRdS')).toBe('Max-Forwards');
    expect(canonicalHeaderName('mime-version')).toBe('MIME-Version');
    expect(canonicalHeaderName('rseq')).toBe('RSeq');
  });

  it('title-cases unknown names and does not resolve escapes', () => {
    expect(canonicalHeaderName('x-CUSTOM-header')).toBe('X-Custom-Header');
    expect(canonicalHeaderName('X-Custom-Header')).toBe('X-Custom-Header');
    expect(canonicalHeaderName('C%6Fntact')).toBe('C%6fntact');
    expect(canonicalHeaderName('C%6Fntact')).not.toBe('Contact');
  });

  it('makes SipHeaders look-ups case- and form-insensitive', () => {
    const h = new SipHeaders();
    h.add('v', 'SIP/2.0/UDP a').add('VIA', 'SIP/2.0/UDP b').add('i', 'x@y');
    expect(h.getAll('Via')).toEqual(['SIP/2.0/UDP a', 'SIP/2.0/UDP b']);
    expect(h.get('call-id')).toBe('x@y');
  });
});
