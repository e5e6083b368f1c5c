import type BetterSqlite3 from 'better-sqlite3';
import type { Database } from '../storage/database.js';
import { codePoints } from '../util/text.js';
import seedData from './seed-articles.json' with { type: 'json' };
import { kbMigrations } from './schema.js';

/**
 * Knowledge base for agents on a call: statute excerpts, 三包 rules and FAQs, searched in Chinese
 * through an FTS5 trigram index. Leads edit; every edit bumps a version (optimistic concurrency, like
 * cases). Deletes are soft so a link pasted into a case note keeps resolving to something.
 */

export type KbKind = 'law' | 'faq' | 'rule';
export const KB_KINDS: readonly KbKind[] = ['law', 'faq', 'rule'];

export interface KbArticle {
  id: number;
  key: string | null;
  kind: KbKind;
  title: string;
  body: string;
  source: string;
  tags: string[];
  version: number;
  updatedBy: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface KbInput {
  key?: string | null;
  kind: KbKind;
  title: string;
  body: string;
  source?: string;
  tags?: string[];
}

export interface KbHit {
  id: number;
  kind: KbKind;
  title: string;
  source: string;
  tags: string[];
  /** Plain text around the first match (no markup: the UI highlights `terms` itself). */
  snippet: string;
  terms: string[];
}

export class KbError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fieldErrors: { field: string; code: string; message: string }[] = [],
    readonly currentVersion?: number,
  ) {
    super(message);
  }
}

interface Row {
  id: number;
  key: string | null;
  kind: KbKind;
  title: string;
  body: string;
  source: string;
  tags: string;
  version: number;
  deleted: number;
  updated_by: number | null;
  created_at: string;
  updated_at: string;
}

const MAX_TERMS = 8;
/** Separators: whitespace and common CJK / ASCII punctuation. */
const SPLIT_RE = /[\s,，。、；;：:！!？?“”"'‘’（）()《》<>【】[\]]+/u;

function toArticle(r: Row): KbArticle {
  return {
    id: r.id,
    key: r.key,
    kind: r.kind,
    title: r.title,
    body: r.body,
    source: r.source,
    tags: r.tags ? r.tags.split(' ') : [],
    version: r.version,
    updatedBy: r.updated_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function searchTerms(q: string): string[] {
  const seen = new Set<string>();
  for (const t of q.split(SPLIT_RE)) if (t) seen.add(t.toLowerCase());
  return [...seen].slice(0, MAX_TERMS);
}

function snippetOf(text: string, terms: string[], width = 60): string {
  const lower = text.toLowerCase();
  let at = -1;
  for (const t of terms) {
    const i = lower.indexOf(t);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  const chars = [...text];
  if (chars.length <= width) return text.replace(/\n/g, ' ');
  const start = Math.max(0, Math.min(at < 0 ? 0 : [...text.slice(0, at)].length - 15, chars.length - width));
  return (
    (start > 0 ? '…' : '') +
    chars
      .slice(start, start + width)
      .join('')
      .replace(/\n/g, ' ') +
    (start + width < chars.length ? '…' : '')
  );
}

export class KbRepository {
  private readonly s: BetterSqlite3.Database;
  private readonly now: () => Date;

  constructor(
    private readonly db: Database,
    o: { now?: () => Date } = {},
  ) {
    db.migrate('kb', kbMigrations);
    this.s = db.sqlite;
    this.now = o.now ?? (() => new Date());
  }

  /** Inserts bundled articles whose key is not in the database yet (edited ones are left alone). */
  seed(
    articles: (KbInput & { key: string })[] = (seedData as { articles: (KbInput & { key: string })[] }).articles,
  ): number {
    let n = 0;
    this.db.transaction(() => {
      for (const a of articles) {
        if (this.s.prepare('SELECT 1 FROM kb_articles WHERE key = ?').get(a.key)) continue;
        this.insert(a, null);
        n++;
      }
    });
    return n;
  }

  get(id: number): KbArticle {
    const r = this.s.prepare('SELECT * FROM kb_articles WHERE id = ? AND deleted = 0').get(id) as Row | undefined;
    if (!r) throw new KbError(404, 'not_found', `条目 ${id} 不存在`);
    return toArticle(r);
  }

  list(kind?: KbKind): KbArticle[] {
    const rows = (
      kind
        ? this.s.prepare('SELECT * FROM kb_articles WHERE deleted = 0 AND kind = ? ORDER BY kind, title').all(kind)
        : this.s.prepare('SELECT * FROM kb_articles WHERE deleted = 0 ORDER BY kind, title').all()
    ) as Row[];
    return rows.map(toArticle);
  }

  /**
   * All terms must match (AND). Terms of 3+ characters go through the trigram index and are ranked by
   * bm25 with title and tags weighted over body; 1–2 character terms (most Chinese words: 退货, 三包)
   * are too short for trigrams and are checked with instr() on the rows, which is fine at KB size.
   */
  search(q: string, o: { kind?: KbKind; limit?: number } = {}): KbHit[] {
    const terms = searchTerms(q);
    if (terms.length === 0) return [];
    const limit = Math.min(Math.max(1, o.limit ?? 20), 100);
    const long = terms.filter((t) => codePoints(t) >= 3);
    const short = terms.filter((t) => codePoints(t) < 3);
    const where = ['a.deleted = 0'];
    const args: (string | number)[] = [];
    for (const t of short) {
      where.push(`instr(lower(a.title || ' ' || a.tags || ' ' || a.body), ?) > 0`);
      args.push(t);
    }
    if (o.kind) {
      where.push('a.kind = ?');
      args.push(o.kind);
    }
    let rows: Row[];
    if (long.length) {
      const match = long.map((t) => `"${t.replace(/"/g, '""')}"`).join(' AND ');
      rows = this.s
        .prepare(
          `SELECT a.* FROM kb_fts JOIN kb_articles a ON a.id = kb_fts.rowid
           WHERE kb_fts MATCH ? AND ${where.join(' AND ')}
           ORDER BY bm25(kb_fts, 10.0, 1.0, 5.0) LIMIT ?`,
        )
        .all(match, ...args, limit) as Row[];
    } else {
      // Without bm25: title hits first, then tag hits, then newest.
      const first = short[0]!;
      rows = this.s
        .prepare(
          `SELECT a.* FROM kb_articles a WHERE ${where.join(' AND ')}
           ORDER BY instr(lower(a.title), ?) = 0, instr(lower(a.tags), ?) = 0, a.updated_at DESC LIMIT ?`,
        )
        .all(...args, first, first, limit) as Row[];
    }
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      title: r.title,
      source: r.source,
      tags: r.tags ? r.tags.split(' ') : [],
      snippet: snippetOf(r.body, terms),
      terms,
    }));
  }

  create(a: KbInput, actorId: number | null): KbArticle {
    this.validate(a);
    try {
      return this.get(this.insert(a, actorId));
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE')
        throw new KbError(409, 'duplicate', `key ${a.key} 已存在`);
      throw err;
    }
  }

  update(id: number, version: number, a: KbInput, actorId: number | null): KbArticle {
    this.validate(a);
    return this.db.transaction(() => {
      const cur = this.get(id);
      if (cur.version !== version) {
        throw new KbError(
          409,
          'version_conflict',
          `条目已被修改（当前版本 ${cur.version}），请刷新后再改`,
          [],
          cur.version,
        );
      }
      this.s
        .prepare(
          `UPDATE kb_articles SET kind = ?, title = ?, body = ?, source = ?, tags = ?, updated_by = ?, updated_at = ?,
             version = version + 1 WHERE id = ? AND version = ?`,
        )
        .run(
          a.kind,
          a.title.trim(),
          a.body.trim(),
          a.source?.trim() ?? '',
          (a.tags ?? []).join(' '),
          actorId,
          this.now().toISOString(),
          id,
          version,
        );
      return this.get(id);
    });
  }

  remove(id: number, version: number, actorId: number | null): void {
    this.db.transaction(() => {
      const cur = this.get(id);
      if (cur.version !== version)
        throw new KbError(409, 'version_conflict', '条目已被修改，请刷新后再删', [], cur.version);
      this.s
        .prepare(
          'UPDATE kb_articles SET deleted = 1, version = version + 1, updated_by = ?, updated_at = ? WHERE id = ?',
        )
        .run(actorId, this.now().toISOString(), id);
    });
  }

  private insert(a: KbInput, actorId: number | null): number {
    const at = this.now().toISOString();
    const res = this.s
      .prepare(
        `INSERT INTO kb_articles (key, kind, title, body, source, tags, updated_by, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        a.key ?? null,
        a.kind,
        a.title.trim(),
        a.body.trim(),
        a.source?.trim() ?? '',
        (a.tags ?? []).join(' '),
        actorId,
        at,
        at,
      );
    return Number(res.lastInsertRowid);
  }

  private validate(a: KbInput): void {
    const errs: { field: string; code: string; message: string }[] = [];
    if (!KB_KINDS.includes(a.kind))
      errs.push({ field: 'kind', code: 'invalid', message: '类型应为法规、问答或三包规则' });
    if (!a.title?.trim()) errs.push({ field: 'title', code: 'required', message: '请填写标题' });
    if (!a.body?.trim()) errs.push({ field: 'body', code: 'required', message: '请填写正文' });
    for (const t of a.tags ?? []) {
      if (!t || /\s/.test(t)) errs.push({ field: 'tags', code: 'invalid', message: '标签不能为空或含空格' });
    }
    if (errs.length) throw new KbError(400, 'validation', '输入有误', errs);
  }
}
