/** A plain RTP/AVP audio offer from 127.0.0.1 as a SIP phone would send it: PCMU, PCMA and telephone-event. */
export function audioOffer(port: number, codecs = '0 8 101', lastLine = 'a=sendrecv'): string {
  return [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP ${codecs}`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-16',
    'a=ptime:20',
    lastLine,
    '',
  ].join('\r\n');
}
