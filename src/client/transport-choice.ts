import { isIP } from 'node:net';
import tls from 'node:tls';
import type { WebSocket } from '../session/websocket.js';
import { openHttp1Client } from './http1-upgrade.js';
import type { Http2ClientPool } from './http2-pool.js';
import { openHttp2Client } from './http2-connect.js';
import type { Http3ClientPool } from './http3-pool.js';
import { openHttp3Client } from './http3-connect.js';
import { forgetAltSvc, knownHttp3Port } from './alt-svc.js';
import type { ClientHandshake } from '../session/client-options.js';
import type { ClientConnectPlan } from './plan.js';
import { HandshakeError } from './handshake-error.js';

/** Origins whose HTTP/2 servers lack extended CONNECT, remembered so 'auto' goes straight to HTTP/1.1. */
const noExtendedConnect = new Map<string, number>();
const REMEMBER_MS = 10 * 60 * 1000;

/**
 * Transport 'auto' (the default). ws:// uses HTTP/1.1 Upgrade. For wss://:
 * - HTTP/3 (RFC 9220) when an earlier answer from the origin advertised it
 *   with Alt-Svc (RFC 7838), falling back to TCP if QUIC cannot connect;
 * - else a pooled HTTP/2 connection to the origin if there is one;
 * - else one TLS connection offering ALPN h2 and http/1.1 (RFC 7301): HTTP/2
 *   when the server picks h2 and advertises extended CONNECT (RFC 8441 §3),
 *   HTTP/1.1 Upgrade otherwise.
 */
export function connectAuto(ws: WebSocket, plan: ClientConnectPlan, pools: { h2: Http2ClientPool; h3: Http3ClientPool }): ClientHandshake {
  const origin = `https://${plan.url.host}`;
  if (plan.url.protocol === 'ws:' || (noExtendedConnect.get(origin) ?? 0) > Date.now()) return openHttp1Client(ws, plan);
  let current: ClientHandshake | null = null;
  let socket: tls.TLSSocket | null = null;
  let aborted = false;
  const handle: ClientHandshake = {
    abort: () => {
      aborted = true;
      if (current) current.abort();
      else {
        socket?.destroy();
        ws.failHandshake(new HandshakeError('ABORTED', 'WebSocket was closed before the connection was established'));
      }
    },
  };
  const fallBackToHttp1 = (): void => {
    noExtendedConnect.set(origin, Date.now() + REMEMBER_MS);
    current = openHttp1Client(ws, plan);
  };
  const overTcp = (): void => {
    if (pools.h2.has(origin)) {
      current = openHttp2Client(ws, plan, pools.h2, { onUnsupported: fallBackToHttp1 });
      return;
    }
    current = null;
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
          ? openHttp2Client(ws, plan, pools.h2, { socket: tlsSocket, onUnsupported: fallBackToHttp1 })
          : openHttp1Client(ws, plan, tlsSocket);
    });
  };
  const http3Port = knownHttp3Port(origin);
  if (http3Port !== undefined) {
    current = openHttp3Client(ws, plan, pools.h3, {
      port: http3Port,
      // RFC 7838 §2.4: an alternative that does not work is dropped; use the origin.
      onUnavailable: () => {
        forgetAltSvc(origin);
        if (!aborted) overTcp();
      },
    });
  } else overTcp();
  return handle;
}
