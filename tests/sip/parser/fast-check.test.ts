import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fastMediaType, fastNameAddr, fastTokenList, fastVia } from '../../../server/sip/parser/fast-check.js';
import {
  parseMediaType,
  parseNameAddr,
  parseTokenList,
  parseVia,
  splitHeaderValues,
} from '../../../server/sip/message/grammar.js';

/** Header values from every RFC 4475 fixture, unfolded and split like the parser does. */
function corpus(): Record<'addr' | 'via' | 'tokens' | 'media', string[]> {
  const dir = fileURLToPath(new URL('../../fixtures/rfc4475/', import.meta.url));
  const out = { addr: [] as string[], via: [] as string[], tokens: [] as string[], media: [] as string[] };
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.dat'))) {
    const text = readFileSync(dir + f, 'utf8');
    const head = text.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
    for (const line of head.split(/\r?\n/).slice(1)) {
      const m = /^([^:\s]+)\s*:(.*)$/.exec(line);
      if (!m) continue;
      const name = m[1]!.toLowerCase();
      let parts: string[];
      try {
        parts = splitHeaderValues(m[2]!);
      } catch {
        parts = [m[2]!];
      }
      if (['from', 'f', 'to', 't', 'contact', 'm', 'route', 'record-route'].includes(name)) out.addr.push(...parts);
      else if (name === 'via' || name === 'v') out.via.push(...parts);
      else if (['require', 'supported', 'allow', 'proxy-require'].includes(name)) out.tokens.push(m[2]!);
      else if (name === 'content-type' || name === 'c') out.media.push(m[2]!);
    }
  }
  out.addr.push(
    '"张三" <sip:+8613812345678@[2001:db8::1]:5060;user=phone>;tag=x',
    'Agent 1007 <sips:1007:pw@a.example.cn:65535;transport=tls?Subject=x%20y>;expires=60',
    '<sip:a@b:65536>',
    '<sip:a@b:05060>',
    'sip:a@b?x=y',
  );
  out.tokens.push('replaces, timer, 100rel', 'INVITE,ACK ,CANCEL', ' x ');
  out.media.push('application/sdp', 'multipart/mixed;boundary="x y"', 'text/plain ; charset=utf-8');
  out.via.push('SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;received=::1;rport', 'SIP/2.0/TCP h:99999');
  return out;
}

/** Deterministic mutations: the subset property must hold on near-misses, where bugs hide. */
function mutations(seed: string[], n: number): string[] {
  const alphabet = ' \t;:,@<>"\\%=?&[]/.-_!~*\'()+$`aZ09\u00e9\u0000\u007f';
  let x = 0x9e3779b9;
  const rnd = (k: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % k;
  };
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let s = seed[rnd(seed.length)]!;
    for (let j = 1 + rnd(3); j > 0; j--) {
      const p = rnd(s.length + 1);
      const c = alphabet[rnd(alphabet.length)]!;
      const op = rnd(3);
      s =
        op === 0
          ? s.slice(0, p) + c + s.slice(p)
          : op === 1
            ? s.slice(0, p) + s.slice(p + 1)
            : s.slice(0, p) + c + s.slice(p + 1);
    }
    out.push(s);
  }
  return out;
}

function accepts(parse: (v: string) => unknown, v: string): boolean {
  try {
    parse(v);
    return true;
  } catch {
    return false;
  }
}

describe('fast-check regexes accept only what the full grammar accepts', () => {
  const c = corpus();
  const cases: [string, string[], (v: string) => boolean, (v: string) => unknown][] = [
    ['name-addr', c.addr, fastNameAddr, parseNameAddr],
    ['Via', c.via, fastVia, parseVia],
    ['token list', c.tokens, fastTokenList, parseTokenList],
    ['media type', c.media, fastMediaType, parseMediaType],
  ];
  for (const [what, seed, fast, full] of cases) {
    it(`${what}: ${seed.length} fixture values and 4000 mutations`, () => {
      expect(seed.length).toBeGreaterThan(2);
      let fastHits = 0;
      for (const v of [...seed, ...mutations(seed, 4000)]) {
        if (!fast(v)) continue;
        fastHits++;
        expect(accepts(full, v), JSON.stringify(v)).toBe(true);
      }
      // the fast path must actually be taken for ordinary values
      expect(fastHits).toBeGreaterThan(seed.length / 3);
    });
  }

  it('falls back on the shapes it does not cover', () => {
    expect(fastNameAddr('<sip:a@[::1]>')).toBe(false);
    expect(parseNameAddr('<sip:a@[::1]>').uri.host).toBe('[::1]');
    expect(fastNameAddr('<sip:a@b:65536>')).toBe(false);
    expect(fastNameAddr('sip:a@b?x=y')).toBe(false);
    expect(fastVia('SIP/2.0/UDP h:99999')).toBe(false);
  });

  it('stays linear on hostile input', () => {
    const evil = 'a '.repeat(20000) + '!';
    const t0 = performance.now();
    expect(fastNameAddr(evil)).toBe(false);
    expect(fastNameAddr('"' + '\\a'.repeat(20000))).toBe(false);
    expect(fastVia('SIP/2.0/UDP h' + ';a'.repeat(20000) + ' x')).toBe(false);
    expect(performance.now() - t0).toBeLessThan(500);
  });
});
