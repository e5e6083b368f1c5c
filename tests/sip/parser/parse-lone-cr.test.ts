import { describe, expect, it } from 'vitest';
import { SipParseError } from '../../../server/sip/message/types.js';
import { parseMessage } from '../../../server/sip/parser/index.js';

describe('lone CR in the head (§25.1)', () => {
  const msg = (via: string) =>
    Buffer.from(
      `OPTIONS sip:12315@127.0.0.1 SIP/2.0\r\nVia: ${via}\r\nMax-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\n` +
        `To: <sip:12315@127.0.0.1>\r\nCall-ID: lonecr\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`,
      'latin1',
    );
  it('is a 400, not a value the serializer would refuse later', () => {
    let err: unknown;
    try {
      parseMessage(msg('SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\rX-Injected: 1'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SipParseError);
    expect((err as SipParseError).status).toBe(400);
    expect((err as SipParseError).message).toMatch(/CR not followed by LF/);
  });
  it('a normal CRLF message still parses', () => {
    expect(() => parseMessage(msg('SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1'))).not.toThrow();
  });
});
