/**
 * Known SIP scanner and attack-tool User-Agents. They probe for open extensions and weak
 * passwords within minutes of a server appearing on a public address; answering them at all tells
 * them a SIP server is here, so by default their requests are dropped before any processing.
 */
const SCANNER_AGENTS =
  /friendly-scanner|sipvicious|sipcli|sip-scan|sipsak|sundayddr|iWar|CSipSimple.*scan|VaxSIPUserAgent|smap|pplsip|SIPScan|Cisco-SIPGateway-?Scan|sip-?bf/i;

export function isScannerUserAgent(userAgent: string | undefined): boolean {
  return userAgent !== undefined && SCANNER_AGENTS.test(userAgent);
}
