/** Test helpers for the transaction and dialog layers: literal SIP text → parsed messages, and a
 * TransactionLayer wired to a FakeClock and a recording transport. */
import { FakeClock } from '../../../server/util/clock.js';
import { createLogger } from '../../../server/util/log.js';
import { parseMessage } from '../../../server/sip/parser/index.js';
import { SipRequest, SipResponse, type SipMessage } from '../../../server/sip/message/message.js';
import type { Endpoint } from '../../../server/sip/message/types.js';
import { TransactionLayer, type ServerTransaction } from '../../../server/sip/transactions/index.js';

export const log = createLogger('test');

export const PEER: Endpoint = { transport: 'UDP', address: '127.0.0.1', port: 5070 };
export const PEER_TCP: Endpoint = { transport: 'TCP', address: '127.0.0.1', port: 5070, connectionId: 'c1' };

export function parse(lines: string[], body = ''): SipRequest | SipResponse {
  const text = lines.join('\r\n') + `\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n` + body;
  return parseMessage(Buffer.from(text));
}

export interface ReqOpts {
  method?: string;
  branch?: string | null;
  sentBy?: string;
  transport?: string;
  cseq?: number;
  cseqMethod?: string;
  callId?: string;
  toTag?: string;
  fromTag?: string;
  uri?: string;
  extra?: string[];
  source?: Endpoint;
}

export function req(o: ReqOpts = {}): SipRequest {
  const method = o.method ?? 'INVITE';
  const branch = o.branch === undefined ? 'z9hG4bK-1' : o.branch;
  const via = `Via: SIP/2.0/${o.transport ?? 'UDP'} ${o.sentBy ?? '127.0.0.1:5070'}${branch === null ? '' : `;branch=${branch}`}`;
  const m = parse([
    `${method} ${o.uri ?? 'sip:12315@127.0.0.1'} SIP/2.0`,
    via,
    'Max-Forwards: 70',
    `From: "Caller" <sip:13812345678@127.0.0.1>;tag=${o.fromTag ?? 'ftag'}`,
    `To: <sip:12315@127.0.0.1>${o.toTag ? `;tag=${o.toTag}` : ''}`,
    `Call-ID: ${o.callId ?? 'call-1@127.0.0.1'}`,
    `CSeq: ${o.cseq ?? 1} ${o.cseqMethod ?? method}`,
    'Contact: <sip:13812345678@127.0.0.1:5070>',
    ...(o.extra ?? []),
  ]) as SipRequest;
  m.source = o.source ?? PEER;
  return m;
}

/** A response to `r` as the peer would send it: same Via/From/To/Call-ID/CSeq. */
export function res(r: SipRequest, status: number, toTag: string | null = 'rtag', extra: string[] = []): SipResponse {
  const lines = [`SIP/2.0 ${status} Whatever`];
  for (const v of r.headers.getAll('Via')) lines.push(`Via: ${v}`);
  lines.push(`From: ${r.headers.get('From')}`);
  const to = r.headers.get('To')!;
  lines.push(`To: ${toTag && !/;tag=/.test(to) ? `${to};tag=${toTag}` : to}`);
  lines.push(`Call-ID: ${r.callId}`, `CSeq: ${r.headers.get('CSeq')}`, ...extra);
  const m = parse(lines) as SipResponse;
  m.source = PEER;
  return m;
}

export interface Sent {
  at: number;
  msg: SipMessage;
  dest: Endpoint;
}

export function harness(opts: { reliable?: boolean; failSend?: () => boolean } = {}) {
  const clock = new FakeClock(0);
  const sent: Sent[] = [];
  const requests: Array<{ req: SipRequest; tx: ServerTransaction }> = [];
  const strays: SipResponse[] = [];
  const acks: SipRequest[] = [];
  const layer = new TransactionLayer({
    clock,
    log,
    send: (msg, dest) => {
      if (opts.failSend?.()) throw new Error('ECONNRESET');
      sent.push({ at: clock.now(), msg, dest });
    },
    reliable: (d) => opts.reliable ?? d.transport !== 'UDP',
    onRequest: (r, tx) => requests.push({ req: r, tx }),
    onStrayResponse: (r) => strays.push(r),
    onStrayAck: (a) => acks.push(a),
  });
  return { clock, sent, requests, strays, acks, layer };
}

export function describeMsg(m: SipMessage): string {
  return m.isRequest ? (m as SipRequest).method : String((m as SipResponse).status);
}
