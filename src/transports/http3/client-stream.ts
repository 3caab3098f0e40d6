import type { ClientConnectPlan, ClientHandshake } from '../../client/connect.js';
import { acceptResponse, offerHeaders } from '../../client/negotiation.js';
import type { WebSocket } from '../../session/websocket.js';
import type { Http3ClientPool } from './client-pool.js';
import type { HeaderList } from './fields.js';
import type { Http3RequestStream } from './request-stream.js';
import { Http3StreamChannel } from './stream-channel.js';

function values(headers: HeaderList, name: string): string[] {
  return headers.filter(([field]) => field === name).map(([, value]) => value);
}

/**
 * The client side of RFC 9220: an extended CONNECT on a (shared) HTTP/3
 * connection, sent only after the server's SETTINGS enabled it. Success is
 * `:status 200`; the request stream then carries the frames in DATA frames.
 */
export interface Http3ClientOptions {
  /** UDP port of an alternative service (Alt-Svc) instead of the URL's port. */
  port?: number;
  /**
   * Called instead of failing when no HTTP/3 connection with extended CONNECT
   * could be set up, so transport 'auto' can fall back to TCP.
   */
  onUnavailable?: (error: Error) => void;
}

export function openHttp3Client(ws: WebSocket, plan: ClientConnectPlan, pool: Http3ClientPool, choice: Http3ClientOptions = {}): ClientHandshake {
  const { url, options } = plan;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = choice.port ?? Number(url.port || 443);
  let settled = false;
  let stream: Http3RequestStream | null = null;
  let release: (() => void) | null = null;
  const fail = (error: Error): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    if (stream !== null && !stream.closed) stream.cancel();
    release?.();
    plan.logger.debug({ url: url.href, reason: error.message }, 'client handshake failed');
    ws.failHandshake(error);
  };
  const timer = setTimeout(() => fail(new Error('opening handshake timed out')), plan.handshakeTimeout);
  timer.unref();

  pool
    .acquire({
      host,
      port,
      servername: options.servername,
      ca: options.ca as Uint8Array | string | undefined,
      rejectUnauthorized: options.rejectUnauthorized,
      // With a fallback, give QUIC only part of the time (UDP may be blocked on the path).
      timeout: choice.onUnavailable ? Math.min(plan.handshakeTimeout / 2, 3000) : plan.handshakeTimeout,
      idleTimeout: options.http3IdleTimeout ?? 5000,
    })
    .then(({ session, release: done }) => {
      release = done;
      if (settled) return;
      const headers: HeaderList = [
        [':method', 'CONNECT'],
        [':protocol', 'websocket'],
        [':scheme', 'https'],
        [':authority', url.host],
        [':path', url.pathname + url.search],
        ...Object.entries(offerHeaders(plan)),
      ];
      const opened = session.request(headers);
      stream = opened;
      const onError = (error: Error): void => fail(error);
      const onClose = (): void => fail(new Error('stream closed before the server answered'));
      opened.on('error', onError);
      opened.once('close', onClose);
      opened.once('response', (response: HeaderList) => {
        const status = values(response, ':status')[0];
        if (status !== '200') {
          fail(new Error(`unexpected server response: ${status}`));
          return;
        }
        let accepted;
        try {
          accepted = acceptResponse(plan, values(response, 'sec-websocket-protocol'), values(response, 'sec-websocket-extensions'));
        } catch (error) {
          fail(error as Error);
          return;
        }
        settled = true;
        clearTimeout(timer);
        opened.off('error', onError);
        opened.off('close', onClose);
        ws.once('close', () => done());
        const connection = session.connection;
        ws.attach({
          role: 'client',
          channel: new Http3StreamChannel(opened, { address: connection.remoteAddress, port: connection.remotePort }),
          url: url.href,
          ...accepted,
          compressionThreshold: plan.deflate?.threshold ?? 0,
          limits: plan.limits,
          logger: plan.logger,
        });
      });
    })
    .catch((error: Error) => {
      if (choice.onUnavailable && !settled && stream === null) {
        settled = true;
        clearTimeout(timer);
        plan.logger.debug({ url: url.href, reason: error.message }, 'HTTP/3 unavailable, falling back');
        choice.onUnavailable(error);
        return;
      }
      fail(error);
    });
  return { abort: () => fail(new Error('WebSocket was closed before the connection was established')) };
}
