import type { IncomingHttpHeaders } from 'node:http';
import type { SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { DeflateOptions } from '../protocol/deflate/negotiation.js';
import type { TransportName } from './byte-channel.js';
import type { SessionLimits } from './options.js';

/*
 * The client's half of the WebSocket class's surface: the options of
 * `new WebSocket(url, protocols, options)` and what a refused handshake
 * reports. They are declared here, with the class, because the session layer
 * must not import the client above it; src/client acts on them and plugs
 * itself in through installClientStarter() (./websocket.ts).
 */

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

/** A server's answer to the opening handshake, the same on HTTP/1.1, HTTP/2 and HTTP/3. */
export interface HandshakeResponse {
  status: number;
  /** Lower-case names, as Node's `IncomingMessage.headers` (HTTP/2 and HTTP/3 pseudo-headers left out). */
  headers: IncomingHttpHeaders;
}

/** What a server answered instead of accepting the WebSocket. */
export interface UnexpectedResponse extends HandshakeResponse {
  /** The response body as UTF-8, cut at `MAX_REFUSAL_BODY` bytes. */
  body: string;
}
