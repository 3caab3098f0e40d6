import { createHash } from 'node:crypto';
import { ConnectionPool } from './connection-pool.js';
import { Http3Session } from '../http3/session.js';
import type { QuicConnection, QuicTransportOptions } from '../quic/types.js';

export interface Http3PoolConnectOptions {
  host: string;
  port: number;
  servername?: string;
  ca?: Uint8Array | string;
  rejectUnauthorized?: boolean;
  /** Time for the QUIC handshake and the server's SETTINGS, in ms. */
  timeout: number;
  /** How long the connection stays open after its last WebSocket, in ms. */
  idleTimeout: number;
  /** QUIC transport parameters (windows, idle timeout, packet sizes…). */
  quic?: QuicTransportOptions;
}

/**
 * QUIC connections shared by client WebSockets to one origin (RFC 9220: many
 * WebSockets ride one HTTP/3 connection). A connection is used only once the
 * server's SETTINGS enabled extended CONNECT; one that received GOAWAY takes no
 * new WebSockets.
 */
export class Http3ClientPool {
  private readonly pool = new ConnectionPool<Http3Session>({
    usable: (session) => !session.closed && !session.goawayReceived,
    close: (session) => session.close(),
  });

  async acquire(options: Http3PoolConnectOptions): Promise<{ session: Http3Session; release: () => void }> {
    const { connection, release } = await this.pool.acquire(poolKey(options), options.idleTimeout, (forget) => connectHttp3(options, forget));
    return { session: connection, release };
  }

  get size(): number {
    return this.pool.size;
  }
}

/**
 * Opens a QUIC connection outside any pool (the pool's, and the benchmark's
 * load generator); resolves once the server's SETTINGS enabled extended CONNECT.
 */
export async function connectHttp3(options: Omit<Http3PoolConnectOptions, 'idleTimeout'>, forget?: () => void): Promise<Http3Session> {
  const { connectQuic } = await import('../quic/index.js');
  const connection: QuicConnection = await connectQuic({
    ...options.quic,
    host: options.host,
    port: options.port,
    servername: options.servername,
    ca: options.ca,
    rejectUnauthorized: options.rejectUnauthorized,
    alpn: ['h3'],
    handshakeTimeout: options.timeout,
  });
  const session = new Http3Session(connection, { role: 'client' });
  session.on('error', () => {});
  if (forget !== undefined) session.once('close', forget);
  const timer = setTimeout(() => session.close(), options.timeout);
  timer.unref();
  try {
    const settings = await session.waitForSettings();
    // RFC 9220 §3: extended CONNECT only after SETTINGS_ENABLE_CONNECT_PROTOCOL = 1.
    if (!settings.enableConnectProtocol) {
      session.close();
      throw new Error(`${options.host}:${options.port} does not support WebSockets over HTTP/3 (no SETTINGS_ENABLE_CONNECT_PROTOCOL)`);
    }
  } finally {
    clearTimeout(timer);
  }
  return session;
}

function poolKey(options: Http3PoolConnectOptions): string {
  const ca = options.ca === undefined ? '' : createHash('sha1').update(options.ca).digest('hex');
  return `${options.host}|${options.port}|${options.servername ?? ''}|${options.rejectUnauthorized ?? true}|${ca}`;
}
