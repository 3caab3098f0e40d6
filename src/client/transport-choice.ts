import { isIP } from 'node:net';
import tls from 'node:tls';
import type { WebSocket } from '../session/websocket.js';
import { openHttp1Client } from '../transports/http1/client-handshake.js';
import type { Http2ClientPool } from '../transports/http2/client-pool.js';
import { openHttp2Client } from '../transports/http2/client-stream.js';
import type { ClientConnectPlan, ClientHandshake } from './connect.js';

/** Origins whose HTTP/2 servers lack extended CONNECT, remembered so 'auto' goes straight to HTTP/1.1. */
const noExtendedConnect = new Map<string, number>();
const REMEMBER_MS = 10 * 60 * 1000;

/**
 * Transport 'auto' (the default). ws:// uses HTTP/1.1 Upgrade. wss:// reuses a
 * pooled HTTP/2 connection to the origin if there is one; otherwise it opens
 * one TLS connection offering ALPN h2 and http/1.1 (RFC 7301): when the server
 * picks h2 and advertises extended CONNECT (RFC 8441 §3) the WebSocket becomes
 * an HTTP/2 stream, otherwise it falls back to HTTP/1.1 Upgrade.
 */
export function connectAuto(ws: WebSocket, plan: ClientConnectPlan, pool: Http2ClientPool): ClientHandshake {
  const origin = `https://${plan.url.host}`;
  if (plan.url.protocol === 'ws:' || (noExtendedConnect.get(origin) ?? 0) > Date.now()) return openHttp1Client(ws, plan);
  let current: ClientHandshake | null = null;
  let socket: tls.TLSSocket | null = null;
  let aborted = false;
  const fallBack = (): void => {
    noExtendedConnect.set(origin, Date.now() + REMEMBER_MS);
    current = openHttp1Client(ws, plan);
  };
  const handle: ClientHandshake = {
    abort: () => {
      aborted = true;
      if (current) current.abort();
      else {
        socket?.destroy();
        ws.failHandshake(new Error('WebSocket was closed before the connection was established'));
      }
    },
  };
  if (pool.has(origin)) {
    current = openHttp2Client(ws, plan, pool, { onUnsupported: fallBack });
    return handle;
  }
  const host = plan.url.hostname.replace(/^\[|\]$/g, '');
  const tlsSocket = tls.connect({
    host,
    port: Number(plan.url.port || 443),
    // RFC 6066 §3: SNI carries host names, never IP literals.
    servername: plan.options.servername ?? (isIP(host) ? undefined : host),
    ALPNProtocols: ['h2', 'http/1.1'],
    ca: plan.options.ca,
    cert: plan.options.cert,
    key: plan.options.key,
    rejectUnauthorized: plan.options.rejectUnauthorized,
  });
  socket = tlsSocket;
  const timer = setTimeout(() => tlsSocket.destroy(new Error('opening handshake timed out')), plan.handshakeTimeout);
  timer.unref();
  const onError = (error: Error): void => {
    clearTimeout(timer);
    if (!aborted) ws.failHandshake(error);
  };
  tlsSocket.once('error', onError);
  tlsSocket.once('secureConnect', () => {
    clearTimeout(timer);
    tlsSocket.off('error', onError);
    if (aborted) return tlsSocket.destroy();
    current =
      tlsSocket.alpnProtocol === 'h2'
        ? openHttp2Client(ws, plan, pool, { socket: tlsSocket, onUnsupported: fallBack })
        : openHttp1Client(ws, plan, tlsSocket);
  });
  return handle;
}
