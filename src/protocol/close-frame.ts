import { CloseCode, isValidWireCloseCode } from './close-codes.js';
import { ProtocolError } from './errors.js';
import { isValidUtf8 } from './utf8.js';

/** RFC 6455 §5.5: a control frame payload, and so a close payload, is at most 125 bytes. */
export const MAX_CLOSE_REASON_BYTES = 123;

export interface CloseInfo {
  code: number;
  reason: string;
}

/** Decodes a received close payload (RFC 6455 §5.5.1, §7.1.5, §7.1.6). */
export function decodeClosePayload(payload: Uint8Array): CloseInfo {
  if (payload.length === 0) return { code: CloseCode.NoStatus, reason: '' };
  if (payload.length === 1) {
    throw new ProtocolError(CloseCode.ProtocolError, 'WS_ERR_INVALID_CLOSE_PAYLOAD', 'close frame payload of 1 byte');
  }
  const code = (payload[0] << 8) | payload[1];
  if (!isValidWireCloseCode(code)) {
    throw new ProtocolError(CloseCode.ProtocolError, 'WS_ERR_INVALID_CLOSE_CODE', `invalid close code ${code}`);
  }
  const reasonBytes = payload.subarray(2);
  if (!isValidUtf8(reasonBytes)) {
    throw new ProtocolError(CloseCode.InvalidPayload, 'WS_ERR_INVALID_UTF8', 'close reason is not valid UTF-8');
  }
  return { code, reason: Buffer.from(reasonBytes.buffer, reasonBytes.byteOffset, reasonBytes.length).toString('utf8') };
}

/**
 * Encodes a close payload to send. `code` 1005 (no status) yields an empty
 * payload, as RFC 6455 §7.4.1 forbids 1005 on the wire. Throws a TypeError for
 * codes an application may not send or reasons longer than 123 bytes.
 */
export function encodeClosePayload(code: number, reason = ''): Buffer {
  if (code === CloseCode.NoStatus) {
    if (reason !== '') throw new TypeError('a close reason needs a close code');
    return Buffer.alloc(0);
  }
  if (!isValidWireCloseCode(code)) throw new TypeError(`close code ${code} cannot be sent`);
  const reasonLength = Buffer.byteLength(reason);
  if (reasonLength > MAX_CLOSE_REASON_BYTES) {
    throw new TypeError(`close reason is ${reasonLength} bytes; at most ${MAX_CLOSE_REASON_BYTES} fit`);
  }
  const payload = Buffer.allocUnsafe(2 + reasonLength);
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2, 'utf8');
  return payload;
}

/** Shortens `reason` to at most 123 UTF-8 bytes without splitting a code point. */
export function truncateCloseReason(reason: string): string {
  if (Buffer.byteLength(reason) <= MAX_CLOSE_REASON_BYTES) return reason;
  let result = '';
  let bytes = 0;
  for (const char of reason) {
    const size = Buffer.byteLength(char);
    if (bytes + size > MAX_CLOSE_REASON_BYTES) break;
    result += char;
    bytes += size;
  }
  return result;
}
