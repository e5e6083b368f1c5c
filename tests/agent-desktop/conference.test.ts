import { describe, expect, it } from 'vitest';
import { threeWayActions } from '../../agent-desktop/src/store/conference.js';
import { createDesktopStore } from '../../agent-desktop/src/store/index.js';

const store = () => createDesktopStore({ now: () => 0, storage: null });

describe('conference slice', () => {
  it('keeps the server picture per call; a new call drops the old chosen station', () => {
    const s = store();
    s.getState().threeWayAnswered(null, { id: 4, name: '维权站甲' });
    s.getState().conferenceUpdated({ callId: 'a', state: 'ringing', parties: [{ role: 'consumer' }] });
    expect(s.getState().threeWayStation).toEqual({ id: 4, name: '维权站甲' });
    s.getState().conferenceUpdated({ callId: 'a', state: 'conference', parties: [] });
    expect(s.getState().conference?.state).toBe('conference');
    expect(s.getState().threeWayStation).not.toBeNull();
    s.getState().conferenceUpdated({ callId: 'b', state: 'ringing', parties: [] });
    expect(s.getState().threeWayStation).toBeNull();
  });

  it('busy flag and error of a request; warm transfer start and finish', () => {
    const s = store();
    s.getState().threeWayRequested();
    expect(s.getState()).toMatchObject({ threeWayBusy: true, threeWayError: null });
    s.getState().threeWayAnswered('分机未接听');
    expect(s.getState()).toMatchObject({ threeWayBusy: false, threeWayError: '分机未接听' });
    s.getState().warmTransferStarted({ callId: 'a', target: { kind: 'agent', value: '1002' } });
    expect(s.getState().warmTransfer?.target.value).toBe('1002');
    s.getState().warmTransferFinished();
    expect(s.getState().warmTransfer).toBeNull();
  });

  it('offers only the buttons the state allows', () => {
    expect(threeWayActions(null)).toEqual({ start: true, join: false, leave: false, rejoin: false, end: false });
    expect(threeWayActions('consulting')).toMatchObject({ start: false, join: true, end: true });
    expect(threeWayActions('conference')).toMatchObject({ join: false, leave: true, rejoin: false, end: true });
    expect(threeWayActions('agent_left')).toMatchObject({ leave: false, rejoin: true, end: true });
    expect(threeWayActions('two_party')).toMatchObject({ start: true, end: false });
    expect(threeWayActions('failed').start).toBe(true);
  });
});
