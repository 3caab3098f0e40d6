import { createHash } from 'node:crypto';
import http2, { type ClientHttp2Session, type SecureClientSessionOptions } from 'node:http2';
import type { Duplex } from 'node:stream';
import { ConnectionPool } from './connection-pool.js';

export interface PoolConnectOptions {
  ca?: SecureClientSessionOptions['ca'];
  cert?: SecureClientSessionOptions['cert'];
  key?: SecureClientSessionOptions['key'];
  servername?: string;
  rejectUnauthorized?: boolean;
  /** An already connected TLS socket that negotiated h2 (from transport 'auto'). */
  socket?: Duplex;
  /** Time to wait for the connection and the server's SETTINGS, in ms. */
  timeout: number;
  /** How long the connection stays open after its last WebSocket closed, in ms. */
  idleTimeout: number;
}

/** The server does not speak RFC 8441: no SETTINGS_ENABLE_CONNECT_PROTOCOL = 1. */
export class ExtendedConnectUnsupported extends Error {
  constructor(origin: string) {
    super(`${origin} does not support WebSockets over HTTP/2 (no SETTINGS_ENABLE_CONNECT_PROTOCOL in its SETTINGS)`);
    this.name = 'ExtendedConnectUnsupported';
  }
}

/**
 * HTTP/2 connections shared by client WebSockets: RFC 8441's point is that
 * many WebSockets to one origin ride one connection. Idle connections do not
 * keep the process alive.
 */
export class Http2ClientPool {
  private readonly pool = new ConnectionPool<ClientHttp2Session>({
    usable: (session) => !session.closed && !session.destroyed,
    close: (session) => session.close(),
    hold: (session, held) => (held ? session.ref() : session.unref()),
  });

  /** Gets (or opens) a connection to `origin` that allows extended CONNECT, and counts one more user. */
  async acquire(origin: string, options: PoolConnectOptions): Promise<{ session: ClientHttp2Session; release: () => void }> {
    let opened = false;
    const acquired = this.pool.acquire(poolKey(origin, options), options.idleTimeout, (forget) => {
      opened = true;
      return connect(origin, options, forget);
    });
    if (!opened) options.socket?.destroy(); // a pooled connection already serves this origin
    const { connection, release } = await acquired;
    return { session: connection, release };
  }

  /** Whether a live connection to `origin` exists (with any TLS settings). */
  has(origin: string): boolean {
    return this.pool.hasUsable(`${origin}|`);
  }

  /** Live connections (for tests and diagnostics). */
  get size(): number {
    return this.pool.size;
  }
}

/** Opens a connection; resolves once the server's SETTINGS allowed extended CONNECT. */
function connect(origin: string, options: PoolConnectOptions, forget: () => void): Promise<ClientHttp2Session> {
  const session = http2.connect(origin, {
    ca: options.ca,
    cert: options.cert,
    key: options.key,
    servername: options.servername,
    rejectUnauthorized: options.rejectUnauthorized,
    ...(options.socket ? { createConnection: () => options.socket! } : {}),
  });
  // Errors after setup end the WebSockets on this connection through their streams.
  session.on('error', () => {});
  session.once('close', forget);
  return new Promise<ClientHttp2Session>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`HTTP/2 connection to ${origin} timed out`));
      session.destroy();
    }, options.timeout);
    timer.unref();
    session.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    session.once('close', () => {
      clearTimeout(timer);
      reject(new Error(`HTTP/2 connection to ${origin} closed`));
    });
    // RFC 8441 §3 / notes: Node's client does not wait for the setting; a
    // CONNECT sent without it is reset, so wait for the server's SETTINGS.
    session.once('remoteSettings', (settings) => {
      clearTimeout(timer);
      if (settings.enableConnectProtocol === true) resolve(session);
      else {
        reject(new ExtendedConnectUnsupported(origin));
        session.close();
      }
    });
  });
}

/** Connections are shared only between WebSockets with the same origin and TLS settings. */
function poolKey(origin: string, options: PoolConnectOptions): string {
  const hash = createHash('sha1');
  for (const value of [options.ca, options.cert, options.key]) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== undefined) hash.update(typeof item === 'string' ? item : Buffer.from(item as Uint8Array));
      hash.update('\0');
    }
  }
  return `${origin}|${options.servername ?? ''}|${options.rejectUnauthorized ?? true}|${hash.digest('hex')}`;
}
