import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CaseStatus,
  CaseStateError,
  CaseValidationError,
  VersionConflictError,
  type CaseRepository,
  type CaseRecord,
} from '../../server/cases/index.js';
import { openDatabase } from '../../server/storage/database.js';
import { CaseRepository as Repo } from '../../server/cases/index.js';
import { completeComplaint, tempCaseRepo, type WallClock } from './helpers.js';

const agent = { id: 7, role: 'agent' as const };
const lead = { id: 1, role: 'lead' as const };

let repo: CaseRepository;
let clock: WallClock;
let cleanup: () => void;
let file: string;

beforeEach(() => {
  // Monday 2026-03-02 10:00 in Shanghai.
  ({ repo, clock, cleanup, file } = tempCaseRepo('2026-03-02T02:00:00Z'));
});
afterEach(() => cleanup());

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('create and numbering', () => {
  it('registers a complete complaint with a dated daily number and an accept deadline', () => {
    const a = repo.create(completeComplaint(), agent);
    const b = repo.create(completeComplaint(), agent);
    expect(a.number).toBe('20260302-000001');
    expect(b.number).toBe('20260302-000002');
    expect(a.status).toBe(CaseStatus.Registered);
    expect(a.statusLabel).toBe('登记');
    expect(a.version).toBe(1);
    expect(a.agentId).toBe(7);
    expect(a.deadline).toMatchObject({ kind: 'accept', due: '2026-03-11', overdue: false, dueSoon: false });
    // The next Shanghai day restarts the sequence (16:00 UTC = 00:00 Shanghai).
    clock.set('2026-03-02T16:00:00Z');
    expect(repo.create(completeComplaint(), agent).number).toBe('20260303-000001');
  });

  it('refuses invalid and incomplete input with all field errors and stores nothing', () => {
    const e = errorOf(() =>
      repo.create(
        completeComplaint({
          consumer: { name: '', phone: '123', address: '' },
          area: '000000',
          respondent: { name: 'x', creditCode: 'bad', address: '' },
        }),
        agent,
      ),
    ) as CaseValidationError;
    expect(e).toBeInstanceOf(CaseValidationError);
    expect(e.fieldErrors.map((f) => f.field).sort()).toEqual(['area', 'consumer.phone', 'respondent.creditCode']);
    const e2 = errorOf(() => repo.create({ type: 'complaint', description: '只有描述' }, agent)) as CaseValidationError;
    expect(e2.fieldErrors.every((f) => f.code === 'required')).toBe(true);
    expect(repo.list({ includeDrafts: true }, { kind: 'all' }).total).toBe(0);
    // Numbers are only consumed by successful inserts.
    expect(repo.create(completeComplaint(), agent).number).toBe('20260302-000001');
  });

  it('stores drafts without the completeness check', () => {
    const d = repo.create({ type: 'report', draft: true }, agent);
    expect(d.status).toBe(CaseStatus.Draft);
    expect(d.deadline).toBeNull();
  });

  it('survives reopening the database (migrations idempotent, data kept)', () => {
    const a = repo.create(completeComplaint(), agent);
    const db2 = openDatabase(file);
    const repo2 = new Repo(db2, { now: clock.now });
    expect(repo2.get(a.id).number).toBe(a.number);
    db2.close();
  });
});

describe('optimistic concurrency and audit', () => {
  it('bumps the version per change, records old and new values, and 409s a stale writer with what changed', () => {
    const c = repo.create(completeComplaint(), agent);
    const u1 = repo.update(c.id, 1, { description: '补充：商家态度恶劣', amount: 2999.5 }, agent);
    expect(u1.version).toBe(2);
    expect(u1.amount).toBe(2999.5);
    // Same content again: no new version.
    expect(repo.update(c.id, 2, { amount: 2999.5 }, agent).version).toBe(2);
    const stale = errorOf(() => repo.update(c.id, 1, { request: '换货' }, lead)) as VersionConflictError;
    expect(stale).toBeInstanceOf(VersionConflictError);
    expect(stale.status).toBe(409);
    expect(stale.currentVersion).toBe(2);
    expect(stale.since).toHaveLength(1);
    expect(stale.since[0]!.changes.amount).toEqual([null, 2999.5]);
    expect(stale.since[0]!.actorId).toBe(7);
    expect(repo.get(c.id).request).toBe('退货退款');
    const audit = repo.audit(c.id);
    expect(audit.map((a) => a.action)).toEqual(['create', 'update']);
    expect(audit[1]!.changes.description![0]).toBe('购买的冰箱三天后不制冷，商家拒绝退换。');
  });

  it('does not let an edit blank a required field of a registered case', () => {
    const c = repo.create(completeComplaint(), agent);
    const e = errorOf(() => repo.update(c.id, 1, { consumer: { phone: '' } }, agent)) as CaseValidationError;
    expect(e.fieldErrors[0]).toMatchObject({ field: 'consumer.phone', code: 'required' });
    expect(repo.get(c.id).version).toBe(1);
  });

  it('诉转案 only for complaints', () => {
    const c = repo.create(completeComplaint(), agent);
    expect(repo.update(c.id, 1, { complaintToCase: true }, lead).complaintToCase).toBe(true);
    const r = repo.create({ type: 'suggestion', description: '建议' }, agent);
    expect(errorOf(() => repo.update(r.id, 1, { complaintToCase: true }, lead))).toBeInstanceOf(CaseValidationError);
  });
});

describe('workflow', () => {
  function unit() {
    return repo.createUnit({ code: 'NS-AMR', name: '南山区市场监管局', kind: 'bureau', area: '440305' });
  }

  it('runs a complaint through 受理 → 分流 → 调解中 → 调解成功 → 办结 → 回访', () => {
    const u = unit();
    let c: CaseRecord = repo.create(completeComplaint(), agent);
    c = repo.transition(c.id, c.version, { to: CaseStatus.Accepted }, lead);
    expect(c.acceptedDate).toBe('2026-03-02');
    expect(c.deadline).toMatchObject({ kind: 'mediation' });
    expect(c.deadline!.due).toBe('2026-05-08'); // 45 working days across 清明 and 劳动节 (5月9日 make-up Saturday after)
    c = repo.dispatch(c.id, c.version, u.id, '请依法处理', lead);
    expect(c.status).toBe(CaseStatus.Dispatched);
    expect(c.unit).toEqual({ id: u.id, name: '南山区市场监管局' });
    c = repo.transition(c.id, c.version, { to: CaseStatus.Mediating }, lead);
    c = repo.transition(c.id, c.version, { to: CaseStatus.MediationSucceeded }, lead);
    expect(c.deadline).toBeNull();
    expect(errorOf(() => repo.followUp(c.id, c.version, { satisfaction: 5 }, lead))).toBeInstanceOf(CaseStateError);
    c = repo.transition(c.id, c.version, { to: CaseStatus.Closed }, lead);
    expect(c.closedAt).not.toBeNull();
    c = repo.followUp(c.id, c.version, { satisfaction: 4, note: '基本满意' }, lead);
    expect(c.followUp).toMatchObject({ satisfaction: 4 });
    expect(errorOf(() => repo.update(c.id, c.version, { description: 'x' }, lead))).toMatchObject({
      code: 'not_editable',
    });
    expect(repo.holdings(c.id)).toHaveLength(1);
    expect(repo.holdings(c.id)[0]!.until).not.toBeNull();
    const actions = repo.audit(c.id).map((a) => a.action);
    expect(actions).toEqual([
      'create',
      'transition',
      'transition',
      'transition',
      'transition',
      'transition',
      'follow_up',
    ]);
  });

  it('requires a reason to refuse, and refuses illegal moves without changing anything', () => {
    const c = repo.create(completeComplaint(), agent);
    expect(
      (errorOf(() => repo.transition(c.id, 1, { to: CaseStatus.Rejected }, lead)) as CaseValidationError)
        .fieldErrors[0]!.field,
    ).toBe('reason');
    const illegal = errorOf(() => repo.transition(c.id, 1, { to: CaseStatus.Filed }, lead)) as CaseStateError;
    expect(illegal.code).toBe('illegal_transition');
    const r = repo.transition(c.id, 1, { to: CaseStatus.Rejected, reason: '不属于市场监管部门职责' }, lead);
    expect(r.statusReason).toBe('不属于市场监管部门职责');
    expect(r.deadline).toBeNull();
  });

  it('reports: 核查 → 立案 with a 15-working-day deadline', () => {
    let r = repo.create(
      { type: 'report', respondent: { name: '某无证诊所' }, area: '440305', description: '无证行医' },
      agent,
    );
    expect(r.deadline).toMatchObject({ kind: 'verify', due: '2026-03-23' });
    r = repo.transition(r.id, r.version, { to: CaseStatus.Verifying }, lead);
    r = repo.transition(r.id, r.version, { to: CaseStatus.Filed }, lead);
    expect(r.status).toBe(CaseStatus.Filed);
    expect(
      errorOf(() => repo.transition(r.id, r.version, { to: CaseStatus.NotFiled, reason: 'x' }, lead)),
    ).toBeInstanceOf(CaseStateError);
  });

  it('a draft registers only when complete, and its legal clock starts at registration', () => {
    const d = repo.create({ type: 'complaint', draft: true, consumer: { name: '李四' } }, agent);
    const e = errorOf(() =>
      repo.transition(d.id, d.version, { to: CaseStatus.Registered }, agent),
    ) as CaseValidationError;
    expect(e.fieldErrors.map((x) => x.field)).toContain('request');
    const filled = repo.update(d.id, d.version, { ...completeComplaint(), type: undefined } as never, agent);
    clock.advanceDays(1);
    const reg = repo.transition(d.id, filled.version, { to: CaseStatus.Registered }, agent);
    expect(reg.receivedDate).toBe('2026-03-03');
    expect(reg.deadline!.due).toBe('2026-03-12');
  });

  it('flags due soon and overdue as time passes, and list filters find them', () => {
    const c = repo.create(completeComplaint(), agent); // accept due 2026-03-11
    clock.set('2026-03-10T02:00:00Z');
    expect(repo.get(c.id).deadline).toMatchObject({ dueSoon: true, overdue: false });
    expect(repo.list({ deadline: 'dueSoon' }, { kind: 'all' }).total).toBe(1);
    expect(repo.list({ deadline: 'overdue' }, { kind: 'all' }).total).toBe(0);
    clock.set('2026-03-12T02:00:00Z');
    expect(repo.get(c.id).deadline).toMatchObject({ dueSoon: false, overdue: true });
    expect(repo.list({ deadline: 'overdue' }, { kind: 'all' }).items[0]!.id).toBe(c.id);
  });

  it('seeds demo units once', () => {
    expect(repo.seedDemoUnits()).toBe(4);
    expect(repo.seedDemoUnits()).toBe(0);
    expect(repo.listUnits().map((u) => u.kind)).toContain('station');
  });

  it('督办: supervision lists held cases with urge counts', () => {
    const u = unit();
    let c = repo.create(completeComplaint(), agent);
    expect(errorOf(() => repo.urge(c.id, '请加快', lead))).toBeInstanceOf(CaseStateError);
    c = repo.dispatch(c.id, c.version, u.id, '', lead);
    repo.urge(c.id, '请加快', lead);
    repo.urge(c.id, '再次督办', lead);
    const s = repo.supervision({ unitId: u.id });
    expect(s).toHaveLength(1);
    expect(s[0]).toMatchObject({ id: c.id, urges: 2, heldSince: c.heldSince });
    const u2 = repo.createUnit({ code: 'FT-AMR', name: '福田区市场监管局', kind: 'bureau' });
    c = repo.dispatch(c.id, c.version, u2.id, '管辖调整', lead);
    expect(repo.holdings(c.id).map((h) => h.unitName)).toEqual(['南山区市场监管局', '福田区市场监管局']);
    expect(repo.supervision({ unitId: u2.id })[0]!.urges).toBe(0);
  });
});

describe('calls, drafts, screen pop, IVR lookup', () => {
  it('creates one draft per offered call with type from the IVR path', () => {
    const d = repo.createDraftForCall({
      callId: 'call-1@x',
      callerNumber: '+86 13812345678',
      ivrPath: ['welcome', 'report'],
      queue: 'q-report',
      agentId: 7,
    });
    expect(d).toMatchObject({
      type: 'report',
      status: CaseStatus.Draft,
      queue: 'q-report',
      agentId: 7,
      ivrPath: 'welcome>report',
    });
    expect(d.consumer.phone).toBe('13812345678');
    expect(d.links).toMatchObject([{ kind: 'call', ref: 'call-1@x' }]);
    const again = repo.createDraftForCall({
      callId: 'call-1@x',
      callerNumber: '13812345678',
      ivrPath: ['report'],
      queue: 'q-report',
      agentId: 8,
    });
    expect(again.id).toBe(d.id);
    expect(again.agentId).toBe(8);
    const anon = repo.createDraftForCall({
      callId: 'call-2@x',
      callerNumber: 'anonymous',
      ivrPath: [],
      queue: 'q',
      agentId: null,
    });
    expect(anon.consumer.phone).toBe('');
    expect(anon.type).toBe('complaint');
  });

  it('screen pop shows earlier cases and calls of the number within 12 months', () => {
    const old = repo.create(completeComplaint(), agent);
    repo.createDraftForCall({ callId: 'c-old', callerNumber: '13812345678', ivrPath: [], queue: 'q', agentId: 7 });
    clock.advanceDays(400);
    repo.create(completeComplaint(), agent);
    repo.createDraftForCall({ callId: 'c-1', callerNumber: '13812345678', ivrPath: [], queue: 'q', agentId: 7 });
    clock.advanceDays(1);
    repo.createDraftForCall({ callId: 'c-2', callerNumber: '13812345678', ivrPath: [], queue: 'q', agentId: 7 });
    const pop = repo.screenPop('13812345678', { exceptCallId: 'c-2' });
    expect(pop.callerNumber).toBe('138****5678');
    expect(pop.calls.map((c) => c.callId)).toEqual(['c-1']);
    expect(pop.repeatCaller).toBe(true);
    expect(pop.cases.map((c) => c.id)).not.toContain(old.id);
    expect(pop.cases.every((c) => c.consumerPhone === '138****5678')).toBe(true);
    expect(pop.openCases).toBe(1);
    expect(repo.screenPop('13900000000').repeatCaller).toBe(false);
  });

  it('splits one contact into two linked cases', () => {
    const d = repo.createDraftForCall({
      callId: 'call-9',
      callerNumber: '13812345678',
      ivrPath: ['complaint'],
      queue: 'q',
      agentId: 7,
    });
    const { original, created } = repo.split(
      d.id,
      d.version,
      { type: 'report', respondent: { name: '某商店' }, description: '销售假冒商品' },
      agent,
    );
    expect(created.parentId).toBe(d.id);
    expect(created.type).toBe('report');
    expect(created.consumer.phone).toBe('13812345678');
    expect(created.links.map((l) => l.ref)).toEqual(['call-9']);
    expect(original.version).toBe(d.version + 1);
    expect(repo.audit(d.id).at(-1)!.changes.splitInto![1]).toBe(created.number);
  });

  it('links recordings and voicemails idempotently', () => {
    const c = repo.create(completeComplaint(), agent);
    repo.addLink(c.id, { kind: 'recording', ref: 'rec/2026/03/02/a.wav' }, agent);
    const again = repo.addLink(c.id, { kind: 'recording', ref: 'rec/2026/03/02/a.wav' }, agent);
    expect(again.links).toHaveLength(1);
    expect(again.version).toBe(1);
    expect(errorOf(() => repo.addLink(c.id, { kind: 'fax' as never, ref: 'x' }, agent))).toBeInstanceOf(
      CaseValidationError,
    );
  });

  it('statusForIvr reads a registered case by keyed digits and hides drafts', () => {
    const c = repo.create(completeComplaint(), agent);
    const s = repo.statusForIvr(c.number.replace('-', ''));
    expect(s).toMatchObject({
      found: true,
      statusLabel: '登记',
      typeLabel: '投诉',
      receivedDate: '2026-03-02',
      acceptedDate: null,
      lastChangeDate: '2026-03-02',
    });
    if (s.found) expect(s.speech).toContain('二零二六零三零二，零零零零零一');
    const d = repo.create({ type: 'complaint', draft: true }, agent);
    expect(repo.statusForIvr(d.number)).toEqual({ found: false });
    expect(repo.statusForIvr('123')).toEqual({ found: false });
  });
});

describe('scopes and list filters', () => {
  it('agents see their own and their queues’ cases; merchants only shared ones', () => {
    const mine = repo.create(completeComplaint({ queue: 'q-a' }), agent);
    const other = repo.create(completeComplaint({ queue: 'q-b' }), { id: 9, role: 'agent' });
    const scopeA = { kind: 'agent' as const, userId: 7, queues: [] };
    expect(repo.list({}, scopeA).items.map((c) => c.id)).toEqual([mine.id]);
    expect(repo.list({}, { ...scopeA, queues: ['q-b'] }).total).toBe(2);
    expect(errorOf(() => repo.get(other.id, scopeA))).toMatchObject({ status: 404 });
    const merchant = { kind: 'merchant' as const, userId: 50 };
    expect(repo.list({}, merchant).total).toBe(0);
    repo.share(other.id, 50, { id: 1, role: 'lead' });
    const seen = repo.get(other.id, merchant);
    expect(seen.consumer.phone).toBe('138****5678');
    expect(
      errorOf(() =>
        repo.update(mine.id, 1, { request: 'x' }, { id: 9, role: 'agent' }, { kind: 'agent', userId: 9, queues: [] }),
      ),
    ).toMatchObject({ status: 404 });
  });

  it('filters by area subtree, category subtree, respondent substring/prefix, status and masks phones', () => {
    repo.create(completeComplaint(), agent);
    repo.create(
      completeComplaint({
        area: '440304',
        category: 'S0201',
        respondent: { name: '广州某网店', creditCode: '', address: '' },
      }),
      agent,
    );
    repo.create(completeComplaint({ area: '110105', category: 'G0102' }), agent);
    const all = { kind: 'all' as const };
    expect(repo.list({ area: '440300' }, all).total).toBe(2);
    expect(repo.list({ area: '440000' }, all).total).toBe(2);
    expect(repo.list({ category: 'G01' }, all).total).toBe(2);
    expect(repo.list({ category: 'S' }, all).total).toBe(1);
    expect(repo.list({ respondent: '某某电器' }, all).total).toBe(2);
    expect(repo.list({ respondent: '广州' }, all).total).toBe(1);
    expect(repo.list({ q: '不制冷' }, all).total).toBe(3);
    expect(repo.list({ q: '冰箱' }, all).total).toBe(3);
    expect(repo.list({ status: [CaseStatus.Accepted] }, all).total).toBe(0);
    const page = repo.list({}, all, 2, 2);
    expect(page.items).toHaveLength(1);
    expect(page.items[0]!.consumerPhone).toBe('138****5678');
    expect(errorOf(() => repo.list({ area: '999999' }, all))).toBeInstanceOf(CaseValidationError);
  });

  it('gives the same newest-first pages whichever plan runs (narrow: index + sort, wide: table walk)', () => {
    const { db } = repo as unknown as { db: { transaction<T>(fn: () => T): T } };
    db.transaction(() => {
      for (let i = 0; i < 2200; i++) {
        repo.create(
          completeComplaint({ area: i % 2 ? '440305' : '110105', category: i % 7 ? 'G0101' : 'S0201' }),
          agent,
        );
      }
    });
    const all = { kind: 'all' as const };
    const wide = repo.list({ area: '440305' }, all, 1, 5); // 1100 hits: newest-first table walk
    const narrow = repo.list({ area: '440305', category: 'S0201' }, all, 1, 5); // 157 hits: index + sort
    expect(wide).toMatchObject({ total: 1000, totalCapped: true });
    expect(narrow).toMatchObject({ total: 157, totalCapped: false });
    for (const p of [wide, narrow]) {
      const ids = p.items.map((c) => c.id);
      expect(ids).toEqual([...ids].sort((a, b) => b - a));
    }
    expect(wide.items[0]!.id).toBe(2200);
    expect(narrow.items.every((c) => c.area === '440305' && c.category === 'S0201')).toBe(true);
    expect(repo.list({ area: '110105' }, all, 3, 10).items[0]!.id).toBe(2159);
    const fts = repo.list({ q: '不制冷' }, all, 2, 10);
    expect(fts.items.map((c) => c.id)).toEqual(Array.from({ length: 10 }, (_, i) => 2190 - i));
    expect(repo.list({ q: '冰箱' }, all).partial).toBe(true);
    expect(fts.partial).toBe(false);
  });

  it('short free text: one scan gives the capped count and any page, deep pages included', () => {
    const { db } = repo as unknown as { db: { transaction<T>(fn: () => T): T } };
    db.transaction(() => {
      for (let i = 0; i < 1100; i++) {
        repo.create(completeComplaint({ description: i % 3 ? '手机屏幕碎了' : '空调漏水' }), agent);
      }
    });
    const all = { kind: 'all' as const };
    const rare = repo.list({ q: '漏水' }, all, 2, 10); // ids 1, 4, …, 1099: 367 hits
    expect(rare).toMatchObject({ total: 367, totalCapped: false, partial: true, page: 2 });
    expect(rare.items.map((c) => c.id)).toEqual(Array.from({ length: 10 }, (_, i) => 1099 - 3 * (10 + i)));
    expect(repo.list({ q: '漏水' }, all, 37, 10).items.map((c) => c.id)).toEqual([19, 16, 13, 10, 7, 4, 1]);
    expect(repo.list({ q: '漏水' }, all, 38, 10).items).toEqual([]);
    const wide = repo.list({ q: '手机' }, all, 1, 5); // 733 hits
    expect(wide).toMatchObject({ total: 733, totalCapped: false });
    expect(wide.items.map((c) => c.id)).toEqual([1100, 1098, 1097, 1095, 1094]);
    const both = repo.list({ q: '冰箱' }, all, 1, 5); // respondent 某某电器 does not match; nothing does
    expect(both.total).toBe(0);
    const any = repo.list({ q: '有限' }, all, 51, 20); // every case (respondent name): past the 1001 scanned ids
    expect(any).toMatchObject({ total: 1000, totalCapped: true });
    expect(any.items.map((c) => c.id)).toEqual(Array.from({ length: 20 }, (_, i) => 1100 - 1000 - i));
    expect(repo.list({ q: '有限', status: [CaseStatus.Accepted] }, all).total).toBe(0);
  });

  it('answers combined filter counts from the filter indexes alone (no table rows read)', () => {
    const { db } = repo as unknown as { db: { sqlite: { prepare(sql: string): { all(): { detail: string }[] } } } };
    const plan = (where: string) =>
      db.sqlite
        .prepare(`EXPLAIN QUERY PLAN SELECT count(*) FROM (SELECT 1 FROM cases c ${where} LIMIT 1001)`)
        .all()
        .map((r) => r.detail)
        .join('; ');
    expect(
      plan(
        `WHERE c.status IN ('mediating', 'dispatched') AND c.area >= '440000' AND c.area < '450000' AND c.category >= 'G' AND c.category < 'H'`,
      ),
    ).toMatch(/COVERING INDEX cases_area_filter/);
    expect(
      plan(
        `INDEXED BY cases_due_filter WHERE c.due_date < '2026-03-02' AND c.status NOT IN ('draft', 'discarded') AND (c.agent_id = 42 OR c.queue IN ('q3'))`,
      ),
    ).toMatch(/COVERING INDEX cases_due_filter/);
    expect(
      plan(
        `WHERE c.respondent_name >= '深圳' AND c.respondent_name < '深圳\uffff' AND c.status NOT IN ('draft', 'discarded') AND (c.agent_id = 42 OR c.queue IN ('q3'))`,
      ),
    ).toMatch(/COVERING INDEX cases_respondent/);
  });

  it('orders deadline lists by due date, most urgent first', () => {
    const late = repo.create(completeComplaint(), agent); // accept due 2026-03-11
    clock.set('2026-03-05T02:00:00Z');
    const report = repo.create(
      { type: 'report', respondent: { name: '某店' }, area: '440305', description: '无照经营' },
      agent,
    ); // verify due 2026-03-26
    const fresh = repo.create(completeComplaint(), agent); // accept due 2026-03-16
    expect(repo.list({ deadline: 'running' }, { kind: 'all' }).items.map((c) => c.id)).toEqual([
      late.id,
      fresh.id,
      report.id,
    ]);
  });

  it('respondent full-text index follows edits', () => {
    const c = repo.create(completeComplaint(), agent);
    repo.update(c.id, 1, { respondent: { name: '杭州某旅行社' } }, agent);
    expect(repo.list({ respondent: '某某电器' }, { kind: 'all' }).total).toBe(0);
    expect(repo.list({ respondent: '某旅行社' }, { kind: 'all' }).total).toBe(1);
  });
});
