import type { IncomingHttpHeaders } from 'node:http';
import { HandshakeAttempt } from './attempt.js';
import type { ClientHandshake } from '../session/client-options.js';
import type { ClientConnectPlan } from './plan.js';
import { HandshakeError } from './handshake-error.js';
import { acceptResponse, offerHeaders } from './negotiation.js';
import type { WebSocket } from '../session/websocket.js';
import type { Http3ClientPool } from './http3-pool.js';
import type { HeaderList } from '../http3/fields.js';
import { Http3StreamChannel } from '../transports/http3/stream-channel.js';

function values(headers: HeaderList, name: string): string[] {
  return headers.filter(([field]) => field === name).map(([, value]) => value);
}

/** A response's fields in Node's IncomingMessage shape: pseudo-headers left out, repeated fields joined (RFC 9110 §5.3), set-cookie kept as a list. */
function toIncomingHeaders(fields: HeaderList): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of fields) {
    if (name.startsWith(':')) continue;
    if (name === 'set-cookie') headers['set-cookie'] = [...(headers['set-cookie'] ?? []), value];
    else headers[name] = headers[name] === undefined ? value : `${String(headers[name])}, ${value}`;
  }
  return headers;
}

export interface Http3ClientOptions {
  /** UDP port of an alternative service (Alt-Svc) instead of the URL's port. */
  port?: number;
  /**
   * Called instead of failing when no HTTP/3 connection with extended CONNECT
   * could be set up, so transport 'auto' can fall back to TCP.
   */
  onUnavailable?: (error: Error) => void;
}

/**
 * The client side of RFC 9220: an extended CONNECT on a (shared) HTTP/3
 * connection, sent only after the server's SETTINGS enabled it. Success is
 * `:status 200`; the request stream then carries the frames in DATA frames.
 */
export function openHttp3Client(ws: WebSocket, plan: ClientConnectPlan, pool: Http3ClientPool, choice: Http3ClientOptions = {}): ClientHandshake {
  const { url, options } = plan;
  const attempt = new HandshakeAttempt(ws, plan);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = choice.port ?? Number(url.port || 443);
  pool
    .acquire({
      host,
      port,
      servername: options.servername,
      ca: options.ca as Uint8Array | string | undefined,
      rejectUnauthorized: options.rejectUnauthorized,
      // With a fallback, give QUIC only part of the time (UDP may be blocked on the path).
      timeout: choice.onUnavailable ? Math.min(plan.handshakeTimeout / 2, 3000) : plan.handshakeTimeout,
      idleTimeout: options.http3IdleTimeout ?? 5000,
    })
    .then(({ session, release }) => {
      attempt.onFailure(release);
      if (attempt.done) return release();
      const stream = session.request([
        [':method', 'CONNECT'],
        [':protocol', 'websocket'],
        [':scheme', 'https'],
        [':authority', url.host],
        [':path', url.pathname + url.search],
        ...Object.entries(offerHeaders(plan)),
      ]);
      attempt.onFailure(() => {
        if (!stream.closed) stream.cancel();
      });
      const onError = (error: Error): void => attempt.fail(error);
      const onClose = (): void => attempt.fail(new Error('stream closed before the server answered'));
      stream.on('error', onError);
      stream.once('close', onClose);
      stream.once('response', (response: HeaderList) => {
        const status = values(response, ':status')[0];
        // RFC 9220 §3 (as RFC 8441 §5): anything but 2xx refuses the WebSocket.
        if (status !== '200') {
          stream.off('close', onClose);
          return attempt.refuse(Number(status), toIncomingHeaders(response), stream);
        }
        let accepted;
        try {
          accepted = acceptResponse(plan, values(response, 'sec-websocket-protocol'), values(response, 'sec-websocket-extensions'));
        } catch (error) {
          return attempt.fail(error as Error);
        }
        stream.off('error', onError);
        stream.off('close', onClose);
        ws.once('close', release);
        // Synchronously, so data that follows the response in the same packet finds the session listening.
        const peer = { address: session.connection.remoteAddress, port: session.connection.remotePort };
        attempt.succeed(new Http3StreamChannel(stream, peer), accepted, { status: 200, headers: toIncomingHeaders(response) });
      });
    })
    .catch((error: Error) => {
      if (choice.onUnavailable) {
        plan.logger.debug({ url: url.href, reason: error.message }, 'HTTP/3 unavailable, falling back');
        attempt.handOver(() => choice.onUnavailable!(error));
      } else {
        const message = `no HTTP/3 WebSocket server at udp://${url.hostname}:${port}: ${error.message}`;
        attempt.fail(new HandshakeError('H3_UNAVAILABLE', message, { cause: error }));
      }
    });
  return attempt;
}
