import { createHash } from 'node:crypto';

/** RFC 6455 §1.3: the GUID appended to the client's key. */
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** RFC 6455 §4.2.2: Sec-WebSocket-Accept = base64(SHA-1(key + GUID)). */
export function computeAcceptKey(key: string): string {
  return createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64');
}

/**
 * RFC 6455 §4.1: the key is a base64-encoded 16-byte value, which is always
 * 22 base64 characters followed by "==" (the last character carries only 2
 * meaningful bits, so it must be one of A, Q, g, w).
 */
export function isValidClientKey(key: string): boolean {
  return /^[A-Za-z0-9+/]{21}[AQgw]==$/.test(key);
}
