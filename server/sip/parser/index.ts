/** SIP parser layer: bytes ⇄ SipRequest / SipResponse (RFC 3261 §7, §18.3, §25). */
export { parseMessage, SipMessageParseError, type ParseOptions, type PartialRequest } from './parse.js';
export { serializeMessage } from './serialize.js';
export { parseErrorResponse } from './error-response.js';
