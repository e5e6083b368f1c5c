import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CaseNotFoundError, CaseValidationError, type CaseRepository } from '../../server/cases/index.js';
import { tempCaseRepo } from './helpers.js';

const system = { id: null, role: 'system' as const };
let repo: CaseRepository;
let cleanup: () => void;

beforeEach(() => {
  ({ repo, cleanup } = tempCaseRepo('2026-03-02T02:00:00Z'));
});
afterEach(() => cleanup());

const draft = (callId: string, agentId: number | null = 7) =>
  repo.createDraftForCall({ callId, callerNumber: '13812345678', ivrPath: ['welcome'], queue: 'q', agentId });

describe('case notes', () => {
  it('a note on a call’s case is an audit entry of action note, without a version bump', () => {
    const d = draft('call-n1');
    const n = repo.addNoteForCall('call-n1', '  维权站 忙线  ', system);
    expect(n).toMatchObject({
      action: 'note',
      actorId: null,
      version: d.version,
      changes: { note: [null, '维权站 忙线'] },
    });
    expect(repo.get(d.id).version).toBe(d.version);
    repo.addNote(d.id, '第二条', { id: 7, role: 'agent' });
    expect(repo.notes(d.id).map((x) => x.changes.note![1])).toEqual(['维权站 忙线', '第二条']);
    // In the case's audit trail, after the draft's own entries.
    expect(repo.audit(d.id).at(-1)).toMatchObject({ action: 'note', actorId: 7 });
  });

  it('no case for the call: null; empty or long text and unknown or hidden cases are refused', () => {
    expect(repo.addNoteForCall('call-none', '备注', system)).toBeNull();
    const d = draft('call-n2');
    expect(() => repo.addNote(d.id, '   ', system)).toThrow(CaseValidationError);
    expect(() => repo.addNote(d.id, 'x'.repeat(501), system)).toThrow(CaseValidationError);
    expect(() => repo.addNote(99_999, '备注', system)).toThrow(CaseNotFoundError);
    expect(() => repo.addNote(d.id, '备注', system, { kind: 'merchant', userId: 55 })).toThrow(CaseNotFoundError);
    expect(repo.notes(d.id)).toEqual([]);
  });
});
