import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../../server/sip/parser/index.js';
import { SipRequest } from '../../../server/sip/message/message.js';
import { checkRequest, type RequestCheckOptions } from '../../../server/sip/ua/request-checks.js';

const OPTS: RequestCheckOptions = {
  supportedExtensions: ['100rel', 'timer'],
  acceptedContentTypes: ['application/sdp'],
};

function make(method: string, extra: string[] = [], body = '', uri = 'sip:12315@hotline.example.cn'): SipRequest {
  const lines = [
    `${method} ${uri} SIP/2.0`,
    'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1',
    'Max-Forwards: 70',
    'From: <sip:caller@example.cn>;tag=f',
    'To: <sip:12315@hotline.example.cn>',
    'Call-ID: rc1@192.0.2.1',
    `CSeq: 1 ${method}`,
    ...extra,
  ];
  const m = parseMessage(Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body));
  return m as SipRequest;
}

describe('checkRequest', () => {
  it('passes an ordinary INVITE with SDP', () => {
    expect(
      checkRequest(
        make('INVITE', ['Content-Type: application/sdp', 'Supported: timer', 'Require: 100rel'], 'v=0\r\n'),
        OPTS,
      ),
    ).toBeNull();
  });

  it('400 when a mandatory header is missing (§8.1.1)', () => {
    for (const name of ['To', 'From', 'Call-ID', 'CSeq', 'Via']) {
      const r = make('OPTIONS');
      r.headers.remove(name);
      expect(checkRequest(r, OPTS), name).toMatchObject({ status: 400, reason: expect.stringContaining(name) });
    }
  });

  it('400 for a duplicated single-value header', () => {
    expect(checkRequest(make('OPTIONS', ['To: <sip:other@x>']), OPTS)).toMatchObject({
      status: 400,
      reason: expect.stringContaining('multiple To'),
    });
  });

  it('400 when the CSeq method differs from the method (§8.1.1.5)', () => {
    const r = make('OPTIONS');
    r.headers.set('CSeq', '1 INVITE');
    expect(checkRequest(r, OPTS)).toMatchObject({ status: 400, reason: expect.stringContaining('CSeq method') });
  });

  it('483 for Max-Forwards 0 except OPTIONS (§16.3 step 3)', () => {
    const inv = make('INVITE');
    inv.headers.set('Max-Forwards', '0');
    expect(checkRequest(inv, OPTS)).toEqual({ status: 483, reason: 'Too Many Hops' });
    const opt = make('OPTIONS');
    opt.headers.set('Max-Forwards', '0');
    expect(checkRequest(opt, OPTS)).toBeNull();
  });

  it('416 for schemes other than sip, sips, tel (§8.2.2.1)', () => {
    expect(checkRequest(make('OPTIONS', [], '', 'tel:+8612315'), OPTS)).toBeNull();
    expect(checkRequest(make('OPTIONS', [], '', 'sips:12315@h'), OPTS)).toBeNull();
    expect(checkRequest(make('OPTIONS', [], '', 'http://example.com/'), OPTS)).toMatchObject({ status: 416 });
    expect(checkRequest(make('OPTIONS', [], '', 'http://example.com/'), { ...OPTS, uriSchemes: ['http'] })).toBeNull();
  });

  it('420 with Unsupported listing only the unknown tags (§8.2.2.3), case-insensitively', () => {
    expect(checkRequest(make('INVITE', ['Require: 100REL, foo', 'Require: bar']), OPTS)).toEqual({
      status: 420,
      reason: 'Bad Extension',
      headers: [['Unsupported', 'foo, bar']],
    });
    // ignored on CANCEL and ACK, and Proxy-Require is not for a UAS
    expect(checkRequest(make('CANCEL', ['Require: foo']), OPTS)).toBeNull();
    expect(checkRequest(make('OPTIONS', ['Proxy-Require: foo']), OPTS)).toBeNull();
  });

  it('415 with Accept for an unknown body type, with Accept-Encoding for an unknown coding (§8.2.3)', () => {
    expect(checkRequest(make('INVITE', ['Content-Type: text/html'], '<p>'), OPTS)).toEqual({
      status: 415,
      reason: 'Unsupported Media Type',
      headers: [['Accept', 'application/sdp']],
    });
    expect(checkRequest(make('INVITE', ['Content-Type: Application/SDP;charset=utf-8'], 'v=0'), OPTS)).toBeNull();
    expect(
      checkRequest(make('INVITE', ['Content-Type: application/sdp', 'Content-Encoding: gzip'], 'x'), OPTS),
    ).toEqual({
      status: 415,
      reason: 'Unsupported Media Type',
      headers: [['Accept-Encoding', 'identity']],
    });
    expect(checkRequest(make('MESSAGE', [], 'hi'), OPTS)).toMatchObject({ status: 400 });
    // an empty body is fine whatever the Content-Type says
    expect(checkRequest(make('OPTIONS', ['Content-Type: text/html']), OPTS)).toBeNull();
  });

  it('406 when an INVITE accepts nothing we can answer with (§21.4.7)', () => {
    expect(checkRequest(make('INVITE', ['Accept: text/plain']), OPTS)).toMatchObject({ status: 406 });
    expect(checkRequest(make('INVITE', ['Accept: text/plain, application/*']), OPTS)).toBeNull();
    expect(checkRequest(make('INVITE', ['Accept: */*']), OPTS)).toBeNull();
    expect(checkRequest(make('OPTIONS', ['Accept: text/plain']), OPTS)).toBeNull();
  });

  it('501 with Allow for methods outside allowedMethods', () => {
    const allowed = { ...OPTS, allowedMethods: ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS'] };
    expect(checkRequest(make('SUBSCRIBE'), allowed)).toEqual({
      status: 501,
      reason: 'Not Implemented',
      headers: [['Allow', 'INVITE, ACK, BYE, CANCEL, OPTIONS']],
    });
    expect(checkRequest(make('BYE'), allowed)).toBeNull();
  });
});
