import { createHash } from 'node:crypto';
import { Http3Session } from './session.js';
import type { QuicConnection } from './quic/types.js';

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
}

interface Entry {
  ready: Promise<Http3Session>;
  session: Http3Session | null;
  users: number;
  idleTimer: NodeJS.Timeout | null;
  idleTimeout: number;
}

/**
 * QUIC connections shared by client WebSockets to one origin (RFC 9220: many
 * WebSockets ride one HTTP/3 connection). A connection is opened on demand, is
 * used only once the server's SETTINGS enabled extended CONNECT, and closes
 * `idleTimeout` ms after its last WebSocket.
 */
export class Http3ClientPool {
  private readonly entries = new Map<string, Entry>();

  async acquire(options: Http3PoolConnectOptions): Promise<{ session: Http3Session; release: () => void }> {
    const key = poolKey(options);
    let entry = this.entries.get(key);
    if (entry === undefined || (entry.session !== null && (entry.session.closed || entry.session.goawayReceived))) {
      entry = this.open(key, options);
    }
    entry.users++;
    if (entry.idleTimer !== null) {
      clearTimeout(entry.idleTimer);
      entry.idleTimer = null;
    }
    const current = entry;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.release(key, current);
    };
    try {
      return { session: await current.ready, release };
    } catch (error) {
      release();
      throw error;
    }
  }

  private open(key: string, options: Http3PoolConnectOptions): Entry {
    const entry: Entry = { ready: Promise.resolve(null as never), session: null, users: 0, idleTimer: null, idleTimeout: options.idleTimeout };
    entry.ready = (async () => {
      const { connectQuic } = await import('./quic/index.js');
      const connection: QuicConnection = await connectQuic({
        host: options.host,
        port: options.port,
        servername: options.servername,
        ca: options.ca,
        rejectUnauthorized: options.rejectUnauthorized,
        alpn: ['h3'],
        handshakeTimeout: options.timeout,
      });
      const session = new Http3Session(connection, { role: 'client' });
      entry.session = session;
      session.on('error', () => {});
      session.once('close', () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      });
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
    })();
    entry.ready.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    this.entries.set(key, entry);
    return entry;
  }

  private release(key: string, entry: Entry): void {
    entry.users--;
    if (entry.users > 0) return;
    entry.idleTimer = setTimeout(() => {
      if (entry.users > 0) return;
      if (this.entries.get(key) === entry) this.entries.delete(key);
      entry.session?.close();
    }, entry.idleTimeout);
    entry.idleTimer.unref();
  }

  get size(): number {
    return this.entries.size;
  }
}

function poolKey(options: Http3PoolConnectOptions): string {
  const ca = options.ca === undefined ? '' : createHash('sha1').update(options.ca).digest('hex');
  return `${options.host}|${options.port}|${options.servername ?? ''}|${options.rejectUnauthorized ?? true}|${ca}`;
}
