/**
 * Interop on loopback UDP: our TransactionLayer + DialogLayer (real clock, real socket, the
 * project's parser/serialiser) against SIPp's built-in `uac` and `uas` scenarios.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { DialogLayer } from '../../../server/sip/dialogs/index.js';
import { addVia, createResponse, newCallId, newTag } from '../../../server/sip/message/build.js';
import type { SipRequest, SipResponse } from '../../../server/sip/message/message.js';
import type { Endpoint } from '../../../server/sip/message/types.js';
import { parseMessage, serializeMessage } from '../../../server/sip/parser/index.js';
import { TransactionLayer } from '../../../server/sip/transactions/index.js';
import { systemClock } from '../../../server/util/clock.js';
import { runSipp, startSippUas, statNumber } from '../../helpers/sipp.js';
import { log } from './helpers.js';

interface Stack {
  port: number;
  layer: TransactionLayer;
  dialogs: DialogLayer;
  stats: { invites: number; byes: number; acks: number; parseErrors: number };
  close(): Promise<void>;
}

/** A tiny UAS/UAC core: answers INVITE with 180 + 200 (retransmitting the 200 until ACK), BYE with 200. */
async function startStack(): Promise<Stack> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const port = sock.address().port;
  const stats = { invites: 0, byes: 0, acks: 0, parseErrors: 0 };
  const send = (msg: SipRequest | SipResponse, dest: Endpoint) =>
    sock.send(serializeMessage(msg), dest.port, dest.address);
  const dialogs = new DialogLayer({ clock: systemClock, log });
  const layer: TransactionLayer = new TransactionLayer({
    clock: systemClock,
    log,
    send: (m, d) => send(m as SipRequest, d),
    reliable: () => false,
    onStrayResponse: () => {},
    onStrayAck: (ack) => {
      if (dialogs.receiveAck(ack)) stats.acks++;
    },
    onRequest: (req, tx) => {
      if (req.method === 'INVITE') {
        stats.invites++;
        const tag = newTag();
        tx.respond(createResponse(req, 180, undefined, { toTag: tag }));
        const ok = createResponse(req, 200, undefined, { toTag: tag });
        ok.headers.add('Contact', `<sip:12315@127.0.0.1:${port}>`);
        const d = dialogs.createUas(req, ok);
        tx.respond(ok);
        dialogs.startAckWait(d, req.cseq.seq, () => layer.sendStateless(ok, tx.dest));
      } else if (req.method === 'BYE') {
        const d = dialogs.findForRequest(req);
        const verdict = d?.receiveRequest(req);
        if (!d || !verdict?.ok) {
          tx.respond(createResponse(req, verdict && !verdict.ok ? verdict.status : 481));
          return;
        }
        stats.byes++;
        tx.respond(createResponse(req, 200));
        d.terminate();
      } else {
        tx.respond(createResponse(req, 200));
      }
    },
  });
  sock.on('message', (buf, rinfo) => {
    try {
      const m = parseMessage(buf);
      m.source = { transport: 'UDP', address: rinfo.address, port: rinfo.port };
      layer.receive(m);
    } catch {
      stats.parseErrors++;
    }
  });
  return {
    port,
    layer,
    dialogs,
    stats,
    close: async () => {
      layer.close();
      dialogs.close();
      await new Promise<void>((r) => sock.close(() => r()));
    },
  };
}

const stacks: Stack[] = [];
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((s) => s.close()));
});

describe('SIPp interop over UDP', () => {
  it('SIPp uac → our UAS: INVITE/180/200/ACK/BYE/200 for 5 calls, no failures', async () => {
    const s = await startStack();
    stacks.push(s);
    const r = await runSipp({ scenario: 'uac', target: `127.0.0.1:${s.port}`, calls: 5, rate: 10, timeoutMs: 30_000 });
    expect(r.errors).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.successful).toBe(5);
    expect(s.stats).toEqual({ invites: 5, byes: 5, acks: 5, parseErrors: 0 });
    expect(s.dialogs.size).toBe(0);
    expect(s.dialogs.waitingForAck).toBe(0);
  });

  it('survives 10 % simulated packet loss on the SIPp side (retransmissions on both ends)', async () => {
    const s = await startStack();
    stacks.push(s);
    const r = await runSipp({
      scenario: 'uac',
      target: `127.0.0.1:${s.port}`,
      calls: 20,
      rate: 20,
      timeoutMs: 60_000,
      extraArgs: ['-lost', '10'],
    });
    expect(r.exitCode).toBe(0);
    expect(r.successful).toBe(20);
    expect(s.stats.invites).toBe(20);
    expect(s.stats.parseErrors).toBe(0);
    // The premise: messages really were dropped (P(no loss in ~100 messages at 10 %) ≈ 3e-5).
    const lost = Object.entries(r.counts)
      .filter(([k]) => k.endsWith('_Lost'))
      .reduce((a, [, v]) => a + v, 0);
    expect(lost).toBeGreaterThan(0);
  });

  it('our UAC → SIPp uas: INVITE, ACK for 2xx through the dialog, BYE in a client transaction', async () => {
    const s = await startStack();
    stacks.push(s);
    const uas = await startSippUas({ scenario: 'uas' });
    const dest: Endpoint = { transport: 'UDP', address: '127.0.0.1', port: uas.port };
    const inv = parseMessage(
      Buffer.from(
        [
          `INVITE sip:service@127.0.0.1:${uas.port} SIP/2.0`,
          'Max-Forwards: 70',
          `From: <sip:12315@127.0.0.1:${s.port}>;tag=${newTag()}`,
          `To: <sip:service@127.0.0.1:${uas.port}>`,
          `Call-ID: ${newCallId('127.0.0.1')}`,
          'CSeq: 1 INVITE',
          `Contact: <sip:12315@127.0.0.1:${s.port}>`,
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n'),
      ),
    ) as SipRequest;
    addVia(inv, { transport: 'UDP', host: '127.0.0.1', port: s.port });
    const finals: number[] = [];
    const byeFinal = new Promise<number>((resolve, reject) => {
      s.layer.sendRequest(inv, dest, {
        onFinal: (res) => {
          finals.push(res.status);
          if (res.status !== 200) return reject(new Error(`INVITE got ${res.status}`));
          const d = s.dialogs.findForResponse(res) ?? s.dialogs.createUac(inv, res);
          const ack = d.createAck(inv.cseq.seq);
          addVia(ack, { transport: 'UDP', host: '127.0.0.1', port: s.port });
          s.layer.sendStateless(ack, dest);
          if (finals.length > 1) return; // 2xx retransmission: re-ACKed above, BYE already on its way
          setTimeout(() => {
            const bye = d.createRequest('BYE');
            addVia(bye, { transport: 'UDP', host: '127.0.0.1', port: s.port });
            s.layer.sendRequest(bye, dest, {
              onFinal: (r) => {
                d.receiveResponse(bye, r);
                d.terminate();
                resolve(r.status);
              },
              onTimeout: () => reject(new Error('BYE timed out')),
            });
          }, 200);
        },
        onTimeout: () => reject(new Error('INVITE timed out')),
      });
    });
    expect(await byeFinal).toBe(200);
    expect(finals[0]).toBe(200);
    const res = await uas.stop(5_000);
    expect(statNumber(res.stats, 'SuccessfulCall(C)')).toBe(1);
    expect(statNumber(res.stats, 'FailedCall(C)')).toBe(0);
  });
});
