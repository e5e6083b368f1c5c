import { describe, expect, it } from 'vitest';
import { parseUri } from '../../../server/sip/message/grammar.js';
import { sipUriEquivalent } from '../../../server/sip/registrar/uri-equal.js';

const eq = (a: string, b: string) => sipUriEquivalent(parseUri(a), parseUri(b));

describe('sipUriEquivalent (RFC 3261 §19.1.4)', () => {
  it.each([
    // the RFC's own examples of equivalent URIs
    ['sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5'],
    ['sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;newparam=5'],
    [
      'sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com',
      'sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com',
    ],
    [
      'sip:alice@atlanta.com?subject=project%20x&priority=urgent',
      'sip:alice@atlanta.com?priority=urgent&subject=project%20x',
    ],
  ])('%s == %s', (a, b) => {
    expect(eq(a, b)).toBe(true);
    expect(eq(b, a)).toBe(true);
  });

  it.each([
    // the RFC's examples of non-equivalent URIs
    ['SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp;user=phone'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com;maddr=192.0.2.1'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com?Subject=next%20meeting'],
    ['sip:bob@phone21.boxesbybob.com', 'sip:bob@192.0.2.4'],
    ['sip:a@h;transport=tcp', 'sip:a@h;transport=udp'],
    ['sip:a@h', 'sips:a@h'],
  ])('%s != %s', (a, b) => {
    expect(eq(a, b)).toBe(false);
    expect(eq(b, a)).toBe(false);
  });
});
