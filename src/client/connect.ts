import type { SecureContextOptions } from 'node:tls';
import pino, { type Logger } from 'pino';
import { resolveDeflateOptions, type DeflateOptions } from '../protocol/deflate/negotiation.js';
import { ZlibLimiter } from '../protocol/deflate/zlib-limiter.js';
import type { TransportName } from '../session/byte-channel.js';
import { resolveSessionLimits, type SessionLimits } from '../session/options.js';
import type { WebSocket } from '../session/websocket.js';
import { openHttp1Client } from '../transports/http1/client-handshake.js';
import { Http2ClientPool } from '../transports/http2/client-pool.js';
import { openHttp2Client } from '../transports/http2/client-stream.js';
import { Http3ClientPool } from '../transports/http3/client-pool.js';
import { openHttp3Client } from '../transports/http3/client-stream.js';
import { connectAuto } from './transport-choice.js';
import { parseWebSocketUrl, validateProtocols } from './url.js';

export interface ClientOptions extends Partial<SessionLimits> {
  /** Extra request headers (cookies, authorization, ...). */
  headers?: Record<string, string>;
  /** The Origin header to send (browsers always send one; Node clients only when asked). */
  origin?: string;
  /** Offer permessage-deflate (RFC 7692); default true, like browsers. */
  perMessageDeflate?: boolean | DeflateOptions;
  /** Time allowed for connecting and the opening handshake, in ms; default 10 s. */
  handshakeTimeout?: number;
  /** Largest response head accepted, in bytes; default 16 KiB. */
  maxHeaderSize?: number;
  /** TLS for wss://: trust anchors, client certificate, SNI name, verification. */
  ca?: SecureContextOptions['ca'];
  cert?: SecureContextOptions['cert'];
  key?: SecureContextOptions['key'];
  servername?: string;
  rejectUnauthorized?: boolean;
  /**
   * Which transport carries the WebSocket: 'http/1.1' or its alias 'h1'
   * (HTTP/1.1 Upgrade), 'h2' (RFC 8441 extended CONNECT; h2c with prior
   * knowledge for ws://), or 'auto' (default): HTTP/2 for wss:// when the
   * server offers it, else HTTP/1.1. 'h3' opens the WebSocket over HTTP/3
   * (RFC 9220, QUIC on UDP); wss:// only. The names other than 'h1' and
   * 'auto' are the ALPN tokens `ws.transport` reports (RFC 7301 §6).
   */
  transport?: TransportName | 'h1' | 'auto';
  /** How long a shared HTTP/2 connection stays open after its last WebSocket closed, in ms; default 5 s. */
  http2IdleTimeout?: number;
  /** How long a shared HTTP/3 (QUIC) connection stays open after its last WebSocket closed, in ms; default 5 s. */
  http3IdleTimeout?: number;
  logger?: Logger;
}

/** A handshake in flight, which `close()` can abort. */
export interface ClientHandshake {
  abort(): void;
}

/** Everything a transport's client side needs to open a session for `ws`. */
export interface ClientConnectPlan {
  url: URL;
  protocols: string[];
  options: ClientOptions;
  limits: SessionLimits;
  deflate: Required<DeflateOptions> | null;
  limiter: ZlibLimiter;
  handshakeTimeout: number;
  logger: Logger;
}

/** Client zlib work shares one bound per process (RFC 7692 costs memory per stream). */
let sharedLimiter: ZlibLimiter | null = null;
/** Client WebSockets to one origin share HTTP/2 connections (RFC 8441's point). */
export const http2Pool = new Http2ClientPool();
/** Likewise QUIC connections for HTTP/3 (RFC 9220). */
export const http3Pool = new Http3ClientPool();

/**
 * Entry point of `new WebSocket(url, protocols, options)`: validates the
 * arguments synchronously (SyntaxError like the WHATWG API), then opens the
 * transport in the background.
 */
export function startClient(
  ws: WebSocket,
  input: string | URL,
  protocolsOrOptions: string | string[] | ClientOptions | undefined,
  maybeOptions: ClientOptions | undefined,
): ClientHandshake {
  let protocols: string[] = [];
  let options: ClientOptions = maybeOptions ?? {};
  if (typeof protocolsOrOptions === 'string') protocols = [protocolsOrOptions];
  else if (Array.isArray(protocolsOrOptions)) protocols = [...protocolsOrOptions];
  else if (protocolsOrOptions !== undefined) options = protocolsOrOptions;
  const url = parseWebSocketUrl(input);
  validateProtocols(protocols);
  const transport = options.transport === 'http/1.1' ? 'h1' : (options.transport ?? 'auto');
  if (transport !== 'h1' && transport !== 'h2' && transport !== 'h3' && transport !== 'auto') {
    throw new TypeError(`transport ${String(transport)} is not supported`);
  }
  if (transport === 'h3' && url.protocol !== 'wss:') {
    throw new DOMException('HTTP/3 needs a wss:// URL (QUIC always uses TLS)', 'SyntaxError');
  }
  ws.url = url.href;
  const deflate = options.perMessageDeflate === false ? null : resolveDeflateOptions(options.perMessageDeflate === true || options.perMessageDeflate === undefined ? {} : options.perMessageDeflate);
  sharedLimiter ??= new ZlibLimiter(10);
  const plan: ClientConnectPlan = {
    url,
    protocols,
    options,
    limits: resolveSessionLimits(options),
    deflate,
    limiter: sharedLimiter,
    handshakeTimeout: options.handshakeTimeout ?? 10_000,
    logger: options.logger ?? pino({ level: 'silent' }),
  };
  if (transport === 'h1') return openHttp1Client(ws, plan);
  if (transport === 'h2') return openHttp2Client(ws, plan, http2Pool);
  if (transport === 'h3') return openHttp3Client(ws, plan, http3Pool);
  return connectAuto(ws, plan, { h2: http2Pool, h3: http3Pool });
}
