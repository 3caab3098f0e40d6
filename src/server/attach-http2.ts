import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { isWebSocketProtocol } from '../handshake/extended-connect.js';
import { HandshakeRejection } from '../handshake/rejection.js';
import { handleHttp2Stream, requestFromHttp2, respondRejection } from '../transports/http2/server-stream.js';
import type { ServerContext } from '../handshake/accept.js';
import type { Http2AnyServer } from './http-servers.js';

/** Name Node gives the compatibility layer's own 'stream' listener (lib/internal/http2/compat.js). */
const COMPAT_STREAM_LISTENER = 'bound onServerStream';

/**
 * Serves RFC 8441 WebSockets on an HTTP/2 server: turns on
 * SETTINGS_ENABLE_CONNECT_PROTOCOL for new sessions, takes extended CONNECT
 * streams from the raw 'stream' event, and keeps Node's compatibility layer
 * (active as soon as the application has a 'request' listener) from answering
 * them with 405 — it does that for any CONNECT no 'connect' listener claims.
 *
 * On a server we own (`authoritative`) every CONNECT is answered here; on the
 * application's server, streams that are not ours are left to its handlers
 * unless it has none, in which case they get a precise refusal.
 */
export function attachHttp2(server: Http2AnyServer, context: ServerContext, authoritative: boolean): () => void {
  server.updateSettings({ enableConnectProtocol: true });

  const onStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders?: string[]): void => {
    // Refused before it got here (the concurrent-stream limit of servers we own).
    if (stream.closed) return;
    const method = headers[':method'];
    if (method !== 'CONNECT' && headers[':protocol'] === undefined) return; // an ordinary request
    const request = requestFromHttp2(stream, headers, rawHeaders);
    const websocket = method === 'CONNECT' && isWebSocketProtocol(headers[':protocol'] as string | undefined);
    if (websocket && context.shouldHandle(request)) {
      void handleHttp2Stream(context, request, stream);
      return;
    }
    if (!authoritative && hasOtherHandlers(server, onStream, onConnect)) return;
    if (websocket) {
      const rejection = new HandshakeRejection(404, 'no WebSocket endpoint at this path');
      context.logger.info({ transport: 'h2', peer: request.remoteAddress, url: request.url, status: 404 }, 'handshake refused');
      respondRejection(stream, rejection);
      return;
    }
    // Plain CONNECT, an unknown :protocol, or :protocol on another method: the
    // shared validation gives the precise answer (405, 501, 400).
    void handleHttp2Stream(context, request, stream);
  };

  // Present only to stop the compatibility layer's automatic 405: every
  // HTTP/2 CONNECT is decided by onStream above. An HTTP/1.1 CONNECT (allowHTTP1)
  // also lands here; without another listener it is refused like Node would.
  const onConnect = (req: IncomingMessage | Http2ServerRequest, socket: unknown): void => {
    if (req.httpVersionMajor === 2) return;
    if (server.listenerCount('connect') > 1) return;
    const raw = socket as Socket;
    raw.end('HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  };

  server.on('stream', onStream);
  server.on('connect', onConnect);
  return () => {
    server.off('stream', onStream);
    server.off('connect', onConnect);
  };
}

/** Whether the application has its own handlers for streams we do not take. */
function hasOtherHandlers(server: Http2AnyServer, ours: (...args: never[]) => void, oursConnect: (...args: never[]) => void): boolean {
  const streamHandlers = server
    .listeners('stream')
    .filter((listener) => listener !== ours && listener.name !== COMPAT_STREAM_LISTENER);
  const connectHandlers = server.listeners('connect').filter((listener) => listener !== oursConnect);
  return streamHandlers.length > 0 || connectHandlers.length > 0;
}
