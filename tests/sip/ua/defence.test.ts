import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../server/util/clock.js';
import { SipDefence, SourceState, nextSourceState, type BanEvent } from '../../../server/sip/ua/defence.js';

const A = '203.0.113.7';
const B = '198.51.100.9';

function fail(d: SipDefence, ip: string, n: number): boolean[] {
  return Array.from({ length: n }, () => d.recordAuthFailure(ip, '8001', 'bad-response'));
}

describe('SipDefence bans', () => {
  it('bans on the 10th failure within 60 s, for 10 minutes, then lets the source back', () => {
    const clock = new FakeClock(1_000_000);
    const bans: BanEvent[] = [];
    const d = new SipDefence({ onBan: (e) => bans.push(e) }, clock);
    const results = [];
    for (let i = 0; i < 10; i++) {
      results.push(d.recordAuthFailure(A, '8001', 'bad-response'));
      clock.advance(5_000); // 10 failures over 45 s
    }
    expect(results.slice(0, 9)).toEqual(Array(9).fill(false));
    expect(results[9]).toBe(true);
    expect(d.isBanned(A)).toBe(true);
    expect(d.stateOf(A)).toBe(SourceState.Banned);
    expect(d.admit(A)).toBe(false);
    expect(d.admit(B)).toBe(true);
    expect(bans).toHaveLength(1);
    expect(bans[0]).toMatchObject({ address: A, durationMs: 600_000, cause: 'auth-failures', strike: 1 });

    clock.advance(600_000 - 5_000 - 1); // 1 ms before the end (ban started 5 s ago)
    expect(d.admit(A)).toBe(false);
    clock.advance(1);
    expect(d.admit(A)).toBe(true);
    expect(d.stateOf(A)).toBe(SourceState.Clean);
    expect(d.stats).toMatchObject({ authFailures: 10, bansIssued: 1, bannedDrops: 2 });
  });

  it('counts failures in a sliding window: 9 old ones do not add up with later ones', () => {
    const clock = new FakeClock();
    const d = new SipDefence({}, clock);
    fail(d, A, 9);
    clock.advance(30_000);
    fail(d, A, 1); // 10 within 30 s: ban
    expect(d.isBanned(A)).toBe(true);

    const e = new SipDefence({}, clock);
    fail(e, B, 9);
    clock.advance(60_001); // the 9 leave the window
    expect(fail(e, B, 9)).toEqual(Array(9).fill(false));
    expect(e.isBanned(B)).toBe(false);
    expect(e.stateOf(B)).toBe(SourceState.Watching);
    expect(fail(e, B, 1)).toEqual([true]);
  });

  it('is configurable and never bans exempt addresses (IPv4-mapped form included)', () => {
    const clock = new FakeClock();
    const d = new SipDefence({ maxFailures: 3, failureWindowMs: 1000, banMs: 5000, exempt: ['192.0.2.1'] }, clock);
    expect(fail(d, '::ffff:192.0.2.1', 20).some(Boolean)).toBe(false);
    expect(d.isBanned('192.0.2.1')).toBe(false);
    expect(fail(d, '::ffff:' + A, 3)).toEqual([false, false, true]);
    expect(d.isBanned(A)).toBe(true); // stored in plain IPv4 form
    clock.advance(5000);
    expect(d.isBanned(A)).toBe(false);
  });

  it('bans a source that resumes right after its ban for twice as long, up to maxBanMs', () => {
    const clock = new FakeClock();
    const d = new SipDefence({ maxFailures: 2, banMs: 1000, maxBanMs: 3000 }, clock);
    const lengths: number[] = [];
    for (let i = 0; i < 4; i++) {
      fail(d, A, 2);
      const [b] = d.bans();
      lengths.push(b!.until - clock.now());
      clock.advance(b!.until - clock.now());
      expect(d.isBanned(A)).toBe(false);
    }
    expect(lengths).toEqual([1000, 2000, 3000, 3000]);
    // A long quiet spell forgets the strikes.
    clock.advance(10_000);
    fail(d, A, 2);
    expect(d.bans()[0]).toMatchObject({ strike: 1, until: clock.now() + 1000 });
  });

  it('failures while banned change nothing; manual ban and unban work', () => {
    const clock = new FakeClock();
    const d = new SipDefence({ maxFailures: 2 }, clock);
    fail(d, A, 2);
    expect(fail(d, A, 5)).toEqual(Array(5).fill(false));
    expect(d.stats.bansIssued).toBe(1);
    expect(d.unban(A)).toBe(true);
    expect(d.admit(A)).toBe(true);
    d.ban(B, 50, 'manual');
    expect(d.bans()).toEqual([{ address: B, until: 50, cause: 'manual', strike: 1 }]);
    clock.advance(50);
    expect(d.bans()).toEqual([]);
  });

  it('keeps memory bounded under a flood of distinct sources', () => {
    const clock = new FakeClock();
    const d = new SipDefence({ maxFailures: 2, maxTrackedSources: 100, maxBans: 50 }, clock);
    for (let i = 0; i < 5000; i++) d.recordAuthFailure(`10.0.${i >> 8}.${i & 255}`);
    expect(d.snapshot().trackedSources).toBeLessThanOrEqual(100);
    for (let i = 0; i < 500; i++) fail(d, `10.1.${i >> 8}.${i & 255}`, 2);
    const s = d.snapshot();
    expect(s.activeBans).toBe(50);
    expect(s.bansIssued).toBe(500);
    expect(s.evictions).toBeGreaterThan(0);
    // The most recent bans are the ones kept.
    expect(d.isBanned('10.1.1.243')).toBe(true);
    expect(d.isBanned('10.1.0.0')).toBe(false);
  });

  it('forgets failure histories that left the window (sweep)', () => {
    const clock = new FakeClock();
    const d = new SipDefence({}, clock);
    for (let i = 0; i < 50; i++) d.recordAuthFailure(`10.0.0.${i}`);
    expect(d.snapshot().trackedSources).toBe(50);
    clock.advance(61_000);
    d.recordAuthFailure(B);
    expect(d.snapshot().trackedSources).toBe(1);
  });

  it('a throwing onBan listener does not break the ban', () => {
    const d = new SipDefence(
      {
        maxFailures: 1,
        onBan: () => {
          throw new Error('listener');
        },
      },
      new FakeClock(),
    );
    expect(d.recordAuthFailure(A)).toBe(true);
    expect(d.isBanned(A)).toBe(true);
  });

  it('rejects illegal transitions and bad options', () => {
    expect(() => nextSourceState(SourceState.Banned, SourceState.Watching)).toThrow(/illegal/);
    expect(nextSourceState(SourceState.Clean, SourceState.Watching)).toBe(SourceState.Watching);
    expect(() => new SipDefence({ maxFailures: 0 }, new FakeClock())).toThrow();
    expect(() => new SipDefence({ maxInvitesPerSource: 0 }, new FakeClock())).toThrow();
  });

  it('close() is idempotent and clears state', () => {
    const d = new SipDefence({ maxFailures: 1 }, new FakeClock());
    d.recordAuthFailure(A);
    d.close();
    d.close();
    expect(d.isBanned(A)).toBe(false);
    expect(d.recordAuthFailure(A)).toBe(false);
  });
});

describe('SipDefence per-source caps', () => {
  it('refuses the INVITE over the cap and frees a slot on release (idempotent)', () => {
    const d = new SipDefence({ maxInvitesPerSource: 3 }, new FakeClock());
    const leases = [1, 2, 3].map(() => d.acquire('invite', A));
    expect(leases.every((l) => l !== null)).toBe(true);
    expect(d.acquire('invite', A)).toBeNull();
    expect(d.acquire('invite', B)).not.toBeNull(); // other sources unaffected
    expect(d.acquire('dialog', A)).not.toBeNull(); // separate budget
    leases[0]!.release();
    leases[0]!.release();
    expect(d.held('invite', A)).toBe(2);
    expect(d.acquire('invite', A)).not.toBeNull();
    expect(d.acquire('invite', A)).toBeNull();
    expect(d.stats.invitesRefused).toBe(2);
  });

  it('frees a slot when its alive() turns false, without release()', () => {
    const d = new SipDefence({ maxDialogsPerSource: 2 }, new FakeClock());
    const tx = [{ terminated: false }, { terminated: false }];
    for (const t of tx) expect(d.acquire('dialog', A, () => !t.terminated)).not.toBeNull();
    expect(d.acquire('dialog', A, () => true)).toBeNull();
    tx[1]!.terminated = true;
    expect(d.held('dialog', A)).toBe(1);
    expect(d.acquire('dialog', A, () => true)).not.toBeNull();
    expect(d.snapshot()).toMatchObject({ activeDialogs: 2, dialogsRefused: 1 });
  });

  it('does not cap exempt sources (a trunk carries many calls)', () => {
    const d = new SipDefence({ maxInvitesPerSource: 1, exempt: [A] }, new FakeClock());
    for (let i = 0; i < 10; i++) expect(d.acquire('invite', A)).not.toBeNull();
  });

  it('bounds the number of sources holding leases', () => {
    const d = new SipDefence({ maxTrackedSources: 10 }, new FakeClock());
    for (let i = 0; i < 100; i++) d.acquire('invite', `10.0.0.${i}`)!.release();
    for (let i = 0; i < 100; i++) d.acquire('invite', `10.0.1.${i}`);
    expect(d.snapshot().activeInvites).toBeLessThanOrEqual(10);
  });
});
