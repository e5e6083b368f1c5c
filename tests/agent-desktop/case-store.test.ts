import { describe, expect, it } from 'vitest';
import { createDesktopStore, type KeyValueStorage } from '../../agent-desktop/src/store/index.js';
import { CASE_EDITS_KEY, caseValue, toPatch, type CaseView } from '../../agent-desktop/src/store/case.js';

class MemStorage implements KeyValueStorage {
  readonly m = new Map<string, string>();
  getItem(k: string) {
    return this.m.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.m.set(k, v);
  }
  removeItem(k: string) {
    this.m.delete(k);
  }
}

function view(over: Partial<CaseView> = {}): CaseView {
  return {
    id: 7,
    number: '20260302-000007',
    type: 'complaint',
    status: 'draft',
    statusLabel: '草稿',
    version: 1,
    consumer: { name: '', phone: '13812345678', address: '' },
    respondent: { name: '', creditCode: '', address: '', area: '' },
    area: '',
    category: '',
    problemType: '',
    amount: null,
    request: '',
    description: '',
    reply: '',
    queue: 'complaint',
    ivrPath: 'menu:1>queue:complaint',
    parentId: null,
    ...over,
  };
}

function setup(storage = new MemStorage()) {
  const store = createDesktopStore({ now: () => 1000, storage });
  return { store, s: () => store.getState(), storage };
}

describe('case slice: autosave cycle', () => {
  it('sends pending edits once as a nested patch with the version read, then takes the new copy', () => {
    const { s } = setup();
    s().caseLoaded(view());
    expect(s().caseSaveBegin()).toBeNull(); // nothing to save
    s().caseEdit('consumer.name', '张三');
    s().caseEdit('description', '冰箱不制冷');
    expect(s().caseSave).toBe('pending');
    const req = s().caseSaveBegin()!;
    expect(req).toEqual({ id: 7, version: 1, changes: { consumer: { name: '张三' }, description: '冰箱不制冷' } });
    // One save in flight at a time; typing meanwhile waits for the next.
    s().caseEdit('description', '冰箱不制冷，商家拒绝退换');
    expect(s().caseSaveBegin()).toBeNull();
    expect(caseValue(s(), 'description')).toBe('冰箱不制冷，商家拒绝退换');
    s().caseSaveDone(view({ version: 2, consumer: { name: '张三', phone: '13812345678', address: '' } }));
    expect(s().caseSave).toBe('pending');
    expect(s().caseSaveBegin()).toEqual({ id: 7, version: 2, changes: { description: '冰箱不制冷，商家拒绝退换' } });
    s().caseSaveDone(view({ version: 3, description: '冰箱不制冷，商家拒绝退换' }));
    expect(s().caseSave).toBe('saved');
  });

  it('keeps the agent’s edits through a conflict and re-applies them on the fresh copy', () => {
    const { s } = setup();
    s().caseLoaded(view());
    s().caseEdit('request', '退货');
    s().caseSaveBegin();
    s().caseSaveFailed({ error: 'version_conflict', message: '案件已被他人修改', currentVersion: 2 });
    expect(s().caseSave).toBe('conflict');
    expect(s().caseConflict).toMatchObject({ message: '案件已被他人修改', currentVersion: 2 });
    expect(s().caseSaveBegin()).toBeNull(); // no blind retry over the other change
    s().caseRebase(view({ version: 2, description: '班长补充' }));
    expect(caseValue(s(), 'description')).toBe('班长补充');
    expect(s().caseSaveBegin()).toEqual({ id: 7, version: 2, changes: { request: '退货' } });
  });

  it('a push from another editor marks a dirty form as conflicting, names who, ignores old versions', () => {
    const { s } = setup();
    s().caseLoaded(view({ version: 3 }));
    s().caseRemoteSaved({ id: 7, version: 3, by: '李四' });
    expect(s().caseConflict).toBeNull();
    s().caseEdit('description', 'x');
    s().caseRemoteSaved({ id: 8, version: 9, by: '李四' });
    expect(s().caseConflict).toBeNull();
    s().caseRemoteSaved({ id: 7, version: 4, by: '李四' });
    expect(s().caseConflict?.message).toContain('李四');
  });

  it('field errors from the server stay on their fields and clear when the field is edited', () => {
    const { s } = setup();
    s().caseLoaded(view());
    s().caseEdit('respondent.creditCode', '91350100M000100Y44');
    s().caseSaveBegin();
    s().caseSaveFailed({
      error: 'validation',
      message: '输入有误',
      fieldErrors: [{ field: 'respondent.creditCode', code: 'invalid', message: '校验位不正确' }],
    });
    expect(s().caseSave).toBe('error');
    expect(caseValue(s(), 'respondent.creditCode')).toBe('91350100M000100Y44');
    s().caseEdit('respondent.creditCode', '91350100M000100Y43');
    expect(s().caseFieldErrors).toEqual([]);
  });

  it('an error answering a save that was overtaken by a new edit of that field is not shown', () => {
    const { s } = setup();
    s().caseLoaded(view());
    s().caseEdit('respondent.creditCode', '91350100M000100Y44');
    s().caseSaveBegin();
    s().caseEdit('respondent.creditCode', '91350100M000100Y43'); // typed while the bad value was in flight
    s().caseSaveFailed({
      error: 'validation',
      message: '输入有误',
      fieldErrors: [
        { field: 'respondent.creditCode', code: 'invalid', message: '校验位不正确' },
        { field: 'area', code: 'invalid', message: '地区代码无效' },
      ],
    });
    expect(s().caseFieldErrors.map((e) => e.field)).toEqual(['area']);
    expect(caseValue(s(), 'respondent.creditCode')).toBe('91350100M000100Y43');
  });
});

describe('case slice: a reload loses nothing typed', () => {
  it('mirrors unsaved and in-flight edits into storage and offers them again after a reload', () => {
    const storage = new MemStorage();
    const a = setup(storage);
    a.s().caseLoaded(view());
    a.s().caseEdit('consumer.name', '张三');
    a.s().caseSaveBegin(); // in flight when the page dies
    a.s().caseEdit('description', '冰箱');
    expect(JSON.parse(storage.getItem(CASE_EDITS_KEY(7))!)).toEqual({ 'consumer.name': '张三', description: '冰箱' });

    // The reloaded page: the server had stored the name (ack lost), not the description.
    const b = setup(storage);
    b.s().caseLoaded(view({ version: 2, consumer: { name: '张三', phone: '13812345678', address: '' } }));
    expect(b.s().caseEdits).toEqual({ description: '冰箱' });
    expect(b.s().caseSave).toBe('pending');
    expect(b.s().caseSaveBegin()).toEqual({ id: 7, version: 2, changes: { description: '冰箱' } });
    b.s().caseSaveDone(view({ version: 3, description: '冰箱' }));
    expect(storage.getItem(CASE_EDITS_KEY(7))).toBeNull();
  });

  it('toPatch nests dotted paths and keeps nulls', () => {
    expect(toPatch({ 'consumer.name': 'a', 'consumer.address': 'b', amount: null, type: 'report' })).toEqual({
      consumer: { name: 'a', address: 'b' },
      amount: null,
      type: 'report',
    });
  });
});

describe('case slice: what the save indicator says after a load', () => {
  it('is saved when the stored copy already holds everything (an ack lost with the page)', () => {
    const storage = new MemStorage();
    storage.setItem(CASE_EDITS_KEY(7), JSON.stringify({ request: '退货退款' }));
    const { s } = setup(storage);
    s().caseLoaded(view({ version: 4, request: '退货退款' }));
    expect(s().caseEdits).toEqual({});
    expect(s().caseSave).toBe('saved');
    expect(storage.getItem(CASE_EDITS_KEY(7))).toBeNull();
  });
});
