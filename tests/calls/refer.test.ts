/**
 * Refer-To parsing (RFC 3515 §2.1) with RFC 3891 Replaces for attended transfer, and the state tables
 * of transfers, three-way calls and monitoring: illegal moves throw.
 */
import { describe, expect, it } from 'vitest';
import { parseReferTo } from '../../server/calls/sip-leg.js';
import { TRANSFER_TABLE, TransferEvent, TransferState } from '../../server/calls/transfer.js';
import { THREE_WAY_TABLE, ThreeWayEvent, ThreeWayState } from '../../server/calls/three-way.js';
import { MONITOR_TABLE, MonitorEvent, MonitorState } from '../../server/calls/supervisor.js';
import { nextState } from '../../server/util/fsm.js';

describe('parseReferTo', () => {
  it('a blind transfer target: URI and user, no Replaces', () => {
    expect(parseReferTo('<sip:8008@127.0.0.1:5060>')).toEqual({
      uri: 'sip:8008@127.0.0.1:5060',
      user: '8008',
      replaces: null,
    });
    expect(parseReferTo('sip:12315@12315.local;transport=udp')?.user).toBe('12315');
    expect(parseReferTo('"坐席" <sip:8002@h>;x=1')?.user).toBe('8002');
  });

  it('an attended transfer: Replaces from the URI headers, percent-decoded', () => {
    const r = parseReferTo('<sip:8008@h?Replaces=abc%40host%3Bto-tag%3Dt1%3Bfrom-tag%3Df1&Require=replaces>');
    expect(r).toEqual({
      uri: 'sip:8008@h',
      user: '8008',
      replaces: { callId: 'abc@host', toTag: 't1', fromTag: 'f1' },
    });
  });

  it('refuses what cannot be a target', () => {
    expect(parseReferTo('<mailto:x@y>')).toBeNull();
    expect(parseReferTo('<sip:8008@h?Replaces=abc%3Bto-tag%3Dt1>')).toBeNull();
    expect(parseReferTo('<sip:8008@h?Replaces=%E0%A4%A>')).toBeNull();
  });
});

describe('state tables', () => {
  it('transfer: ringing → consulting → completed; nothing after a final state', () => {
    let s = nextState('transfer', TRANSFER_TABLE, TransferState.Ringing, TransferEvent.Answer);
    expect(s).toBe(TransferState.Consulting);
    s = nextState('transfer', TRANSFER_TABLE, s, TransferEvent.Complete);
    expect(s).toBe(TransferState.Completed);
    expect(() => nextState('transfer', TRANSFER_TABLE, s, TransferEvent.Cancel)).toThrow();
    expect(() => nextState('transfer', TRANSFER_TABLE, TransferState.Consulting, TransferEvent.Answer)).toThrow();
  });

  it('three-way: join only from consulting; rejoin only after the agent left', () => {
    const t = (s: ThreeWayState, e: ThreeWayEvent) => nextState('three-way', THREE_WAY_TABLE, s, e);
    expect(t(ThreeWayState.Consulting, ThreeWayEvent.Join)).toBe(ThreeWayState.Conference);
    expect(t(ThreeWayState.Conference, ThreeWayEvent.AgentLeave)).toBe(ThreeWayState.AgentLeft);
    expect(t(ThreeWayState.AgentLeft, ThreeWayEvent.AgentRejoin)).toBe(ThreeWayState.Conference);
    expect(t(ThreeWayState.AgentLeft, ThreeWayEvent.StationGone)).toBe(ThreeWayState.Ended);
    expect(() => t(ThreeWayState.Ringing, ThreeWayEvent.Join)).toThrow();
    expect(() => t(ThreeWayState.Conference, ThreeWayEvent.AgentRejoin)).toThrow();
    expect(() => t(ThreeWayState.Failed, ThreeWayEvent.End)).toThrow();
  });

  it('monitor: stop is final', () => {
    expect(nextState('monitor', MONITOR_TABLE, MonitorState.Ringing, MonitorEvent.Answer)).toBe(MonitorState.Active);
    expect(() => nextState('monitor', MONITOR_TABLE, MonitorState.Stopped, MonitorEvent.Stop)).toThrow();
  });
});
