import { areaInfo } from './areas.js';
import type { Categories } from './categories.js';
import { checkCreditCode, CREDIT_CODE_MESSAGES, normalizeCreditCode } from './credit-code.js';
import type { DeadlineKind } from './deadlines.js';
import { CASE_TYPES, type CaseStatus, type CaseType } from './workflow.js';
import { codePoints } from '../util/text.js';

/** Case data shapes, field validation and the per-type wrap-up completeness check. Pure. */

export interface Consumer {
  name: string;
  phone: string;
  address: string;
}

export interface Respondent {
  name: string;
  /** 统一社会信用代码, '' when unknown. */
  creditCode: string;
  address: string;
  /** GB/T 2260 code of the respondent's location, '' when unknown. */
  area: string;
}

/** The editable content of a case. */
export interface CaseFields {
  consumer: Consumer;
  respondent: Respondent;
  /** GB/T 2260 code of where the dispute arose (decides the competent unit). */
  area: string;
  category: string;
  problemType: string;
  /** 涉案金额 in yuan, two decimals at most. */
  amount: number | null;
  /** 诉求 */
  request: string;
  description: string;
  /** 答复: the answer given, mainly for consultations. */
  reply: string;
  /** 诉转案: the complaint revealed a violation and was turned into an enforcement case. */
  complaintToCase: boolean;
}

export type CasePatch = Partial<Omit<CaseFields, 'consumer' | 'respondent'>> & {
  consumer?: Partial<Consumer>;
  respondent?: Partial<Respondent>;
  type?: CaseType;
};

export interface CaseLink {
  id: number;
  kind: LinkKind;
  ref: string;
  note: string;
  createdAt: string;
}

export type LinkKind = 'call' | 'recording' | 'voicemail' | 'attachment';
export const LINK_KINDS: readonly LinkKind[] = ['call', 'recording', 'voicemail', 'attachment'];

export interface CaseRecord extends CaseFields {
  id: number;
  number: string;
  type: CaseType;
  status: CaseStatus;
  statusLabel: string;
  /** Optimistic concurrency token; every write must send the version it read. */
  version: number;
  channel: string;
  queue: string;
  agentId: number | null;
  ivrPath: string;
  parentId: number | null;
  unit: { id: number; name: string } | null;
  heldSince: string | null;
  /** Reason of the last move that needs one (不予受理, 调解终止, 不立案, 作废). */
  statusReason: string;
  receivedDate: string;
  acceptedDate: string | null;
  closedAt: string | null;
  deadline: { kind: DeadlineKind; due: string; overdue: boolean; dueSoon: boolean; calendarCovered: boolean } | null;
  followUp: { satisfaction: number; note: string; at: string } | null;
  createdBy: number | null;
  createdAt: string;
  updatedAt: string;
  links: CaseLink[];
}

export interface FieldError {
  field: string;
  code: 'required' | 'invalid' | 'too_long' | 'unknown' | 'not_allowed';
  message: string;
}

/** Flat dotted names of every editable field, in display order. */
export const FIELD_NAMES = [
  'type',
  'consumer.name',
  'consumer.phone',
  'consumer.address',
  'respondent.name',
  'respondent.creditCode',
  'respondent.address',
  'respondent.area',
  'area',
  'category',
  'problemType',
  'amount',
  'request',
  'description',
  'reply',
  'complaintToCase',
] as const;
export type FieldName = (typeof FIELD_NAMES)[number];
export type FlatValue = string | number | boolean | null;

const MAX_LEN: Partial<Record<FieldName, number>> = {
  'consumer.name': 50,
  'consumer.address': 200,
  'respondent.name': 100,
  'respondent.address': 200,
  request: 2000,
  description: 5000,
  reply: 5000,
};

export function emptyFields(): CaseFields {
  return {
    consumer: { name: '', phone: '', address: '' },
    respondent: { name: '', creditCode: '', address: '', area: '' },
    area: '',
    category: '',
    problemType: '',
    amount: null,
    request: '',
    description: '',
    reply: '',
    complaintToCase: false,
  };
}

/** Nested patch → dotted names; unknown keys are reported, not dropped. */
export function flattenPatch(p: CasePatch): { values: Partial<Record<FieldName, FlatValue>>; errors: FieldError[] } {
  const values: Partial<Record<FieldName, FlatValue>> = {};
  const errors: FieldError[] = [];
  const known = new Set<string>(FIELD_NAMES);
  for (const [k, v] of Object.entries(p)) {
    if (v === undefined) continue;
    if ((k === 'consumer' || k === 'respondent') && v !== null && typeof v === 'object') {
      for (const [k2, v2] of Object.entries(v as Record<string, unknown>)) {
        if (v2 === undefined) continue;
        const f = `${k}.${k2}`;
        if (!known.has(f)) errors.push({ field: f, code: 'unknown', message: '未知字段' });
        else values[f as FieldName] = v2 as FlatValue;
      }
    } else if (!known.has(k) || k === 'consumer' || k === 'respondent') {
      errors.push({ field: k, code: 'unknown', message: '未知字段' });
    } else {
      values[k as FieldName] = v as FlatValue;
    }
  }
  return { values, errors };
}

export function flatten(f: CaseFields & { type: CaseType }): Record<FieldName, FlatValue> {
  return {
    type: f.type,
    'consumer.name': f.consumer.name,
    'consumer.phone': f.consumer.phone,
    'consumer.address': f.consumer.address,
    'respondent.name': f.respondent.name,
    'respondent.creditCode': f.respondent.creditCode,
    'respondent.address': f.respondent.address,
    'respondent.area': f.respondent.area,
    area: f.area,
    category: f.category,
    problemType: f.problemType,
    amount: f.amount,
    request: f.request,
    description: f.description,
    reply: f.reply,
    complaintToCase: f.complaintToCase,
  };
}

/**
 * Phone numbers are stored in one canonical form so screen-pop lookups by the caller number match
 * what an agent typed: digits only, without +86/0086 (a mainland mobile keeps its 11 digits, a
 * landline keeps its trunk 0).
 */
export function normalizePhone(input: string): string {
  let d = input.trim().replace(/[\s()-]/g, '');
  if (d.startsWith('+86')) d = d.slice(3);
  else if (d.startsWith('0086')) d = d.slice(4);
  return d;
}

/**
 * Mainland mobiles, landlines with their area code, local numbers without one, service numbers
 * (12315, 95xxx, 96xxx) and foreign numbers in + form.
 */
export function isValidPhone(p: string): boolean {
  return (
    /^1[3-9]\d{9}$/.test(p) ||
    /^0\d{9,11}$/.test(p) ||
    /^[2-9]\d{6,7}$/.test(p) ||
    /^(1\d{4}|9\d{4,5})$/.test(p) ||
    /^\+(?!86)\d{6,15}$/.test(p)
  );
}

/**
 * Validates and canonicalises values (trims text, normalises phone and credit code). Empty strings
 * are always allowed here: whether a field must be filled is the wrap-up check's business, so an
 * autosave of a half-typed case never fails for a blank field.
 */
export function validateValues(
  values: Partial<Record<FieldName, FlatValue>>,
  categories: Categories,
): { clean: Partial<Record<FieldName, FlatValue>>; errors: FieldError[] } {
  const clean: Partial<Record<FieldName, FlatValue>> = {};
  const errors: FieldError[] = [];
  const bad = (field: string, message: string, code: FieldError['code'] = 'invalid') =>
    errors.push({ field, code, message });
  for (const [k, raw] of Object.entries(values) as [FieldName, FlatValue][]) {
    if (k === 'amount') {
      if (raw === null) clean.amount = null;
      else if (typeof raw !== 'number' || !Number.isFinite(raw) || raw < 0 || raw > 1e10) {
        bad(k, '金额应为 0 到 100 亿之间的数字');
      } else if (Math.abs(Math.round(raw * 100) - raw * 100) > 1e-6) bad(k, '金额最多两位小数');
      else clean.amount = raw;
      continue;
    }
    if (k === 'complaintToCase') {
      if (typeof raw !== 'boolean') bad(k, '应为是或否');
      else clean.complaintToCase = raw;
      continue;
    }
    if (typeof raw !== 'string') {
      bad(k, '应为文本');
      continue;
    }
    let v = raw.trim();
    const max = MAX_LEN[k];
    if (max !== undefined && v.length > max && codePoints(v) > max) {
      bad(k, `不能超过 ${max} 个字`, 'too_long');
      continue;
    }
    switch (k) {
      case 'type':
        if (!(CASE_TYPES as readonly string[]).includes(v)) bad(k, '类型应为投诉、举报、咨询或建议');
        break;
      case 'consumer.phone':
        v = normalizePhone(v);
        if (v && !isValidPhone(v)) bad(k, '电话号码格式不正确');
        break;
      case 'respondent.creditCode': {
        v = normalizeCreditCode(v);
        const problem = v ? checkCreditCode(v) : null;
        if (problem) bad(k, CREDIT_CODE_MESSAGES[problem]);
        break;
      }
      case 'area':
      case 'respondent.area':
        if (v && !areaInfo(v)) bad(k, '行政区划代码不存在（GB/T 2260）', 'unknown');
        break;
      case 'category':
        if (v && !categories.get(v)) bad(k, '分类不存在', 'unknown');
        break;
      case 'problemType':
        if (v && !categories.problemTypeName(v)) bad(k, '问题类型不存在', 'unknown');
        break;
    }
    clean[k] = v;
  }
  return { clean, errors };
}

const REQUIRED: Record<CaseType, FieldName[]> = {
  // The consumer must be reachable and the respondent and dispute identified (投诉 needs 明确的被投诉人、
  // 具体的投诉请求以及事实理由).
  complaint: ['consumer.name', 'consumer.phone', 'respondent.name', 'area', 'category', 'request', 'description'],
  // Reports may be anonymous, but must name whom and what.
  report: ['respondent.name', 'area', 'description'],
  consultation: ['category', 'description', 'reply'],
  suggestion: ['description'],
};

const FIELD_LABELS: Record<FieldName, string> = {
  type: '类型',
  'consumer.name': '消费者姓名',
  'consumer.phone': '联系电话',
  'consumer.address': '消费者地址',
  'respondent.name': '被投诉/举报对象名称',
  'respondent.creditCode': '统一社会信用代码',
  'respondent.address': '经营地址',
  'respondent.area': '经营者所在地',
  area: '发生地区',
  category: '分类',
  problemType: '问题类型',
  amount: '涉案金额',
  request: '诉求',
  description: '事实经过',
  reply: '答复内容',
  complaintToCase: '诉转案',
};

/** Wrap-up completeness: what must be filled before a case of this type can be registered. */
export function checkWrapUp(c: CaseFields & { type: CaseType }, categories: Categories): FieldError[] {
  const flat = flatten(c);
  const errors: FieldError[] = [];
  for (const f of REQUIRED[c.type]) {
    const v = flat[f];
    if (v === null || v === '') errors.push({ field: f, code: 'required', message: `请填写${FIELD_LABELS[f]}` });
  }
  if (c.category) {
    const cat = categories.get(c.category);
    if (cat && !cat.leaf) errors.push({ field: 'category', code: 'invalid', message: '请选择到最末一级分类' });
  }
  return errors;
}

export function fieldLabel(f: string): string {
  return (FIELD_LABELS as Record<string, string>)[f] ?? f;
}
