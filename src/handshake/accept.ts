import type { Logger } from 'pino';
import type { HandshakeRequest } from './request.js';
import { negotiate, type Negotiated, type NegotiationOptions } from './negotiate.js';
import { HandshakeRejection } from './rejection.js';
import { editResponseFields } from './response-fields.js';
import type { DeflateOptions } from '../protocol/deflate/negotiation.js';
import { PerMessageDeflate } from '../protocol/deflate/per-message-deflate.js';
import type { ZlibLimiter } from '../protocol/deflate/zlib-limiter.js';
import type { ByteChannel, TransportName } from '../session/byte-channel.js';
import type { SessionCounters } from '../session/counters.js';
import { kServerSession } from '../session/internal.js';
import type { SessionLimits } from '../session/options.js';
import { WebSocket } from '../session/websocket.js';

/** Where a server counts handshakes and gets the counters its sessions bump (server/metrics.ts). */
export interface HandshakeMetrics {
  countersFor(transport: TransportName): SessionCounters;
  /** A handshake was answered with `status`: 101 or 200 accepted, anything else refused. */
  countHandshake(transport: TransportName, status: number): void;
}

/**
 * What every server front-end (HTTP/1.1, HTTP/2, HTTP/3) needs from the
 * WebSocketServer: the negotiation policy, limits, logging, and where to hand
 * an accepted session.
 */
export interface ServerContext {
  readonly negotiation: NegotiationOptions;
  readonly limits: SessionLimits;
  readonly deflate: { options: DeflateOptions; limiter: ZlibLimiter } | null;
  /** Longest time a handshake may take once its request head has arrived, in ms. */
  readonly handshakeTimeout: number;
  readonly logger: Logger;
  /** Where handshakes and sessions are counted; null when metrics are off. */
  readonly metrics: HandshakeMetrics | null;
  /** True once the server is shutting down: new handshakes get 503. */
  readonly closing: boolean;
  /**
   * The Alt-Svc value advertising HTTP/3 (RFC 7838) for responses on the TCP
   * port `localPort`, when that listener has a UDP twin.
   */
  altSvcFor(localPort: number | undefined): string | undefined;
  /** Whether this server serves WebSockets at the request's path. */
  shouldHandle(request: HandshakeRequest): boolean;
  /** Whether the application listens to 'headers'; without a listener the answer's fields are sent as built. */
  hasHeadersListener(): boolean;
  /** Emits 'headers' with the success answer's fields as `'Name: value'` lines, which listeners may edit. */
  emitHeaders(headers: string[], request: HandshakeRequest): void;
  /** Takes an open session (tracking it for shutdown) and emits 'connection'. */
  adopt(ws: WebSocket, request: HandshakeRequest): void;
}

/**
 * The shared steps before a front-end answers (once it has routed the request
 * to this server): the shutdown check, then negotiation bounded by the
 * handshake timeout. Throws a HandshakeRejection with the HTTP answer.
 */
export async function negotiateFor(context: ServerContext, request: HandshakeRequest): Promise<Negotiated> {
  if (context.closing) throw new HandshakeRejection(503, 'server is shutting down');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HandshakeRejection(408, 'handshake timed out')), context.handshakeTimeout);
  });
  try {
    return await Promise.race([negotiate(request, context.negotiation), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Creates the server-side session for an accepted handshake and hands it to the server. */
export function openSession(
  context: ServerContext,
  request: HandshakeRequest,
  negotiated: Negotiated,
  channel: ByteChannel,
): WebSocket {
  const deflate =
    negotiated.deflate !== null && context.deflate !== null
      ? new PerMessageDeflate(negotiated.deflate, 'server', {
          maxMessageSize: context.limits.maxMessageSize,
          level: context.deflate.options.level,
          memLevel: context.deflate.options.memLevel,
          limiter: context.deflate.limiter,
        })
      : null;
  const ws = new WebSocket(kServerSession, {
    role: 'server',
    channel,
    url: request.websocketUrl,
    protocol: negotiated.protocol,
    extensions: negotiated.extensions,
    deflate,
    compressionThreshold: context.deflate?.options.threshold ?? 1024,
    limits: context.limits,
    logger: context.logger,
    user: negotiated.user,
    counters: context.metrics?.countersFor(request.transport) ?? null,
  });
  context.adopt(ws, request);
  return ws;
}

/** Logs a refused handshake once, at a level that matches whose fault it was, and counts it. */
export function logRejection(
  { logger, metrics }: Pick<ServerContext, 'logger' | 'metrics'>,
  request: HandshakeRequest,
  rejection: HandshakeRejection,
): void {
  metrics?.countHandshake(request.transport, rejection.status);
  const details = {
    transport: request.transport,
    peer: request.remoteAddress,
    url: request.url,
    status: rejection.status,
    reason: rejection.body,
  };
  // Refusing what the peer asked (4xx, 501 for an unknown :protocol, 503 while
  // shutting down) is not a server error; only a failure on our side is: a
  // 500, or an application hook that threw (it carries the cause).
  const serverFault = rejection.status === 500 || rejection.cause !== undefined;
  if (serverFault) logger.error({ ...details, err: rejection.cause }, 'handshake failed');
  else logger.info(details, 'handshake refused');
}

/** How one transport answers a handshake; the flow around it is `acceptHandshake`'s. */
export interface HandshakeResponder<Validated> {
  /** Transport-specific rules (HTTP/1.1 Upgrade, extended CONNECT); throws a HandshakeRejection. */
  validate(): Validated;
  /** Whether the client is still there to be answered. */
  isOpen(): boolean;
  /** The local TCP port, to advertise an HTTP/3 twin with Alt-Svc; undefined on HTTP/3 itself. */
  localPort: number | undefined;
  /**
   * Sends the success answer (101, or :status 200) with these fields, and
   * returns the channel. Names come as the application wrote them; a name may repeat.
   */
  accept(fields: Array<[string, string]>, validated: Validated): ByteChannel;
  /** Sends a refusal. */
  reject(rejection: HandshakeRejection): void;
  /** Catches transport errors while the handshake runs; returns a function that stops catching. */
  catchErrors(listener: (error: Error) => void): () => void;
}

/**
 * The one server-side handshake flow of every front-end: transport rules,
 * the shared negotiation, then either the success answer and a session, or a
 * refusal with a status and a reason (logged once). Never throws.
 */
export async function acceptHandshake<Validated>(
  context: ServerContext,
  request: HandshakeRequest,
  responder: HandshakeResponder<Validated>,
): Promise<WebSocket | null> {
  const stopCatching = responder.catchErrors((error) => {
    context.logger.debug({ transport: request.transport, err: error, peer: request.remoteAddress }, 'transport error during handshake');
  });
  try {
    const validated = responder.validate();
    const negotiated = await negotiateFor(context, request);
    // A shutdown that began while the hooks ran (an async authenticate) refuses
    // the handshake: close() waits only for sessions it knows of.
    if (context.closing) throw new HandshakeRejection(503, 'server is shutting down');
    if (!responder.isOpen()) {
      context.logger.debug({ transport: request.transport, peer: request.remoteAddress }, 'client left during the handshake');
      return null;
    }
    const fields: Array<[string, string]> = [];
    if (negotiated.protocol !== '') fields.push(['sec-websocket-protocol', negotiated.protocol]);
    if (negotiated.extensions !== '') fields.push(['sec-websocket-extensions', negotiated.extensions]);
    const altSvc = context.altSvcFor(responder.localPort);
    if (altSvc !== undefined) fields.push(['alt-svc', altSvc]);
    // A listener that throws or leaves an invalid line is a bug on our side: the catch below answers 500.
    const answer = context.hasHeadersListener()
      ? editResponseFields(fields, (lines) => context.emitHeaders(lines, request))
      : fields;
    const channel = responder.accept(answer, validated);
    // Counted before 'connection' is emitted. RFC 6455 §4.2.2 answers 101; RFC 8441 §5 and RFC 9220 §3 answer 200.
    context.metrics?.countHandshake(request.transport, request.transport === 'http/1.1' ? 101 : 200);
    const ws = openSession(context, request, negotiated, channel);
    stopCatching(); // the session's channel catches them now
    return ws;
  } catch (error) {
    const rejection =
      error instanceof HandshakeRejection ? error : Object.assign(new HandshakeRejection(500, 'internal server error'), { cause: error });
    logRejection(context, request, rejection);
    responder.reject(rejection);
    return null;
  }
}
