import pino from 'pino';
import { WebSocket, WebSocketServer, type ServerOptions } from '../../src/index.js';
import type { ByteChannel } from '../../src/session/byte-channel.js';
import { PerMessageDeflate } from '../../src/protocol/deflate/per-message-deflate.js';
import { ZlibLimiter } from '../../src/protocol/deflate/zlib-limiter.js';
import { kServerSession } from '../../src/session/internal.js';
import { resolveSessionLimits, type SessionLimits } from '../../src/session/options.js';
import { makeTls } from '../transports/http2/tls.js';
import { MemoryChannel } from './memory-channel.js';

/** One WebSocket session and its peer: what a sequence test drives. */
export interface SessionPair {
  server: WebSocket;
  client: WebSocket;
  /** Ends both sessions and whatever served them. */
  dispose(): Promise<void>;
}

export interface PairOptions {
  deflate?: boolean;
  /** With `deflate`: the server compresses every message on its own (RFC 7692 §7.1.1.1). */
  serverNoContextTakeover?: boolean;
  limits?: Partial<SessionLimits>;
  /** Runs on the server session inside 'connection', before any event (e.g. pause()). */
  onConnection?: (ws: WebSocket) => void;
}

/** Opens pairs of one transport; `close()` ends the server and everything it served. */
export interface SessionKind {
  readonly name: 'memory' | 'h1' | 'h2' | 'h3';
  open(options?: PairOptions): Promise<SessionPair>;
  /** Server sessions still open or closing, across every server of this kind. */
  openServerSessions(): number;
  close(): Promise<void>;
}

const silent = pino({ level: 'silent' });
const DEFLATE_PARAMS = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };

/** The channel under a session, for tests that act as the transport (peer FIN, peer abort). */
export function channelOf(ws: WebSocket): ByteChannel {
  return (ws as unknown as { channel: ByteChannel }).channel;
}

function memoryKind(): SessionKind {
  const opened: WebSocket[] = [];
  return {
    name: 'memory',
    async open(options = {}) {
      const [serverChannel, clientChannel] = MemoryChannel.pair();
      const limits = resolveSessionLimits(options.limits);
      const limiter = new ZlibLimiter(10);
      const make = (role: 'server' | 'client', channel: MemoryChannel): WebSocket =>
        new WebSocket(kServerSession, {
          role,
          channel,
          url: 'ws://memory/',
          protocol: '',
          extensions: options.deflate ? 'permessage-deflate' : '',
          deflate: options.deflate
            ? new PerMessageDeflate({ ...DEFLATE_PARAMS, serverNoContextTakeover: options.serverNoContextTakeover ?? false }, role, {
                maxMessageSize: limits.maxMessageSize,
                limiter,
              })
            : null,
          compressionThreshold: 0,
          limits,
          logger: silent,
        });
      const server = make('server', serverChannel);
      options.onConnection?.(server);
      const client = make('client', clientChannel);
      opened.push(server, client);
      return {
        server,
        client,
        async dispose() {
          server.terminate();
          client.terminate();
        },
      };
    },
    openServerSessions() {
      return opened.filter((ws, i) => i % 2 === 0 && ws.readyState !== WebSocket.CLOSED).length;
    },
    async close() {
      for (const ws of opened) ws.terminate();
    },
  };
}

/**
 * A real server on loopback (TLS, HTTP/2 and HTTP/1.1 on one port, HTTP/3 on
 * its UDP twin) and our client over the chosen transport. Options that differ
 * per pair (deflate, limits) get a server of their own.
 */
async function networkKind(name: 'h1' | 'h2' | 'h3'): Promise<SessionKind> {
  const { tls, ca } = makeTls();
  const servers: WebSocketServer[] = [];
  const clients: WebSocket[] = [];
  return {
    name,
    async open(options = {}) {
      const serverOptions: ServerOptions = {
        noServer: true,
        perMessageDeflate: options.deflate ? { threshold: 0, serverNoContextTakeover: options.serverNoContextTakeover ?? false } : false,
        ...options.limits,
      };
      const wss = new WebSocketServer(serverOptions);
      servers.push(wss);
      const connected = new Promise<WebSocket>((resolve) =>
        wss.once('connection', (ws: WebSocket) => {
          options.onConnection?.(ws);
          resolve(ws);
        }),
      );
      const { port } = await wss.listen({ host: '127.0.0.1', port: 0, tls, http3: name === 'h3' });
      const client = new WebSocket(`wss://localhost:${port}/`, {
        transport: name,
        ca,
        perMessageDeflate: options.deflate ? { threshold: 0 } : false,
        ...options.limits,
      });
      clients.push(client);
      await new Promise<void>((resolve, reject) => {
        client.once('open', resolve);
        client.once('close', () => reject(new Error(`${name} client failed to open`)));
      });
      const server = await connected;
      if (server.transport !== (name === 'h1' ? 'http/1.1' : name)) throw new Error(`expected ${name}, got ${server.transport}`);
      return {
        server,
        client,
        async dispose() {
          client.terminate();
          await wss.close();
          servers.splice(servers.indexOf(wss), 1);
        },
      };
    },
    openServerSessions() {
      return servers.reduce((sum, wss) => sum + wss.clients.size, 0);
    },
    async close() {
      for (const client of clients) client.terminate();
      await Promise.all(servers.map((wss) => wss.close()));
    },
  };
}

export const sessionKinds: Array<{ name: SessionKind['name']; start: () => Promise<SessionKind> }> = [
  { name: 'memory', start: async () => memoryKind() },
  { name: 'h1', start: () => networkKind('h1') },
  { name: 'h2', start: () => networkKind('h2') },
  { name: 'h3', start: () => networkKind('h3') },
];

/** Resolves with the arguments of the next `event`. */
export function next<T extends unknown[]>(ws: WebSocket, event: string): Promise<T> {
  return new Promise((resolve) => ws.once(event, (...args: unknown[]) => resolve(args as T)));
}
