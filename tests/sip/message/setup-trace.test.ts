import { afterEach, describe, expect, it } from 'vitest';
import { formatSetupTrace, SetupStage, SetupTrace } from '../../../server/sip/message/setup-trace.js';

describe('call setup trace', () => {
  const trace = new SetupTrace();
  afterEach(() => {
    trace.disable();
    trace.reset();
  });

  it('records nothing while disabled', () => {
    const req = {};
    trace.receiving();
    trace.parsed(req);
    trace.mark(req, SetupStage.Sent);
    expect(trace.summary().calls).toBe(0);
  });

  it('turns the stages of one INVITE into gaps between the stages it passed, in order', () => {
    trace.enable();
    const req = {};
    trace.receiving();
    trace.parsed(req);
    trace.mark(req, SetupStage.Transaction);
    trace.mark(req, SetupStage.Endpoint); // admission and call-manager skipped on this path
    trace.mark(req, SetupStage.Sent);
    const s = trace.summary();
    expect(s.calls).toBe(1);
    expect(s.gaps.map((g) => `${g.from}>${g.to}`)).toEqual([
      'receive>parse',
      'parse>transaction',
      'transaction>media endpoint',
      'media endpoint>200 sent',
    ]);
    for (const g of s.gaps) expect(g.count).toBe(1);
    expect(s.total.count).toBe(1);
    expect(s.total.max).toBeGreaterThanOrEqual(0);
    expect(formatSetupTrace(s)).toContain('transaction → media endpoint');
  });

  it('keeps the first stamp of a stage and ignores requests it never saw parsed', () => {
    trace.enable();
    const seen = {};
    const unseen = {};
    trace.parsed(seen);
    trace.mark(seen, SetupStage.Admission);
    trace.mark(seen, SetupStage.Admission);
    trace.mark(unseen, SetupStage.Sent);
    trace.mark(seen, SetupStage.Sent);
    trace.mark(seen, SetupStage.Sent); // after the 200: already closed
    const s = trace.summary();
    expect(s.calls).toBe(1);
    expect(s.gaps.find((g) => g.from === 'parse' && g.to === 'admission')?.count).toBe(1);
    // The unseen request counts nowhere; the seen one once per stage it reached.
    expect(s.reached.filter((r) => r.count > 0)).toEqual([
      { stage: 'parse', count: 1 },
      { stage: 'admission', count: 1 },
      { stage: '200 sent', count: 1 },
    ]);
  });

  it('measures a wait between two stages', async () => {
    trace.enable();
    const req = {};
    trace.parsed(req);
    trace.mark(req, SetupStage.CallManager);
    await new Promise((r) => setTimeout(r, 30));
    trace.mark(req, SetupStage.Endpoint);
    trace.mark(req, SetupStage.Sent);
    const g = trace.summary().gaps.find((x) => x.to === 'media endpoint')!;
    expect(g.p50).toBeGreaterThanOrEqual(25);
  });
});

describe('call setup trace: main-thread work', () => {
  it('times work only while enabled and returns its result either way', () => {
    const trace = new SetupTrace();
    expect(trace.work('x', () => 7)).toBe(7);
    expect(trace.summary().work).toEqual([]);
    trace.enable();
    expect(trace.work('cdr flush', () => 'ok')).toBe('ok');
    expect(() =>
      trace.work('cdr flush', () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    const w = trace.summary().work;
    expect(w.map((x) => [x.from, x.count])).toEqual([['cdr flush', 2]]);
    expect(formatSetupTrace(trace.summary())).toContain('work: cdr flush');
    trace.disable();
  });
});
