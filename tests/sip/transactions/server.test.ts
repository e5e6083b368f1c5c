import { describe, expect, it, vi } from 'vitest';
import { createResponse } from '../../../server/sip/message/build.js';
import type { SipResponse } from '../../../server/sip/message/message.js';
import {
  IllegalTransitionError,
  InviteServerTransaction,
  NonInviteServerTransaction,
  ServerInviteState,
  ServerNonInviteState,
} from '../../../server/sip/transactions/index.js';
import { PEER, PEER_TCP, describeMsg, harness, req } from './helpers.js';

function inviteTx(h: ReturnType<typeof harness>, o: Parameters<typeof req>[0] = {}) {
  const r = req(o);
  h.layer.receive(r);
  const got = h.requests.at(-1)!;
  expect(got.req).toBe(r);
  expect(got.tx).toBeInstanceOf(InviteServerTransaction);
  return { r, tx: got.tx as InviteServerTransaction };
}

const statuses = (h: ReturnType<typeof harness>) => h.sent.map((s) => describeMsg(s.msg));

describe('INVITE server transaction (§17.2.1)', () => {
  it('sends 100 Trying by itself when the TU is silent for 200 ms', () => {
    const h = harness();
    const { tx } = inviteTx(h);
    h.clock.advance(199);
    expect(h.sent).toHaveLength(0);
    h.clock.advance(1);
    expect(statuses(h)).toEqual(['100']);
    const trying = h.sent[0]!.msg as SipResponse;
    expect(trying.toTag).toBeNull();
    expect(trying.cseq).toEqual({ seq: 1, method: 'INVITE' });
    expect(h.sent[0]!.dest).toEqual(PEER);
    expect(tx.state).toBe(ServerInviteState.Proceeding);
  });

  it('no automatic 100 when the TU answered within 200 ms', () => {
    const h = harness();
    const { r, tx } = inviteTx(h);
    h.clock.advance(50);
    tx.respond(createResponse(r, 180, undefined, { toTag: 'lt' }));
    h.clock.advance(1000);
    expect(statuses(h)).toEqual(['180']);
  });

  it('absorbs INVITE retransmissions by resending the latest provisional (nothing before one)', () => {
    const h = harness();
    const { r, tx } = inviteTx(h);
    h.layer.receive(req());
    expect(h.sent).toHaveLength(0);
    expect(h.requests).toHaveLength(1);
    tx.respond(createResponse(r, 180, undefined, { toTag: 'lt' }));
    tx.respond(createResponse(r, 183, undefined, { toTag: 'lt' }));
    h.layer.receive(req());
    expect(statuses(h)).toEqual(['180', '183', '183']);
    expect(h.requests).toHaveLength(1);
  });

  it('UDP non-2xx: Timer G 500, 1000, 2000, 4000, 4000 ...; Timer H at 64·T1 tells the TU', () => {
    const h = harness();
    const { r, tx } = inviteTx(h);
    const onTimeout = vi.fn();
    h.layer.watch(tx, { onTimeout });
    tx.respond(createResponse(r, 486, undefined, { toTag: 'lt' }));
    expect(tx.state).toBe(ServerInviteState.Completed);
    h.clock.advance(40_000);
    expect(h.sent.map((s) => s.at)).toEqual([0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(statuses(h).every((s) => s === '486')).toBe(true);
    expect(onTimeout).toHaveBeenCalledTimes(1);
    expect(tx.state).toBe(ServerInviteState.Terminated);
    expect(h.layer.size).toBe(0);
  });

  it('Completed resends the final on INVITE retransmission; ACK → Confirmed; Timer I = T4', () => {
    const h = harness();
    const { r, tx } = inviteTx(h);
    tx.respond(createResponse(r, 404, undefined, { toTag: 'lt' }));
    h.layer.receive(req());
    expect(statuses(h)).toEqual(['404', '404']);
    h.layer.receive(req({ method: 'ACK', toTag: 'lt', cseqMethod: 'ACK' }));
    expect(tx.state).toBe(ServerInviteState.Confirmed);
    expect(h.acks).toHaveLength(0); // absorbed, not passed to the TU
    h.clock.advance(3000);
    expect(h.sent).toHaveLength(2); // G stopped
    h.layer.receive(req({ method: 'ACK', toTag: 'lt', cseqMethod: 'ACK' }));
    h.layer.receive(req());
    expect(h.sent).toHaveLength(2); // Confirmed absorbs both
    h.clock.advance(1999);
    expect(tx.state).toBe(ServerInviteState.Confirmed);
    h.clock.advance(1);
    expect(tx.state).toBe(ServerInviteState.Terminated);
    expect(h.clock.pending).toBe(0);
  });

  it('TCP: no Timer G, and ACK terminates at once (Timer I = 0)', () => {
    const h = harness();
    const { r, tx } = inviteTx(h, { transport: 'TCP', source: PEER_TCP });
    tx.respond(createResponse(r, 486, undefined, { toTag: 'lt' }));
    h.clock.advance(20_000);
    expect(statuses(h)).toEqual(['486']);
    expect(h.sent[0]!.dest).toEqual(PEER_TCP);
    h.layer.receive(req({ method: 'ACK', toTag: 'lt', cseqMethod: 'ACK', transport: 'TCP', source: PEER_TCP }));
    expect(tx.state).toBe(ServerInviteState.Terminated);
  });

  it('2xx → Accepted (RFC 6026): INVITE retransmissions absorbed, 2xx-ACK goes to the TU, Timer L ends it', () => {
    const h = harness();
    const { r, tx } = inviteTx(h);
    const ok = createResponse(r, 200, undefined, { toTag: 'lt' });
    tx.respond(ok);
    expect(tx.state).toBe(ServerInviteState.Accepted);
    h.clock.advance(5000);
    expect(statuses(h)).toEqual(['200']); // the TU, not the transaction, retransmits 2xx
    h.layer.receive(req());
    expect(statuses(h)).toEqual(['200']);
    expect(h.requests).toHaveLength(1);
    tx.respond(ok); // a TU retransmission through the transaction is allowed in Accepted
    expect(statuses(h)).toEqual(['200', '200']);
    h.layer.receive(req({ method: 'ACK', branch: 'z9hG4bK-ack2xx', toTag: 'lt', cseqMethod: 'ACK' }));
    expect(h.acks).toHaveLength(1);
    h.clock.advance(27_000);
    expect(tx.state).toBe(ServerInviteState.Terminated);
  });

  it('Accepted keeps only the headers it matches on: no SDP, no Contact; the To tag RFC 2543 ACKs match on stays', () => {
    const h = harness();
    const r = req({ branch: null, extra: ['Content-Type: application/sdp'] });
    r.body = Buffer.from('v=0\r\n');
    h.layer.receive(r);
    const tx = h.requests[0]!.tx as InviteServerTransaction;
    tx.respond(createResponse(r, 180, undefined, { toTag: 'lt' }));
    const ok = createResponse(r, 200, undefined, { toTag: 'lt' });
    ok.headers.add('Contact', '<sip:12315@127.0.0.1>');
    ok.body = Buffer.from('v=0\r\n');
    tx.respond(ok);
    expect(statuses(h)).toEqual(['180', '200']);
    expect((h.sent[1]!.msg as SipResponse).body.length).toBeGreaterThan(0); // sent whole
    expect(tx.request.body.length).toBe(0);
    expect(tx.request.headers.fields.map((f) => f.name)).toEqual(['Via', 'From', 'To', 'Call-ID', 'CSeq']);
    expect(tx.request.method).toBe('INVITE');
    expect(tx.lastResponse!.status).toBe(200);
    expect(tx.lastResponse!.body.length).toBe(0);
    expect(tx.lastResponse!.headers.has('Contact')).toBe(false);
    expect(r.body.length).toBeGreaterThan(0); // the TU's INVITE is untouched
    h.layer.receive(req({ branch: null }));
    expect(h.requests).toHaveLength(1);
    expect(tx.lastResponse!.toTag).toBe('lt');
    h.layer.receive(req({ branch: null, method: 'ACK', cseqMethod: 'ACK', toTag: 'lt' }));
    expect(h.acks).toHaveLength(1);
  });

  it('a TU response in a state that does not allow it throws IllegalTransitionError', () => {
    const h = harness();
    const { r, tx } = inviteTx(h);
    tx.respond(createResponse(r, 486, undefined, { toTag: 'lt' }));
    expect(() => tx.respond(createResponse(r, 200, undefined, { toTag: 'lt' }))).toThrow(IllegalTransitionError);
    expect(() => tx.respond(createResponse(r, 180, undefined, { toTag: 'lt' }))).toThrow(IllegalTransitionError);
    expect(tx.state).toBe(ServerInviteState.Completed);
  });

  it('an ACK in Proceeding is an illegal network event: counted, not thrown', () => {
    const h = harness();
    const { tx } = inviteTx(h);
    expect(() => h.layer.receive(req({ method: 'ACK', cseqMethod: 'ACK' }))).not.toThrow();
    expect(h.layer.stats.illegalEvents).toBe(1);
    expect(tx.state).toBe(ServerInviteState.Proceeding);
  });

  it('a transport error while responding terminates and tells the TU (§17.2.4)', () => {
    let fail = false;
    const h = harness({ failSend: () => fail });
    const { r, tx } = inviteTx(h);
    const onTransportError = vi.fn();
    h.layer.watch(tx, { onTransportError });
    fail = true;
    tx.respond(createResponse(r, 486, undefined, { toTag: 'lt' }));
    expect(onTransportError).toHaveBeenCalledTimes(1);
    expect(tx.state).toBe(ServerInviteState.Terminated);
    expect(h.clock.pending).toBe(0);
  });
});

describe('non-INVITE server transaction (§17.2.2)', () => {
  function nit(h: ReturnType<typeof harness>, o: Parameters<typeof req>[0] = {}) {
    const r = req({ method: 'OPTIONS', ...o });
    h.layer.receive(r);
    const tx = h.requests.at(-1)!.tx as NonInviteServerTransaction;
    expect(tx).toBeInstanceOf(NonInviteServerTransaction);
    return { r, tx };
  }

  it('Trying discards retransmissions; Proceeding resends the last 1xx; Completed the final', () => {
    const h = harness();
    const { r, tx } = nit(h);
    h.layer.receive(req({ method: 'OPTIONS' }));
    expect(h.sent).toHaveLength(0);
    expect(tx.state).toBe(ServerNonInviteState.Trying);
    tx.respond(createResponse(r, 100));
    expect(tx.state).toBe(ServerNonInviteState.Proceeding);
    h.layer.receive(req({ method: 'OPTIONS' }));
    expect(statuses(h)).toEqual(['100', '100']);
    tx.respond(createResponse(r, 200));
    expect(tx.state).toBe(ServerNonInviteState.Completed);
    h.layer.receive(req({ method: 'OPTIONS' }));
    expect(statuses(h)).toEqual(['100', '100', '200', '200']);
    expect(h.requests).toHaveLength(1);
    expect(() => tx.respond(createResponse(r, 500))).toThrow(IllegalTransitionError);
  });

  it('Timer J = 64·T1 over UDP', () => {
    const h = harness();
    const { r, tx } = nit(h);
    tx.respond(createResponse(r, 200));
    h.clock.advance(31_999);
    expect(tx.state).toBe(ServerNonInviteState.Completed);
    h.clock.advance(1);
    expect(tx.state).toBe(ServerNonInviteState.Terminated);
    expect(h.layer.size).toBe(0);
  });

  it('Timer J = 0 over TCP', () => {
    const h = harness();
    const { r, tx } = nit(h, { transport: 'TCP', source: PEER_TCP });
    tx.respond(createResponse(r, 200));
    expect(tx.state).toBe(ServerNonInviteState.Terminated);
    expect(h.layer.size).toBe(0);
  });
});
