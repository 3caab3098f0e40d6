import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Http2Session, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { SecureContextOptions, TlsOptions } from 'node:tls';
import pino, { type Logger } from 'pino';
import type { Registry } from 'prom-client';
import { validateHttp1Upgrade } from '../handshake/http1-validation.js';
import type { NegotiationOptions } from '../handshake/negotiate.js';
import { HandshakeRejection } from '../handshake/rejection.js';
import type { HandshakeRequest } from '../handshake/request.js';
import { CloseCode } from '../protocol/close-codes.js';
import { Broker } from '../pubsub/broker.js';
import type { PubSubOptions } from '../pubsub/options.js';
import { resolveDeflateOptions } from '../protocol/deflate/negotiation.js';
import { ZlibLimiter } from '../protocol/deflate/zlib-limiter.js';
import { resolveSessionLimits, type SessionLimits } from '../session/options.js';
import { WebSocket } from '../session/websocket.js';
import { handleHttp1Upgrade, requestFromIncoming } from '../transports/http1/server-upgrade.js';
import { handleHttp2Stream, requestFromHttp2 } from '../transports/http2/server-stream.js';
import { attachHttp1 } from './attach-http1.js';
import { attachHttp2 } from './attach-http2.js';
import { attachHttp3, type Http3ListenOptions } from './attach-http3.js';
import type { QuicServer } from '../quic/types.js';
import { logRejection, type ServerContext } from '../handshake/accept.js';
import { ServerMetrics, type MetricsOptions } from './metrics.js';
import {
  createOwnedServer,
  isHttp2Server,
  upgradeRequired,
  type AnyHttpServer,
  type Http2Limits,
  type RequestHandler,
} from './http-servers.js';

export interface ServerOptions extends NegotiationOptions, Partial<SessionLimits> {
  /** Listen right away on this port (like `ws`); see also `listen()`. */
  port?: number;
  host?: string;
  /** Certificate and key for wss:// when listening on a port. */
  tls?: SecureContextOptions & TlsOptions;
  /** Serve WebSockets on an existing http, https or http2 server. */
  server?: AnyHttpServer;
  /** Neither listen nor attach: the application calls `handleUpgrade()` / `handleStream()` itself. */
  noServer?: boolean;
  /** Serve only this exact path (`/chat`); other paths are left to other handlers or refused with 404. */
  path?: string;
  /** Decide per request whether this server takes it (overrides `path`). */
  shouldHandle?: (request: HandshakeRequest) => boolean;
  /** Time a handshake may take, from the first byte of the request to the answer; ms, default 10 s. */
  handshakeTimeout?: number;
  /** Largest request head accepted on servers this object creates; default 16 KiB (431 beyond). */
  maxHeaderSize?: number;
  /** HTTP/2 limits of servers this object creates. */
  http2?: Http2Limits;
  /** A pino logger; sessions log through child loggers with transport, session id and peer. Default: silent. */
  logger?: Logger;
  /** Rooms and broadcast (`server.pubsub`): the adapter to other processes and the slow-member policy. */
  pubsub?: PubSubOptions;
  /** Prometheus metrics (prom-client) at `wss.metrics`: `true` for a registry of its own, or where to register. Default off. */
  metrics?: boolean | MetricsOptions;
}

export interface ListenOptions {
  port?: number;
  host?: string;
  /** With TLS the port speaks HTTP/2 and HTTP/1.1 (ALPN); without, HTTP/1.1. */
  tls?: SecureContextOptions & TlsOptions;
  /** Cleartext HTTP/2 with prior knowledge (h2c) instead of HTTP/1.1; ignored with `tls`. */
  h2c?: boolean;
  /**
   * With `tls`: also serve HTTP/3 (RFC 9220) on UDP, on the same port number,
   * and advertise it with Alt-Svc on the TCP side. `true` or QUIC/HTTP/3 limits.
   */
  http3?: boolean | Http3ListenOptions;
  /** Handler for plain HTTP requests on this port (HTTP/1.1 or HTTP/2); default answers 426. */
  onRequest?: RequestHandler;
}

/** The events of a WebSocketServer and their arguments. */
export interface WebSocketServerEventMap {
  /** A WebSocket was accepted over HTTP/1.1, HTTP/2 or HTTP/3; `request` is the transport-neutral handshake request. */
  connection: [ws: WebSocket, request: HandshakeRequest];
  /**
   * A handshake is about to be accepted: `headers` holds the success answer's
   * fields as `'Name: value'` lines (no status line, no HTTP/1.1 Upgrade,
   * Connection or Sec-WebSocket-Accept); push to add fields, on every transport.
   */
  headers: [headers: string[], request: HandshakeRequest];
  /** A `listen()` call is serving (TCP and, with `http3`, its UDP twin). */
  listening: [address: AddressInfo];
  close: [];
  error: [error: Error];
}

type ServerListener<K extends keyof WebSocketServerEventMap> = (...args: WebSocketServerEventMap[K]) => void;

// Typed overloads for the events above (declaration merging with the class);
// other names keep EventEmitter's untyped signature.
export interface WebSocketServer {
  on<K extends keyof WebSocketServerEventMap>(event: K, listener: ServerListener<K>): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  once<K extends keyof WebSocketServerEventMap>(event: K, listener: ServerListener<K>): this;
  once(event: string | symbol, listener: (...args: any[]) => void): this;
  off<K extends keyof WebSocketServerEventMap>(event: K, listener: ServerListener<K>): this;
  off(event: string | symbol, listener: (...args: any[]) => void): this;
  addListener<K extends keyof WebSocketServerEventMap>(event: K, listener: ServerListener<K>): this;
  addListener(event: string | symbol, listener: (...args: any[]) => void): this;
  removeListener<K extends keyof WebSocketServerEventMap>(event: K, listener: ServerListener<K>): this;
  removeListener(event: string | symbol, listener: (...args: any[]) => void): this;
}

/**
 * The WebSocket server. It listens on its own ports (ws://, wss:// over
 * HTTP/1.1 and HTTP/2), attaches to servers the application already has, or
 * takes handshakes handed to it; every transport front-end feeds sessions into
 * the same 'connection' event and the same shutdown.
 */
export class WebSocketServer extends EventEmitter {
  /** Sessions that are open or closing. */
  readonly clients = new Set<WebSocket>();
  /** Rooms of this server's sessions: join, leave, publish (see Broker). */
  readonly pubsub: Broker;
  private readonly context: ServerContext;
  private readonly options: ServerOptions;
  private readonly ownedServers: AnyHttpServer[] = [];
  private readonly detachers = new Map<AnyHttpServer, () => void>();
  private readonly http2Sessions = new Set<Http2Session>();
  /** HTTP/3 listeners: their QUIC servers and shutdown functions. */
  private readonly http3Listeners: Array<{ quic: QuicServer; shutdown: () => Promise<void> }> = [];
  /** TCP port → Alt-Svc value advertising the HTTP/3 twin on the same port number. */
  private readonly altSvc = new Map<number, string>();
  private readonly serverMetrics: ServerMetrics | null;
  private closing = false;
  private closed: Promise<void> | null = null;

  /** `callback`, as in `ws`, is added as a 'listening' listener. */
  constructor(options: ServerOptions = {}, callback?: () => void) {
    super();
    this.options = options;
    if (callback) this.once('listening', () => callback());
    const logger = options.logger ?? pino({ level: 'silent' });
    const deflateOptions = options.perMessageDeflate
      ? resolveDeflateOptions(options.perMessageDeflate === true ? {} : options.perMessageDeflate)
      : null;
    this.pubsub = new Broker({ ...options.pubsub, logger });
    const server = this;
    const metrics = options.metrics ? new ServerMetrics(options.metrics === true ? {} : options.metrics, () => this.clients) : null;
    this.serverMetrics = metrics;
    this.context = {
      negotiation: options,
      limits: resolveSessionLimits(options),
      deflate: deflateOptions && { options: deflateOptions, limiter: new ZlibLimiter(deflateOptions.concurrency) },
      handshakeTimeout: options.handshakeTimeout ?? 10_000,
      logger,
      metrics,
      get closing() {
        return server.closing;
      },
      altSvcFor: (localPort) => (localPort === undefined ? undefined : this.altSvc.get(localPort)),
      shouldHandle: (request) => this.shouldHandle(request),
      hasHeadersListener: () => this.listenerCount('headers') > 0,
      emitHeaders: (headers, request) => this.emit('headers', headers, request),
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

  /** The prom-client Registry holding this server's metrics; null unless the `metrics` option is on. */
  get metrics(): Registry | null {
    return this.serverMetrics?.registry ?? null;
  }

  /** Whether this server takes a handshake for the given request. */
  shouldHandle(request: HandshakeRequest): boolean {
    if (this.options.shouldHandle) return this.options.shouldHandle(request);
    return this.options.path === undefined || request.pathname === this.options.path;
  }

  /**
   * Starts a listener that serves WebSockets: with `tls`, HTTP/2 (RFC 8441) and
   * HTTP/1.1 on one port; without, HTTP/1.1 (or h2c). Can be called for several ports.
   */
  async listen(options: ListenOptions = {}): Promise<AddressInfo> {
    if (this.closing) throw new Error('server is closed');
    const server = createOwnedServer(
      {
        tls: options.tls,
        h2c: options.h2c,
        handshakeTimeout: this.context.handshakeTimeout,
        maxHeaderSize: this.options.maxHeaderSize ?? 16 * 1024,
        http2: this.options.http2 ?? {},
      },
      this.withAltSvc(this.misdirectedHandshakes(options.onRequest ?? upgradeRequired)),
      this.context.logger,
    );
    this.ownedServers.push(server);
    this.attachServer(server, true);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port ?? 0, options.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      this.forgetListener(server);
      throw error;
    }
    server.on('error', (error) => this.emit('error', error));
    const address = server.address() as AddressInfo;
    const protocols = options.tls ? ['h2', 'http/1.1'] : options.h2c ? ['h2c'] : ['http/1.1'];
    if (options.tls && options.http3) {
      try {
        await this.listenHttp3(options.tls, options.host, address.port, options.http3 === true ? {} : options.http3);
      } catch (error) {
        // All or nothing: a listener that half started (TCP without its UDP twin) is rolled back.
        this.forgetListener(server);
        await new Promise<void>((resolve) => server.close(() => resolve()));
        throw error;
      }
      protocols.unshift('h3');
    }
    this.context.logger.info({ address: address.address, port: address.port, tls: Boolean(options.tls), protocols }, 'listening');
    this.emit('listening', address);
    return address;
  }

  /** Undoes the bookkeeping of a listener that failed to start. */
  private forgetListener(server: AnyHttpServer): void {
    this.ownedServers.splice(this.ownedServers.indexOf(server), 1);
    this.detachers.get(server)?.();
    this.detachers.delete(server);
  }

  /** Starts the QUIC listener of an HTTP/3 twin on UDP `port`. */
  private async listenHttp3(
    tls: SecureContextOptions & TlsOptions,
    host: string | undefined,
    port: number,
    limits: Http3ListenOptions,
  ): Promise<void> {
    const { createQuicServer } = await import('../quic/index.js');
    const first = <T>(value: T | T[] | undefined): T | undefined => (Array.isArray(value) ? value[0] : value);
    const cert = first(tls.cert as string | Buffer | Array<string | Buffer> | undefined);
    const key = first(tls.key as string | Buffer | Array<string | Buffer> | undefined);
    if (cert === undefined || key === undefined) throw new TypeError('HTTP/3 needs tls.cert and tls.key as PEM');
    const maxConcurrentStreams = limits.maxConcurrentStreams ?? 1000;
    const quic = createQuicServer({
      // A QUIC handshake gets the time an HTTP/1.1 request head gets.
      handshakeTimeout: this.context.handshakeTimeout,
      ...limits,
      cert,
      key,
      alpn: ['h3'],
      // The QUIC stream limit follows the HTTP/3 one, so clients wait instead of being refused.
      maxStreamsBidi: maxConcurrentStreams,
      logger: this.context.logger,
    });
    quic.on('error', (error: Error) => this.emit('error', error));
    const shutdown = attachHttp3(quic, this.context, {
      maxConcurrentStreams,
      maxFieldSectionSize: limits.maxFieldSectionSize ?? this.options.maxHeaderSize ?? 16 * 1024,
      maxIncompleteRequests: limits.maxIncompleteRequests ?? 100,
    });
    try {
      await quic.listen(port, host ?? '::');
    } catch (error) {
      await quic.close().catch(() => {});
      throw error;
    }
    this.http3Listeners.push({ quic, shutdown });
    this.serverMetrics?.addQuicServer(quic);
    // RFC 7838 / RFC 9114 §3.1.1: tell HTTP/1.1 and HTTP/2 clients where HTTP/3 is.
    this.altSvc.set(port, `h3=":${port}"; ma=86400`);
  }

  /** Adds Alt-Svc to the plain HTTP responses of listeners with an HTTP/3 twin. */
  private withAltSvc(onRequest: RequestHandler): RequestHandler {
    return (req, res) => {
      const altSvc = this.altSvc.get((req.socket as Socket | undefined)?.localPort ?? -1);
      if (altSvc !== undefined) res.setHeader('alt-svc', altSvc);
      onRequest(req, res);
    };
  }

  /** The address of the first listener this server started. */
  address(): AddressInfo | null {
    return (this.ownedServers[0]?.address() as AddressInfo | null) ?? null;
  }

  /**
   * Serves WebSockets on a server the application already has: HTTP/1.1
   * upgrades on http/https servers (and on HTTP/2 servers with allowHTTP1), and
   * RFC 8441 extended CONNECT streams on HTTP/2 servers, which get
   * SETTINGS_ENABLE_CONNECT_PROTOCOL turned on for new connections.
   */
  attach(server: AnyHttpServer): this {
    this.attachServer(server, false);
    return this;
  }

  private attachServer(server: AnyHttpServer, owned: boolean): void {
    if (this.detachers.has(server)) return;
    const detachers = [attachHttp1(server, this.context)];
    if (isHttp2Server(server)) {
      detachers.push(attachHttp2(server, this.context, owned));
      if (owned) {
        // Owned connections get GOAWAY on shutdown.
        server.on('session', (session: Http2Session) => {
          this.http2Sessions.add(session);
          session.once('close', () => this.http2Sessions.delete(session));
        });
      }
    }
    this.detachers.set(server, () => detachers.forEach((detach) => detach()));
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
    return this.withCallback(request, callback, (context) => handleHttp1Upgrade(context, request, socket, head));
  }

  /**
   * Completes an RFC 8441 extended CONNECT on an HTTP/2 stream the application
   * received itself (for frameworks with their own stream routing). Pass the
   * stream's headers (and raw headers, if available, to keep repeated fields).
   * The HTTP/2 server must have been created with `settings: { enableConnectProtocol: true }`.
   */
  handleStream(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    callback?: (ws: WebSocket, request: HandshakeRequest) => void,
    rawHeaders?: string[],
  ): Promise<WebSocket | null> {
    const request = requestFromHttp2(stream, headers, rawHeaders);
    return this.withCallback(request, callback, (context) => handleHttp2Stream(context, request, stream));
  }

  private withCallback(
    request: HandshakeRequest,
    callback: ((ws: WebSocket, request: HandshakeRequest) => void) | undefined,
    run: (context: ServerContext) => Promise<WebSocket | null>,
  ): Promise<WebSocket | null> {
    if (!callback) return run(this.context);
    const context: ServerContext = Object.create(this.context, { adopt: { value: (ws: WebSocket) => this.track(ws) } });
    return run(context).then((ws) => {
      if (ws) callback(ws, request);
      return ws;
    });
  }

  /**
   * Node hands a request to the 'upgrade' event only when it carries both
   * `Upgrade` and `Connection: upgrade`; a WebSocket handshake missing one of
   * them arrives as a plain request. Answer those with the precise 400 of the
   * handshake validation instead of the application's page.
   */
  private misdirectedHandshakes(onRequest: RequestHandler): RequestHandler {
    return (req, res) => {
      if (req.httpVersionMajor === 2) return onRequest(req, res);
      if (req.headers['sec-websocket-key'] === undefined && req.headers['sec-websocket-version'] === undefined) {
        return onRequest(req, res);
      }
      const request = requestFromIncoming(req as IncomingMessage, req.socket as Socket);
      if (!this.shouldHandle(request)) return onRequest(req, res);
      try {
        validateHttp1Upgrade(request);
      } catch (error) {
        if (!(error instanceof HandshakeRejection)) throw error;
        logRejection(this.context, request, error);
        res.writeHead(error.status, { ...error.headers, 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
        res.end(error.body + '\n');
        return;
      }
      onRequest(req, res);
    };
  }

  /**
   * Graceful shutdown: stop accepting (new handshakes get 503), close every
   * session with 1001, wait for them (each is aborted after `closeTimeout` at
   * the latest), then send GOAWAY on our HTTP/2 connections and close the
   * listeners this server started.
   */
  close(callback?: (error?: Error) => void): Promise<void> {
    if (!this.closed) {
      this.closing = true;
      this.closed = this.shutdown();
    }
    // `ws`'s form, close(cb): the callback runs once the shutdown finished.
    if (callback) this.closed.then(() => callback(), (error: Error) => callback(error));
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
    await this.pubsub.close().catch((error: unknown) => this.context.logger.warn({ err: error }, 'pub/sub adapter failed to close'));
    // RFC 9113 §6.8: GOAWAY, then the connection closes once its streams are done.
    for (const session of this.http2Sessions) session.close();
    // RFC 9114 §5.2: GOAWAY, then CONNECTION_CLOSE with H3_NO_ERROR.
    await Promise.all(this.http3Listeners.map(({ shutdown }) => shutdown()));
    await Promise.all(this.http3Listeners.map(({ quic }) => quic.close()));
    for (const server of this.ownedServers) {
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
    }
    await Promise.all(listenersClosed);
    for (const detach of this.detachers.values()) detach();
    this.detachers.clear();
    this.context.logger.info('server closed');
    this.emit('close');
  }

  private track(ws: WebSocket): void {
    this.clients.add(ws);
    trackedBy.set(ws, this.clients);
    ws.on('close', untrack);
  }

  private adopt(ws: WebSocket, request: HandshakeRequest): void {
    this.track(ws);
    this.emit('connection', ws, request);
  }
}


/** Which server's client set a session belongs to; one shared 'close' listener instead of a closure per session. */
const trackedBy = new WeakMap<WebSocket, Set<WebSocket>>();
function untrack(this: WebSocket): void {
  trackedBy.get(this)?.delete(this);
}
