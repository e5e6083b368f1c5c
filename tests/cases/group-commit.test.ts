import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CaseStatus, GroupCommit, VersionConflictError, type CaseRepository } from '../../server/cases/index.js';
import type { Database } from '../../server/storage/database.js';
import { completeComplaint, tempCaseRepo, type WallClock } from './helpers.js';

const agent = { id: 7, role: 'agent' as const };
let repo: CaseRepository;
let db: Database;
let clock: WallClock;
let cleanup: () => void;

beforeEach(() => {
  ({ repo, db, clock, cleanup } = tempCaseRepo());
});
afterEach(() => {
  repo.close();
  cleanup();
});

describe('group commit', () => {
  it('commits concurrent saves in one transaction; a failing save rolls back alone', async () => {
    const cases = Array.from({ length: 30 }, () => repo.create({ type: 'complaint', draft: true }, agent));
    const before = repo.groupCommitStats.batches;
    const results = await Promise.allSettled(
      cases.map((c, i) =>
        repo.grouped(() => repo.update(c.id, i === 5 ? 99 : 1, { description: `第${i}次保存` }, agent)),
      ),
    );
    expect(repo.groupCommitStats.batches - before).toBe(1);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(29);
    const failed = results[5] as PromiseRejectedResult;
    expect(failed.reason).toBeInstanceOf(VersionConflictError);
    expect(repo.get(cases[5]!.id).description).toBe('');
    expect(repo.get(cases[6]!.id).description).toBe('第6次保存');
  });

  it('rolls back a write that throws half way (savepoint), keeping the others', async () => {
    const gc = new GroupCommit(db);
    db.sqlite.exec('CREATE TABLE t (x INTEGER)');
    const ins = db.sqlite.prepare('INSERT INTO t VALUES (?)');
    const ok = gc.run(() => ins.run(1));
    const bad = gc.run(() => {
      ins.run(2);
      throw new Error('boom');
    });
    await ok;
    await expect(bad).rejects.toThrow('boom');
    expect(db.sqlite.prepare('SELECT x FROM t').all()).toEqual([{ x: 1 }]);
    gc.close();
    gc.close();
    await expect(gc.run(() => 1)).rejects.toThrow(/closed/);
  });
});

describe('audit merging for autosave', () => {
  it('merges one person’s saves within the window into one entry, first old → last new', () => {
    const c = repo.create({ type: 'complaint', draft: true }, agent);
    let v = c.version;
    for (const text of ['冰', '冰箱', '冰箱不制冷']) v = repo.update(c.id, v, { description: text }, agent).version;
    v = repo.update(c.id, v, { amount: 100 }, agent).version;
    let audit = repo.audit(c.id);
    expect(audit.map((a) => a.action)).toEqual(['create', 'update']);
    expect(audit[1]!.version).toBe(v);
    expect(audit[1]!.changes).toEqual({ description: ['', '冰箱不制冷'], amount: [null, 100] });
    // Another person, or the same one later, starts a new entry.
    v = repo.update(c.id, v, { request: '退货' }, { id: 8, role: 'agent' }).version;
    clock.advanceDays(1);
    v = repo.update(c.id, v, { request: '退款' }, agent).version;
    audit = repo.audit(c.id);
    expect(audit.map((a) => a.actorId)).toEqual([7, 7, 8, 7]);
    // A stale writer still sees what changed since its version.
    try {
      repo.update(c.id, 2, { request: 'x' }, agent);
      throw new Error('no conflict');
    } catch (e) {
      // The merged entry (versions 2..5) did not touch request; the two later ones did.
      expect((e as VersionConflictError).since.map((s) => s.changes.request)).toEqual([
        undefined,
        ['', '退货'],
        ['退货', '退款'],
      ]);
    }
  });
});

describe('audit merging keeps to the stored trail (the merge entry is cached between saves)', () => {
  it('a note between saves starts a new entry; a rolled-back save leaves the stored entry as it was', () => {
    const c = repo.create({ type: 'complaint', draft: true }, agent);
    let v = repo.update(c.id, c.version, { description: '冰' }, agent).version;
    v = repo.update(c.id, v, { description: '冰箱' }, agent).version;
    repo.addNote(c.id, '来电人情绪激动', agent);
    v = repo.update(c.id, v, { description: '冰箱漏水' }, agent).version;
    expect(repo.audit(c.id).map((a) => [a.action, a.changes.description])).toEqual([
      ['create', undefined],
      ['update', ['', '冰箱']],
      ['note', undefined],
      ['update', ['冰箱', '冰箱漏水']],
    ]);
    // A save whose transaction rolls back (here: the caller throws after it) is not in the trail,
    // and the next save merges into what is stored, not into what the rolled-back one wrote.
    expect(() =>
      db.transaction(() => {
        repo.update(c.id, v, { amount: 100 }, agent);
        throw new Error('rollback');
      }),
    ).toThrow('rollback');
    v = repo.update(c.id, v, { description: '冰箱漏水严重' }, agent).version;
    const last = repo.audit(c.id).at(-1)!;
    expect(last).toMatchObject({ action: 'update', version: v });
    expect(last.changes).toEqual({ description: ['冰箱', '冰箱漏水严重'] });
    expect(repo.audit(c.id)).toHaveLength(4);
  });
});

describe('full-text index consistency', () => {
  it('drafts are not indexed; registration indexes; edits reindex; integrity check passes', () => {
    const d = repo.create({ ...completeComplaint({ description: '独角兽牌冰箱漏水' }), draft: true }, agent);
    expect(repo.list({ q: '独角兽', includeDrafts: true }, { kind: 'all' }).total).toBe(0);
    const reg = repo.transition(d.id, d.version, { to: CaseStatus.Registered }, agent);
    expect(repo.list({ q: '独角兽' }, { kind: 'all' }).total).toBe(1);
    repo.update(reg.id, reg.version, { description: '凤凰牌冰箱漏水' }, agent);
    expect(repo.list({ q: '独角兽' }, { kind: 'all' }).total).toBe(0);
    expect(repo.list({ q: '凤凰牌' }, { kind: 'all' }).total).toBe(1);
    const x = repo.create({ type: 'suggestion', draft: true, description: '草稿作废' }, agent);
    repo.transition(x.id, x.version, { to: CaseStatus.Discarded, reason: '误建' }, agent);
    // rank 0: the index's own structure (rank 1 would demand every content row, drafts too, be indexed).
    expect(() => db.sqlite.exec(`INSERT INTO cases_fts(cases_fts, rank) VALUES ('integrity-check', 0)`)).not.toThrow();
    const indexed = db.sqlite
      .prepare(`SELECT rowid FROM cases_fts WHERE cases_fts MATCH '"冰箱漏"' ORDER BY rowid`)
      .all();
    expect(indexed).toEqual([{ rowid: reg.id }]);
    expect(db.sqlite.prepare(`SELECT rowid FROM cases_fts WHERE cases_fts MATCH '"草稿作"'`).all()).toEqual([]);
  });
});

describe('durable ack with the WAL fsync off the event loop', () => {
  it('acks only after a sync that started after the commit; the connection goes back to FULL', async () => {
    const gc = new GroupCommit(db);
    db.sqlite.exec('CREATE TABLE d (x INTEGER)');
    const ins = db.sqlite.prepare('INSERT INTO d VALUES (?)');
    const first = gc.run(() => ins.run(1));
    // Lets the first batch commit and its fdatasync start, then queues a second batch behind it.
    await new Promise((r) => setImmediate(r));
    expect(gc.stats.batches).toBe(1);
    const second = gc.run(() => ins.run(2));
    await Promise.all([first, second]);
    expect(gc.stats.batches).toBe(2);
    // The second commit happened while the first sync ran, so it needed a sync of its own.
    expect(gc.stats.syncs).toBe(2);
    expect(db.sqlite.pragma('synchronous', { simple: true })).toBe(2); // FULL
    gc.close();
  });

  it('close() commits and syncs what is queued and settles every caller', async () => {
    const gc = new GroupCommit(db);
    db.sqlite.exec('CREATE TABLE e (x INTEGER)');
    const ins = db.sqlite.prepare('INSERT INTO e VALUES (?)');
    const p = [1, 2, 3].map((x) => gc.run(() => ins.run(x).changes));
    gc.close();
    expect(await Promise.all(p)).toEqual([1, 1, 1]);
    expect(db.sqlite.prepare('SELECT count(*) AS n FROM e').get()).toEqual({ n: 3 });
  });
});
