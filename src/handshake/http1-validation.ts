import { isValidClientKey } from './accept-key.js';
import { HandshakeRejection } from './rejection.js';
import type { HandshakeRequest } from './request.js';
import { listHasToken } from '../protocol/tokens.js';

/**
 * RFC 6455 §4.2.1: the rules an HTTP/1.1 opening handshake must satisfy before
 * the transport-neutral negotiation runs. Returns the client's key.
 */
export function validateHttp1Upgrade(request: HandshakeRequest): string {
  if (request.method !== 'GET') {
    throw new HandshakeRejection(405, 'a WebSocket handshake must be a GET request', { allow: 'GET' });
  }
  const [major = 0, minor = 0] = request.httpVersion.split('.').map(Number);
  if (major < 1 || (major === 1 && minor < 1)) {
    throw new HandshakeRejection(400, 'a WebSocket handshake needs HTTP/1.1 or later');
  }
  if (request.headerValues('host').length !== 1) {
    throw new HandshakeRejection(400, 'exactly one Host header is required');
  }
  if (!listHasToken(request.headerValues('upgrade'), 'websocket')) {
    throw new HandshakeRejection(400, 'missing "Upgrade: websocket"');
  }
  if (!listHasToken(request.headerValues('connection'), 'upgrade')) {
    throw new HandshakeRejection(400, 'missing "Connection: Upgrade"');
  }
  const keys = request.headerValues('sec-websocket-key');
  if (keys.length !== 1 || !isValidClientKey(keys[0].trim())) {
    throw new HandshakeRejection(400, 'Sec-WebSocket-Key must be one base64-encoded 16-byte value');
  }
  return keys[0].trim();
}
