import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it, vi } from 'vitest';
import type { SipRequest, SipResponse } from '../../../server/sip/message/message.js';
import {
  ClientInviteState,
  ClientNonInviteState,
  InviteClientTransaction,
  NonInviteClientTransaction,
  TransactionLayer,
} from '../../../server/sip/transactions/index.js';
import { FakeClock } from '../../../server/util/clock.js';
import { PEER, PEER_TCP, describeMsg, harness, log, req, res } from './helpers.js';

function outgoing(method = 'INVITE', transport = 'UDP', branch = 'z9hG4bK-out1'): SipRequest {
  const r = req({ method, transport, branch });
  delete r.source;
  return r;
}

function handlers() {
  return {
    onProvisional: vi.fn<(r: SipResponse) => void>(),
    onFinal: vi.fn<(r: SipResponse) => void>(),
    onTimeout: vi.fn<() => void>(),
    onTransportError: vi.fn<(e: unknown) => void>(),
    onTerminated: vi.fn<() => void>(),
  };
}

describe('INVITE client transaction (§17.1.1)', () => {
  it('Timer A retransmits at 500, 1000, 2000 ... ms intervals over UDP; Timer B times out at 64·T1', () => {
    const h = harness();
    const cb = handlers();
    const tx = h.layer.sendRequest(outgoing(), PEER, cb);
    expect(tx).toBeInstanceOf(InviteClientTransaction);
    h.clock.advance(40_000);
    expect(h.sent.map((s) => s.at)).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    expect(h.sent.every((s) => describeMsg(s.msg) === 'INVITE')).toBe(true);
    expect(cb.onTimeout).toHaveBeenCalledTimes(1);
    expect(cb.onTerminated).toHaveBeenCalledTimes(1);
    expect(tx.state).toBe(ClientInviteState.Terminated);
    expect(h.layer.size).toBe(0);
    expect(h.clock.pending).toBe(0);
  });

  it('does not retransmit over TCP, still times out at 32 s', () => {
    const h = harness();
    const cb = handlers();
    h.layer.sendRequest(outgoing('INVITE', 'TCP'), PEER_TCP, cb);
    h.clock.advance(31_999);
    expect(h.sent).toHaveLength(1);
    expect(cb.onTimeout).not.toHaveBeenCalled();
    h.clock.advance(1);
    expect(cb.onTimeout).toHaveBeenCalledTimes(1);
  });

  it('T1 is configurable: A and B scale with it', () => {
    const clock = new FakeClock();
    const at: number[] = [];
    const onTimeout = vi.fn();
    const layer = new TransactionLayer({
      clock,
      log,
      send: () => at.push(clock.now()),
      reliable: () => false,
      onRequest: () => {},
      onStrayResponse: () => {},
      onStrayAck: () => {},
      timers: { T1: 100 },
    });
    layer.sendRequest(outgoing(), PEER, { onTimeout });
    clock.advance(7000);
    expect(at).toEqual([0, 100, 300, 700, 1500, 3100, 6300]);
    expect(onTimeout).toHaveBeenCalledTimes(1);
    expect(clock.now()).toBe(7000);
    layer.close();
  });

  it('a 1xx moves to Proceeding and stops retransmissions and Timer B', () => {
    const h = harness();
    const cb = handlers();
    const inv = outgoing();
    const tx = h.layer.sendRequest(inv, PEER, cb);
    h.clock.advance(600);
    h.layer.receive(res(inv, 180));
    expect(tx.state).toBe(ClientInviteState.Proceeding);
    expect(cb.onProvisional).toHaveBeenCalledTimes(1);
    h.clock.advance(100_000);
    expect(h.sent).toHaveLength(2);
    expect(cb.onTimeout).not.toHaveBeenCalled();
    expect(tx.state).toBe(ClientInviteState.Proceeding);
    h.layer.receive(res(inv, 183));
    expect(cb.onProvisional).toHaveBeenCalledTimes(2);
  });

  it('a 300-699 is ACKed by the transaction (§17.1.1.3), retransmissions re-ACKed, Timer D = 32 s', () => {
    const h = harness();
    const cb = handlers();
    const inv = outgoing();
    const tx = h.layer.sendRequest(inv, PEER, cb);
    h.layer.receive(res(inv, 100, null));
    h.layer.receive(res(inv, 486));
    expect(tx.state).toBe(ClientInviteState.Completed);
    expect(cb.onFinal).toHaveBeenCalledTimes(1);
    const ack = h.sent[1]!.msg as SipRequest;
    expect(ack.method).toBe('ACK');
    expect(ack.headers.getAll('Via')).toEqual(inv.headers.getAll('Via'));
    expect(ack.cseq).toEqual({ seq: 1, method: 'ACK' });
    expect(ack.toTag).toBe('rtag');
    expect(h.sent[1]!.dest).toEqual(PEER);
    h.clock.advance(1000);
    h.layer.receive(res(inv, 486));
    expect(h.sent.map((s) => describeMsg(s.msg))).toEqual(['INVITE', 'ACK', 'ACK']);
    expect(cb.onFinal).toHaveBeenCalledTimes(1);
    h.clock.advance(30_999);
    expect(tx.state).toBe(ClientInviteState.Completed);
    h.clock.advance(1);
    expect(tx.state).toBe(ClientInviteState.Terminated);
    expect(h.layer.size).toBe(0);
    // Now the response is stray.
    h.layer.receive(res(inv, 486));
    expect(h.strays).toHaveLength(1);
  });

  it('Timer D is 0 over TCP: terminated right after the ACK', () => {
    const h = harness();
    const inv = outgoing('INVITE', 'TCP');
    const tx = h.layer.sendRequest(inv, PEER_TCP, {});
    h.layer.receive(res(inv, 603));
    expect(h.sent.map((s) => describeMsg(s.msg))).toEqual(['INVITE', 'ACK']);
    expect(tx.state).toBe(ClientInviteState.Terminated);
    expect(h.layer.size).toBe(0);
  });

  it('2xx → Accepted (RFC 6026): further 2xx reach the TU; after Timer M they are stray', () => {
    const h = harness();
    const cb = handlers();
    const inv = outgoing();
    const tx = h.layer.sendRequest(inv, PEER, cb);
    h.layer.receive(res(inv, 200));
    expect(tx.state).toBe(ClientInviteState.Accepted);
    expect(h.sent).toHaveLength(1); // no ACK from the transaction for 2xx
    h.clock.advance(10_000);
    expect(h.sent).toHaveLength(1); // and no more INVITE retransmissions
    h.layer.receive(res(inv, 200, 'other-fork'));
    expect(cb.onFinal).toHaveBeenCalledTimes(2);
    expect(cb.onFinal.mock.calls[1]![0].toTag).toBe('other-fork');
    h.clock.advance(22_000);
    expect(tx.state).toBe(ClientInviteState.Terminated);
    h.layer.receive(res(inv, 200));
    expect(cb.onFinal).toHaveBeenCalledTimes(2);
    expect(h.strays.map((s) => s.status)).toEqual([200]);
  });

  it('a 2xx after a non-2xx final goes to the TU as a stray response', () => {
    const h = harness();
    const inv = outgoing();
    h.layer.sendRequest(inv, PEER, {});
    h.layer.receive(res(inv, 480));
    h.layer.receive(res(inv, 200, 'late'));
    expect(h.strays.map((s) => s.toTag)).toEqual(['late']);
  });

  it('cancel() before any 1xx waits for the 1xx (§9.1), then sends CANCEL on the same branch', () => {
    const h = harness();
    const inv = outgoing();
    const tx = h.layer.sendRequest(inv, PEER, handlers()) as InviteClientTransaction;
    expect(tx.cancel()).toBe(true);
    expect(tx.cancelPending).toBe(true);
    h.clock.advance(100);
    expect(h.sent.map((s) => describeMsg(s.msg))).toEqual(['INVITE']);
    h.layer.receive(res(inv, 180));
    const cancel = h.sent[1]!.msg as SipRequest;
    expect(cancel.method).toBe('CANCEL');
    expect(cancel.topVia.params.get('branch')).toBe('z9hG4bK-out1');
    expect(cancel.cseq).toEqual({ seq: 1, method: 'CANCEL' });
    expect(cancel.toTag).toBeNull();
    expect(h.layer.counts).toMatchObject({ clientInvite: 1, clientNonInvite: 1 });
    // 200 to CANCEL goes to the CANCEL transaction, not the INVITE one (§17.1.3: CSeq method).
    h.layer.receive(res(cancel, 200));
    expect(tx.state).toBe(ClientInviteState.Proceeding);
    h.layer.receive(res(inv, 487));
    expect(tx.state).toBe(ClientInviteState.Completed);
    expect(h.sent.map((s) => describeMsg(s.msg))).toEqual(['INVITE', 'CANCEL', 'ACK']);
  });

  it('a cancelled INVITE without final response is given up after 64·T1 (§9.1)', () => {
    const h = harness({ reliable: true });
    const cb = handlers();
    const inv = outgoing('INVITE', 'TCP');
    const tx = h.layer.sendRequest(inv, PEER_TCP, cb) as InviteClientTransaction;
    h.layer.receive(res(inv, 180));
    h.clock.advance(5000);
    tx.cancel();
    h.clock.advance(31_999);
    expect(cb.onTimeout).not.toHaveBeenCalled();
    h.clock.advance(1);
    expect(cb.onTimeout).toHaveBeenCalledTimes(1);
    expect(tx.state).toBe(ClientInviteState.Terminated);
  });

  it('cancel() after a final response does nothing', () => {
    const h = harness();
    const inv = outgoing();
    const tx = h.layer.sendRequest(inv, PEER, {}) as InviteClientTransaction;
    h.layer.receive(res(inv, 486));
    expect(tx.cancel()).toBe(false);
    expect(h.sent.map((s) => describeMsg(s.msg))).toEqual(['INVITE', 'ACK']);
  });

  it('a pending cancel is dropped when a final response comes first', () => {
    const h = harness();
    const inv = outgoing();
    const tx = h.layer.sendRequest(inv, PEER, {}) as InviteClientTransaction;
    tx.cancel();
    h.layer.receive(res(inv, 200));
    h.layer.receive(res(inv, 180));
    expect(h.sent.map((s) => describeMsg(s.msg))).toEqual(['INVITE']);
  });

  it('a send failure is a transport error (§17.1.4)', () => {
    let fail = true;
    const h = harness({ failSend: () => fail });
    const cb = handlers();
    const tx = h.layer.sendRequest(outgoing(), PEER, cb);
    expect(cb.onTransportError).toHaveBeenCalledTimes(1);
    expect(tx.state).toBe(ClientInviteState.Terminated);
    expect(h.layer.size).toBe(0);
    expect(h.clock.pending).toBe(0);
    fail = false;
  });
});

describe('non-INVITE client transaction (§17.1.2)', () => {
  it('Timer E doubles up to T2 in Trying; Timer F at 64·T1', () => {
    const h = harness();
    const cb = handlers();
    const tx = h.layer.sendRequest(outgoing('OPTIONS'), PEER, cb);
    expect(tx).toBeInstanceOf(NonInviteClientTransaction);
    h.clock.advance(40_000);
    expect(h.sent.map((s) => s.at)).toEqual([0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(cb.onTimeout).toHaveBeenCalledTimes(1);
    expect(tx.state).toBe(ClientNonInviteState.Terminated);
  });

  it('in Proceeding Timer E is reset to T2', () => {
    const h = harness();
    const r = outgoing('BYE');
    const tx = h.layer.sendRequest(r, PEER, {});
    h.clock.advance(600);
    h.layer.receive(res(r, 100, null));
    expect(tx.state).toBe(ClientNonInviteState.Proceeding);
    h.clock.advance(10_000);
    expect(h.sent.map((s) => s.at)).toEqual([0, 500, 1500, 5500, 9500]);
  });

  it('no retransmission over TCP; final → Completed, Timer K = 0 → Terminated', () => {
    const h = harness();
    const cb = handlers();
    const r = outgoing('REGISTER', 'TCP');
    const tx = h.layer.sendRequest(r, PEER_TCP, cb);
    h.clock.advance(20_000);
    expect(h.sent).toHaveLength(1);
    h.layer.receive(res(r, 200));
    expect(cb.onFinal).toHaveBeenCalledTimes(1);
    expect(tx.state).toBe(ClientNonInviteState.Terminated);
  });

  it('UDP: Completed absorbs retransmitted finals for Timer K = T4', () => {
    const h = harness();
    const cb = handlers();
    const r = outgoing('MESSAGE');
    const tx = h.layer.sendRequest(r, PEER, cb);
    h.layer.receive(res(r, 200));
    h.layer.receive(res(r, 200));
    h.layer.receive(res(r, 100, null));
    expect(cb.onFinal).toHaveBeenCalledTimes(1);
    expect(cb.onProvisional).not.toHaveBeenCalled();
    expect(h.strays).toHaveLength(0);
    h.clock.advance(4999);
    expect(tx.state).toBe(ClientNonInviteState.Completed);
    h.clock.advance(1);
    expect(tx.state).toBe(ClientNonInviteState.Terminated);
    expect(h.clock.pending).toBe(0);
  });

  it('lets the TU callbacks go at the final response, not after Timer K', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const h = harness();
    const r = outgoing('BYE');
    const finals: number[] = [];
    // The TU's callbacks close over its call; nothing else holds the call.
    const send = () => {
      const call = { legs: new Array(1000).fill(1) as number[] };
      const tx = h.layer.sendRequest(r, PEER, {
        onFinal: (res) => finals.push(res.status + call.legs.length * 0),
        onTimeout: () => finals.push(call.legs.length),
      });
      return { tx, held: new WeakRef(call) };
    };
    const { tx, held } = send();
    h.layer.receive(res(r, 200));
    expect(finals).toEqual([200]);
    expect(tx.state).toBe(ClientNonInviteState.Completed);
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(held.deref()).toBeUndefined();
    h.layer.receive(res(r, 200)); // still absorbed
    expect(finals).toEqual([200]);
    h.clock.advance(5000);
    expect(tx.state).toBe(ClientNonInviteState.Terminated);
  });

  it('refuses ACK, requests without a magic-cookie branch and branch reuse', () => {
    const h = harness();
    expect(() => h.layer.sendRequest(outgoing('ACK'), PEER, {})).toThrow(/ACK/);
    expect(() => h.layer.sendRequest(outgoing('OPTIONS', 'UDP', 'abc'), PEER, {})).toThrow(/z9hG4bK/);
    h.layer.sendRequest(outgoing('OPTIONS'), PEER, {});
    expect(() => h.layer.sendRequest(outgoing('OPTIONS'), PEER, {})).toThrow(/branch/);
  });

  it('a throwing TU callback is contained', () => {
    const h = harness();
    const r = outgoing('OPTIONS');
    h.layer.sendRequest(r, PEER, {
      onFinal: () => {
        throw new Error('boom');
      },
    });
    expect(() => h.layer.receive(res(r, 200))).not.toThrow();
  });
});

describe('robustness', () => {
  it('a transaction reaching Terminated leaves the layer even when an unguarded entry action throws', () => {
    let fail = false;
    const h = harness({ failSend: () => fail });
    const inv = req({ branch: 'z9hG4bK-s1' });
    h.layer.receive(inv);
    const tx = h.requests[0]!.tx;
    // setHandlers (unlike layer.watch) does not guard: the throw reaches the machine.
    tx.setHandlers({
      onTransportError: () => {
        throw new Error('TU bug');
      },
    });
    fail = true;
    tx.respond(res(inv, 486));
    expect(tx.isTerminated).toBe(true);
    expect(h.layer.size).toBe(0);
    expect(h.layer.stats.illegalEvents).toBe(1);
    expect(h.clock.pending).toBe(0);
  });
});

describe('connectionLost', () => {
  it('fails the transactions bound to that connection at once, leaves others alone', () => {
    const h = harness();
    const cb = handlers();
    const ringing = outgoing('INVITE', 'WS', 'z9hG4bK-ws1');
    const ws = { transport: 'WS' as const, address: '127.0.0.1', port: 40000, connectionId: 'agent-7' };
    const tx = h.layer.sendRequest(ringing, ws, cb);
    h.layer.receive(res(ringing, 180));
    const other = h.layer.sendRequest(outgoing('INVITE', 'TCP', 'z9hG4bK-tcp'), PEER_TCP, {});
    const accepted = outgoing('INVITE', 'WS', 'z9hG4bK-ws2');
    const tx2 = h.layer.sendRequest(accepted, ws, {});
    h.layer.receive(res(accepted, 200));
    expect(h.layer.connectionLost('agent-7')).toBe(1);
    expect(cb.onTransportError).toHaveBeenCalledTimes(1);
    expect(tx.state).toBe(ClientInviteState.Terminated);
    expect(tx2.state).toBe(ClientInviteState.Accepted); // no transport-error move in Accepted
    expect(other.state).toBe(ClientInviteState.Calling);
    expect(h.layer.connectionLost('nobody')).toBe(0);
  });
});
