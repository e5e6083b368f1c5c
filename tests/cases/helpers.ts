import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CaseRepository, type CaseRepositoryOptions, type NewCase } from '../../server/cases/index.js';
import { openDatabase, type Database } from '../../server/storage/database.js';

/** A wall clock the test moves by hand. */
export class WallClock {
  constructor(public t: number) {}
  now = (): Date => new Date(this.t);
  set(iso: string): void {
    this.t = Date.parse(iso);
  }
  advanceDays(d: number): void {
    this.t += d * 86_400_000;
  }
}

export function tempCaseRepo(
  start = '2026-03-02T02:00:00Z',
  opts: CaseRepositoryOptions = {},
): { db: Database; repo: CaseRepository; clock: WallClock; file: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hotline-cases-'));
  const file = path.join(dir, 'cases.sqlite');
  const db = openDatabase(file);
  const clock = new WallClock(Date.parse(start));
  const repo = new CaseRepository(db, { now: clock.now, ...opts });
  return {
    db,
    repo,
    clock,
    file,
    cleanup: () => {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The standard's own example (GB 32100-2015). */
export const VALID_CREDIT_CODE = '91350100M000100Y43';

export function completeComplaint(over: Partial<NewCase> = {}): NewCase {
  return {
    type: 'complaint',
    consumer: { name: '张三', phone: '13812345678', address: '深圳市南山区科技园' },
    respondent: { name: '深圳市某某电器有限公司', creditCode: VALID_CREDIT_CODE, address: '深圳市福田区' },
    area: '440305',
    category: 'G0101',
    description: '购买的冰箱三天后不制冷，商家拒绝退换。',
    request: '退货退款',
    ...over,
  };
}
