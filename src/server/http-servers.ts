import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2, { type Http2SecureServer, type Http2Server, type Http2ServerRequest, type Http2ServerResponse, type Http2Session } from 'node:http2';
import type https from 'node:https';
import type { Duplex } from 'node:stream';
import type { SecureContextOptions, TlsOptions } from 'node:tls';
import type { Logger } from 'pino';
import { advertisedStreamLimit, guardHttp2Session } from './http2-session-guard.js';

export type RequestHandler = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
) => void;
export type Http2AnyServer = Http2Server | Http2SecureServer;
export type AnyHttpServer = http.Server | https.Server | Http2AnyServer;

export function isHttp2Server(server: AnyHttpServer): server is Http2AnyServer {
  return typeof (server as Http2AnyServer).updateSettings === 'function';
}

/** HTTP/2 flow control and concurrency of servers created by `listen()`. */
export interface Http2Limits {
  /**
   * WebSockets (and requests) at once on one connection; default 1000. A
   * stream beyond it is refused with RST_STREAM(REFUSED_STREAM) and the
   * others go on. SETTINGS_MAX_CONCURRENT_STREAMS advertises more than this
   * (see advertisedStreamLimit: nghttp2 would drop the whole connection at it).
   */
  maxConcurrentStreams?: number;
  /** A connection with no open stream is closed (GOAWAY) after this many ms; default 30 s, 0 never. */
  idleTimeout?: number;
  /**
   * SETTINGS_INITIAL_WINDOW_SIZE, the per-stream receive window; default 1 MiB.
   * The 64 KiB default of HTTP/2 would cap each WebSocket at one window per round trip.
   */
  streamWindowSize?: number;
  /** The connection receive window; default 16 MiB, so a few paused streams cannot starve the others. */
  connectionWindowSize?: number;
}

export interface OwnedServerOptions {
  tls?: SecureContextOptions & TlsOptions;
  /** Cleartext HTTP/2 with prior knowledge (h2c) instead of HTTP/1.1, for backends behind a TLS-terminating proxy. */
  h2c?: boolean;
  handshakeTimeout: number;
  maxHeaderSize: number;
  http2: Http2Limits;
}

/** Plain requests to a server that only speaks WebSocket get 426 (RFC 9110 §15.5.22). */
export const upgradeRequired: RequestHandler = (_req, res) => {
  const body = 'This endpoint speaks WebSocket only.\n';
  if (_req.httpVersionMajor === 2) {
    (res as Http2ServerResponse).writeHead(426, { 'content-type': 'text/plain; charset=utf-8' });
  } else {
    (res as ServerResponse).writeHead(426, { upgrade: 'websocket', connection: 'Upgrade', 'content-type': 'text/plain; charset=utf-8' });
  }
  res.end(body);
};

/**
 * Creates the server behind `WebSocketServer.listen()`:
 * - with TLS, one port for HTTP/2 and HTTP/1.1 chosen by ALPN (RFC 7301), so
 *   browsers reach WebSockets over RFC 8441 or RFC 6455 on the same port;
 * - without, HTTP/1.1 (or h2c with prior knowledge when asked).
 * Slow or oversized request heads are refused by Node's own parsers: the head
 * must arrive within `handshakeTimeout` (408) and fit `maxHeaderSize` (431).
 */
export function createOwnedServer(options: OwnedServerOptions, onRequest: RequestHandler, logger: Logger): AnyHttpServer {
  const { handshakeTimeout, maxHeaderSize } = options;
  // Node checks headersTimeout/requestTimeout on this period (default 30 s).
  const connectionsCheckingInterval = Math.max(100, Math.min(1000, Math.floor(handshakeTimeout / 4)));
  const http1Options: http.ServerOptions = {
    maxHeaderSize,
    headersTimeout: handshakeTimeout,
    requestTimeout: handshakeTimeout,
    connectionsCheckingInterval,
    keepAliveTimeout: 5000,
  };
  let server: AnyHttpServer;
  if (options.tls || options.h2c) {
    const maxConcurrentStreams = options.http2.maxConcurrentStreams ?? 1000;
    const settings: http2.Settings = {
      enableConnectProtocol: true,
      maxConcurrentStreams: advertisedStreamLimit(maxConcurrentStreams),
      initialWindowSize: options.http2.streamWindowSize ?? 1024 * 1024,
      maxHeaderListSize: maxHeaderSize,
    };
    const handler = onRequest as (req: Http2ServerRequest, res: Http2ServerResponse) => void;
    server = options.tls
      ? // Node's TLS handshake timeout is 120 s by default; a handshake is bounded like any other.
        http2.createSecureServer({ handshakeTimeout, ...options.tls, allowHTTP1: true, settings }, handler)
      : http2.createServer({ settings }, handler);
    if (options.tls) {
      // The HTTP/1.1 side of allowHTTP1 reads these from the server object.
      Object.assign(server, { headersTimeout: handshakeTimeout, requestTimeout: handshakeTimeout, connectionsCheckingInterval, maxHeaderSize });
    }
    const connectionWindow = options.http2.connectionWindowSize ?? 16 * 1024 * 1024;
    const policy = { maxConcurrentStreams, handshakeTimeout, idleTimeout: options.http2.idleTimeout ?? 30_000, logger };
    server.on('session', (session: Http2Session) => {
      session.on('error', (error) => logger.debug({ err: error }, 'HTTP/2 session error'));
      session.setLocalWindowSize(connectionWindow);
      guardHttp2Session(session, policy);
    });
    server.on('sessionError', (error) => logger.debug({ err: error }, 'HTTP/2 session error'));
  } else {
    server = http.createServer(http1Options, onRequest as (req: IncomingMessage, res: ServerResponse) => void);
  }
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => answerClientError(error, socket, logger));
  server.on('tlsClientError', (error: Error) => logger.debug({ err: error }, 'TLS handshake failed'));
  return server;
}

/**
 * Sockets whose bad request has been answered. Node's HTTP parser stays in its
 * error state and reports the same error again for every chunk read after it,
 * each time as a new 'clientError'; without this a client sending on after a
 * bad request got one log line, one timer and one listener per chunk.
 */
const answered = new WeakSet<Duplex>();

/** How long an answered socket may take to receive the answer before it is destroyed. */
const ANSWER_LINGER_MS = 1000;

/** Malformed, oversized or too slow request heads: answer precisely, once, log once, close. */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex, logger: Logger): void {
  if (answered.has(socket)) return;
  answered.add(socket);
  const status =
    error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const peer = (socket as Duplex & { remoteAddress?: string }).remoteAddress;
  // Transport failures (a reset, or a TLS alert such as a client refusing our
  // certificate) are not bad requests, and there is nobody to answer.
  const transportFailure = error.code === 'ECONNRESET' || error.code === 'EPIPE' || /^ERR_SSL_/.test(error.code ?? '');
  if (transportFailure) {
    logger.debug({ peer, code: error.code }, 'connection failed before a request was complete');
    socket.destroy();
    return;
  }
  logger.info({ peer, status, code: error.code, reason: error.message }, 'bad HTTP request');
  // RFC 9112 §2.2: answer 400 and close the connection; nothing after a bad
  // request can be parsed, so stop reading too. What the client sends on stays
  // in the kernel's bounded receive buffer until the socket goes.
  socket.pause();
  if (socket.writable && !(socket as Duplex & { _httpMessage?: unknown })._httpMessage) {
    const body = `${http.STATUS_CODES[status]}\n`;
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\n` +
        `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
  }
  // Give the answer a moment to leave before the socket goes.
  const timer = setTimeout(() => socket.destroy(), ANSWER_LINGER_MS).unref();
  socket.once('close', () => clearTimeout(timer));
}
