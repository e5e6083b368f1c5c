/** RFC 4475 messages that exercise transaction matching (§3.2.1 badbranch, §3.4.1 inv2543). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createAckForNon2xx, createResponse } from '../../../server/sip/message/build.js';
import type { SipRequest } from '../../../server/sip/message/message.js';
import { parseMessage } from '../../../server/sip/parser/index.js';
import { InviteServerTransaction, ServerInviteState, serverKey } from '../../../server/sip/transactions/index.js';
import { PEER, harness } from './helpers.js';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/rfc4475');
function load(name: string): SipRequest {
  const m = parseMessage(readFileSync(path.join(dir, name))) as SipRequest;
  m.source = PEER;
  return m;
}

describe('RFC 4475 and transaction matching', () => {
  it('badbranch (branch = bare magic cookie) is matched by the RFC 2543 rules', () => {
    const h = harness();
    expect(serverKey(load('badbranch.dat')).legacy).toBe(true);
    h.layer.receive(load('badbranch.dat'));
    h.layer.receive(load('badbranch.dat'));
    expect(h.requests).toHaveLength(1);
  });

  it('inv2543 (RFC 2543 INVITE: no branch, no From tag): retransmission absorbed, ACK matched', () => {
    const h = harness();
    const inv = load('inv2543.dat');
    h.layer.receive(inv);
    h.layer.receive(load('inv2543.dat'));
    expect(h.requests).toHaveLength(1);
    const tx = h.requests[0]!.tx as InviteServerTransaction;
    const busy = createResponse(inv, 486, undefined, { toTag: 'uas1' });
    tx.respond(busy);
    // An RFC 2543 client ACKs a non-2xx like §17.1.1.3 does: same Via, To with our tag.
    const ack = createAckForNon2xx(inv, busy);
    ack.source = PEER;
    h.layer.receive(ack);
    expect(tx.state).toBe(ServerInviteState.Confirmed);
    expect(h.acks).toHaveLength(0);
    // Responses go to the source address and the default port (no rport, no port in Via).
    expect(h.sent[0]!.dest).toEqual({ transport: 'UDP', address: '127.0.0.1', port: 5060 });
  });
});
