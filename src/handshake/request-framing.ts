import { HandshakeRejection } from './rejection.js';
import type { HandshakeRequest } from './request.js';

/**
 * RFC 6455 §4.1: the opening handshake is a GET, and after it every byte on
 * the connection is a WebSocket frame. A request that announces content
 * (Content-Length above 0, or any Transfer-Encoding, RFC 9112 §6.3) would have
 * that content read as frames, so it is refused instead of guessed at.
 */
export function rejectUpgradeWithContent(request: HandshakeRequest): void {
  if (request.headerValues('transfer-encoding').length > 0) {
    throw new HandshakeRejection(400, 'a WebSocket handshake carries no content (Transfer-Encoding)');
  }
  const lengths = request.headerValues('content-length');
  if (lengths.length > 0 && !lengths.every((value) => /^\s*0+\s*$/.test(value))) {
    throw new HandshakeRejection(400, 'a WebSocket handshake carries no content (Content-Length)');
  }
}

/**
 * An extended CONNECT whose HEADERS already carry END_STREAM (HTTP/2) or FIN
 * (HTTP/3): RFC 8441 §5 / RFC 9220 §3 map END_STREAM to the TCP FIN of RFC 6455,
 * and RFC 9113 §8.5 makes END_STREAM on a tunnel the end of the client's
 * direction. A WebSocket whose client can never send (not even the close
 * frame of RFC 6455 §5.5.1) is refused with 400 rather than opened.
 */
export function rejectEndedTunnel(requestEnded: boolean): void {
  if (requestEnded) {
    throw new HandshakeRejection(400, 'the extended CONNECT ended its stream (END_STREAM): no tunnel to open');
  }
}

/**
 * RFC 9113 §8.3.1 (and RFC 9114 §4.3.1): "A server SHOULD treat a request as
 * malformed if it contains a Host header field that identifies an entity that
 * differs from the entity in the :authority pseudo-header field", compared
 * after scheme-based normalization (RFC 3986 §6.2.3: case-insensitive host,
 * default port dropped). §8.1.1 lets a server answer a malformed request
 * before resetting it: 400.
 */
export function rejectHostAuthorityMismatch(request: HandshakeRequest): void {
  const hosts = request.headerValues('host');
  if (hosts.length === 0) return;
  const authority = normalizeAuthority(request.authority, request.scheme);
  if (hosts.length > 1 || normalizeAuthority(hosts[0], request.scheme) !== authority) {
    throw new HandshakeRejection(400, 'the Host header names another authority than :authority');
  }
}

const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443' };

function normalizeAuthority(authority: string, scheme: string): string {
  const value = authority.trim().toLowerCase();
  const defaultPort = DEFAULT_PORTS[scheme.toLowerCase()];
  return defaultPort !== undefined && value.endsWith(`:${defaultPort}`) ? value.slice(0, -defaultPort.length - 1) : value;
}
