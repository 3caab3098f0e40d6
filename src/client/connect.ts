import pino from 'pino';
import { resolveDeflateOptions } from '../protocol/deflate/negotiation.js';
import { ZlibLimiter } from '../protocol/deflate/zlib-limiter.js';
import type { ClientHandshake, ClientOptions } from '../session/client-options.js';
import { resolveSessionLimits } from '../session/options.js';
import { installClientStarter, type WebSocket } from '../session/websocket.js';
import { openHttp1Client } from './http1-upgrade.js';
import { Http2ClientPool } from './http2-pool.js';
import { openHttp2Client } from './http2-connect.js';
import { Http3ClientPool } from './http3-pool.js';
import { openHttp3Client } from './http3-connect.js';
import type { ClientConnectPlan } from './plan.js';
import { connectAuto } from './transport-choice.js';
import { parseWebSocketUrl, validateProtocols } from './url.js';

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

installClientStarter(startClient);
