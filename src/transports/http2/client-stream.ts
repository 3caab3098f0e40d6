import type { ClientHttp2Stream, IncomingHttpHeaders, IncomingHttpStatusHeader } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { ClientConnectPlan, ClientHandshake } from '../../client/connect.js';
import { rememberAltSvc } from '../../client/alt-svc.js';
import { acceptResponse, offerHeaders } from '../../client/negotiation.js';
import type { WebSocket } from '../../session/websocket.js';
import { ExtendedConnectUnsupported, type Http2ClientPool } from './client-pool.js';
import { Http2StreamChannel } from './stream-channel.js';

function headerValues(headers: IncomingHttpHeaders, name: string): string[] {
  const value = headers[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [String(value)];
}

/**
 * The client side of RFC 8441: an extended CONNECT stream on a (shared)
 * HTTP/2 connection to the origin, opened only after the server's SETTINGS
 * allowed it. Success is `:status 200`; the stream then carries the frames.
 */
export interface Http2ClientOptions {
  /** A TLS socket that already negotiated h2 (transport 'auto'). */
  socket?: Duplex;
  /**
   * Called instead of failing when the server's SETTINGS lack extended
   * CONNECT, so transport 'auto' can fall back to HTTP/1.1.
   */
  onUnsupported?: () => void;
}

export function openHttp2Client(ws: WebSocket, plan: ClientConnectPlan, pool: Http2ClientPool, choice: Http2ClientOptions = {}): ClientHandshake {
  const { url, options } = plan;
  const secure = url.protocol === 'wss:';
  const origin = `${secure ? 'https' : 'http'}://${url.host}`;
  let settled = false;
  let stream: ClientHttp2Stream | null = null;
  let release: (() => void) | null = null;
  const fail = (error: Error): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    if (stream !== null && !stream.destroyed) stream.close();
    release?.();
    plan.logger.debug({ url: url.href, reason: error.message }, 'client handshake failed');
    ws.failHandshake(error);
  };
  const timer = setTimeout(() => fail(new Error('opening handshake timed out')), plan.handshakeTimeout);
  timer.unref();

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
    .then(({ session, release: done }) => {
      release = done;
      if (settled) return done();
      stream = session.request(
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
      const opened = stream;
      const onError = (error: Error): void => fail(error);
      const onClose = (): void => fail(new Error(`stream closed before the server answered (code ${opened.rstCode})`));
      opened.once('error', onError);
      opened.once('close', onClose);
      opened.once('response', (headers: IncomingHttpHeaders & IncomingHttpStatusHeader) => {
        const status = headers[':status'];
        if (status !== 200) {
          // RFC 8441 §5: anything but 2xx refuses the WebSocket.
          fail(new Error(`unexpected server response: ${status}`));
          return;
        }
        let accepted;
        try {
          accepted = acceptResponse(plan, headerValues(headers, 'sec-websocket-protocol'), headerValues(headers, 'sec-websocket-extensions'));
        } catch (error) {
          fail(error as Error);
          return;
        }
        settled = true;
        clearTimeout(timer);
        if (secure) rememberAltSvc(origin, headerValues(headers, 'alt-svc')[0]);
        opened.off('error', onError);
        opened.off('close', onClose);
        ws.once('close', () => done());
        ws.attach({
          role: 'client',
          channel: new Http2StreamChannel(opened),
          url: url.href,
          ...accepted,
          compressionThreshold: plan.deflate?.threshold ?? 0,
          limits: plan.limits,
          logger: plan.logger,
        });
      });
    })
    .catch((error: Error) => {
      if (error instanceof ExtendedConnectUnsupported && choice.onUnsupported && !settled) {
        settled = true;
        clearTimeout(timer);
        choice.onUnsupported();
        return;
      }
      fail(error);
    });
  return { abort: () => fail(new Error('WebSocket was closed before the connection was established')) };
}
