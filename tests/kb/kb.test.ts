import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KbError, KbRepository, searchTerms } from '../../server/kb/index.js';
import { openDatabase, type Database } from '../../server/storage/database.js';

let db: Database;
let kb: KbRepository;

beforeEach(() => {
  db = openDatabase(':memory:');
  kb = new KbRepository(db);
  expect(kb.seed()).toBe(6);
});
afterEach(() => db.close());

const titles = (q: string, o?: Parameters<KbRepository['search']>[1]) => kb.search(q, o).map((h) => h.title);

describe('KB search in Chinese', () => {
  it('finds statute articles by 3+ character phrases through the trigram index', () => {
    expect(titles('无理由退货')[0]).toContain('第二十五条');
    expect(titles('无理由退货')).toHaveLength(1);
    expect(titles('不存在的词语')).toEqual([]);
  });

  it('handles 1–2 character words (too short for trigrams) by scanning', () => {
    expect(titles('欺诈')[0]).toContain('第五十五条');
    // 三倍 is in the titles of article 55 and in the body of the food-safety article: title hit first.
    expect(titles('三倍')).toHaveLength(2);
    expect(titles('三倍')[0]).toContain('第五十五条');
    expect(titles('三包')[0]).toContain('三包');
    expect(titles('十倍').some((t) => t.includes('食品安全法'))).toBe(true);
  });

  it('ANDs terms and mixes short and long ones', () => {
    expect(titles('七日 退货').length).toBeGreaterThanOrEqual(2);
    expect(titles('网络 无理由退货')).toHaveLength(1);
    expect(titles('食品 无理由退货')).toEqual([]);
  });

  it('ranks title/tag hits above body hits', () => {
    // 惩罚性赔偿 is a tag of article 55 and only body text elsewhere.
    expect(titles('惩罚性赔偿')[0]).toContain('第五十五条');
  });

  it('filters by kind and returns a plain snippet around the match', () => {
    const hits = kb.search('首负责任制', { kind: 'law' });
    expect(hits).toHaveLength(1);
    expect(hits[0]!.snippet).toContain('首负责任制');
    expect(hits[0]!.snippet).not.toMatch(/<|>/);
    expect(kb.search('首负责任制', { kind: 'faq' })).toEqual([]);
  });

  it('treats FTS syntax in the query as text', () => {
    expect(() => kb.search('"退货" OR NEAR(')).not.toThrow();
    expect(kb.search('  ，。 ')).toEqual([]);
    expect(searchTerms('退货，换货 退货')).toEqual(['退货', '换货']);
  });
});

describe('KB editing', () => {
  it('edits are versioned, indexed and conflict-checked; seed does not overwrite edits', () => {
    const [a] = kb.search('预付卡');
    const art = kb.get(a!.id);
    const edited = kb.update(art.id, art.version, { ...art, body: '新的答复口径：先核实健身卡合同。' }, 3);
    expect(edited.version).toBe(2);
    expect(edited.updatedBy).toBe(3);
    expect(titles('健身卡合同')).toEqual([art.title]);
    expect(titles('跑路的')).toEqual([]);
    expect(() => kb.update(art.id, 1, { ...art, title: 'x' }, 3)).toThrow(KbError);
    expect(kb.seed()).toBe(0);
    expect(kb.get(art.id).body).toContain('新的答复口径');
    kb.remove(art.id, 2, 3);
    expect(() => kb.get(art.id)).toThrow(/不存在/);
    expect(titles('健身卡合同')).toEqual([]);
  });

  it('validates input with field errors', () => {
    try {
      kb.create({ kind: 'law', title: ' ', body: '', tags: ['a b'] }, 1);
      throw new Error('no throw');
    } catch (e) {
      expect((e as KbError).status).toBe(400);
      expect((e as KbError).fieldErrors.map((f) => f.field)).toEqual(['title', 'body', 'tags']);
    }
  });
});
