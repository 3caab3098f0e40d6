import { HandshakeRejection } from './rejection.js';
import type { HandshakeRequest } from './request.js';

/** RFC 9110 §7.6.1 / RFC 9113 §8.2.2 / RFC 9114 §4.2: fields that only make sense on one HTTP/1.1 connection. */
const CONNECTION_SPECIFIC = ['connection', 'upgrade', 'keep-alive', 'proxy-connection', 'transfer-encoding'];

/**
 * Whether an extended CONNECT's `:protocol` names WebSocket. RFC 9110 §7.8:
 * upgrade protocol names compare case-insensitively, and intermediaries such
 * as haproxy copy the client's `Upgrade: WebSocket` token into `:protocol` as written.
 */
export function isWebSocketProtocol(protocol: string | undefined): boolean {
  return protocol !== undefined && protocol.toLowerCase() === 'websocket';
}

/**
 * RFC 8441 §4 / RFC 9220 §3: an extended CONNECT carries :scheme and :path
 * (unlike a plain CONNECT), and :authority; without them it is malformed
 * (RFC 9113 §8.1.1, RFC 9114 §4.1.2) and has no path to route on.
 */
export function hasRequestTarget(request: HandshakeRequest): boolean {
  return request.scheme !== '' && request.url !== '' && request.authority !== '';
}

/**
 * The rules of an extended CONNECT that opens a WebSocket, shared by the
 * HTTP/2 (RFC 8441 §4, §5) and HTTP/3 (RFC 9220 §3) front-ends. What follows
 * (version, subprotocols, extensions, origin, authentication) is the same
 * negotiation HTTP/1.1 uses.
 */
export function validateExtendedConnect(request: HandshakeRequest): void {
  const protocol = request.connectProtocol;
  if (request.method !== 'CONNECT') {
    // RFC 8441 §4: ":protocol" on any other method makes the request malformed.
    throw new HandshakeRejection(400, ':protocol is only allowed on CONNECT requests');
  }
  if (protocol === undefined) {
    throw new HandshakeRejection(405, 'plain CONNECT (tunnelling) is not supported; open WebSockets with :protocol websocket', {
      allow: 'GET',
    });
  }
  if (!isWebSocketProtocol(protocol)) {
    // RFC 8441 §4 / RFC 9220 §3: a protocol we do not speak.
    throw new HandshakeRejection(501, `unsupported :protocol "${protocol}"; this server speaks websocket`);
  }
  if (!hasRequestTarget(request)) {
    throw new HandshakeRejection(400, 'extended CONNECT needs :scheme, :path and :authority');
  }
  for (const name of CONNECTION_SPECIFIC) {
    if (request.headerValues(name).length > 0) {
      throw new HandshakeRejection(400, `connection-specific header "${name}" is not allowed here`);
    }
  }
  const te = request.header('te');
  if (te !== undefined && te.trim().toLowerCase() !== 'trailers') {
    throw new HandshakeRejection(400, 'the only TE value allowed is "trailers"');
  }
  // RFC 8441 §5 / RFC 9220 §3: the key/accept processing of RFC 6455 §4 is
  // not done, but the fields are not forbidden either, so Sec-WebSocket-Key
  // (and a stray Sec-WebSocket-Accept) are ignored, never answered with an
  // accept: haproxy forwards the HTTP/1.1 client's key when it turns an
  // Upgrade into an extended CONNECT.
}
