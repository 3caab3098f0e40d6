import type { IncomingHttpHeaders } from 'node:http';
import type { UnexpectedResponse } from '../session/client-options.js';

/**
 * Why a client's opening handshake failed, as a stable code an application
 * can switch on (a 401 calls for new credentials, a timeout for a retry):
 * - UNEXPECTED_RESPONSE: the server answered with another status than 101
 *   (HTTP/1.1, RFC 6455 §4.1) or 2xx (HTTP/2 and HTTP/3, RFC 8441 §5 and
 *   RFC 9220 §3); `status`, `headers` and `body` say what it answered;
 * - INVALID_RESPONSE: it accepted, but the answer breaks RFC 6455 §4.1
 *   (Sec-WebSocket-Accept, a subprotocol or extension that was not offered);
 * - TIMEOUT: no answer within `handshakeTimeout`;
 * - H2_UNAVAILABLE: `transport: 'h2'`, and the server speaks no HTTP/2 or
 *   does not allow WebSockets on it (no SETTINGS_ENABLE_CONNECT_PROTOCOL);
 * - H3_UNAVAILABLE: `transport: 'h3'`, and no HTTP/3 server with extended
 *   CONNECT answered on the UDP port;
 * - ABORTED: `close()` was called before the handshake finished.
 * Network errors (ECONNREFUSED, certificate errors, ...) are reported as Node raises them.
 */
export type HandshakeErrorCode = 'UNEXPECTED_RESPONSE' | 'INVALID_RESPONSE' | 'TIMEOUT' | 'H2_UNAVAILABLE' | 'H3_UNAVAILABLE' | 'ABORTED';


/** Bodies of refusals are read up to this many bytes: enough for an error message, bounded against a server that streams. */
export const MAX_REFUSAL_BODY = 64 * 1024;

export class HandshakeError extends Error {
  readonly code: HandshakeErrorCode;
  /** The server's status, headers and body when it answered (UNEXPECTED_RESPONSE). */
  readonly status: number | undefined;
  readonly headers: IncomingHttpHeaders | undefined;
  readonly body: string | undefined;

  constructor(code: HandshakeErrorCode, message: string, options: { response?: UnexpectedResponse; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HandshakeError';
    this.code = code;
    this.status = options.response?.status;
    this.headers = options.response?.headers;
    this.body = options.response?.body;
  }
}
