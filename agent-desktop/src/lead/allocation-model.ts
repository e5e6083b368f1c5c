/** Skills as the lead types them ("food:3, medical:2") ↔ the API's map; levels 1–5 as the route checks. */

export function formatSkills(skills: Record<string, number>): string {
  return Object.entries(skills)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}:${v}`)
    .join(', ');
}

/** The map, or a Chinese message naming the bad part. */
export function parseSkills(text: string): Record<string, number> | string {
  const out: Record<string, number> = {};
  for (const part of text.split(/[,，\s]+/).filter(Boolean)) {
    const m = /^([a-z][a-z0-9_]{0,31})[:：]([1-5])$/.exec(part);
    if (!m) return `技能格式错误：“${part}”（应为 名称:等级，等级 1–5）`;
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** "YYYY-MM-DD HH:mm:ss" in Beijing time (audit entries are stored as UTC ISO strings). */
export function beijingTime(epochMs: number): string {
  return new Date(epochMs + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
}
