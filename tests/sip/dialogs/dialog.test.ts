import { describe, expect, it, vi } from 'vitest';
import { createResponse } from '../../../server/sip/message/build.js';
import type { SipRequest, SipResponse } from '../../../server/sip/message/message.js';
import { formatUri } from '../../../server/sip/message/grammar.js';
import { AckWaitState, Dialog, DialogLayer, DialogState } from '../../../server/sip/dialogs/index.js';
import { IllegalTransitionError } from '../../../server/sip/transactions/index.js';
import { FakeClock } from '../../../server/util/clock.js';
import { log, parse, req, res } from '../transactions/helpers.js';

const RR = ['Record-Route: <sip:127.0.0.11;lr>', 'Record-Route: <sip:127.0.0.12;lr>, <sip:127.0.0.13;lr>'];

function uasDialog(extraReq: string[] = RR, status = 200): { inv: SipRequest; ok: SipResponse; d: Dialog } {
  const inv = req({ extra: extraReq, cseq: 10 });
  const ok = createResponse(inv, status, undefined, { toTag: 'local1' });
  return { inv, ok, d: Dialog.asUas(inv, ok, { localContact: '<sip:12315@127.0.0.1:5060>' }) };
}

function uacDialog(extraRes: string[] = RR, status = 200): { inv: SipRequest; d: Dialog } {
  const inv = req({ cseq: 3, fromTag: 'mine' });
  const r = res(inv, status, 'theirs', ['Contact: <sip:agent@127.0.0.20:5062>', ...extraRes]);
  return { inv, d: Dialog.asUac(inv, r) };
}

describe('dialog creation', () => {
  it('UAS (§12.1.1): id, route set in order, remote target from Contact, remote CSeq, empty local CSeq', () => {
    const { d } = uasDialog();
    expect(d.id).toEqual({ callId: 'call-1@127.0.0.1', localTag: 'local1', remoteTag: 'ftag' });
    expect(d.state).toBe(DialogState.Confirmed);
    expect(d.isUac).toBe(false);
    expect(d.routeSet.map((r) => r.uri.host)).toEqual(['127.0.0.11', '127.0.0.12', '127.0.0.13']);
    expect(formatUri(d.remoteTarget)).toBe('sip:13812345678@127.0.0.1:5070');
    expect(d.remoteSeq).toBe(10);
    expect(d.localSeq).toBeNull();
    expect(d.secure).toBe(false);
  });

  it('UAC (§12.1.2): route set reversed, remote target from the response Contact, local CSeq', () => {
    const { d } = uacDialog();
    expect(d.id).toEqual({ callId: 'call-1@127.0.0.1', localTag: 'mine', remoteTag: 'theirs' });
    expect(d.routeSet.map((r) => r.uri.host)).toEqual(['127.0.0.13', '127.0.0.12', '127.0.0.11']);
    expect(formatUri(d.remoteTarget)).toBe('sip:agent@127.0.0.20:5062');
    expect(d.localSeq).toBe(3);
    expect(d.remoteSeq).toBeNull();
  });

  it('a 1xx with tag makes an early dialog; the 2xx confirms it and recomputes the route set (§13.2.2.4)', () => {
    const inv = req({ fromTag: 'mine' });
    const ringing = res(inv, 180, 'theirs', ['Contact: <sip:early@127.0.0.20>', 'Record-Route: <sip:127.0.0.30;lr>']);
    const d = Dialog.asUac(inv, ringing);
    expect(d.state).toBe(DialogState.Early);
    d.update(res(inv, 183, 'theirs'));
    expect(d.state).toBe(DialogState.Early);
    d.update(res(inv, 200, 'theirs', ['Contact: <sip:final@127.0.0.21>', ...RR]));
    expect(d.state).toBe(DialogState.Confirmed);
    expect(d.remoteTarget.user).toBe('final');
    expect(d.routeSet.map((r) => r.uri.host)).toEqual(['127.0.0.13', '127.0.0.12', '127.0.0.11']);
    d.update(res(inv, 180, 'theirs')); // a late 1xx changes nothing
    expect(d.state).toBe(DialogState.Confirmed);
  });

  it('refuses responses without To tag, 100 Trying and requests without Contact', () => {
    const inv = req();
    expect(() => Dialog.asUac(inv, res(inv, 200, null))).toThrow(/To tag/);
    expect(() => Dialog.asUas(inv, createResponse(inv, 100, undefined, { toTag: 'x' }))).toThrow(/does not create/);
    const noContact = parse([
      'INVITE sip:12315@127.0.0.1 SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1',
      'From: <sip:a@127.0.0.1>;tag=f',
      'To: <sip:b@127.0.0.1>',
      'Call-ID: x',
      'CSeq: 1 INVITE',
    ]) as SipRequest;
    expect(() => Dialog.asUas(noContact, createResponse(noContact, 200))).toThrow(/Contact/);
  });

  it('terminated is final: further events throw', () => {
    const { d } = uasDialog();
    const onTerminated = vi.fn();
    d.onTerminated = onTerminated;
    d.terminate();
    d.terminate();
    expect(onTerminated).toHaveBeenCalledTimes(1);
    expect(d.state).toBe(DialogState.Terminated);
    expect(() => d.update(res(req(), 200))).toThrow(IllegalTransitionError);
    expect(() => d.createRequest('BYE')).toThrow();
  });
});

describe('in-dialog requests (§12.2.1.1)', () => {
  it('loose routing: R-URI = remote target, Route = route set; tags swapped; CSeq increases', () => {
    const { d } = uacDialog();
    const bye = d.createRequest('BYE');
    expect(formatUri(bye.uri)).toBe('sip:agent@127.0.0.20:5062');
    expect(bye.headers.getAll('Route')).toEqual(['<sip:127.0.0.13;lr>', '<sip:127.0.0.12;lr>', '<sip:127.0.0.11;lr>']);
    expect(bye.fromTag).toBe('mine');
    expect(bye.toTag).toBe('theirs');
    expect(bye.callId).toBe('call-1@127.0.0.1');
    expect(bye.cseq).toEqual({ seq: 4, method: 'BYE' });
    expect(d.createRequest('INFO').cseq.seq).toBe(5);
    expect(bye.headers.has('Via')).toBe(false);
    expect(bye.headers.get('Max-Forwards')).toBe('70');
  });

  it('UAS side: From is our To, a first local CSeq is 1, target refresh carries our Contact', () => {
    const { d } = uasDialog([]);
    const reinvite = d.createRequest('INVITE', { contentType: 'application/sdp', body: Buffer.from('v=0\r\n') });
    expect(reinvite.cseq.seq).toBe(1);
    expect(reinvite.fromTag).toBe('local1');
    expect(reinvite.toTag).toBe('ftag');
    expect(reinvite.from.uri.user).toBe('12315');
    expect(reinvite.headers.getAll('Route')).toEqual([]);
    expect(reinvite.headers.get('Contact')).toBe('<sip:12315@127.0.0.1:5060>');
    expect(reinvite.contentType).toBe('application/sdp');
    expect(d.createRequest('BYE').headers.has('Contact')).toBe(false);
  });

  it('strict routing: R-URI = first route, Route = rest + remote target', () => {
    const { d } = uacDialog(['Record-Route: <sip:127.0.0.11;lr>', 'Record-Route: <sip:127.0.0.40;maddr=127.0.0.41>']);
    const bye = d.createRequest('BYE');
    expect(formatUri(bye.uri)).toBe('sip:127.0.0.40;maddr=127.0.0.41');
    expect(bye.headers.getAll('Route')).toEqual(['<sip:127.0.0.11;lr>', '<sip:agent@127.0.0.20:5062>']);
  });

  it('ACK for 2xx reuses the INVITE CSeq number and does not advance the local CSeq', () => {
    const { d } = uacDialog();
    const ack = d.createAck(3);
    expect(ack.cseq).toEqual({ seq: 3, method: 'ACK' });
    expect(d.localSeq).toBe(3);
    expect(() => d.createRequest('ACK')).toThrow();
  });
});

describe('incoming in-dialog requests (§12.2.2)', () => {
  it('a lower CSeq gets 500; equal or higher is accepted and raises the remote CSeq', () => {
    const { d } = uasDialog();
    expect(d.receiveRequest(req({ method: 'INFO', cseq: 9, toTag: 'local1' }))).toEqual({
      ok: false,
      status: 500,
      reason: 'Out of order CSeq',
    });
    expect(d.remoteSeq).toBe(10);
    expect(d.receiveRequest(req({ method: 'ACK', cseq: 10, toTag: 'local1' }))).toEqual({ ok: true });
    expect(d.receiveRequest(req({ method: 'INFO', cseq: 11, toTag: 'local1' }))).toEqual({ ok: true });
    expect(d.remoteSeq).toBe(11);
    expect(d.receiveRequest(req({ method: 'INFO', cseq: 11, toTag: 'local1' })).ok).toBe(true);
    expect(d.receiveRequest(req({ method: 'BYE', cseq: 10, toTag: 'local1' })).ok).toBe(false);
  });

  it('an empty remote CSeq (UAC side) takes the first request number', () => {
    const { d } = uacDialog();
    expect(d.receiveRequest(req({ method: 'BYE', cseq: 1 })).ok).toBe(true);
    expect(d.remoteSeq).toBe(1);
  });

  it('a target refresh request replaces the remote target; other methods do not', () => {
    const { d } = uasDialog();
    d.receiveRequest(parseReq('INFO', 11, '<sip:moved@127.0.0.50:5080>'));
    expect(d.remoteTarget.host).toBe('127.0.0.1');
    d.receiveRequest(parseReq('INVITE', 12, '<sip:moved@127.0.0.50:5080>'));
    expect(formatUri(d.remoteTarget)).toBe('sip:moved@127.0.0.50:5080');
  });

  it('481/408 to an in-dialog request end the dialog; 2xx to re-INVITE refreshes the target (§12.2.1.2)', () => {
    const { d } = uacDialog();
    const reinv = d.createRequest('INVITE');
    d.receiveResponse(reinv, res(reinv, 200, null, ['Contact: <sip:new@127.0.0.60>']));
    expect(d.remoteTarget.user).toBe('new');
    const info = d.createRequest('INFO');
    d.receiveResponse(info, res(info, 481, null));
    expect(d.state).toBe(DialogState.Terminated);
    expect(d.receiveRequest(req({ method: 'BYE', cseq: 99 }))).toMatchObject({ ok: false, status: 481 });
  });
});

function parseReq(method: string, cseq: number, contact: string): SipRequest {
  const m = parse([
    `${method} sip:12315@127.0.0.1:5060 SIP/2.0`,
    'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-r' + cseq,
    'From: <sip:13812345678@127.0.0.1>;tag=ftag',
    'To: <sip:12315@127.0.0.1>;tag=local1',
    'Call-ID: call-1@127.0.0.1',
    `CSeq: ${cseq} ${method}`,
    `Contact: ${contact}`,
  ]) as SipRequest;
  return m;
}

describe('DialogLayer', () => {
  function layer(sendRequest = vi.fn(), onAckTimeout = vi.fn()) {
    const clock = new FakeClock();
    return { clock, sendRequest, onAckTimeout, dl: new DialogLayer({ clock, log, sendRequest, onAckTimeout }) };
  }

  it('finds a dialog for an incoming request (To tag = local) and for a response (From tag = local)', () => {
    const { dl } = layer();
    const { d: uas } = uasDialog();
    dl.add(uas);
    expect(dl.findForRequest(req({ method: 'BYE', toTag: 'local1', fromTag: 'ftag' }))).toBe(uas);
    expect(dl.findForRequest(req({ method: 'BYE', toTag: 'local1', fromTag: 'other' }))).toBeUndefined();
    expect(dl.findForRequest(req({ method: 'BYE' }))).toBeUndefined();
    const inv = req({ fromTag: 'mine', callId: 'uac-call' });
    const uac = dl.createUac(inv, res(inv, 180, 'theirs', ['Contact: <sip:a@127.0.0.20>']));
    expect(dl.findForResponse(res(inv, 200, 'theirs'))).toBe(uac);
    expect(dl.findForResponse(res(inv, 200, 'fork2'))).toBeUndefined();
    expect(() => dl.add(uas)).toThrow();
    expect(dl.size).toBe(2);
    uas.terminate();
    expect(dl.size).toBe(1);
  });

  it('retransmits the 2xx at T1, 2T1 ... capped at T2 until the ACK (§13.3.1.4)', () => {
    const { clock, dl } = layer();
    const { d } = uasDialog();
    dl.add(d);
    const at: number[] = [];
    const wait = dl.startAckWait(d, 10, () => at.push(clock.now()));
    clock.advance(12_000);
    expect(at).toEqual([500, 1500, 3500, 7500, 11500]);
    expect(dl.receiveAck(req({ method: 'ACK', cseq: 9, toTag: 'local1', cseqMethod: 'ACK' }))).toBe(d);
    expect(wait.state).toBe(AckWaitState.Waiting); // ACK for another INVITE
    expect(dl.receiveAck(req({ method: 'ACK', cseq: 10, toTag: 'local1', cseqMethod: 'ACK' }))).toBe(d);
    expect(wait.state).toBe(AckWaitState.Acked);
    clock.advance(60_000);
    expect(at).toHaveLength(5);
    expect(clock.pending).toBe(0);
    expect(d.state).toBe(DialogState.Confirmed);
    expect(dl.waitingForAck).toBe(0);
  });

  it('gives up after 64·T1 without ACK: sends BYE and terminates the dialog', () => {
    const { clock, dl, sendRequest, onAckTimeout } = layer();
    const { d } = uasDialog();
    dl.add(d);
    let n = 0;
    dl.startAckWait(d, 10, () => n++);
    clock.advance(31_999);
    expect(sendRequest).not.toHaveBeenCalled();
    clock.advance(1);
    expect(n).toBe(10); // 500, 1500, 3500, 7500, 11500, 15500 ... 31500
    expect(sendRequest).toHaveBeenCalledTimes(1);
    const bye = sendRequest.mock.calls[0]![0] as SipRequest;
    expect(bye.method).toBe('BYE');
    expect(bye.toTag).toBe('ftag');
    expect(d.state).toBe(DialogState.Terminated);
    expect(onAckTimeout).toHaveBeenCalledWith(d);
    expect(dl.size).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('close() stops all retransmissions; twice is harmless', () => {
    const { clock, dl } = layer();
    const { d } = uasDialog();
    dl.add(d);
    dl.startAckWait(d, 10, () => {});
    dl.close();
    dl.close();
    expect(clock.pending).toBe(0);
    expect(dl.size).toBe(0);
  });
});

describe('next hop', () => {
  it('is the first route when there is a route set, else the remote target', () => {
    expect(uacDialog().d.nextHop().host).toBe('127.0.0.13');
    expect(formatUri(uacDialog([]).d.nextHop())).toBe('sip:agent@127.0.0.20:5062');
  });
});
