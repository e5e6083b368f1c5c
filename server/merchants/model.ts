import { areaInfo, areaName } from '../cases/areas.js';
import { defaultCategories, type Categories } from '../cases/categories.js';
import { checkCreditCode, CREDIT_CODE_MESSAGES, normalizeCreditCode } from '../cases/credit-code.js';
import type { FieldError } from '../cases/model.js';
import { codePoints } from '../util/text.js';

/**
 * 维权站 (merchant stations): businesses that agreed to settle consumer disputes directly, reached in a
 * three-way call with the consumer and the 12315 agent. Shapes, validation and search ranking. Pure.
 */

/** One opening-hours rule: ISO weekdays (1 = Monday … 7 = Sunday) and a local time window. */
export interface OpeningRule {
  days: number[];
  /** 'HH:MM', Asia/Shanghai local time. */
  from: string;
  to: string;
}

export interface StationFields {
  name: string;
  /** 统一社会信用代码 (GB 32100-2015), '' when unknown. */
  creditCode: string;
  address: string;
  /** GB/T 2260 code of the station's location. */
  area: string;
  contactName: string;
  /** The station's own business phone (not a consumer's: shown in clear to staff). */
  contactPhone: string;
  /** A registered SIP device of kind `station` … */
  extension: string | null;
  /** … or a number outside, dialled through `trunk`. Exactly one of the two. */
  externalNumber: string | null;
  trunk: string | null;
  openingHours: OpeningRule[];
  /** Goods/service category codes from server/cases/categories.json. */
  categories: string[];
  enabled: boolean;
}

export interface Station extends StationFields {
  id: number;
  areaName: string;
  createdAt: string;
  updatedAt: string;
}

export type StationInput = Partial<StationFields> & { name: string; area: string };

/** What the directory needs to know about the rest of the system to validate a station. */
export interface StationChecks {
  /** Kind of a registered SIP device, null when there is none. */
  deviceKind?: (extension: string) => 'seat' | 'station' | null;
  trunkExists?: (name: string) => boolean;
  categories?: Categories;
}

const MAX_LEN: Record<string, number> = { name: 100, address: 200, contactName: 50, contactPhone: 40 };
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;

export function defaultStationFields(): StationFields {
  return {
    name: '',
    creditCode: '',
    address: '',
    area: '',
    contactName: '',
    contactPhone: '',
    extension: null,
    externalNumber: null,
    trunk: null,
    openingHours: [],
    categories: [],
    enabled: true,
  };
}

/** Trims and canonicalises; empty strings of the optional reach fields become null. */
export function normalizeStation(f: StationFields): StationFields {
  const opt = (v: string | null) => (v === null || v.trim() === '' ? null : v.trim());
  return {
    ...f,
    name: f.name.trim(),
    creditCode: normalizeCreditCode(f.creditCode),
    address: f.address.trim(),
    area: f.area.trim(),
    contactName: f.contactName.trim(),
    contactPhone: f.contactPhone.trim().replace(/[\s-]/g, ''),
    extension: opt(f.extension),
    externalNumber: opt(f.externalNumber)?.replace(/[\s-]/g, '') ?? null,
    trunk: opt(f.trunk),
    categories: [...new Set(f.categories.map((c) => c.trim()).filter(Boolean))],
  };
}

/** Every problem at once, by dotted field name, in the shape the case API uses. */
export function validateStation(f: StationFields, checks: StationChecks = {}): FieldError[] {
  const errors: FieldError[] = [];
  const err = (field: string, code: FieldError['code'], message: string) => errors.push({ field, code, message });
  if (!f.name) err('name', 'required', '请填写维权站名称');
  for (const [k, max] of Object.entries(MAX_LEN)) {
    const v = f[k as keyof StationFields] as string;
    if (codePoints(v) > max) err(k, 'too_long', `不能超过 ${max} 个字`);
  }
  if (f.creditCode) {
    const p = checkCreditCode(f.creditCode);
    if (p) err('creditCode', 'invalid', CREDIT_CODE_MESSAGES[p]);
  }
  if (!f.area) err('area', 'required', '请选择所在地区');
  else if (!areaInfo(f.area)) err('area', 'invalid', '不是有效的行政区划代码（GB/T 2260）');
  if (f.contactPhone && !/^\+?\d{3,20}$/.test(f.contactPhone)) err('contactPhone', 'invalid', '联系电话格式不正确');

  if (f.extension === null && f.externalNumber === null) {
    err('extension', 'required', '请填写分机号或外部号码（二选一）');
  } else if (f.extension !== null && f.externalNumber !== null) {
    err('externalNumber', 'not_allowed', '分机号和外部号码只能填一个');
  }
  if (f.extension !== null) {
    if (!/^\d{2,10}$/.test(f.extension)) err('extension', 'invalid', '分机号应为 2–10 位数字');
    else if (checks.deviceKind) {
      const kind = checks.deviceKind(f.extension);
      if (kind === null) err('extension', 'unknown', `分机 ${f.extension} 未在设备目录中登记`);
      else if (kind !== 'station') err('extension', 'invalid', `分机 ${f.extension} 是坐席分机，不是维权站设备`);
    }
  }
  if (f.externalNumber !== null) {
    if (!/^\+?\d{3,20}$/.test(f.externalNumber)) err('externalNumber', 'invalid', '外部号码格式不正确');
    if (f.trunk === null) err('trunk', 'required', '外部号码需要指定中继');
  }
  if (f.trunk !== null) {
    if (f.externalNumber === null) err('trunk', 'not_allowed', '只有外部号码需要中继');
    else if (checks.trunkExists && !checks.trunkExists(f.trunk)) err('trunk', 'unknown', `中继 ${f.trunk} 不存在`);
  }

  f.openingHours.forEach((r, i) => {
    const at = `openingHours.${i}`;
    if (!r.days.length || r.days.some((d) => !Number.isInteger(d) || d < 1 || d > 7)) {
      err(`${at}.days`, 'invalid', '星期应为 1（周一）到 7（周日）');
    }
    if (!HHMM.test(r.from)) err(`${at}.from`, 'invalid', '时间格式应为 HH:MM');
    if (!HHMM.test(r.to)) err(`${at}.to`, 'invalid', '时间格式应为 HH:MM');
    else if (HHMM.test(r.from) && r.from >= r.to) err(`${at}.to`, 'invalid', '结束时间应晚于开始时间');
  });
  const cats = checks.categories ?? defaultCategories();
  f.categories.forEach((c, i) => {
    if (!cats.get(c)) err(`categories.${i}`, 'unknown', `未知的商品/服务类别 ${c}`);
  });
  return errors;
}

/** Weekday (1–7) and 'HH:MM' of an instant in Asia/Shanghai (UTC+8 all year, no DST). */
function shanghaiClock(at: Date): { day: number; hhmm: string } {
  const t = new Date(at.getTime() + 8 * 3600_000);
  const day = t.getUTCDay() === 0 ? 7 : t.getUTCDay();
  const hhmm = `${String(t.getUTCHours()).padStart(2, '0')}:${String(t.getUTCMinutes()).padStart(2, '0')}`;
  return { day, hhmm };
}

/** Open at `at`? No rules means the hours are unknown: treated as open, the agent decides. */
export function isOpenAt(rules: readonly OpeningRule[], at: Date): boolean {
  if (rules.length === 0) return true;
  const { day, hhmm } = shanghaiClock(at);
  return rules.some((r) => r.days.includes(day) && r.from <= hhmm && hhmm < r.to);
}

/** A case's respondent as the search ranks stations against it. */
export interface RespondentKey {
  creditCode: string;
  name: string;
}

/**
 * How well a station matches a case's respondent: 0 same credit code, 1 same name, 2 one name contains
 * the other (branches: 「某某电器（南山店）」), null no match. The credit code is the identity; names are
 * only a fallback because agents type respondents' names in many ways.
 */
export function respondentRank(s: Pick<Station, 'creditCode' | 'name'>, r: RespondentKey): 0 | 1 | 2 | null {
  const code = normalizeCreditCode(r.creditCode);
  if (code && s.creditCode && code === s.creditCode) return 0;
  const a = compactName(s.name);
  const b = compactName(r.name);
  if (!a || !b) return null;
  if (a === b) return 1;
  if (b.length >= 2 && (a.includes(b) || b.includes(a))) return 2;
  return null;
}

/** Name for comparison: no spaces, brackets unified, case folded. */
export function compactName(n: string): string {
  return n.replace(/\s+/g, '').replace(/[（]/g, '(').replace(/[）]/g, ')').toLowerCase();
}

export function withAreaName<T extends { area: string }>(s: T): T & { areaName: string } {
  return { ...s, areaName: areaName(s.area) ?? '' };
}
