import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { ByteChannel } from '../../src/session/byte-channel.js';
import { SocketChannel } from '../../src/transports/http1/socket-channel.js';
import { Http2StreamChannel } from '../../src/transports/http2/stream-channel.js';
import { connectHttp3 } from '../../src/client/http3-pool.js';
import type { HeaderList } from '../../src/http3/fields.js';
import type { Http3RequestStream } from '../../src/http3/request-stream.js';
import { Http3Session } from '../../src/http3/session.js';
import { Http3StreamChannel } from '../../src/transports/http3/stream-channel.js';
import type { QuicConnection, QuicServer } from '../../src/quic/types.js';
import { makeTls } from '../transports/http2/tls.js';
import { MemoryChannel } from './memory-channel.js';

/** Two ends of one WebSocket-carrying byte stream: the server's channel and the client's. */
export interface ChannelPair {
  server: ByteChannel;
  client: ByteChannel;
}

/**
 * Makes connected channel pairs of one kind, over real loopback connections
 * set up the way the front-ends set them up (101 on an upgraded socket,
 * :status 200 on an extended CONNECT stream), without a WebSocket session:
 * the channel contract is tested on the channels alone.
 */
export interface ChannelFactory {
  readonly name: string;
  open(): Promise<ChannelPair>;
  close(): Promise<void>;
}

/** Server-side channels waiting for their client-side twin, in arrival order. */
class Arrivals {
  private readonly channels: ByteChannel[] = [];
  private readonly waiters: Array<(channel: ByteChannel) => void> = [];
  add(channel: ByteChannel): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(channel);
    else this.channels.push(channel);
  }
  next(): Promise<ByteChannel> {
    const channel = this.channels.shift();
    return channel ? Promise.resolve(channel) : new Promise((resolve) => this.waiters.push(resolve));
  }
}

export function memoryFactory(): ChannelFactory {
  return {
    name: 'memory',
    async open() {
      const [server, client] = MemoryChannel.pair();
      return { server, client };
    },
    async close() {},
  };
}

export async function http1Factory(): Promise<ChannelFactory> {
  const arrivals = new Arrivals();
  const sockets = new Set<Socket>();
  const server = http.createServer();
  server.on('upgrade', (_req, socket: Socket, head: Buffer) => {
    sockets.add(socket);
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    arrivals.add(new SocketChannel(socket, head));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    name: 'http/1.1',
    async open() {
      const client = await new Promise<ByteChannel>((resolve, reject) => {
        const req = http.request({ port, host: '127.0.0.1', headers: { connection: 'Upgrade', upgrade: 'websocket' } });
        req.on('upgrade', (_res, socket: Socket, head: Buffer) => {
          sockets.add(socket);
          resolve(new SocketChannel(socket, head));
        });
        req.on('error', reject);
        req.end();
      });
      return { server: await arrivals.next(), client };
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export async function http2Factory(): Promise<ChannelFactory> {
  const arrivals = new Arrivals();
  const server = http2.createServer({ settings: { enableConnectProtocol: true } });
  const serverSessions = new Set<http2.Http2Session>();
  server.on('session', (session) => serverSessions.add(session));
  server.on('stream', (stream) => {
    stream.respond({ ':status': 200 });
    arrivals.add(new Http2StreamChannel(stream));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  await new Promise((resolve) => session.once('remoteSettings', resolve));
  return {
    name: 'h2',
    async open() {
      const stream = session.request(
        { ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'http', ':path': '/', ':authority': `127.0.0.1:${port}` },
        { endStream: false },
      );
      await new Promise((resolve, reject) => {
        stream.once('response', resolve);
        stream.once('error', reject);
      });
      return { server: await arrivals.next(), client: new Http2StreamChannel(stream) };
    },
    async close() {
      session.destroy();
      for (const s of serverSessions) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export async function http3Factory(): Promise<ChannelFactory> {
  const { createQuicServer } = await import('../../src/quic/index.js');
  const { tls, ca } = makeTls();
  const arrivals = new Arrivals();
  const quic: QuicServer = createQuicServer({ cert: tls.cert, key: tls.key, alpn: ['h3'] });
  const serverSessions = new Set<Http3Session>();
  quic.on('connection', (connection: QuicConnection) => {
    const session = new Http3Session(connection, { role: 'server', enableConnectProtocol: true });
    session.on('error', () => {});
    serverSessions.add(session);
    session.on('request', (stream: Http3RequestStream) => {
      // As the front-end does: paused until the handshake is decided, then answered.
      stream.pause();
      stream.respond([[':status', '200']]);
      arrivals.add(new Http3StreamChannel(stream, { address: connection.remoteAddress, port: connection.remotePort }));
    });
  });
  const { port } = await quic.listen(0, '127.0.0.1');
  const session = await connectHttp3({ host: '127.0.0.1', port, ca, timeout: 5000 });
  const headers: HeaderList = [
    [':method', 'CONNECT'],
    [':protocol', 'websocket'],
    [':scheme', 'https'],
    [':authority', `localhost:${port}`],
    [':path', '/'],
    ['sec-websocket-version', '13'],
  ];
  return {
    name: 'h3',
    async open() {
      const stream = session.request(headers);
      await new Promise((resolve) => stream.once('response', resolve));
      return { server: await arrivals.next(), client: new Http3StreamChannel(stream, { address: '127.0.0.1', port }) };
    },
    async close() {
      session.close();
      for (const s of serverSessions) s.close();
      await quic.close();
    },
  };
}

/** Every kind of channel, each started when its tests begin. */
export const channelKinds: Array<{ name: string; start: () => Promise<ChannelFactory> }> = [
  { name: 'memory', start: async () => memoryFactory() },
  { name: 'http/1.1', start: http1Factory },
  { name: 'h2', start: http2Factory },
  { name: 'h3', start: http3Factory },
];
