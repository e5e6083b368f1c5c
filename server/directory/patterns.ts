/**
 * Outbound dial patterns for seats and stations, in the Asterisk style that PBX administrators know:
 *   X = any digit, Z = 1-9, N = 2-9, [1-5a] = one of, '.' = one or more further characters,
 *   '!' = zero or more further characters; anything else (digits, '*', '#', '+') is literal.
 * A pattern matches the whole number.
 */

const cache = new Map<string, RegExp>();

export function compileDialPattern(pattern: string): RegExp {
  const hit = cache.get(pattern);
  if (hit) return hit;
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    const u = c.toUpperCase();
    if (u === 'X') re += '[0-9]';
    else if (u === 'Z') re += '[1-9]';
    else if (u === 'N') re += '[2-9]';
    else if (c === '.' || c === '!') {
      if (i !== pattern.length - 1) throw new Error(`"${c}" must end the dial pattern: ${pattern}`);
      re += c === '.' ? '.+' : '.*';
    } else if (c === '[') {
      const end = pattern.indexOf(']', i);
      if (end < 0) throw new Error(`unclosed [ in dial pattern: ${pattern}`);
      const body = pattern.slice(i + 1, end);
      if (!/^[0-9*#+](?:-[0-9]|[0-9*#+])*$/.test(body)) throw new Error(`bad class [${body}] in dial pattern`);
      re += '[' + body.replace(/[*#+]/g, (x) => '\\' + x) + ']';
      i = end;
    } else if (/[0-9*#+]/.test(c)) re += c === '*' || c === '+' ? '\\' + c : c;
    else throw new Error(`bad character "${c}" in dial pattern: ${pattern}`);
  }
  const compiled = new RegExp(re + '$');
  cache.set(pattern, compiled);
  return compiled;
}

export function matchesDialPattern(pattern: string, number: string): boolean {
  return compileDialPattern(pattern).test(number);
}

export function mayDial(patterns: readonly string[], number: string): boolean {
  return patterns.some((p) => matchesDialPattern(p, number));
}
