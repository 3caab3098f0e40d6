import { hasRequestTarget, isWebSocketProtocol } from '../handshake/extended-connect.js';
import { HandshakeRejection } from '../handshake/rejection.js';
import { H3_NO_ERROR } from '../http3/errors.js';
import type { HeaderList } from '../http3/fields.js';
import type { Http3RequestStream } from '../http3/request-stream.js';
import { handleHttp3Request, requestFromHttp3, respondRejection } from '../transports/http3/server-front.js';
import { Http3Session } from '../http3/session.js';
import type { QuicConnection, QuicServer, QuicServerOptions } from '../quic/types.js';
import { logRejection, type ServerContext } from '../handshake/accept.js';

export interface Http3Limits {
  /** HTTP/3 requests (WebSockets) handled at once per connection; default 1000 (the QUIC stream limit follows it). */
  maxConcurrentStreams?: number;
  /** Largest request field section (SETTINGS_MAX_FIELD_SECTION_SIZE); default: the server's maxHeaderSize. */
  maxFieldSectionSize?: number;
  /**
   * Requests per connection whose header section has not fully arrived; more
   * are rejected (H3_REQUEST_REJECTED); default 100. Each may take the
   * server's handshakeTimeout to complete it.
   */
  maxIncompleteRequests?: number;
}

/** What `listen({ http3 })` takes: QUIC transport and admission limits, and HTTP/3 ones. */
export type Http3ListenOptions = Omit<QuicServerOptions, 'cert' | 'key' | 'alpn'> & Http3Limits;

/** How long a connection that received GOAWAY at shutdown has to read it before CONNECTION_CLOSE. */
const GOAWAY_GRACE_MS = 250;

/**
 * Serves RFC 9220 WebSockets on a QUIC server: one HTTP/3 session per
 * connection advertising SETTINGS_ENABLE_CONNECT_PROTOCOL = 1; extended
 * CONNECT requests become sessions, everything else is refused with a status.
 * Returns a shutdown function: GOAWAY on every connection, then CONNECTION_CLOSE
 * with H3_NO_ERROR once its streams are done (call it after the WebSockets were closed).
 */
export function attachHttp3(quic: QuicServer, context: ServerContext, limits: Required<Http3Limits>): () => Promise<void> {
  const sessions = new Set<Http3Session>();
  quic.on('connection', (connection: QuicConnection) => {
    const session = new Http3Session(connection, {
      role: 'server',
      enableConnectProtocol: true,
      maxConcurrentRequests: limits.maxConcurrentStreams,
      maxFieldSectionSize: limits.maxFieldSectionSize,
      maxIncompleteRequests: limits.maxIncompleteRequests,
      // HTTP/1.1 gives a request head handshakeTimeout too (408).
      requestHeadersTimeout: context.handshakeTimeout,
    });
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    session.on('error', (error: Error) => context.logger.info({ transport: 'h3', peer: connection.remoteAddress, err: error }, 'HTTP/3 connection error'));
    session.on('request', (stream: Http3RequestStream, headers: HeaderList) => {
      // HTTP/3 delivers a request's data at once: hold it until the handshake is decided.
      stream.pause();
      const peer = { address: connection.remoteAddress, port: connection.remotePort };
      const request = requestFromHttp3(headers, peer);
      if (request.method !== 'CONNECT' && request.connectProtocol === undefined) {
        respondRejection(stream, new HandshakeRejection(404, 'this HTTP/3 endpoint serves WebSockets (RFC 9220 extended CONNECT) only'));
        return;
      }
      // A request without :scheme/:path/:authority is malformed, not "not found":
      // the shared validation answers it 400 (RFC 9114 §4.1.2, RFC 9220 §3).
      if (isWebSocketProtocol(request.connectProtocol) && hasRequestTarget(request) && !context.shouldHandle(request)) {
        const rejection = new HandshakeRejection(404, 'no WebSocket endpoint at this path');
        logRejection(context, request, rejection);
        respondRejection(stream, rejection);
        return;
      }
      void handleHttp3Request(context, request, stream, peer);
    });
  });
  return async () => {
    await Promise.all(
      [...sessions].map(
        (session) =>
          new Promise<void>((resolve) => {
            if (session.closed) return resolve();
            // RFC 9114 §5.2: GOAWAY first, then close the connection. Not in
            // the same turn: a peer may discard stream data it has not read
            // yet once CONNECTION_CLOSE arrives (quic-go does), GOAWAY with it.
            // The peer usually closes first once it has seen GOAWAY.
            const grace = setTimeout(() => session.close(H3_NO_ERROR, 'server shutting down'), GOAWAY_GRACE_MS);
            session.once('close', () => {
              clearTimeout(grace);
              resolve();
            });
            session.goaway();
          }),
      ),
    );
  };
}
