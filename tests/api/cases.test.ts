import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildHttpApp } from '../../server/api/app.js';
import { caseRoutes } from '../../server/api/routes/cases.js';
import { CaseRepository } from '../../server/cases/index.js';
import { WallClock, completeComplaint, VALID_CREDIT_CODE } from '../cases/helpers.js';
import { authFixture, bearer, login, type AuthFixture } from './helpers.js';

let f: AuthFixture;
let app: FastifyInstance;
let repo: CaseRepository;
let clock: WallClock;
const tokens: Record<string, string> = {};
const ids: Record<string, number> = {};

beforeEach(async () => {
  f = await authFixture();
  clock = new WallClock(Date.parse('2026-03-02T02:00:00Z'));
  repo = new CaseRepository(f.db, { now: clock.now });
  for (const u of f.directory.webUsers.list()) ids[u.username] = u.id;
  app = await buildHttpApp({ health: { startedAt: 0, transports: () => [] }, auth: f.auth });
  await app.register(caseRoutes, { cases: repo, queuesOf: (id) => (id === ids.agent03 ? ['q-food'] : []) });
  await app.ready();
  for (const u of ['agent01', 'agent02', 'agent03', 'lead01', 'admin', 'm3001']) tokens[u] = await login(app, u);
});
afterEach(async () => {
  await app.close();
  f.close();
});

const as = (user: string) => bearer(tokens[user]!);

async function post(user: string, url: string, payload: unknown) {
  return app.inject({ method: 'POST', url, payload: payload as object, headers: as(user) });
}

function count(): number {
  return (f.db.sqlite.prepare('SELECT count(*) AS n FROM cases').get() as { n: number }).n;
}

describe('POST /api/cases (the desktop contract)', () => {
  it('201 with the stored case, its id and number', async () => {
    const r = await post('agent01', '/api/cases', { ...completeComplaint(), callId: 'abc@127.0.0.1' });
    expect(r.statusCode).toBe(201);
    const c = r.json();
    expect(c.id).toBeGreaterThan(0);
    expect(c.number).toBe('20260302-000001');
    expect(c.agentId).toBe(ids.agent01);
    expect(c.respondent.creditCode).toBe(VALID_CREDIT_CODE);
    expect(c.links).toEqual([expect.objectContaining({ kind: 'call', ref: 'abc@127.0.0.1' })]);
    const g = await app.inject({ method: 'GET', url: `/api/cases/${c.id}`, headers: as('agent01') });
    expect(g.statusCode).toBe(200);
    expect(g.json()).toEqual(c);
  });

  it('400 with field errors for schema violations and nothing stored', async () => {
    const r = await post('agent01', '/api/cases', { ...completeComplaint(), type: 'praise' });
    expect(r.statusCode).toBe(400);
    expect(r.json().fieldErrors[0].field).toBe('type');
    const r2 = await post('agent01', '/api/cases', {
      ...completeComplaint(),
      consumer: { name: { first: '王' }, phone: '13812345678' },
    });
    expect(r2.statusCode).toBe(400);
    expect(r2.json().fieldErrors[0].field).toBe('consumer.name');
    expect(count()).toBe(0);
  });

  it('400 listing every domain error (credit code check digit, unknown area, phone) and nothing stored', async () => {
    const r = await post('agent01', '/api/cases', {
      ...completeComplaint(),
      consumer: { name: '王五', phone: '010-1234', address: '' },
      respondent: { name: '某店', creditCode: '91350100M000100Y44', address: '' },
      area: '449999',
    });
    expect(r.statusCode).toBe(400);
    const fields = r
      .json()
      .fieldErrors.map((e: { field: string }) => e.field)
      .sort();
    expect(fields).toEqual(['area', 'consumer.phone', 'respondent.creditCode']);
    expect(r.json().fieldErrors.find((e: { field: string }) => e.field === 'respondent.creditCode').message).toContain(
      '校验位',
    );
    expect(count()).toBe(0);
  });

  it('400 for an incomplete complaint unless saved as draft', async () => {
    const r = await post('agent01', '/api/cases', { type: 'complaint', description: '只说了一半' });
    expect(r.statusCode).toBe(400);
    expect(r.json().fieldErrors.every((e: { code: string }) => e.code === 'required')).toBe(true);
    const d = await post('agent01', '/api/cases', { type: 'complaint', description: '只说了一半', draft: true });
    expect(d.statusCode).toBe(201);
    expect(d.json().status).toBe('draft');
  });

  it('401 without a session, 403 for merchants', async () => {
    expect((await app.inject({ method: 'POST', url: '/api/cases', payload: completeComplaint() })).statusCode).toBe(
      401,
    );
    expect((await post('m3001', '/api/cases', completeComplaint())).statusCode).toBe(403);
    expect(count()).toBe(0);
  });
});

describe('PATCH with version', () => {
  it('autosaves, then 409 with what changed for a stale version', async () => {
    const c = (await post('agent01', '/api/cases', completeComplaint())).json();
    const p1 = await app.inject({
      method: 'PATCH',
      url: `/api/cases/${c.id}`,
      headers: as('agent01'),
      payload: { version: 1, amount: 1999, respondent: { address: '深圳市福田区华强北' } },
    });
    expect(p1.statusCode).toBe(200);
    expect(p1.json().version).toBe(2);
    const stale = await app.inject({
      method: 'PATCH',
      url: `/api/cases/${c.id}`,
      headers: as('lead01'),
      payload: { version: 1, request: '赔偿' },
    });
    expect(stale.statusCode).toBe(409);
    const body = stale.json();
    expect(body).toMatchObject({ error: 'version_conflict', yourVersion: 1, currentVersion: 2 });
    expect(body.changes[0].changes).toMatchObject({
      amount: [null, 1999],
      'respondent.address': ['深圳市福田区', '深圳市福田区华强北'],
    });
    expect(body.changes[0].actorId).toBe(ids.agent01);
    expect(repo.get(c.id).request).toBe('退货退款');
  });

  it('400 without version or with a bad value, nothing changed', async () => {
    const c = (await post('agent01', '/api/cases', completeComplaint())).json();
    const r = await app.inject({
      method: 'PATCH',
      url: `/api/cases/${c.id}`,
      headers: as('agent01'),
      payload: { amount: 1 },
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().fieldErrors[0].field).toBe('version');
    const r2 = await app.inject({
      method: 'PATCH',
      url: `/api/cases/${c.id}`,
      headers: as('agent01'),
      payload: { version: 1, category: 'NOPE', amount: -5 },
    });
    expect(r2.statusCode).toBe(400);
    expect(
      r2
        .json()
        .fieldErrors.map((e: { field: string }) => e.field)
        .sort(),
    ).toEqual(['amount', 'category']);
    expect(repo.get(c.id).version).toBe(1);
  });
});

describe('role rules', () => {
  it('agents see their own and their queues’ cases; leads all; merchants only shared, with masked phone', async () => {
    const a1 = (await post('agent01', '/api/cases', completeComplaint())).json();
    const food = (await post('agent02', '/api/cases', { ...completeComplaint(), queue: 'q-food' })).json();
    const list = async (u: string) =>
      (await app.inject({ method: 'GET', url: '/api/cases', headers: as(u) }))
        .json()
        .items.map((c: { id: number }) => c.id);
    expect(await list('agent01')).toEqual([a1.id]);
    expect(await list('agent02')).toEqual([food.id]);
    expect((await list('agent03')).sort()).toEqual([food.id]);
    expect((await list('lead01')).sort()).toEqual([a1.id, food.id].sort());
    expect(await list('m3001')).toEqual([]);
    expect((await app.inject({ method: 'GET', url: `/api/cases/${a1.id}`, headers: as('agent02') })).statusCode).toBe(
      404,
    );
    expect((await app.inject({ method: 'GET', url: `/api/cases/${a1.id}`, headers: as('m3001') })).statusCode).toBe(
      404,
    );
    expect((await post('agent01', `/api/cases/${a1.id}/shares`, { userId: ids.m3001 })).statusCode).toBe(403);
    expect((await post('lead01', `/api/cases/${a1.id}/shares`, { userId: ids.m3001 })).statusCode).toBe(204);
    const seen = await app.inject({ method: 'GET', url: `/api/cases/${a1.id}`, headers: as('m3001') });
    expect(seen.statusCode).toBe(200);
    expect(seen.json().consumer.phone).toBe('138****5678');
    const items = (await app.inject({ method: 'GET', url: '/api/cases', headers: as('lead01') })).json().items;
    expect(items.every((c: { consumerPhone: string }) => c.consumerPhone === '138****5678')).toBe(true);
  });

  it('agents may register and discard; acceptance and dispatch need a lead', async () => {
    const c = (await post('agent01', '/api/cases', completeComplaint())).json();
    const acc = await post('agent01', `/api/cases/${c.id}/transitions`, { version: 1, to: 'accepted' });
    expect(acc.statusCode).toBe(403);
    const ok = await post('lead01', `/api/cases/${c.id}/transitions`, { version: 1, to: 'accepted' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ status: 'accepted', statusLabel: '受理', version: 2 });
    const unit = await post('admin', '/api/case-units', {
      code: 'NS',
      name: '南山区市场监管局',
      kind: 'bureau',
      area: '440305',
    });
    expect(unit.statusCode).toBe(201);
    expect(
      (await post('agent01', `/api/cases/${c.id}/dispatch`, { version: 2, unitId: unit.json().id })).statusCode,
    ).toBe(403);
    const d = await post('lead01', `/api/cases/${c.id}/dispatch`, {
      version: 2,
      unitId: unit.json().id,
      note: '属地处理',
    });
    expect(d.statusCode).toBe(200);
    expect(d.json().unit).toEqual({ id: unit.json().id, name: '南山区市场监管局' });
    const illegal = await post('lead01', `/api/cases/${c.id}/transitions`, { version: 3, to: 'filed' });
    expect(illegal.statusCode).toBe(409);
    expect(illegal.json().error).toBe('illegal_transition');
    const sup = await app.inject({ method: 'GET', url: '/api/cases/supervision', headers: as('lead01') });
    expect(sup.json().items[0]).toMatchObject({ id: c.id, urges: 0 });
    const audit = await app.inject({ method: 'GET', url: `/api/cases/${c.id}/audit`, headers: as('lead01') });
    expect(audit.json().items.map((a: { action: string }) => a.action)).toEqual(['create', 'transition', 'transition']);
    expect(audit.json().holdings).toHaveLength(1);
  });
});

describe('search, screen pop, lookup, meta', () => {
  it('lists with filters and paging; rejects bad filters with 400', async () => {
    for (let i = 0; i < 5; i++) await post('agent01', '/api/cases', completeComplaint());
    await post('agent01', '/api/cases', {
      ...completeComplaint(),
      area: '110105',
      respondent: { name: '北京某培训学校' },
      category: 'S03',
    });
    const get = (qs: string) => app.inject({ method: 'GET', url: `/api/cases?${qs}`, headers: as('lead01') });
    const p = (await get('pageSize=2&page=2')).json();
    expect(p).toMatchObject({ page: 2, pageSize: 2, total: 6, totalCapped: false });
    expect(p.items).toHaveLength(2);
    expect((await get('area=110000')).json().total).toBe(1);
    expect((await get('respondent=' + encodeURIComponent('培训学校'))).json().total).toBe(1);
    expect((await get('status=registered,accepted&type=complaint')).json().total).toBe(6);
    expect((await get(`agent=${ids.agent01}&deadline=running`)).json().total).toBe(6);
    expect((await get('status=bogus')).statusCode).toBe(400);
    expect((await get('area=12')).statusCode).toBe(400);
    expect((await get('pageSize=1000')).statusCode).toBe(400);
  });

  it('screen pop and lookup by number', async () => {
    repo.createDraftForCall({
      callId: 'c1',
      callerNumber: '13812345678',
      ivrPath: ['complaint'],
      queue: 'q',
      agentId: ids.agent01!,
    });
    const c = (await post('agent01', '/api/cases', completeComplaint())).json();
    clock.advanceDays(3);
    const pop = await app.inject({
      method: 'GET',
      url: '/api/cases/screen-pop?phone=13812345678&callId=c2',
      headers: as('agent01'),
    });
    expect(pop.statusCode).toBe(200);
    expect(pop.json()).toMatchObject({ callerNumber: '138****5678', repeatCaller: true, openCases: 1 });
    expect(pop.json().calls[0].callId).toBe('c1');
    const byNo = await app.inject({
      method: 'GET',
      url: `/api/cases/by-number/${c.number.replace('-', '')}`,
      headers: as('agent01'),
    });
    expect(byNo.json().id).toBe(c.id);
    const meta = await app.inject({ method: 'GET', url: '/api/case-meta', headers: as('m3001') });
    expect(meta.json().types[0]).toEqual({ code: 'complaint', name: '投诉' });
  });

  it('split, links and follow-up over HTTP', async () => {
    const c = (
      await post(
        'agent01',
        '/api/cases',
        completeComplaint({ type: 'consultation', reply: '已告知三包规定', category: 'G0101' }),
      )
    ).json();
    const s = await post('agent01', `/api/cases/${c.id}/split`, {
      version: 1,
      type: 'report',
      description: '商家销售翻新机',
    });
    expect(s.statusCode).toBe(201);
    expect(s.json().created.parentId).toBe(c.id);
    const l = await post('agent01', `/api/cases/${c.id}/links`, { kind: 'recording', ref: 'rec-1.wav' });
    expect(l.json().links.map((x: { kind: string }) => x.kind)).toContain('recording');
    const closed = await post('agent01', `/api/cases/${c.id}/transitions`, { version: 2, to: 'closed' });
    expect(closed.statusCode).toBe(200);
    const fu = await post('agent01', `/api/cases/${c.id}/follow-up`, { version: 3, satisfaction: 5 });
    expect(fu.json().followUp.satisfaction).toBe(5);
    expect((await post('agent01', `/api/cases/${c.id}/follow-up`, { version: 4, satisfaction: 9 })).statusCode).toBe(
      400,
    );
    const wrap = await app.inject({
      method: 'GET',
      url: `/api/cases/${s.json().created.id}/wrap-up`,
      headers: as('agent01'),
    });
    expect(wrap.json()).toMatchObject({ complete: false });
    expect(wrap.json().fieldErrors.map((e: { field: string }) => e.field)).toEqual(['respondent.name']); // area is copied from the original contact
  });
});
