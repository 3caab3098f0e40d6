/** How a transport's connections are tested and closed by a ConnectionPool. */
export interface PooledTransport<C> {
  /** Whether an open connection can still carry new WebSockets. */
  usable(connection: C): boolean;
  close(connection: C): void;
  /** Whether a connection keeps the process alive: held while used, not while idle. */
  hold?(connection: C, held: boolean): void;
}

interface Entry<C> {
  /** Resolves once the connection may carry WebSockets (the server's SETTINGS allowed extended CONNECT). */
  ready: Promise<C>;
  connection: C | null;
  users: number;
  idleTimer: NodeJS.Timeout | null;
  idleTimeout: number;
}

/**
 * Connections shared by client WebSockets (RFC 8441 and RFC 9220: many
 * WebSockets to one origin ride one connection), for HTTP/2 and HTTP/3 alike:
 * one connection per key (origin and TLS settings), opened on demand, counted
 * per WebSocket, and closed `idleTimeout` ms after its last WebSocket ended.
 */
export class ConnectionPool<C> {
  private readonly entries = new Map<string, Entry<C>>();

  constructor(private readonly transport: PooledTransport<C>) {}

  /**
   * The connection under `key` — a usable one, one still opening, or a new
   * one from `open` (called synchronously, given a callback to run when the
   * connection closes) — counted as used until `release()`.
   */
  async acquire(
    key: string,
    idleTimeout: number,
    open: (forget: () => void) => Promise<C>,
  ): Promise<{ connection: C; release: () => void }> {
    let entry = this.entries.get(key);
    if (entry === undefined || (entry.connection !== null && !this.transport.usable(entry.connection))) {
      entry = this.open(key, idleTimeout, open);
    }
    entry.users++;
    if (entry.idleTimer !== null) {
      clearTimeout(entry.idleTimer);
      entry.idleTimer = null;
    }
    if (entry.connection !== null) this.transport.hold?.(entry.connection, true);
    const current = entry;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.release(key, current);
    };
    try {
      return { connection: await current.ready, release };
    } catch (error) {
      release();
      throw error;
    }
  }

  /** Whether a usable (or opening) connection exists under a key starting with `prefix`. */
  hasUsable(prefix: string): boolean {
    for (const [key, entry] of this.entries) {
      if (key.startsWith(prefix) && (entry.connection === null || this.transport.usable(entry.connection))) return true;
    }
    return false;
  }

  /** Connections in the pool (for tests and diagnostics). */
  get size(): number {
    return this.entries.size;
  }

  private open(key: string, idleTimeout: number, open: (forget: () => void) => Promise<C>): Entry<C> {
    const entry: Entry<C> = { ready: Promise.resolve(null as never), connection: null, users: 0, idleTimer: null, idleTimeout };
    const forget = (): void => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    };
    entry.ready = open(forget).then((connection) => (entry.connection = connection));
    entry.ready.catch(forget);
    this.entries.set(key, entry);
    return entry;
  }

  private release(key: string, entry: Entry<C>): void {
    entry.users--;
    const connection = entry.connection;
    if (entry.users > 0 || connection === null) return;
    this.transport.hold?.(connection, false);
    entry.idleTimer = setTimeout(() => {
      if (entry.users > 0) return;
      if (this.entries.get(key) === entry) this.entries.delete(key);
      this.transport.close(connection);
    }, entry.idleTimeout);
    entry.idleTimer.unref();
  }
}
