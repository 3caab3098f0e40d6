import { createHash } from 'node:crypto';
import http2, { type ClientHttp2Session, type SecureClientSessionOptions } from 'node:http2';
import type { Duplex } from 'node:stream';

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

interface Entry {
  session: ClientHttp2Session;
  /** Resolves once the server's SETTINGS allowed extended CONNECT. */
  ready: Promise<ClientHttp2Session>;
  users: number;
  idleTimer: NodeJS.Timeout | null;
  idleTimeout: number;
}

/**
 * HTTP/2 connections shared by client WebSockets: RFC 8441's point is that
 * many WebSockets to one origin ride one connection. A connection is kept while
 * WebSockets use it, and closed `idleTimeout` ms after the last one ended (it
 * never keeps the process alive while idle).
 */
export class Http2ClientPool {
  private readonly entries = new Map<string, Entry>();

  /** Gets (or opens) a connection to `origin` that allows extended CONNECT, and counts one more user. */
  async acquire(origin: string, options: PoolConnectOptions): Promise<{ session: ClientHttp2Session; release: () => void }> {
    const key = poolKey(origin, options);
    let entry = this.entries.get(key);
    if (entry === undefined || entry.session.closed || entry.session.destroyed) {
      entry = this.open(key, origin, options);
    } else if (options.socket) {
      options.socket.destroy(); // a pooled connection already serves this origin
    }
    entry.users++;
    if (entry.idleTimer !== null) {
      clearTimeout(entry.idleTimer);
      entry.idleTimer = null;
    }
    entry.session.ref();
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

  private open(key: string, origin: string, options: PoolConnectOptions): Entry {
    const session = http2.connect(origin, {
      ca: options.ca,
      cert: options.cert,
      key: options.key,
      servername: options.servername,
      rejectUnauthorized: options.rejectUnauthorized,
      ...(options.socket ? { createConnection: () => options.socket! } : {}),
    });
    const ready = new Promise<ClientHttp2Session>((resolve, reject) => {
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
    ready.catch(() => {});
    // Errors after setup end the WebSockets on this connection through their streams.
    session.on('error', () => {});
    const entry: Entry = { session, ready, users: 0, idleTimer: null, idleTimeout: options.idleTimeout };
    this.entries.set(key, entry);
    session.once('close', () => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return entry;
  }

  private release(key: string, entry: Entry): void {
    entry.users--;
    if (entry.users > 0 || entry.session.destroyed) return;
    entry.session.unref();
    entry.idleTimer = setTimeout(() => {
      if (entry.users === 0) {
        if (this.entries.get(key) === entry) this.entries.delete(key);
        entry.session.close();
      }
    }, entry.idleTimeout);
    entry.idleTimer.unref();
  }

  /** Whether a live connection to `origin` exists (with any TLS settings). */
  has(origin: string): boolean {
    for (const [key, entry] of this.entries) {
      if (key.startsWith(`${origin}|`) && !entry.session.closed && !entry.session.destroyed) return true;
    }
    return false;
  }

  /** Live connections (for tests and diagnostics). */
  get size(): number {
    return this.entries.size;
  }
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
