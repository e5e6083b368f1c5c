import type BetterSqlite3 from 'better-sqlite3';
import { areaRange } from '../cases/areas.js';
import { CaseValidationError, CaseNotFoundError } from '../cases/errors.js';
import type { Database, Migration } from '../storage/database.js';
import { createLogger } from '../util/log.js';
import {
  compactName,
  defaultStationFields,
  normalizeStation,
  respondentRank,
  validateStation,
  withAreaName,
  type RespondentKey,
  type Station,
  type StationChecks,
  type StationFields,
  type StationInput,
} from './model.js';

/** The 维权站 directory in SQLite; kept by shift leads through /api/merchants. */

const log = createLogger('merchants');

export const merchantMigrations: readonly Migration[] = [
  {
    id: 1,
    name: 'merchant stations',
    up: `
      CREATE TABLE merchant_stations (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        name_key TEXT NOT NULL,
        credit_code TEXT NOT NULL DEFAULT '',
        address TEXT NOT NULL DEFAULT '',
        area TEXT NOT NULL,
        contact_name TEXT NOT NULL DEFAULT '',
        contact_phone TEXT NOT NULL DEFAULT '',
        extension TEXT,
        external_number TEXT,
        trunk TEXT,
        opening_hours TEXT NOT NULL DEFAULT '[]',
        categories TEXT NOT NULL DEFAULT '[]',
        enabled INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        CHECK ((extension IS NULL) <> (external_number IS NULL))
      );
      CREATE INDEX merchant_stations_credit ON merchant_stations (credit_code) WHERE credit_code <> '';
      CREATE INDEX merchant_stations_area ON merchant_stations (area);
      CREATE UNIQUE INDEX merchant_stations_extension ON merchant_stations (extension) WHERE extension IS NOT NULL;
    `,
  },
];

interface Row {
  id: number;
  name: string;
  credit_code: string;
  address: string;
  area: string;
  contact_name: string;
  contact_phone: string;
  extension: string | null;
  external_number: string | null;
  trunk: string | null;
  opening_hours: string;
  categories: string;
  enabled: number;
  created_at: string;
  updated_at: string;
}

function toStation(r: Row): Station {
  return withAreaName({
    id: r.id,
    name: r.name,
    creditCode: r.credit_code,
    address: r.address,
    area: r.area,
    contactName: r.contact_name,
    contactPhone: r.contact_phone,
    extension: r.extension,
    externalNumber: r.external_number,
    trunk: r.trunk,
    openingHours: JSON.parse(r.opening_hours) as Station['openingHours'],
    categories: JSON.parse(r.categories) as string[],
    enabled: r.enabled === 1,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  });
}

export interface StationSearch {
  /** Name fragment, credit code (or its prefix), or a 6-digit area code. */
  q?: string;
  /** GB/T 2260 code; a province or city selects its subtree. */
  area?: string;
  /** The case's respondent: stations matching it come first. */
  respondent?: RespondentKey;
  includeDisabled?: boolean;
  limit?: number;
}

export interface StationHit extends Station {
  /** 0 same credit code, 1 same name, 2 similar name as the case's respondent; null otherwise. */
  respondentMatch: 0 | 1 | 2 | null;
}

export class MerchantRepository {
  private readonly stmts = new Map<string, BetterSqlite3.Statement>();

  constructor(
    private readonly db: Database,
    private readonly checks: StationChecks = {},
    private readonly now: () => Date = () => new Date(),
  ) {
    db.migrate('merchants', merchantMigrations);
  }

  private prep(sql: string): BetterSqlite3.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.sqlite.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  get(id: number): Station | null {
    const r = this.prep('SELECT * FROM merchant_stations WHERE id = ?').get(id) as Row | undefined;
    return r ? toStation(r) : null;
  }

  byExtension(extension: string): Station | null {
    const r = this.prep('SELECT * FROM merchant_stations WHERE extension = ?').get(extension) as Row | undefined;
    return r ? toStation(r) : null;
  }

  list(o: { area?: string; includeDisabled?: boolean } = {}): Station[] {
    return this.search({ area: o.area, includeDisabled: o.includeDisabled ?? true, limit: 10_000 });
  }

  create(input: StationInput): Station {
    const f = this.checked({ ...defaultStationFields(), ...input });
    const at = this.now().toISOString();
    const res = this.prep(
      `INSERT INTO merchant_stations (name, name_key, credit_code, address, area, contact_name, contact_phone,
         extension, external_number, trunk, opening_hours, categories, enabled, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(...this.values(f), at, at);
    const s = this.get(Number(res.lastInsertRowid))!;
    log.info({ stationId: s.id, name: s.name }, 'merchant station created');
    return s;
  }

  /** Replaces the editable fields (PUT semantics: omitted optional fields take their defaults). */
  update(id: number, input: StationInput): Station {
    if (!this.get(id)) throw new CaseNotFoundError(`维权站 ${id}`);
    const f = this.checked({ ...defaultStationFields(), ...input }, id);
    this.prep(
      `UPDATE merchant_stations SET name = ?, name_key = ?, credit_code = ?, address = ?, area = ?, contact_name = ?,
         contact_phone = ?, extension = ?, external_number = ?, trunk = ?, opening_hours = ?, categories = ?,
         enabled = ?, updated_at = ? WHERE id = ?`,
    ).run(...this.values(f), this.now().toISOString(), id);
    log.info({ stationId: id }, 'merchant station updated');
    return this.get(id)!;
  }

  remove(id: number): boolean {
    const ok = this.prep('DELETE FROM merchant_stations WHERE id = ?').run(id).changes === 1;
    if (ok) log.info({ stationId: id }, 'merchant station removed');
    return ok;
  }

  /**
   * Search by name fragment, credit code or area. With a respondent, every enabled station matching it
   * (by credit code, then name) is listed first even when the text does not select it: the agent
   * should see the respondent's own station before anything else.
   */
  search(s: StationSearch): StationHit[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (!s.includeDisabled) where.push('enabled = 1');
    if (s.area) {
      const range = areaRange(s.area);
      if (!range)
        throw new CaseValidationError([{ field: 'area', code: 'invalid', message: '不是有效的行政区划代码' }]);
      where.push('area >= ? AND area < ?');
      args.push(...range);
    }
    const q = (s.q ?? '').trim();
    if (q) {
      const alts = ["name_key LIKE ? ESCAPE '\\'", 'credit_code LIKE ?'];
      args.push(`%${likeEscape(compactName(q))}%`, `${q.toUpperCase().replace(/[%_]/g, '')}%`);
      const range = /^\d{6}$/.test(q) ? areaRange(q) : null;
      if (range) {
        alts.push('(area >= ? AND area < ?)');
        args.push(...range);
      }
      where.push(`(${alts.join(' OR ')})`);
    }
    const limit = Math.min(Math.max(s.limit ?? 50, 1), 10_000);
    const sql = `SELECT * FROM merchant_stations ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                 ORDER BY name COLLATE NOCASE, id LIMIT ?`;
    const hits: StationHit[] = (this.prep(sql).all(...args, limit) as Row[]).map((r) => ({
      ...toStation(r),
      respondentMatch: null,
    }));
    if (!s.respondent) return hits;

    const r = s.respondent;
    const matched = this.respondentCandidates(r, s.includeDisabled ?? false)
      .map((st) => ({ ...st, respondentMatch: respondentRank(st, r) }))
      .filter((h) => h.respondentMatch !== null)
      .sort((a, b) => a.respondentMatch! - b.respondentMatch! || a.name.localeCompare(b.name, 'zh-CN'));
    const seen = new Set(matched.map((h) => h.id));
    return [...matched, ...hits.filter((h) => !seen.has(h.id))].slice(0, limit);
  }

  private respondentCandidates(r: RespondentKey, includeDisabled: boolean): Station[] {
    const code = r.creditCode.trim().toUpperCase();
    const name = compactName(r.name);
    if (!code && name.length < 2) return [];
    // Same code, or a name containing the respondent's; the reverse containment is checked in JS
    // over the short list that shares the respondent's first two characters.
    const rows = this.prep(
      `SELECT * FROM merchant_stations
        WHERE (? = 1 OR enabled = 1)
          AND ((? <> '' AND credit_code = ?) OR (? <> '' AND (name_key LIKE ? ESCAPE '\\' OR name_key LIKE ? ESCAPE '\\')))
        LIMIT 200`,
    ).all(
      includeDisabled ? 1 : 0,
      code,
      code,
      name,
      `%${likeEscape(name)}%`,
      `${likeEscape(name.slice(0, 2))}%`,
    ) as Row[];
    return rows.map(toStation);
  }

  private checked(input: StationFields, id?: number): StationFields {
    const f = normalizeStation(input);
    const errors = validateStation(f, this.checks);
    if (f.extension !== null && !errors.some((e) => e.field === 'extension')) {
      const other = this.byExtension(f.extension);
      if (other && other.id !== id) {
        errors.push({
          field: 'extension',
          code: 'invalid',
          message: `分机 ${f.extension} 已属于维权站「${other.name}」`,
        });
      }
    }
    if (errors.length) throw new CaseValidationError(errors);
    return f;
  }

  private values(f: StationFields): (string | number | null)[] {
    return [
      f.name,
      compactName(f.name),
      f.creditCode,
      f.address,
      f.area,
      f.contactName,
      f.contactPhone,
      f.extension,
      f.externalNumber,
      f.trunk,
      JSON.stringify(f.openingHours),
      JSON.stringify(f.categories),
      f.enabled ? 1 : 0,
    ];
  }

  /** The demo station for extension 3001 (server/directory/seed.ts), once. */
  seedDemo(): Station | null {
    if (this.byExtension('3001')) return null;
    if (this.checks.deviceKind && this.checks.deviceKind('3001') !== 'station') return null;
    return this.create({
      name: '示例家电维权站（深圳南山）',
      creditCode: '91440300MA5DEM0019',
      address: '广东省深圳市南山区科技园示例路 1 号',
      area: '440305',
      contactName: '王经理',
      contactPhone: '075512345678',
      extension: '3001',
      openingHours: [{ days: [1, 2, 3, 4, 5, 6, 7], from: '09:00', to: '21:00' }],
      categories: ['G01'],
    });
  }
}

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}
