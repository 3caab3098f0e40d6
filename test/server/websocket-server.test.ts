// The server API: attaching to existing servers, noServer upgrades, routing,
// hooks over the wire, timeouts and graceful shutdown.
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import t from 'tap';
import WS from 'ws';
import { HandshakeRequest, WebSocketServer, rejectHandshake } from '../../src/index.js';

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** Sends a raw upgrade request and returns the status line and headers of the answer. */
function rawUpgrade(port: number, path: string, extra = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
      );
    });
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk.toString();
      if (data.includes('\r\n\r\n')) {
        socket.destroy();
        resolve(data.slice(0, data.indexOf('\r\n\r\n')));
      }
    });
    socket.on('error', reject);
    setTimeout(() => reject(new Error('no answer')), 5000).unref();
  });
}

t.test('attach to an existing http server with its own routes', async (t) => {
  const app = http.createServer((req, res) => res.end(`page ${req.url}`));
  const wss = new WebSocketServer({ server: app, path: '/live' });
  const seen: HandshakeRequest[] = [];
  wss.on('connection', (ws, request) => {
    seen.push(request);
    ws.send(`hello ${request.searchParams.get('name')}`);
  });
  const port = await listen(app);
  t.teardown(() => app.close());
  const page = await fetch(`http://127.0.0.1:${port}/about`);
  t.equal(await page.text(), 'page /about', "the app's routes still answer");
  const client = new WS(`ws://127.0.0.1:${port}/live?name=ann`);
  const [greeting] = (await once(client, 'message')) as [Buffer];
  t.equal(greeting.toString(), 'hello ann');
  t.equal(seen[0].transport, 'http/1.1');
  t.equal(seen[0].pathname, '/live');
  t.equal(seen[0].remoteAddress, '127.0.0.1');
  t.match(await rawUpgrade(port, '/elsewhere'), /^HTTP\/1\.1 404 /, 'other paths get 404 when nobody else listens');
  client.close();
  await once(client, 'close');
  await wss.close();
});

t.test('several servers on one http server split the paths between them', async (t) => {
  const app = http.createServer();
  const a = new WebSocketServer({ server: app, path: '/a' });
  const b = new WebSocketServer({ server: app, path: '/b' });
  a.on('connection', (ws) => ws.send('from a'));
  b.on('connection', (ws) => ws.send('from b'));
  const port = await listen(app);
  t.teardown(() => app.close());
  for (const name of ['a', 'b']) {
    const client = new WS(`ws://127.0.0.1:${port}/${name}`);
    const [message] = (await once(client, 'message')) as [Buffer];
    t.equal(message.toString(), `from ${name}`);
    client.terminate();
  }
  await Promise.all([a.close(), b.close()]);
});

t.test('noServer: handleUpgrade with a callback does not emit connection', async (t) => {
  const app = http.createServer();
  const wss = new WebSocketServer({ noServer: true });
  let emitted = 0;
  wss.on('connection', () => emitted++);
  app.on('upgrade', (req, socket, head) => {
    void wss.handleUpgrade(req, socket as net.Socket, head, (ws, request) => {
      ws.send(`via callback ${request.url}`);
    });
  });
  const port = await listen(app);
  t.teardown(() => app.close());
  const client = new WS(`ws://127.0.0.1:${port}/x`);
  const [message] = (await once(client, 'message')) as [Buffer];
  t.equal(message.toString(), 'via callback /x');
  t.equal(emitted, 0);
  t.equal(wss.clients.size, 1, 'the session is still tracked for shutdown');
  const closed = once(client, 'close');
  await wss.close();
  t.equal(((await closed) as [number])[0], 1001, 'and closed with 1001 on shutdown');
});

t.test('hooks answer over the wire with their status and headers', async (t) => {
  const wss = new WebSocketServer({
    noServer: true,
    allowedOrigins: ['https://good.example'],
    authenticate: (request) => {
      if (request.header('authorization') === 'Bearer ok') return { user: 'ann' };
      if (request.header('x-slow')) return new Promise(() => {}); // never answers
      return rejectHandshake(401, 'login first', { 'WWW-Authenticate': 'Bearer realm="t"' });
    },
    handshakeTimeout: 300,
  });
  const users: unknown[] = [];
  wss.on('connection', (ws) => users.push(ws.user));
  const { port } = await wss.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => wss.close());
  const unauthorized = await rawUpgrade(port, '/');
  t.match(unauthorized, /^HTTP\/1\.1 401 /);
  t.match(unauthorized, /\r\nWWW-Authenticate: Bearer realm="t"/);
  t.match(await rawUpgrade(port, '/', 'Origin: https://evil.example\r\nAuthorization: Bearer ok\r\n'), /^HTTP\/1\.1 403 /);
  t.match(await rawUpgrade(port, '/', 'Authorization: Bearer x\r\nX-Slow: 1\r\n'), /^HTTP\/1\.1 408 /, 'a hook that hangs hits the handshake timeout');
  const ok = await rawUpgrade(port, '/', 'Origin: https://good.example\r\nAuthorization: Bearer ok\r\n');
  t.match(ok, /^HTTP\/1\.1 101 /);
  t.match(ok, /\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/);
  await new Promise((resolve) => setImmediate(resolve));
  t.same(users, ['ann'], 'the user data reached the session');
});

t.test('plain requests to a WebSocket-only port get 426', async (t) => {
  const wss = new WebSocketServer({ noServer: true });
  const { port } = await wss.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => wss.close());
  const response = await fetch(`http://127.0.0.1:${port}/`);
  t.equal(response.status, 426);
  t.equal(response.headers.get('upgrade'), 'websocket');
});

t.test('graceful close: 1001 to every session, 503 to late handshakes, then the listener stops', async (t) => {
  const wss = new WebSocketServer({ noServer: true, closeTimeout: 2000 });
  const { port } = await wss.listen({ host: '127.0.0.1', port: 0 });
  const clients = [new WS(`ws://127.0.0.1:${port}/`), new WS(`ws://127.0.0.1:${port}/`)];
  await Promise.all(clients.map((c) => once(c, 'open')));
  // One client answers the close only after a while: close() waits for it.
  clients[1].on('close', () => {});
  const codes = clients.map((c) => new Promise<number>((resolve) => c.once('close', (code: number) => resolve(code))));
  const closing = wss.close();
  t.equal(wss.clients.size, 2, 'sessions are still closing');
  t.same(await Promise.all(codes), [1001, 1001]);
  await closing;
  t.equal(wss.clients.size, 0);
  await t.rejects(fetch(`http://127.0.0.1:${port}/`), 'the listener is closed');
});

t.test('a client that ignores the close is aborted after closeTimeout', async (t) => {
  const wss = new WebSocketServer({ noServer: true, closeTimeout: 200 });
  const { port } = await wss.listen({ host: '127.0.0.1', port: 0 });
  const socket = net.connect(port, '127.0.0.1');
  socket.write(
    `GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const [ws] = (await once(wss, 'connection')) as [import('../../src/index.js').WebSocket];
  socket.pause(); // read nothing, answer nothing
  const reset = new Promise<NodeJS.ErrnoException>((resolve) => socket.once('error', resolve));
  const started = Date.now();
  const closed = new Promise<unknown[]>((resolve) => ws.once('close', (...args: unknown[]) => resolve(args)));
  ws.close(1000);
  const [code] = (await closed) as [number];
  t.equal(code, 1006, 'no close frame came back');
  socket.resume();
  t.equal((await reset).code, 'ECONNRESET', 'the abort is a TCP reset, not an orderly FIN');
  await wss.close();
  t.ok(Date.now() - started < 2000, 'shutdown did not wait longer than the close timeout');
  socket.destroy();
});
