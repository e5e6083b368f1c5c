import { describe, expect, it } from 'vitest';
import { createResponse } from '../../../server/sip/message/build.js';
import {
  InviteServerTransaction,
  NonInviteServerTransaction,
  ServerInviteState,
  responseDestination,
  serverKey,
} from '../../../server/sip/transactions/index.js';
import { harness, req, res } from './helpers.js';

describe('server transaction matching (§17.2.3)', () => {
  it('branch + sent-by + method: a different sent-by or method is a new transaction', () => {
    const h = harness();
    h.layer.receive(req());
    h.layer.receive(req({ sentBy: '127.0.0.2:5070' }));
    h.layer.receive(req({ method: 'OPTIONS' }));
    h.layer.receive(req()); // retransmission of the first
    expect(h.requests).toHaveLength(3);
    expect(h.layer.counts).toEqual({
      clientInvite: 0,
      clientNonInvite: 0,
      serverInvite: 2,
      serverNonInvite: 1,
      total: 3,
    });
  });

  it('ACK uses the INVITE key; CANCEL gets its own transaction pointing at the INVITE (§9.2)', () => {
    const h = harness();
    h.layer.receive(req());
    const inviteTx = h.requests[0]!.tx;
    expect(serverKey(req({ method: 'ACK', cseqMethod: 'ACK' })).key).toBe(serverKey(req()).key);
    h.layer.receive(req({ method: 'CANCEL' }));
    expect(h.requests).toHaveLength(2);
    const cancelTx = h.requests[1]!.tx as NonInviteServerTransaction;
    expect(cancelTx).toBeInstanceOf(NonInviteServerTransaction);
    expect(cancelTx).not.toBe(inviteTx);
    expect(cancelTx.cancelTarget).toBe(inviteTx);
    h.layer.receive(req({ method: 'CANCEL', branch: 'z9hG4bK-unknown' }));
    expect((h.requests[2]!.tx as NonInviteServerTransaction).cancelTarget).toBeUndefined();
  });

  it('a bare "z9hG4bK" branch (RFC 4475 badbranch) falls back to RFC 2543 matching', () => {
    expect(serverKey(req({ branch: 'z9hG4bK' })).legacy).toBe(true);
    expect(serverKey(req({ branch: 'z9hG4bKx' })).legacy).toBe(false);
  });

  describe('RFC 2543 fallback (no magic cookie)', () => {
    it('retransmissions match by R-URI, tags, Call-ID, CSeq and top Via', () => {
      const h = harness();
      h.layer.receive(req({ branch: null }));
      h.layer.receive(req({ branch: null }));
      expect(h.requests).toHaveLength(1);
      h.layer.receive(req({ branch: null, cseq: 2 }));
      h.layer.receive(req({ branch: null, callId: 'other' }));
      h.layer.receive(req({ branch: null, fromTag: 'other' }));
      h.layer.receive(req({ branch: null, uri: 'sip:12316@127.0.0.1' }));
      h.layer.receive(req({ branch: null, sentBy: '127.0.0.1:5071' }));
      h.layer.receive(req({ branch: 'old-style-1' }));
      expect(h.requests).toHaveLength(7);
    });

    it('a request with a different To tag is another transaction', () => {
      const h = harness();
      h.layer.receive(req({ method: 'BYE', branch: null, toTag: 'a' }));
      h.layer.receive(req({ method: 'BYE', branch: null, toTag: 'b' }));
      h.layer.receive(req({ method: 'BYE', branch: null, toTag: 'a' }));
      expect(h.requests).toHaveLength(2);
    });

    it('an ACK matches when its To tag is the one of the response sent', () => {
      const h = harness();
      const r = req({ branch: null });
      h.layer.receive(r);
      const tx = h.requests[0]!.tx as InviteServerTransaction;
      tx.respond(createResponse(r, 486, undefined, { toTag: 'mine' }));
      h.layer.receive(req({ method: 'ACK', cseqMethod: 'ACK', branch: null, toTag: 'wrong' }));
      expect(h.acks).toHaveLength(1);
      expect(tx.state).toBe(ServerInviteState.Completed);
      h.layer.receive(req({ method: 'ACK', cseqMethod: 'ACK', branch: null, toTag: 'mine' }));
      expect(tx.state).toBe(ServerInviteState.Confirmed);
      expect(h.acks).toHaveLength(1);
    });

    it('an ACK for a non-2xx to a re-INVITE (To tag already present) matches too', () => {
      const h = harness();
      const r = req({ branch: null, toTag: 'dlg', cseq: 5 });
      h.layer.receive(r);
      const tx = h.requests[0]!.tx as InviteServerTransaction;
      tx.respond(createResponse(r, 491));
      h.layer.receive(req({ method: 'ACK', cseqMethod: 'ACK', branch: null, toTag: 'dlg', cseq: 5 }));
      expect(tx.state).toBe(ServerInviteState.Confirmed);
      expect(h.acks).toHaveLength(0);
    });

    it('CANCEL finds its INVITE', () => {
      const h = harness();
      h.layer.receive(req({ branch: null }));
      h.layer.receive(req({ method: 'CANCEL', branch: null }));
      expect((h.requests[1]!.tx as NonInviteServerTransaction).cancelTarget).toBe(h.requests[0]!.tx);
    });
  });

  it('an ACK without a transaction (ACK for 2xx) is stray and goes to the TU', () => {
    const h = harness();
    h.layer.receive(req({ method: 'ACK', cseqMethod: 'ACK', toTag: 'x' }));
    expect(h.acks).toHaveLength(1);
    expect(h.requests).toHaveLength(0);
    expect(h.layer.size).toBe(0);
    expect(h.layer.stats.strayAcks).toBe(1);
  });
});

describe('client transaction matching (§17.1.3)', () => {
  it('branch + CSeq method; anything else is stray', () => {
    const h = harness();
    const out = req({ branch: 'z9hG4bK-c1', method: 'OPTIONS' });
    delete out.source;
    const finals: number[] = [];
    h.layer.sendRequest(out, out.source ?? { transport: 'UDP', address: '127.0.0.1', port: 5070 }, {
      onFinal: (r) => finals.push(r.status),
    });
    h.layer.receive(res(req({ branch: 'z9hG4bK-c2', method: 'OPTIONS' }), 200));
    h.layer.receive(res(req({ branch: 'z9hG4bK-c1', method: 'INFO' }), 200));
    expect(finals).toEqual([]);
    expect(h.strays).toHaveLength(2);
    h.layer.receive(res(out, 200));
    expect(finals).toEqual([200]);
  });
});

describe('response destination (§18.2.2, RFC 3581)', () => {
  it('UDP with rport → source port; without → sent-by port (default 5060); TCP → same connection', () => {
    const src = { transport: 'UDP' as const, address: '127.0.0.9', port: 40000 };
    expect(responseDestination(req({ sentBy: '10.0.0.1:5070;rport', source: src }))).toEqual({
      transport: 'UDP',
      address: '127.0.0.9',
      port: 40000,
    });
    expect(responseDestination(req({ sentBy: '10.0.0.1:5070', source: src })).port).toBe(5070);
    expect(responseDestination(req({ sentBy: '10.0.0.1', source: src })).port).toBe(5060);
    const tcp = { transport: 'TCP' as const, address: '127.0.0.9', port: 40001, connectionId: 'k' };
    expect(responseDestination(req({ transport: 'TCP', source: tcp }))).toEqual(tcp);
  });
});

describe('layer lifecycle', () => {
  it('close() clears every timer and transaction, twice is harmless, later input is ignored', () => {
    const h = harness();
    h.layer.receive(req());
    const out = req({ method: 'OPTIONS', branch: 'z9hG4bK-o' });
    h.layer.sendRequest(out, { transport: 'UDP', address: '127.0.0.1', port: 5070 }, {});
    expect(h.clock.pending).toBeGreaterThan(0);
    h.layer.close();
    h.layer.close();
    expect(h.clock.pending).toBe(0);
    expect(h.layer.size).toBe(0);
    h.layer.receive(req({ branch: 'z9hG4bK-new' }));
    expect(h.requests).toHaveLength(1);
    expect(() => h.layer.sendRequest(req({ branch: 'z9hG4bK-p', method: 'OPTIONS' }), out.source!, {})).toThrow();
  });

  it('a throwing onRequest does not crash the layer', () => {
    const h = harness();
    (h.requests as unknown as { push: () => never }).push = () => {
      throw new Error('TU bug');
    };
    expect(() => h.layer.receive(req({ method: 'OPTIONS' }))).not.toThrow();
    expect(h.layer.size).toBe(1);
  });

  it('a message whose Via cannot be parsed is counted, not thrown', () => {
    const h = harness();
    const bad = req({ method: 'OPTIONS' });
    bad.headers.set('Via', 'garbage');
    expect(() => h.layer.receive(bad)).not.toThrow();
    expect(h.layer.stats.unmatchable).toBe(1);
  });
});
