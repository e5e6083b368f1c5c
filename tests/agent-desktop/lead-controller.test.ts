/**
 * LeadController's monitor rules against a stand-in for the server's HTTP boundary (fetch): one monitor
 * per lead and call on the server, so a change of mode stops first; a stop the server no longer knows
 * (409/404) still ends the monitor on screen; a failed start clears the 'ringing' line.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LeadController } from '../../agent-desktop/src/lead/controller.js';
import { createDesktopStore } from '../../agent-desktop/src/store/index.js';

type Handler = (method: string, path: string, body: unknown) => { status: number; body: unknown };

function setup(handler: Handler) {
  const calls: string[] = [];
  vi.stubGlobal('fetch', async (path: string, init: { method: string; body?: string }) => {
    const body = init.body ? (JSON.parse(init.body) as unknown) : undefined;
    calls.push(`${init.method} ${path}${body ? ` ${JSON.stringify(body)}` : ''}`);
    const r = handler(init.method, path, body);
    return new Response(JSON.stringify(r.body), { status: r.status });
  });
  const store = createDesktopStore({ now: () => 0, storage: null });
  store.getState().loggedIn('tok', { username: 'lead01', role: 'lead', displayName: '班长' });
  return { store, lead: new LeadController(store), calls };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('LeadController monitoring', () => {
  it('starts, then a change of mode stops the old monitor before starting the new one', async () => {
    const { store, lead, calls } = setup(() => ({ status: 202, body: {} }));
    await lead.monitor('c1', 'listen', '8009');
    expect(store.getState().monitoring).toMatchObject({ callId: 'c1', mode: 'listen', phase: 'active' });
    await lead.monitor('c1', 'whisper', '8009');
    expect(calls).toEqual([
      'POST /api/calls/c1/monitor {"mode":"listen","seat":"8009"}',
      'POST /api/calls/c1/monitor/stop',
      'POST /api/calls/c1/monitor {"mode":"whisper","seat":"8009"}',
    ]);
    expect(store.getState().monitoring?.mode).toBe('whisper');
  });

  it('shows ringing while the request waits for the handset, and clears it when the start fails', async () => {
    const { store, lead } = setup(() => ({ status: 409, body: { error: 'no_answer', message: '班长分机未接听' } }));
    const p = lead.run(() => lead.monitor('c2', 'barge'));
    expect(store.getState().monitoring).toMatchObject({ callId: 'c2', mode: 'barge', phase: 'ringing' });
    await p;
    expect(store.getState().monitoring).toBeNull();
    expect(store.getState().notice?.text).toBe('班长分机未接听');
  });

  it('a stop answered 409 (handset already hung up) still ends the monitor; a 403 does not', async () => {
    let status = 409;
    const { store, lead } = setup((_m, path) =>
      path.endsWith('/stop') ? { status, body: { error: 'x', message: '拒绝' } } : { status: 202, body: {} },
    );
    await lead.monitor('c3', 'listen');
    await lead.monitorStop('c3');
    expect(store.getState().monitoring).toBeNull();
    await lead.monitor('c3', 'listen');
    status = 403;
    await expect(lead.monitorStop('c3')).rejects.toThrow('拒绝');
    expect(store.getState().monitoring?.callId).toBe('c3');
  });

  it('sends the token and loads the live calls into the store', async () => {
    const { store, lead } = setup(() => ({
      status: 200,
      body: {
        items: [
          {
            id: 'c9',
            state: 'bridged',
            caller: '138****5678',
            dialled: '12315',
            ivrPath: '',
            queue: 'complaint',
            startedAt: 5,
            answeredAt: 6,
            waitingSeconds: 1,
          },
        ],
      },
    }));
    const seen: Array<Record<string, string>> = [];
    const inner = globalThis.fetch;
    vi.stubGlobal('fetch', (p: string, init: { method: string; headers: Record<string, string> }) => {
      seen.push(init.headers);
      return inner(p, init as never);
    });
    await lead.loadLiveCalls();
    expect(seen[0]?.authorization).toBe('Bearer tok');
    expect(store.getState().liveCalls.map((c) => c.id)).toEqual(['c9']);
  });
});
