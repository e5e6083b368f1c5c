import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildHttpApp } from '../../server/api/app.js';
import { caseRoutes } from '../../server/api/routes/cases.js';
import { merchantRoutes } from '../../server/api/routes/merchants.js';
import { MediationStore } from '../../server/cases/mediation.js';
import { CaseRepository, CaseStatus } from '../../server/cases/index.js';
import { MerchantCallBoard, MerchantRepository } from '../../server/merchants/index.js';
import { FakeClock } from '../../server/util/clock.js';
import { WallClock, completeComplaint, VALID_CREDIT_CODE } from '../cases/helpers.js';
import { authFixture, bearer, login, type AuthFixture } from './helpers.js';

let f: AuthFixture;
let app: FastifyInstance;
let cases: CaseRepository;
let merchants: MerchantRepository;
let board: MerchantCallBoard;
let wall: WallClock;
const tokens: Record<string, string> = {};
const ids: Record<string, number> = {};

const STATION = {
  name: '深圳市某某电器有限公司（南山店）',
  area: '440305',
  creditCode: '',
  contactName: '李店长',
  contactPhone: '0755-8888 6666',
  extension: '3001',
  openingHours: [{ days: [1, 2, 3, 4, 5], from: '09:00', to: '18:00' }],
  categories: ['G01'],
};

beforeEach(async () => {
  f = await authFixture();
  f.directory.devices.create({ extension: '3002', kind: 'station', password: 'password-x', realm: 'r' });
  f.directory.devices.create({ extension: '8001', kind: 'seat', password: 'password-x', realm: 'r' });
  f.directory.trunks.create({ name: 'pstn', allowedSources: ['127.0.0.1'], dids: [] });
  wall = new WallClock(Date.parse('2026-03-02T02:00:00Z')); // Monday 10:00 in Shanghai
  cases = new CaseRepository(f.db, { now: wall.now });
  merchants = new MerchantRepository(
    f.db,
    {
      deviceKind: (e) => f.directory.devices.get(e)?.kind ?? null,
      trunkExists: (n) => f.directory.trunks.get(n) !== null,
    },
    wall.now,
  );
  board = new MerchantCallBoard({ clock: new FakeClock(), wallNow: wall.now });
  for (const u of f.directory.webUsers.list()) ids[u.username] = u.id;
  app = await buildHttpApp({ health: { startedAt: 0, transports: () => [] }, auth: f.auth });
  await app.register(caseRoutes, { cases });
  await app.register(merchantRoutes, {
    merchants,
    board,
    cases,
    mediation: new MediationStore(f.db, cases, wall.now),
    directory: f.directory,
    realm: 'r',
    wallNow: wall.now,
  });
  await app.ready();
  for (const u of ['agent01', 'agent02', 'lead01', 'admin', 'm3001']) tokens[u] = await login(app, u);
});
afterEach(async () => {
  await app.close();
  board.close();
  f.close();
});

const as = (user: string) => bearer(tokens[user]!);
const req = (user: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
  app.inject({ method, url, headers: as(user), ...(payload === undefined ? {} : { payload: payload as object }) });

describe('/api/merchants directory', () => {
  it('a lead adds a station; agents read it; the stored form is normalised and open now is computed', async () => {
    const r = await req('lead01', 'POST', '/api/merchants', STATION);
    expect(r.statusCode).toBe(201);
    const s = r.json();
    expect(s).toMatchObject({ name: STATION.name, areaName: '广东省深圳市南山区', contactPhone: '075588886666' });
    expect(s.openNow).toBe(true);
    const list = await req('agent01', 'GET', '/api/merchants');
    expect(list.statusCode).toBe(200);
    expect(list.json().items.map((x: { id: number }) => x.id)).toEqual([s.id]);
    wall.set('2026-03-02T12:00:00Z'); // 20:00 local
    expect((await req('agent01', 'GET', `/api/merchants/${s.id}`)).json().openNow).toBe(false);
  });

  it('only leads and admins write; agents and merchants get 403', async () => {
    for (const u of ['agent01', 'm3001']) {
      expect((await req(u, 'POST', '/api/merchants', STATION)).statusCode).toBe(403);
    }
    const id = (await req('admin', 'POST', '/api/merchants', STATION)).json().id;
    expect((await req('agent01', 'PUT', `/api/merchants/${id}`, STATION)).statusCode).toBe(403);
    expect((await req('agent01', 'DELETE', `/api/merchants/${id}`)).statusCode).toBe(403);
    const put = await req('lead01', 'PUT', `/api/merchants/${id}`, { ...STATION, address: '南山大道 1 号' });
    expect(put.statusCode).toBe(200);
    expect(put.json().address).toBe('南山大道 1 号');
    expect((await req('lead01', 'DELETE', `/api/merchants/${id}`)).statusCode).toBe(204);
    expect((await req('lead01', 'DELETE', `/api/merchants/${id}`)).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/api/merchants' })).statusCode).toBe(401);
  });

  it('400 with field errors: bad credit code, area, reach, hours, categories; nothing stored', async () => {
    const r = await req('lead01', 'POST', '/api/merchants', {
      ...STATION,
      creditCode: '91350100M000100Y44',
      area: '999999',
      extension: '8001',
      openingHours: [{ days: [1], from: '18:00', to: '09:00' }],
      categories: ['NOPE'],
    });
    expect(r.statusCode).toBe(400);
    const fields = r.json().fieldErrors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(
      expect.arrayContaining(['creditCode', 'area', 'extension', 'openingHours.0.to', 'categories.0']),
    );
    expect(r.json().fieldErrors.find((e: { field: string }) => e.field === 'creditCode').message).toContain('校验位');
    // Schema level: wrong type and a missing required field
    const r2 = await req('lead01', 'POST', '/api/merchants', { area: 440305 });
    expect(r2.statusCode).toBe(400);
    expect(r2.json().fieldErrors.map((e: { field: string }) => e.field)).toContain('name');
    // Neither an extension nor an external number; and an external number without an existing trunk
    const r3 = await req('lead01', 'POST', '/api/merchants', { name: 'X', area: '440305' });
    expect(r3.json().fieldErrors).toEqual([expect.objectContaining({ field: 'extension', code: 'required' })]);
    const r4 = await req('lead01', 'POST', '/api/merchants', {
      name: 'X',
      area: '440305',
      externalNumber: '075512345678',
      trunk: 'nope',
    });
    expect(r4.json().fieldErrors).toEqual([expect.objectContaining({ field: 'trunk', code: 'unknown' })]);
    expect((await req('lead01', 'GET', '/api/merchants')).json().items).toHaveLength(0);
    const ok = await req('lead01', 'POST', '/api/merchants', {
      name: 'X',
      area: '440305',
      externalNumber: '075512345678',
      trunk: 'pstn',
    });
    expect(ok.statusCode).toBe(201);
  });

  it('one extension belongs to one station', async () => {
    expect((await req('lead01', 'POST', '/api/merchants', STATION)).statusCode).toBe(201);
    const r = await req('lead01', 'POST', '/api/merchants', { ...STATION, name: '另一家' });
    expect(r.statusCode).toBe(400);
    expect(r.json().fieldErrors[0]).toMatchObject({ field: 'extension' });
  });

  it('a merchant sees only its own station', async () => {
    const own = (await req('lead01', 'POST', '/api/merchants', STATION)).json();
    const other = (
      await req('lead01', 'POST', '/api/merchants', { ...STATION, name: '别家', extension: '3002' })
    ).json();
    expect((await req('m3001', 'GET', '/api/merchants')).json().items.map((s: { id: number }) => s.id)).toEqual([
      own.id,
    ]);
    expect((await req('m3001', 'GET', `/api/merchants/${own.id}`)).statusCode).toBe(200);
    expect((await req('m3001', 'GET', `/api/merchants/${other.id}`)).statusCode).toBe(404);
    expect((await req('m3001', 'GET', '/api/merchants/search?q=电器')).statusCode).toBe(403);
    expect((await req('m3001', 'GET', '/api/merchant/me')).json().id).toBe(own.id);
  });
});

describe('GET /api/merchants/search', () => {
  let caseId: number;
  beforeEach(async () => {
    // Names that all match the text 电器; the case's respondent is the third by name order.
    merchants.create({ name: '阿里电器维修站', area: '110105', extension: '3002' });
    merchants.create({ name: '深圳市某某电器有限公司', area: '440304', externalNumber: '075500000001', trunk: 'pstn' });
    merchants.create({
      name: '某某电器华南售后中心',
      area: '440106',
      creditCode: VALID_CREDIT_CODE,
      externalNumber: '02000000002',
      trunk: 'pstn',
    });
    merchants.create({ name: '深圳市某某电器有限公司（南山店）', area: '440305', extension: '3001' });
    caseId = cases.create({ ...completeComplaint(), agentId: ids.agent01 }, { id: ids.agent01!, role: 'agent' }).id;
  });
  const names = (r: { json(): { items: { name: string }[] } }) => r.json().items.map((s) => s.name);

  it('by name fragment, credit code prefix, area subtree, and a 6-digit area as text', async () => {
    expect(names(await req('agent01', 'GET', `/api/merchants/search?q=${encodeURIComponent('维修')}`))).toEqual([
      '阿里电器维修站',
    ]);
    expect(names(await req('agent01', 'GET', `/api/merchants/search?q=${VALID_CREDIT_CODE.slice(0, 10)}`))).toEqual([
      '某某电器华南售后中心',
    ]);
    expect(names(await req('agent01', 'GET', '/api/merchants/search?area=440300')).sort()).toEqual(
      ['深圳市某某电器有限公司', '深圳市某某电器有限公司（南山店）'].sort(),
    );
    expect(names(await req('agent01', 'GET', '/api/merchants/search?q=440000'))).toHaveLength(3);
    const bad = await req('agent01', 'GET', '/api/merchants/search?area=44');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().fieldErrors[0].field).toBe('area');
  });

  it("with caseId the respondent's stations come first: credit code, then same name, then similar name", async () => {
    const r = await req('agent01', 'GET', `/api/merchants/search?q=${encodeURIComponent('电器')}&caseId=${caseId}`);
    expect(r.statusCode).toBe(200);
    expect(r.json().respondent).toEqual({ name: '深圳市某某电器有限公司', creditCode: VALID_CREDIT_CODE });
    expect(
      r.json().items.map((s: { name: string; respondentMatch: number | null }) => [s.name, s.respondentMatch]),
    ).toEqual([
      ['某某电器华南售后中心', 0],
      ['深圳市某某电器有限公司', 1],
      ['深圳市某某电器有限公司（南山店）', 2],
      ['阿里电器维修站', null],
    ]);
    // Without text the respondent's stations still lead the list.
    const r2 = await req('agent01', 'GET', `/api/merchants/search?caseId=${caseId}&limit=2`);
    expect(names(r2)).toEqual(['某某电器华南售后中心', '深圳市某某电器有限公司']);
  });

  it("an agent cannot rank by another agent's case (404)", async () => {
    const r = await req('agent02', 'GET', `/api/merchants/search?caseId=${caseId}`);
    expect(r.statusCode).toBe(404);
  });
});

describe('merchant portal: announcement, masked summary, outcome', () => {
  let stationId: number;
  let caseId: number;
  beforeEach(() => {
    stationId = merchants.create({ name: '深圳市某某电器有限公司', area: '440305', extension: '3001' }).id;
    const actor = { id: ids.lead01!, role: 'lead' as const };
    const c = cases.create({ ...completeComplaint(), agentId: ids.agent01 }, actor);
    caseId = cases.transition(c.id, c.version, { to: CaseStatus.Accepted }, actor).id;
  });

  it('the agent announces the call; the merchant sees a masked summary and records 调解成功', async () => {
    expect((await req('m3001', 'GET', '/api/merchant/calls/current')).json()).toEqual({ call: null });
    expect((await req('m3001', 'GET', `/api/cases/${caseId}`)).statusCode).toBe(404);
    const a = await req('agent01', 'POST', `/api/merchants/${stationId}/calls`, { callId: 'call-1', caseId });
    expect(a.statusCode).toBe(201);
    const cur = (await req('m3001', 'GET', '/api/merchant/calls/current')).json().call;
    expect(cur).toMatchObject({ callId: 'call-1', caseId, ended: false });
    expect(cur.summary.consumer).toEqual({ name: '张*', phone: '138****5678' });
    expect(JSON.stringify(cur)).not.toContain('13812345678');
    expect(JSON.stringify(cur)).not.toContain('科技园'); // the consumer's address is not shown
    expect(cur.summary.request).toBe('退货退款');

    const o = await req('m3001', 'POST', `/api/merchant/cases/${caseId}/outcome`, {
      result: 'succeeded',
      remedy: 'refund',
      amount: 1999.5,
      deadline: '2026-03-09',
      notes: '三日内上门取回',
      callId: 'call-1',
    });
    expect(o.statusCode).toBe(201);
    expect(o.json().outcome).toMatchObject({ applied: true, caseStatus: 'mediation_succeeded', stationId });
    const c = (await req('lead01', 'GET', `/api/cases/${caseId}`)).json();
    expect(c.status).toBe('mediation_succeeded');
    expect(c.statusLabel).toBe('调解成功');
    expect(c.statusReason).toBe('维权站调解成功：退款 1999.50 元，2026-03-09 前履行；三日内上门取回');
    const m = (await req('agent01', 'GET', `/api/cases/${caseId}/mediation`)).json().items;
    expect(m).toEqual([expect.objectContaining({ remedy: 'refund', amount: 1999.5, deadline: '2026-03-09' })]);
    // Recorded: the announcement is done with.
    expect((await req('m3001', 'GET', '/api/merchant/calls/current')).json().call).toBeNull();
  });

  it('400 with field errors for a bad outcome; 调解终止 needs a reason; other stations cannot record', async () => {
    await req('agent01', 'POST', `/api/merchants/${stationId}/calls`, { callId: 'call-1', caseId });
    const bad = await req('m3001', 'POST', `/api/merchant/cases/${caseId}/outcome`, {
      result: 'succeeded',
      remedy: 'refund',
      amount: 10.001,
      deadline: '2026-03-01',
    });
    expect(bad.statusCode).toBe(400);
    expect(
      bad
        .json()
        .fieldErrors.map((e: { field: string }) => e.field)
        .sort(),
    ).toEqual(['amount', 'deadline']);
    const schema = await req('m3001', 'POST', `/api/merchant/cases/${caseId}/outcome`, { result: 'maybe' });
    expect(schema.statusCode).toBe(400);
    expect(schema.json().fieldErrors[0].field).toBe('result');
    const noReason = await req('m3001', 'POST', `/api/merchant/cases/${caseId}/outcome`, { result: 'terminated' });
    expect(noReason.json().fieldErrors).toEqual([expect.objectContaining({ field: 'notes', code: 'required' })]);
    expect(
      (await req('agent01', 'POST', `/api/merchant/cases/${caseId}/outcome`, { result: 'terminated' })).statusCode,
    ).toBe(403);
    const t = await req('m3001', 'POST', `/api/merchant/cases/${caseId}/outcome`, {
      result: 'terminated',
      notes: '消费者要求三倍赔偿，双方未达成一致',
    });
    expect(t.statusCode).toBe(201);
    expect((await req('lead01', 'GET', `/api/cases/${caseId}`)).json().status).toBe('mediation_terminated');
  });

  it('a case not announced to the station is 404 for it; a registered case keeps its status (applied false)', async () => {
    const r = await req('m3001', 'POST', `/api/merchant/cases/${caseId}/outcome`, {
      result: 'succeeded',
      remedy: 'repair',
    });
    expect(r.statusCode).toBe(404);
    const reg = cases.create({ ...completeComplaint(), agentId: ids.agent01 }, { id: ids.agent01!, role: 'agent' });
    await req('agent01', 'POST', `/api/merchants/${stationId}/calls`, { callId: 'call-2', caseId: reg.id });
    const r2 = await req('m3001', 'POST', `/api/merchant/cases/${reg.id}/outcome`, {
      result: 'succeeded',
      remedy: 'repair',
    });
    expect(r2.statusCode).toBe(201);
    expect(r2.json().outcome).toMatchObject({ applied: false, caseStatus: 'registered' });
  });

  it("an agent cannot announce another agent's case, nor to an unknown station", async () => {
    expect(
      (await req('agent02', 'POST', `/api/merchants/${stationId}/calls`, { callId: 'c', caseId })).statusCode,
    ).toBe(404);
    expect((await req('agent01', 'POST', '/api/merchants/999/calls', { callId: 'c', caseId })).statusCode).toBe(404);
    expect((await req('m3001', 'POST', `/api/merchants/${stationId}/calls`, { callId: 'c', caseId })).statusCode).toBe(
      403,
    );
  });

  it('SIP credentials of the own device only', async () => {
    f.directory.devices.setPassword('3001', 'station3001', 'r');
    const r = await req('m3001', 'GET', '/api/merchant/sip-credentials');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ extension: '3001', realm: 'r', wsPath: '/sip' });
    expect(r.json().ha1).toMatch(/^[0-9a-f]{32}$/);
    expect((await req('agent01', 'GET', '/api/merchant/sip-credentials')).statusCode).toBe(403);
  });
});
