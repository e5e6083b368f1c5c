import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mediationPath, mediationSummary, validateMediation } from '../../server/cases/mediation.js';
import { CaseStatus } from '../../server/cases/workflow.js';
import {
  isOpenAt,
  maskName,
  MerchantCallBoard,
  MerchantRepository,
  MerchantStationResolver,
  respondentRank,
} from '../../server/merchants/index.js';
import { openDatabase, type Database } from '../../server/storage/database.js';
import { FakeClock } from '../../server/util/clock.js';

describe('opening hours (Asia/Shanghai)', () => {
  const weekdays = [{ days: [1, 2, 3, 4, 5], from: '09:00', to: '18:00' }];
  it('open inside the window on a listed day, closed at the end minute, on other days and with UTC confusion', () => {
    expect(isOpenAt(weekdays, new Date('2026-03-02T01:00:00Z'))).toBe(true); // Mon 09:00
    expect(isOpenAt(weekdays, new Date('2026-03-02T00:59:00Z'))).toBe(false); // Mon 08:59
    expect(isOpenAt(weekdays, new Date('2026-03-02T10:00:00Z'))).toBe(false); // Mon 18:00
    // Saturday 10:00 local is still Friday 02:00 in UTC: the local weekday counts.
    expect(isOpenAt(weekdays, new Date('2026-03-07T02:00:00Z'))).toBe(false);
    expect(isOpenAt([], new Date())).toBe(true);
  });
});

describe('respondent ranking', () => {
  const s = (name: string, creditCode = '') => ({ name, creditCode });
  it('credit code first, then same name ignoring spaces and bracket width, then containment', () => {
    const r = { name: '深圳市某某电器有限公司', creditCode: '91350100m000100y43' };
    expect(respondentRank(s('别的名字', '91350100M000100Y43'), r)).toBe(0);
    expect(respondentRank(s('深圳市 某某电器有限公司'), r)).toBe(1);
    expect(respondentRank(s('深圳市某某电器有限公司（南山店）'), r)).toBe(2);
    expect(respondentRank(s('某某电器'), r)).toBe(2);
    expect(respondentRank(s('另一家公司'), r)).toBeNull();
    expect(respondentRank(s('深'), { name: '深', creditCode: '' })).toBe(1);
    expect(respondentRank(s('深圳'), { name: '', creditCode: '' })).toBeNull();
  });
  it('masks consumer names to the surname', () => {
    expect(maskName('张三')).toBe('张*');
    expect(maskName('欧阳娜娜')).toBe('欧***');
    expect(maskName('王')).toBe('王*');
    expect(maskName('')).toBe('');
  });
});

describe('StationResolver', () => {
  let db: Database;
  let repo: MerchantRepository;
  beforeEach(() => {
    db = openDatabase(':memory:');
    repo = new MerchantRepository(db, { deviceKind: (e) => (e === '3001' ? 'station' : null) });
  });
  afterEach(() => db.close());

  it('resolves ids and extensions to the reach; disabled and unknown stations do not resolve', () => {
    const a = repo.create({ name: '甲', area: '440305', extension: '3001' });
    const b = repo.create({ name: '乙', area: '440305', externalNumber: '075512345678', trunk: 'pstn' });
    const r = new MerchantStationResolver(repo);
    expect(r.resolve(String(a.id))).toEqual({ id: String(a.id), name: '甲', extension: '3001' });
    expect(r.resolve('3001')).toEqual({ id: String(a.id), name: '甲', extension: '3001' });
    expect(r.resolve(String(b.id))).toEqual({
      id: String(b.id),
      name: '乙',
      externalNumber: '075512345678',
      trunk: 'pstn',
    });
    repo.update(b.id, { ...b, enabled: false });
    expect(r.resolve(String(b.id))).toBeNull();
    expect(r.resolve('999')).toBeNull();
    expect(r.resolve('1 OR 1=1')).toBeNull();
  });

  it('seeds the demo station once, only when device 3001 is a station', () => {
    expect(repo.seedDemo()?.extension).toBe('3001');
    expect(repo.seedDemo()).toBeNull();
    const db2 = openDatabase(':memory:');
    expect(new MerchantRepository(db2, { deviceKind: () => null }).seedDemo()).toBeNull();
    db2.close();
  });

  it('migrations run once per database (a second repository reuses the table)', () => {
    repo.create({ name: '甲', area: '440305', extension: '3001' });
    expect(new MerchantRepository(db).list()).toHaveLength(1);
  });
});

describe('MerchantCallBoard', () => {
  it('keeps the announcement after the call ends until cleared or the TTL passes', () => {
    const clock = new FakeClock();
    const board = new MerchantCallBoard({ clock, ttlMs: 60_000 });
    board.offer(1, { callId: 'c1', caseId: 7, offeredBy: 3 });
    expect(board.ended('c1')).toBe(1);
    expect(board.current(1)).toMatchObject({ callId: 'c1', caseId: 7, ended: true });
    expect(board.clear(1, 'other')).toBe(false);
    clock.advance(60_000);
    expect(board.current(1)).toBeNull();
    board.offer(1, { callId: 'c2', caseId: null, offeredBy: null });
    expect(board.clear(1, 'c2')).toBe(true);
    expect(board.current(1)).toBeNull();
    board.close();
    board.close();
    expect(() => board.offer(1, { callId: 'c3', caseId: null, offeredBy: null })).toThrow();
  });
});

describe('mediation rules', () => {
  const base = {
    remedy: 'refund' as const,
    amount: 100,
    deadline: '2026-03-09',
    notes: '',
    result: 'succeeded' as const,
  };
  it('validates remedy, amount, deadline and the termination reason', () => {
    expect(validateMediation(base, '2026-03-02')).toEqual([]);
    const f = (m: Partial<typeof base> | Record<string, unknown>) =>
      validateMediation({ ...base, ...m } as never, '2026-03-02').map((e) => `${e.field}:${e.code}`);
    expect(f({ remedy: null })).toEqual(['remedy:required']);
    expect(f({ amount: null })).toEqual(['amount:required']);
    expect(f({ amount: -1 })).toEqual(['amount:invalid']);
    expect(f({ deadline: '2026-03-01' })).toEqual(['deadline:invalid']);
    expect(f({ deadline: '2026/03/09' })).toEqual(['deadline:invalid']);
    expect(f({ result: 'terminated', remedy: null, amount: null })).toEqual(['notes:required']);
  });
  it('the path to the result follows the complaint workflow', () => {
    expect(mediationPath('complaint', CaseStatus.Accepted, 'succeeded')).toEqual([
      CaseStatus.Mediating,
      CaseStatus.MediationSucceeded,
    ]);
    expect(mediationPath('complaint', CaseStatus.Mediating, 'terminated')).toEqual([CaseStatus.MediationTerminated]);
    expect(mediationPath('complaint', CaseStatus.Registered, 'succeeded')).toBeNull();
    expect(mediationPath('report', CaseStatus.Dispatched, 'succeeded')).toBeNull();
    expect(mediationSummary({ ...base, notes: ' 上门取件 ' })).toBe(
      '维权站调解成功：退款 100.00 元，2026-03-09 前履行；上门取件',
    );
  });
});
