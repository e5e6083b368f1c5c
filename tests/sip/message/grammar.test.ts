import { describe, expect, it } from 'vitest';
import { cloneUri } from '../../../server/sip/message/build.js';
import {
  addressTag,
  formatNameAddr,
  formatUri,
  formatVia,
  NO_PARAMS,
  NO_URI_HEADERS,
  parseCSeq,
  parseMediaType,
  parseNameAddr,
  parseNameAddrList,
  parseParams,
  parseRequestUri,
  parseTokenList,
  parseUnsigned,
  parseUri,
  parseVia,
  quote,
  splitHeaderValues,
  unescapeUriPart,
  unquote,
} from '../../../server/sip/message/grammar.js';
import { SipParseError } from '../../../server/sip/message/types.js';

function reason(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SipParseError);
    expect((e as SipParseError).status).toBe(400);
    return (e as Error).message;
  }
  throw new Error('did not throw');
}

describe('parseUri', () => {
  it('parses every part of a SIP URI', () => {
    const u = parseUri('sips:alice:secret@Example.COM:5061;transport=tcp;LR;maddr=10.0.0.1?Subject=hi&Priority=urgent');
    expect(u).toMatchObject({ scheme: 'sips', user: 'alice', password: 'secret', host: 'example.com', port: 5061 });
    expect([...u.params]).toEqual([
      ['transport', 'tcp'],
      ['lr', null],
      ['maddr', '10.0.0.1'],
    ]);
    expect([...u.headers]).toEqual([
      ['Subject', 'hi'],
      ['Priority', 'urgent'],
    ]);
  });

  it('keeps IPv6 references with brackets and reads the port after them', () => {
    expect(parseUri('sip:[2001:db8::10]:5070')).toMatchObject({ host: '[2001:db8::10]', port: 5070, user: null });
    expect(parseUri('sip:bob@[::1]')).toMatchObject({ host: '[::1]', port: null, user: 'bob' });
    expect(parseUri('sip:[::ffff:192.0.2.1];lr').host).toBe('[::ffff:192.0.2.1]');
    expect(reason(() => parseUri('sip:[2001:db8::10'))).toMatch(/IPv6/);
    expect(reason(() => parseUri('sip:[2001:zz8::10]'))).toMatch(/IPv6/);
  });

  it('keeps escapes as received and checks them', () => {
    expect(parseUri('sip:%75se%72@example.com').user).toBe('%75se%72');
    expect(unescapeUriPart('%75se%72')).toBe('user');
    expect(unescapeUriPart('null-%00-null')).toBe('null-\0-null');
    expect(reason(() => parseUri('sip:us%4@example.com'))).toMatch(/escape/);
    expect(reason(() => parseUri('sip:us%zzer@example.com'))).toMatch(/escape/);
  });

  it('accepts telephone-subscriber users and tel: URIs', () => {
    expect(parseUri('sip:+8610-12315;isub=1@gw.example.cn;user=phone')).toMatchObject({
      user: '+8610-12315;isub=1',
      host: 'gw.example.cn',
    });
    const tel = parseUri('tel:+8612315;phone-context=+86');
    expect(tel).toMatchObject({ scheme: 'tel', user: '+8612315', opaque: '+8612315;phone-context=+86' });
    expect(tel.params.get('phone-context')).toBe('+86');
    expect(formatUri(tel)).toBe('tel:+8612315;phone-context=+86');
  });

  it('refuses malformed URIs with a reason', () => {
    expect(reason(() => parseUri('<sip:a@b>'))).toMatch(/scheme/);
    expect(reason(() => parseUri('sip:a@b c'))).toMatch(/whitespace/);
    expect(reason(() => parseUri('sip:a@'))).toMatch(/host/);
    expect(reason(() => parseUri('sip:a@b:99999'))).toMatch(/port/);
    expect(reason(() => parseUri('sip:a@b:'))).toMatch(/port/);
    expect(reason(() => parseUri('sip:a b@c'))).toMatch(/user/);
    expect(reason(() => parseUri('sip:a@b;=x'))).toMatch(/parameter/);
    expect(reason(() => parseUri(''))).toMatch(/empty/);
  });

  it('refuses headers and brackets in a Request-URI (§19.1.1)', () => {
    expect(reason(() => parseRequestUri('sip:a@b?Route=x'))).toMatch(/must not contain headers/);
    expect(reason(() => parseRequestUri('<sip:a@b>'))).toMatch(/<>/);
    expect(parseRequestUri('sip:a@b;lr').params.has('lr')).toBe(true);
  });

  it('formats back to the same text', () => {
    for (const t of [
      'sip:alice@example.com',
      'sips:alice:pw@[2001:db8::1]:5061;transport=tls;lr?Subject=a%20b&X=',
      'sip:example.com',
      'urn:service:sos',
    ]) {
      expect(formatUri(parseUri(t))).toBe(t);
    }
  });
});

describe('parseNameAddr', () => {
  it('handles quoted display names with escapes and UTF-8', () => {
    const na = parseNameAddr('"Zhang \\"San\\" 张三" <sip:13812345678@example.cn>;tag=abc');
    expect(na.displayName).toBe('Zhang "San" 张三');
    expect(na.uri.user).toBe('13812345678');
    expect(na.params.get('tag')).toBe('abc');
  });

  it('handles unquoted token display names, with or without LWS before <', () => {
    expect(parseNameAddr('Bob  Smith <sip:bob@b>').displayName).toBe('Bob Smith');
    expect(parseNameAddr('caller<sip:c@b>').displayName).toBe('caller');
    expect(parseNameAddr('<sip:c@b>').displayName).toBeNull();
  });

  it('gives addr-spec parameters to the header, bracketed ones to the URI (§20.10)', () => {
    const a = parseNameAddr('sip:a@b;tag=1;lr');
    expect(a.uri.params.size).toBe(0);
    expect([...a.params.keys()]).toEqual(['tag', 'lr']);
    const b = parseNameAddr('<sip:a@b;lr>;tag=1');
    expect(b.uri.params.has('lr')).toBe(true);
    expect([...b.params.keys()]).toEqual(['tag']);
  });

  it('tolerates LWS around ; and = in header parameters', () => {
    const na = parseNameAddr('<sip:a@b> ;  tag =  x1 ; q = 0.5 ; +sip.instance="<urn:uuid:1>"');
    expect(na.params.get('tag')).toBe('x1');
    expect(na.params.get('q')).toBe('0.5');
    expect(na.params.get('+sip.instance')).toBe('"<urn:uuid:1>"');
    expect(unquote(na.params.get('+sip.instance')!)).toBe('<urn:uuid:1>');
  });

  it('names the problem in malformed addresses', () => {
    expect(reason(() => parseNameAddr('"open <sip:a@b>'))).toMatch(/unterminated quoted string/);
    expect(reason(() => parseNameAddr('<sip:a@b'))).toMatch(/'>'/);
    expect(reason(() => parseNameAddr('< sip:a@b>'))).toMatch(/whitespace inside <>/);
    expect(reason(() => parseNameAddr('A, B <sip:a@b>'))).toMatch(/quoted/);
    expect(reason(() => parseNameAddr('sip:a@b?X=1'))).toMatch(/enclosed in <>/);
    expect(reason(() => parseNameAddr('<sip:a@b>;;'))).toMatch(/parameter name/);
    expect(reason(() => parseNameAddr('<sip:a@b>;tag='))).toMatch(/empty value/);
    expect(reason(() => parseNameAddr('<sip:a@b> junk'))).toMatch(/';'/);
    expect(reason(() => parseNameAddr(''))).toMatch(/empty/);
  });

  it('formats with quoting and round-trips', () => {
    const na = parseNameAddr('"A \\"quoted\\" \\\\ name" <sip:a@b;lr>;tag=9');
    const text = formatNameAddr(na);
    expect(text).toBe('"A \\"quoted\\" \\\\ name" <sip:a@b;lr>;tag=9');
    expect(parseNameAddr(text)).toEqual(na);
    expect(quote('x"y')).toBe('"x\\"y"');
  });
});

describe('parseNameAddrList', () => {
  it('splits at top-level commas only', () => {
    const l = parseNameAddrList('"Doe, John" <sip:j@a;x=1>;q=0.7, sip:k@b;expires=60 ,<sip:l@c>');
    expect(l.map((n) => n.uri.user)).toEqual(['j', 'k', 'l']);
    expect(l[0]!.displayName).toBe('Doe, John');
    expect(l[1]!.params.get('expires')).toBe('60');
  });

  it('accepts the wildcard alone', () => {
    const [w] = parseNameAddrList(' * ');
    expect(w!.wildcard).toBe(true);
    expect(formatNameAddr(w!)).toBe('*');
  });

  it('refuses empty elements and junk between elements', () => {
    expect(reason(() => parseNameAddrList('<sip:a@b>,'))).toMatch(/empty/);
    expect(reason(() => parseNameAddrList('<sip:a@b> <sip:c@d>'))).toMatch(/';'/);
  });
});

describe('parseVia', () => {
  it('parses sent-protocol with LWS around the slashes, sent-by and params', () => {
    const v = parseVia('SIP  /   2.0 /udp   192.0.2.2 : 5062 ; branch = z9hG4bK1 ;rport;received=192.0.2.9');
    expect(v).toMatchObject({ protocol: 'SIP/2.0', transport: 'UDP', host: '192.0.2.2', port: 5062 });
    expect([...v.params]).toEqual([
      ['branch', 'z9hG4bK1'],
      ['rport', null],
      ['received', '192.0.2.9'],
    ]);
    expect(formatVia(v)).toBe('SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bK1;rport;received=192.0.2.9');
  });

  it('accepts IPv6 sent-by and received, and unknown transports', () => {
    const v = parseVia('SIP/2.0/WSS [2001:db8::1]:443;branch=z9hG4bKx;received=2001:db8::9');
    expect(v).toMatchObject({ transport: 'WSS', host: '[2001:db8::1]', port: 443 });
    expect(v.params.get('received')).toBe('2001:db8::9');
    expect(parseVia('SIP/2.0/UNKNOWN t4.example.com').transport).toBe('UNKNOWN');
  });

  it('refuses malformed Via values', () => {
    expect(reason(() => parseVia('SIP/2.0 host'))).toMatch(/'\/'/);
    expect(reason(() => parseVia('SIP/2.0/UDP'))).toMatch(/space|host/);
    expect(reason(() => parseVia('SIP/2.0/UDPhost'))).toMatch(/space/);
    expect(reason(() => parseVia('SIP/2.0/UDP h;;'))).toMatch(/parameter/);
    expect(reason(() => parseVia('SIP/2.0/UDP h:70000'))).toMatch(/port/);
  });
});

describe('parseCSeq and scalars', () => {
  it('parses CSeq with leading zeros and LWS', () => {
    expect(parseCSeq(' 0009   INVITE ')).toEqual({ seq: 9, method: 'INVITE' });
    expect(parseCSeq('2147483647 ACK')).toEqual({ seq: 2147483647, method: 'ACK' });
  });

  it('bounds CSeq at 2^31-1 (§8.1.1.5) and requires a method', () => {
    expect(reason(() => parseCSeq('2147483648 INVITE'))).toMatch(/2\^31/);
    expect(reason(() => parseCSeq('1'))).toMatch(/space|method/);
    expect(reason(() => parseCSeq('INVITE'))).toMatch(/number/);
    expect(reason(() => parseCSeq('1 INVITE x'))).toMatch(/after/);
  });

  it('parses bounded unsigned numbers', () => {
    expect(parseUnsigned(' 70 ', 255, 'Max-Forwards')).toBe(70);
    expect(reason(() => parseUnsigned('256', 255, 'Max-Forwards'))).toMatch(/out of range/);
    expect(reason(() => parseUnsigned('-1', 255, 'Max-Forwards'))).toMatch(/negative/);
    expect(reason(() => parseUnsigned('1e3', 9999, 'Expires'))).toMatch(/not a number/);
  });

  it('parses token lists and media types', () => {
    expect(parseTokenList('100rel, timer ,replaces')).toEqual(['100rel', 'timer', 'replaces']);
    expect(reason(() => parseTokenList('a, b c'))).toMatch(/token/);
    const mt = parseMediaType('Multipart/Mixed ; boundary="x y"');
    expect(mt).toMatchObject({ type: 'multipart', subtype: 'mixed' });
    expect(mt.params.get('boundary')).toBe('"x y"');
    expect(reason(() => parseMediaType('application'))).toMatch(/'\/'/);
  });

  it('parses and formats parameter strings', () => {
    expect([...parseParams(';a=1;B;c="x;y"')]).toEqual([
      ['a', '1'],
      ['b', null],
      ['c', '"x;y"'],
    ]);
  });
});

describe('splitHeaderValues', () => {
  it('ignores commas inside quotes and angle brackets', () => {
    expect(splitHeaderValues('"a, b" <sip:x@y;p=1,2>, <sip:z@w> ,c')).toEqual([
      '"a, b" <sip:x@y;p=1,2>',
      '<sip:z@w>',
      'c',
    ]);
    expect(splitHeaderValues(' single ')).toEqual(['single']);
    expect(splitHeaderValues('a,,b')).toEqual(['a', '', 'b']);
  });
});

describe('addressTag (From/To tags without a second URI parse)', () => {
  const values = [
    '<sip:bob@example.com>;tag=a6c85cf',
    '<sip:bob@example.com;transport=udp;lr>;tag=x1 ; foo=bar',
    '<sip:bob@example.com>',
    '<sip:bob@example.com;tag=inside-the-uri>',
    'Bob <sip:bob@example.com> ; TAG = up',
    '"Bob <the boss>; tag=fake" <sip:bob@example.com>;tag=real',
    '"a;b>c" <sip:bob@example.com>',
    'sip:bob@example.com;tag=bare',
    'sip:bob@example.com',
    'sip:bob@example.com;transport=tcp',
    '<sip:bob@example.com>;tag="quoted"',
    '<tel:+8613812345678>;tag=t',
  ];
  it.each(values)('%s: the same tag as the full parse', (v) => {
    expect(addressTag(v)).toBe(parseNameAddr(v).params.get('tag') ?? null);
  });
  it('still rejects what the full parse rejects when it cannot find the parameters', () => {
    expect(() => addressTag('<sip:bob@example.com')).toThrow();
    expect(() => addressTag('"unterminated <sip:bob@example.com>')).toThrow();
  });
});

describe('parameters and URI headers that are not there', () => {
  it('share one empty map, which refuses writes; copies are writable', () => {
    const na = parseNameAddr('<sip:bob@example.com>');
    expect(na.params).toBe(NO_PARAMS);
    expect(na.uri.params).toBe(NO_PARAMS);
    expect(na.uri.headers).toBe(NO_URI_HEADERS);
    expect(() => na.params.set('tag', 'x')).toThrow(/shared empty map/);
    expect(() => na.uri.params.delete('lr')).toThrow(/shared empty map/);
    expect(() => na.uri.headers.clear()).toThrow(/shared empty map/);
    expect(NO_PARAMS.size).toBe(0);
    const copy = cloneUri(na.uri);
    copy.params.set('lr', null);
    expect(formatUri(copy)).toBe('sip:bob@example.com;lr');
    expect(NO_PARAMS.size).toBe(0);
  });
  it('a URI or address with parameters gets its own map', () => {
    const a = parseNameAddr('<sip:bob@example.com;lr>;tag=1');
    const b = parseNameAddr('<sip:bob@example.com;lr>;tag=2');
    expect(a.params).not.toBe(b.params);
    expect(a.uri.params).not.toBe(b.uri.params);
    expect(parseUri('sip:bob@example.com?subject=hi').headers.get('subject')).toBe('hi');
    expect(parseNameAddrList('<sip:a@x>, <sip:b@y>;q=0.5').map((n) => n.params.get('q') ?? null)).toEqual([
      null,
      '0.5',
    ]);
  });
});
