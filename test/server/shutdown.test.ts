// Shutdown and start-up edges of WebSocketServer, over every transport.
import dgram from 'node:dgram';
import net from 'node:net';
import t from 'tap';
import { WebSocket, WebSocketServer } from '../../src/index.js';
import { makeTls } from '../transports/http2/tls.js';

const { tls, ca } = makeTls();

for (const transport of ['h1', 'h2', 'h3'] as const) {
  t.test(`${transport}: close() during an async authenticate refuses that handshake and resolves`, async (t) => {
    let authenticating!: () => void;
    const started = new Promise<void>((resolve) => (authenticating = resolve));
    const wss = new WebSocketServer({
      noServer: true,
      authenticate: async () => {
        authenticating();
        await new Promise((resolve) => setTimeout(resolve, 300));
        return true;
      },
    });
    let connections = 0;
    wss.on('connection', () => connections++);
    const { port } = await wss.listen({ host: '127.0.0.1', port: 0, tls, http3: transport === 'h3' });
    const client = new WebSocket(`wss://localhost:${port}/`, { transport, ca });
    client.on('error', () => {});
    const clientClosed = new Promise<number>((resolve) => client.once('close', resolve));
    await started;
    await wss.close(); // hung forever before: the session opened after close() began
    t.equal(connections, 0, "no 'connection' after close() began");
    t.equal(await clientClosed, 1006, 'the client learns that the handshake failed');
    t.equal(client.readyState, WebSocket.CLOSED);
  });
}

t.test('a listen() whose HTTP/3 twin cannot start rolls back its TCP listener', async (t) => {
  // Hold the UDP port so that only the QUIC listener fails.
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  t.teardown(() => udp.close());
  const port = udp.address().port;
  const wss = new WebSocketServer({ noServer: true });
  await t.rejects(wss.listen({ host: '127.0.0.1', port, tls, http3: true }), { code: 'EADDRINUSE' });
  t.equal(wss.address(), null, 'no listener is left behind');
  const refused = await new Promise<string>((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
  t.equal(refused, 'ECONNREFUSED', 'the TCP port no longer serves HTTP/2');
  // The server is still usable: the next listen() works.
  const { port: next } = await wss.listen({ host: '127.0.0.1', port: 0, tls, http3: true });
  t.ok(next > 0);
  await wss.close();
});

t.test('h2: a refused client handshake (404) does not keep the connections open; close() resolves', async (t) => {
  const wss = new WebSocketServer({ noServer: true, path: '/only-here' });
  const { port } = await wss.listen({ host: '127.0.0.1', port: 0, tls });
  const client = new WebSocket(`wss://localhost:${port}/elsewhere`, { transport: 'h2', ca, http2IdleTimeout: 50 });
  const error = await new Promise<Error>((resolve) => client.once('error', resolve));
  t.match(error.message, /404/);
  await wss.close(); // hung on Node 24: the refusal's unread body kept the stream open
  t.pass('close() resolved');
});
