import { describe, expect, it } from 'vitest';
import { AuthParseError, formatAuthHeader, parseAuthHeader, quoteString } from '../../../server/sip/auth/params.js';

describe('parseAuthHeader', () => {
  it('parses quoted and token values, lower-cases names, keeps value case', () => {
    const c = parseAuthHeader(
      'Digest username="8001",Realm="12315.local" ,  nonce="abc", uri="sip:12315.local", response="AbC", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="x y"',
    );
    expect(c.scheme).toBe('Digest');
    expect(c.params.get('username')).toBe('8001');
    expect(c.params.get('realm')).toBe('12315.local');
    expect(c.params.get('response')).toBe('AbC');
    expect(c.params.get('algorithm')).toBe('SHA-256');
    expect(c.params.get('qop')).toBe('auth');
    expect(c.params.get('cnonce')).toBe('x y');
    expect(c.params.size).toBe(9);
  });

  it('resolves escapes and keeps commas and equals inside quoted strings', () => {
    const c = parseAuthHeader('Digest realm="a\\"b,c=d", username="x\\\\y", uri="sip:a@b;x=1,2"');
    expect(c.params.get('realm')).toBe('a"b,c=d');
    expect(c.params.get('username')).toBe('x\\y');
    expect(c.params.get('uri')).toBe('sip:a@b;x=1,2');
  });

  it('tolerates empty list elements and folded whitespace', () => {
    const c = parseAuthHeader('Digest ,realm="r",,\r\n\tnonce="n",');
    expect([...c.params.keys()]).toEqual(['realm', 'nonce']);
  });

  it.each([
    ['', 'missing scheme'],
    ['Digest realm', 'no ='],
    ['Digest realm="abc', 'unterminated'],
    ['Digest realm="a" nonce="b"', 'missing comma'],
    ['Digest realm="a", realm="b"', 'duplicate'],
    ['Digest realm=', 'empty value'],
    ['Digest realm="a\\', 'dangling escape'],
  ])('rejects %j (%s)', (input) => {
    expect(() => parseAuthHeader(input)).toThrow(AuthParseError);
  });
});

describe('formatAuthHeader', () => {
  it('quotes and escapes, and round-trips through the parser', () => {
    const v = formatAuthHeader('Digest', [
      ['realm', 'we "quote"\\', 'quoted'],
      ['algorithm', 'MD5', 'token'],
      ['stale', 'true', 'token'],
    ]);
    expect(v).toBe('Digest realm="we \\"quote\\"\\\\", algorithm=MD5, stale=true');
    const back = parseAuthHeader(v);
    expect(back.params.get('realm')).toBe('we "quote"\\');
    expect(back.params.get('stale')).toBe('true');
  });

  it('refuses a non-token value written bare', () => {
    expect(() => formatAuthHeader('Digest', [['algorithm', 'a b', 'token']])).toThrow();
    expect(quoteString('a')).toBe('"a"');
  });
});
