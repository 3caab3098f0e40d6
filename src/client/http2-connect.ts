import type { IncomingHttpHeaders, IncomingHttpStatusHeader } from 'node:http2';
import type { Duplex } from 'node:stream';
import { rememberAltSvc } from './alt-svc.js';
import { HandshakeAttempt } from './attempt.js';
import type { ClientHandshake } from '../session/client-options.js';
import type { ClientConnectPlan } from './plan.js';
import { HandshakeError } from './handshake-error.js';
import { acceptResponse, offerHeaders } from './negotiation.js';
import type { WebSocket } from '../session/websocket.js';
import { ExtendedConnectUnsupported, type Http2ClientPool } from './http2-pool.js';
import { Http2StreamChannel } from '../transports/http2/stream-channel.js';

function headerValues(headers: IncomingHttpHeaders, name: string): string[] {
  const value = headers[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [String(value)];
}

function withoutPseudoHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !name.startsWith(':')));
}

/**
 * Says plainly when the server offers no WebSockets over HTTP/2: no h2 in ALPN
 * (OpenSSL reports the no_application_protocol alert of RFC 7301 §3.2) or no
 * SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3). Other errors pass unchanged.
 */
function unavailable(origin: string, error: Error): Error {
  if (error instanceof ExtendedConnectUnsupported) return new HandshakeError('H2_UNAVAILABLE', error.message, { cause: error });
  if ((error as NodeJS.ErrnoException).code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL') {
    return new HandshakeError('H2_UNAVAILABLE', `${origin} does not speak HTTP/2 (its TLS server refused ALPN h2); use transport 'http/1.1' or 'auto'`, { cause: error });
  }
  return error;
}

export interface Http2ClientOptions {
  /** A TLS socket that already negotiated h2 (transport 'auto'). */
  socket?: Duplex;
  /**
   * Called instead of failing when the server's SETTINGS lack extended
   * CONNECT, so transport 'auto' can fall back to HTTP/1.1.
   */
  onUnsupported?: () => void;
}

/**
 * The client side of RFC 8441: an extended CONNECT stream on a (shared)
 * HTTP/2 connection to the origin, opened only after the server's SETTINGS
 * allowed it. Success is `:status 200`; the stream then carries the frames.
 */
export function openHttp2Client(ws: WebSocket, plan: ClientConnectPlan, pool: Http2ClientPool, choice: Http2ClientOptions = {}): ClientHandshake {
  const { url, options } = plan;
  const secure = url.protocol === 'wss:';
  const origin = `${secure ? 'https' : 'http'}://${url.host}`;
  const attempt = new HandshakeAttempt(ws, plan);

  pool
    .acquire(origin, {
      ca: options.ca,
      cert: options.cert,
      key: options.key,
      servername: options.servername,
      rejectUnauthorized: options.rejectUnauthorized,
      socket: choice.socket,
      timeout: plan.handshakeTimeout,
      idleTimeout: options.http2IdleTimeout ?? 5000,
    })
    .then(({ session, release }) => {
      attempt.onFailure(release);
      if (attempt.done) return release();
      const stream = session.request(
        {
          ...offerHeaders(plan),
          ':method': 'CONNECT',
          ':protocol': 'websocket',
          ':scheme': secure ? 'https' : 'http',
          ':path': url.pathname + url.search,
          ':authority': url.host,
        },
        { endStream: false },
      );
      attempt.onFailure(() => {
        // Drain a refusal's body first: on Node 24 a stream whose body nobody
        // reads never closes, holding the pooled connection (and the server's) open.
        stream.resume();
        if (!stream.destroyed) stream.close();
      });
      const onError = (error: Error): void => attempt.fail(error);
      const onClose = (): void => attempt.fail(new Error(`stream closed before the server answered (code ${stream.rstCode})`));
      stream.once('error', onError);
      stream.once('close', onClose);
      stream.once('response', (headers: IncomingHttpHeaders & IncomingHttpStatusHeader) => {
        const status = headers[':status'];
        // RFC 8441 §5: anything but 2xx refuses the WebSocket.
        if (status !== 200) {
          stream.off('close', onClose);
          return attempt.refuse(status ?? 0, withoutPseudoHeaders(headers), stream);
        }
        let accepted;
        try {
          accepted = acceptResponse(plan, headerValues(headers, 'sec-websocket-protocol'), headerValues(headers, 'sec-websocket-extensions'));
        } catch (error) {
          return attempt.fail(error as Error);
        }
        if (secure) rememberAltSvc(origin, headerValues(headers, 'alt-svc')[0]);
        stream.off('error', onError);
        stream.off('close', onClose);
        ws.once('close', release);
        attempt.succeed(new Http2StreamChannel(stream), accepted, { status, headers: withoutPseudoHeaders(headers) });
      });
    })
    .catch((error: Error) => {
      if (error instanceof ExtendedConnectUnsupported && choice.onUnsupported) attempt.handOver(choice.onUnsupported);
      else attempt.fail(unavailable(origin, error));
    });
  return attempt;
}
