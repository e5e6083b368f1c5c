import { describe, expect, it } from 'vitest';
import { IvrStore } from '../../server/ivr/services.js';
import { openDatabase } from '../../server/storage/index.js';

describe('IvrStore (SQLite)', () => {
  it('callback requests: due once their window opens, then leave the work list when done', async () => {
    const db = openDatabase(':memory:');
    const store = new IvrStore(db);
    new IvrStore(db); // migrations are applied once
    const { id } = await store.requestCallback({
      callId: 'c1',
      number: '13812345678',
      windowStart: new Date('2026-11-30T05:30:00Z'),
      windowEnd: new Date('2026-11-30T09:30:00Z'),
      ivrPath: ['offline:1', 'callback:pm'],
      requestedAt: new Date('2026-11-29T12:00:00Z'),
    });
    expect(store.dueCallbacks(new Date('2026-11-30T05:29:59Z'))).toEqual([]);
    const due = store.dueCallbacks(new Date('2026-11-30T06:00:00Z'));
    expect(due).toHaveLength(1);
    expect(due[0]).toMatchObject({
      id,
      callId: 'c1',
      number: '13812345678',
      state: 'pending',
      ivrPath: ['offline:1', 'callback:pm'],
    });
    expect(store.setCallbackState(id, 'done')).toBe(true);
    expect(store.dueCallbacks(new Date('2026-11-30T06:00:00Z'))).toEqual([]);
    expect(store.setCallbackState('nope', 'done')).toBe(false);
    expect(() => store.setCallbackState(id, 'weird' as never)).toThrow(/CHECK/);
    db.close();
  });

  it('one survey score per call; the score must be 1–5', async () => {
    const db = openDatabase(':memory:');
    const store = new IvrStore(db);
    await store.recordSurvey({ callId: 'c1', caseId: null, score: 2, at: new Date('2026-11-30T02:00:00Z') });
    await store.recordSurvey({
      callId: 'c1',
      caseId: '20261130-000001',
      score: 5,
      at: new Date('2026-11-30T02:01:00Z'),
    });
    expect(store.surveyFor('c1')).toEqual({
      callId: 'c1',
      caseId: '20261130-000001',
      score: 5,
      at: new Date('2026-11-30T02:01:00Z'),
    });
    await expect(store.recordSurvey({ callId: 'c2', caseId: null, score: 6, at: new Date() })).rejects.toThrow(/CHECK/);
    expect(store.surveyFor('c2')).toBeNull();
    db.close();
  });
});
