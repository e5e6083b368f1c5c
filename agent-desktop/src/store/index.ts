/**
 * The desktop's one zustand store, made of slices (session, phone, call, queue, ui). It is fed only by
 * socket events, JsSIP events and the agent's own actions; components read it, never write around it.
 * Vanilla store (zustand/vanilla) so the slices run in Node unit tests without React or a DOM.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { createCallSlice } from './call.js';
import { createCaseSlice } from './case.js';
import { createConferenceSlice } from './conference.js';
import { createLeadSlice } from '../lead/slice.js';
import { createPhoneSlice } from './phone.js';
import { createQueueSlice } from './queue.js';
import { createSessionSlice } from './session.js';
import type { DesktopState, StoreDeps } from './types.js';
import { createUiSlice } from './ui.js';

export type { DesktopState, StoreDeps, KeyValueStorage } from './types.js';
export type DesktopStore = StoreApi<DesktopState>;

export function createDesktopStore(deps: StoreDeps): DesktopStore {
  const store = createStore<DesktopState>()((...a) => ({
    ...createSessionSlice(deps)(...a),
    ...createPhoneSlice(deps)(...a),
    ...createCallSlice(deps)(...a),
    ...createQueueSlice(deps)(...a),
    ...createUiSlice(deps)(...a),
    ...createCaseSlice(deps)(...a),
    ...createConferenceSlice(deps)(...a),
    ...createLeadSlice(deps)(...a),
  }));
  // Cross-slice rule kept here rather than in a component: every agent snapshot may end the shown call.
  store.subscribe((s, prev) => {
    if (s.agent && s.agent !== prev.agent) s.agentStateSeen(s.agent.state);
  });
  return store;
}
