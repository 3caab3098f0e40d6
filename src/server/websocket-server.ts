import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { SecureContextOptions, TlsOptions } from 'node:tls';
import pino, { type Logger } from 'pino';
import type { NegotiationOptions } from '../handshake/negotiate.js';
import type { HandshakeRequest } from '../handshake/request.js';
import { HandshakeRejection } from '../handshake/rejection.js';
import { resolveDeflateOptions } from '../protocol/deflate/negotiation.js';
import { ZlibLimiter } from '../protocol/deflate/zlib-limiter.js';
import { CloseCode } from '../protocol/close-codes.js';
import { resolveSessionLimits, type SessionLimits } from '../session/options.js';
import { WebSocket } from '../session/websocket.js';
import { writeRejection } from '../transports/http1/raw-response.js';
import { handleHttp1Upgrade, requestFromIncoming } from '../transports/http1/server-upgrade.js';
import { validateHttp1Upgrade } from '../handshake/http1-validation.js';
import { logRejection, type ServerContext } from './context.js';
import { createOwnedServer, upgradeRequired, type HttpServer, type RequestHandler } from './http-servers.js';

export interface ServerOptions extends NegotiationOptions, Partial<SessionLimits> {
  /** Listen right away on this port (like `ws`); see also `listen()`. */
  port?: number;
  host?: string;
  /** Certificate and key for wss:// when listening on a port. */
  tls?: SecureContextOptions & TlsOptions;
  /** Serve WebSockets on an existing http/https server (its 'upgrade' event). */
  server?: HttpServer;
  /** Neither listen nor attach: the application calls `handleUpgrade()` itself. */
  noServer?: boolean;
  /** Serve only this exact path (`/chat`); other paths are left to other handlers or refused with 404. */
  path?: string;
  /** Decide per request whether this server takes it (overrides `path`). */
  shouldHandle?: (request: HandshakeRequest) => boolean;
  /** Time a handshake may take, from the first byte of the request to the answer; ms, default 10 s. */
  handshakeTimeout?: number;
  /** Largest request head accepted on servers this object creates; default 16 KiB (431 beyond). */
  maxHeaderSize?: number;
  /** A pino logger; sessions log through child loggers with transport, session id and peer. Default: silent. */
  logger?: Logger;
}

export interface ListenOptions {
  port?: number;
  host?: string;
  tls?: SecureContextOptions & TlsOptions;
  /** Handler for plain HTTP requests on this port; default answers 426. */
  onRequest?: RequestHandler;
}

/**
 * The WebSocket server. It listens on its own ports (ws:// and wss://),
 * attaches to servers the application already has, or takes upgrades handed
 * to it; every transport front-end feeds sessions into the same 'connection'
 * event and the same shutdown.
 */
export class WebSocketServer extends EventEmitter {
  /** Sessions that are open or closing. */
  readonly clients = new Set<WebSocket>();
  private readonly context: ServerContext;
  private readonly options: ServerOptions;
  private readonly ownedServers: HttpServer[] = [];
  private readonly attached = new Map<HttpServer, (req: IncomingMessage, socket: Socket, head: Buffer) => void>();
  private closing = false;
  private closed: Promise<void> | null = null;

  constructor(options: ServerOptions = {}) {
    super();
    this.options = options;
    const logger = options.logger ?? pino({ level: 'silent' });
    const deflateOptions = options.perMessageDeflate
      ? resolveDeflateOptions(options.perMessageDeflate === true ? {} : options.perMessageDeflate)
      : null;
    const server = this;
    this.context = {
      negotiation: options,
      limits: resolveSessionLimits(options),
      deflate: deflateOptions && { options: deflateOptions, limiter: new ZlibLimiter(deflateOptions.concurrency) },
      handshakeTimeout: options.handshakeTimeout ?? 10_000,
      logger,
      get closing() {
        return server.closing;
      },
      shouldHandle: (request) => this.shouldHandle(request),
      adopt: (ws, request) => this.adopt(ws, request),
    };
    if (options.server) this.attach(options.server);
    else if (options.port !== undefined) {
      this.listen({ port: options.port, host: options.host, tls: options.tls }).catch((error) => this.emit('error', error));
    } else if (!options.noServer) {
      throw new TypeError('one of port, server or noServer must be given');
    }
  }

  get logger(): Logger {
    return this.context.logger;
  }

  /** Whether this server takes a handshake for the given request. */
  shouldHandle(request: HandshakeRequest): boolean {
    if (this.options.shouldHandle) return this.options.shouldHandle(request);
    return this.options.path === undefined || request.pathname === this.options.path;
  }

  /** Starts an HTTP/1.1 (or, with `tls`, HTTPS) listener that serves WebSockets; can be called for several ports. */
  async listen(options: ListenOptions = {}): Promise<AddressInfo> {
    if (this.closing) throw new Error('server is closed');
    const server = createOwnedServer(
      options.tls,
      { handshakeTimeout: this.context.handshakeTimeout, maxHeaderSize: this.options.maxHeaderSize ?? 16 * 1024 },
      this.misdirectedHandshakes(options.onRequest ?? upgradeRequired),
      this.context.logger,
    );
    this.ownedServers.push(server);
    this.attach(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => this.emit('error', error));
    const address = server.address() as AddressInfo;
    this.context.logger.info({ address: address.address, port: address.port, tls: Boolean(options.tls) }, 'listening');
    this.emit('listening', address);
    return address;
  }

  /**
   * Node hands a request to the 'upgrade' event only when it carries both
   * `Upgrade` and `Connection: upgrade`; a WebSocket handshake missing one of
   * them arrives as a plain request. Answer those with the precise 400 of the
   * handshake validation instead of the application's page.
   */
  private misdirectedHandshakes(onRequest: RequestHandler): RequestHandler {
    return (req, res) => {
      if (req.headers['sec-websocket-key'] === undefined && req.headers['sec-websocket-version'] === undefined) {
        return onRequest(req, res);
      }
      const request = requestFromIncoming(req, req.socket);
      if (!this.shouldHandle(request)) return onRequest(req, res);
      try {
        validateHttp1Upgrade(request);
      } catch (error) {
        if (!(error instanceof HandshakeRejection)) throw error;
        logRejection(this.context.logger, request, error);
        res.writeHead(error.status, { ...error.headers, 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
        res.end(error.body + '\n');
        return;
      }
      onRequest(req, res);
    };
  }

  /** The address of the first listener this server started. */
  address(): AddressInfo | null {
    return (this.ownedServers[0]?.address() as AddressInfo | null) ?? null;
  }

  /** Serves WebSocket upgrades arriving on an existing http/https server. */
  attach(server: HttpServer): this {
    if (this.attached.has(server)) return this;
    const listener = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
      const request = requestFromIncoming(req, socket);
      if (!this.shouldHandle(request)) {
        // Another upgrade handler on the same server may want it.
        if (server.listenerCount('upgrade') > 1) return;
        writeRejection(socket, new HandshakeRejection(404, 'no WebSocket endpoint at this path'));
        this.context.logger.info({ peer: request.remoteAddress, url: request.url }, 'handshake refused: no endpoint');
        return;
      }
      void handleHttp1Upgrade(this.context, request, socket, head);
    };
    this.attached.set(server, listener);
    server.on('upgrade', listener);
    return this;
  }

  /**
   * Completes an HTTP/1.1 upgrade the application received itself (`noServer`).
   * With a callback, the callback gets the session and 'connection' is not
   * emitted (the `ws` convention); without one, 'connection' is emitted.
   */
  handleUpgrade(
    req: IncomingMessage,
    socket: Socket,
    head: Buffer,
    callback?: (ws: WebSocket, request: HandshakeRequest) => void,
  ): Promise<WebSocket | null> {
    const request = requestFromIncoming(req, socket);
    if (!callback) return handleHttp1Upgrade(this.context, request, socket, head);
    const context = { ...this.context, closing: this.closing, adopt: (ws: WebSocket) => this.track(ws) };
    return handleHttp1Upgrade(context, request, socket, head).then((ws) => {
      if (ws) callback(ws, request);
      return ws;
    });
  }

  /**
   * Graceful shutdown: stop accepting (new handshakes get 503), close every
   * session with 1001, wait for them (each is aborted after `closeTimeout` at
   * the latest), then close the listeners this server started.
   */
  close(): Promise<void> {
    if (this.closed) return this.closed;
    this.closing = true;
    this.closed = this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    const listenersClosed = this.ownedServers.map(
      (server) => new Promise<void>((resolve) => server.close(() => resolve())),
    );
    const sessionsClosed = [...this.clients].map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          ws.once('close', () => resolve());
          ws.close(CloseCode.GoingAway, 'server shutting down');
        }),
    );
    await Promise.all(sessionsClosed);
    for (const server of this.ownedServers) server.closeAllConnections();
    await Promise.all(listenersClosed);
    for (const [server, listener] of this.attached) server.off('upgrade', listener);
    this.attached.clear();
    this.context.logger.info('server closed');
    this.emit('close');
  }

  private track(ws: WebSocket): void {
    this.clients.add(ws);
    ws.once('close', () => this.clients.delete(ws));
  }

  private adopt(ws: WebSocket, request: HandshakeRequest): void {
    this.track(ws);
    this.emit('connection', ws, request);
  }
}
