import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { SecureContextOptions, TlsOptions } from 'node:tls';
import type { Logger } from 'pino';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;
export type HttpServer = http.Server | https.Server;

export interface OwnedServerLimits {
  handshakeTimeout: number;
  maxHeaderSize: number;
}

/** Plain requests to a server that only speaks WebSocket get 426 (RFC 9110 §15.5.22). */
export const upgradeRequired: RequestHandler = (_req, res) => {
  const body = 'This endpoint speaks WebSocket only.\n';
  res.writeHead(426, { upgrade: 'websocket', connection: 'Upgrade', 'content-type': 'text/plain; charset=utf-8' });
  res.end(body);
};

/**
 * Creates the HTTP/1.1 server behind `WebSocketServer.listen()`, with the limits
 * against slow or oversized handshakes applied by Node's own parser: the whole
 * request head must arrive within `handshakeTimeout` (408), and may not exceed
 * `maxHeaderSize` (431).
 */
export function createOwnedServer(
  tls: (SecureContextOptions & TlsOptions) | undefined,
  limits: OwnedServerLimits,
  onRequest: RequestHandler,
  logger: Logger,
): HttpServer {
  const options: http.ServerOptions = {
    maxHeaderSize: limits.maxHeaderSize,
    headersTimeout: limits.handshakeTimeout,
    requestTimeout: limits.handshakeTimeout,
    // Node checks the two timeouts above on this period (default 30 s).
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.handshakeTimeout / 4))),
    keepAliveTimeout: 5000,
  };
  const server = tls ? https.createServer({ ...options, ...tls }, onRequest) : http.createServer(options, onRequest);
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => answerClientError(error, socket, logger));
  return server;
}

/** Malformed, oversized or too slow request heads: answer precisely, log once, close. */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex, logger: Logger): void {
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
  if (socket.writable && !(socket as Duplex & { _httpMessage?: unknown })._httpMessage) {
    const body = `${http.STATUS_CODES[status]}\n`;
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\n` +
        `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
  }
  // Give the answer a moment to leave before the socket goes.
  const timer = setTimeout(() => socket.destroy(), 1000).unref();
  socket.once('close', () => clearTimeout(timer));
}
