// docs/migrating-from-ws.md, server side: each test is one row of the guide and
// runs the `ws` 8 way of doing it (or its documented replacement) here.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import WsWebSocket from 'ws';
import * as trident from '../../src/index.js';
import { rejectHandshake, WebSocket, WebSocketServer } from '../../src/index.js';
import { makeTls } from '../transports/http2/tls.js';
import { closed, connect, handshakeFailure, HandshakeError, nextConnection, nextMessage, opened, pair, row, serve } from './helpers.js';

const { tls, ca } = makeTls();

// ---- Module exports ----------------------------------------------------------

row('Module exports', 'WebSocket', async (t) => {
  t.type(trident.WebSocket, 'function');
  t.equal((trident as Record<string, unknown>).default, undefined, 'no default export: import { WebSocket }');
  const served = await serve(t);
  const ws = await connect(t, served.url);
  t.ok(ws instanceof trident.WebSocket);
});

row('Module exports', 'WebSocketServer', async (t) => {
  t.type(trident.WebSocketServer, 'function');
  t.equal((WebSocket as unknown as { Server?: unknown }).Server, undefined, 'WebSocket.Server is not an alias here');
  t.ok(new WebSocketServer({ noServer: true }) instanceof trident.WebSocketServer);
});

row('Module exports', 'CONNECTING', async (t) => {
  for (const name of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'] as const) {
    t.equal(WebSocket[name], WsWebSocket[name], `WebSocket.${name} as in ws`);
  }
});

// ---- WebSocketServer options -------------------------------------------------

row('WebSocketServer options', 'port', async (t) => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  t.teardown(() => wss.close());
  const address = await new Promise<AddressInfo>((resolve) => wss.once('listening', resolve));
  t.ok(address.port > 0);
  const ws = await connect(t, `ws://127.0.0.1:${address.port}/`);
  t.equal(ws.readyState, WebSocket.OPEN);
});

row('WebSocketServer options', 'host', async (t) => {
  const wss = new WebSocketServer({ port: 0, host: '::1' });
  t.teardown(() => wss.close());
  await new Promise((resolve) => wss.once('listening', resolve));
  t.equal(wss.address()?.address, '::1');
  await connect(t, `ws://[::1]:${wss.address()!.port}/`);
});

row('WebSocketServer options', 'server', async (t) => {
  const server = http.createServer((_req, res) => res.end('page'));
  const wss = new WebSocketServer({ server });
  t.teardown(async () => {
    await wss.close();
    await new Promise((resolve) => server.close(resolve));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const accepted = nextConnection(wss);
  await connect(t, `ws://127.0.0.1:${port}/`);
  const [, request] = await accepted;
  t.equal(request.transport, 'http/1.1');
  const page = await fetch(`http://127.0.0.1:${port}/`).then((res) => res.text());
  t.equal(page, 'page', 'the application keeps its routes');
});

row('WebSocketServer options', 'noServer', async (t) => {
  const server = http.createServer();
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket: Socket, head) => {
    if (req.url === '/live') void wss.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  t.teardown(async () => {
    await wss.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const accepted = nextConnection(wss);
  await connect(t, `ws://127.0.0.1:${port}/live`);
  const [, request] = await accepted;
  t.equal(request.url, '/live', "without a callback, handleUpgrade emits 'connection'");
});

row('WebSocketServer options', 'path', async (t) => {
  const served = await serve(t, { path: '/chat' });
  await connect(t, `${served.url}/chat`);
  const refused = new WebSocket(`${served.url}/other`);
  const error = await handshakeFailure(refused);
  t.ok(error instanceof HandshakeError);
  t.equal((error as HandshakeError).status, 404);
});

row('WebSocketServer options', 'verifyClient', async (t) => {
  const served = await serve(t, {
    allowedOrigins: ['https://app.example'],
    authenticate: (request) => {
      const token = request.header('authorization');
      if (token === 'Bearer good') return { user: 'ann' };
      return rejectHandshake(401, 'login first', { 'www-authenticate': 'Bearer' });
    },
  });
  const badOrigin = await handshakeFailure(new WebSocket(served.url, { origin: 'https://evil.example', headers: { authorization: 'Bearer good' } }));
  t.equal((badOrigin as HandshakeError).status, 403);
  const noToken = await handshakeFailure(new WebSocket(served.url, { origin: 'https://app.example' }));
  t.equal((noToken as HandshakeError).status, 401);
  t.equal((noToken as HandshakeError).headers?.['www-authenticate'], 'Bearer');
  const { server } = await pair(t, served, { origin: 'https://app.example', headers: { authorization: 'Bearer good' } });
  t.equal(server.user, 'ann');
});

row('WebSocketServer options', 'handleProtocols', async (t) => {
  const seen: Array<readonly string[]> = [];
  const served = await serve(t, {
    handleProtocols: (offered) => {
      seen.push(offered);
      return offered.includes('v2') ? 'v2' : false;
    },
  });
  const ws = await connect(t, served.url, ['v1', 'v2']);
  t.equal(ws.protocol, 'v2');
  t.same(seen, [['v1', 'v2']], 'an array in the client order');
  const none = await connect(t, served.url, ['v1']);
  t.equal(none.protocol, '', 'false chooses none');
});

row('WebSocketServer options', 'perMessageDeflate', async (t) => {
  const off = await serve(t);
  const plain = await connect(t, off.url);
  t.equal(plain.extensions, '', 'off by default on servers');
  const on = await serve(t, { perMessageDeflate: true });
  const { client, server } = await pair(t, on);
  t.match(client.extensions, /^permessage-deflate/);
  server.send('x'.repeat(5000));
  const [data] = await nextMessage(client);
  t.equal(String(data), 'x'.repeat(5000));
});

row('WebSocketServer options', 'maxPayload', async (t) => {
  const zero = await serve(t, { maxMessageSize: 0 });
  const { client, server } = await pair(t, zero);
  const received: unknown[] = [];
  server.on('message', (data) => received.push(data));
  client.send('');
  client.send('x');
  t.same((await closed(client))[0], 1009, 'maxMessageSize: 0 refuses a 1-byte message with 1009');
  t.same(received.map(String), [''], 'an empty message fits in 0');

  const unbounded = await serve(t, { maxMessageSize: Infinity });
  const big = await pair(t, unbounded);
  const size = 17 * 1024 * 1024; // beyond the 16 MiB default
  big.client.send(Buffer.alloc(size, 1));
  const [data] = await nextMessage(big.server);
  t.equal((data as Buffer).length, size, "Infinity stands for ws's maxPayload: 0");
  t.throws(() => new WebSocketServer({ noServer: true, maxMessageSize: -1 }), RangeError);
  t.throws(() => new WebSocketServer({ noServer: true, closeTimeout: Infinity }), RangeError, 'time limits stay finite');
});

row('WebSocketServer options', 'maxFragments', async (t) => {
  const limited = await serve(t, { maxFramesPerMessage: 2 });
  const { client } = await pair(t, limited);
  client.send('a', { fin: false });
  client.send('b', { fin: false });
  client.send('c', { fin: true });
  t.equal((await closed(client))[0], 1009);

  const unbounded = await serve(t, { maxFramesPerMessage: Infinity });
  const ok = await pair(t, unbounded);
  for (let i = 0; i < 5; i++) ok.client.send(String(i), { fin: i === 4 });
  t.equal(String((await nextMessage(ok.server))[0]), '01234');
});

row('WebSocketServer options', 'closeTimeout', async (t) => {
  const served = await serve(t, { closeTimeout: 200 });
  const { client, server } = await pair(t, served);
  client.pause(); // never reads the close frame, so never answers it
  const started = Date.now();
  server.close(1000, 'bye');
  const [code] = await closed(server);
  t.equal(code, 1006, 'aborted without the peer close frame');
  t.ok(Date.now() - started < 5000, 'after closeTimeout, not the 10 s default');
  t.notOk(server.wasClean);
});

row('WebSocketServer options', 'callback', async (t) => {
  let wss!: WebSocketServer;
  const listening = new Promise<void>((resolve) => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' }, resolve);
  });
  t.teardown(() => wss.close());
  await listening;
  t.ok(wss.address()!.port > 0);
});

// ---- perMessageDeflate options -----------------------------------------------

async function negotiated(t: Parameters<Parameters<typeof row>[2]>[0], perMessageDeflate: trident.DeflateOptions): Promise<string> {
  const served = await serve(t, { perMessageDeflate });
  const ws = await connect(t, served.url);
  return ws.extensions;
}

row('perMessageDeflate options', 'serverNoContextTakeover', async (t) => {
  t.match(await negotiated(t, { serverNoContextTakeover: true }), /server_no_context_takeover/);
  t.notMatch(await negotiated(t, {}), /server_no_context_takeover/);
});

row('perMessageDeflate options', 'clientNoContextTakeover', async (t) => {
  t.match(await negotiated(t, { clientNoContextTakeover: true }), /client_no_context_takeover/);
  t.notMatch(await negotiated(t, {}), /client_no_context_takeover/);
});

row('perMessageDeflate options', 'serverMaxWindowBits', async (t) => {
  t.match(await negotiated(t, { serverMaxWindowBits: 10 }), /server_max_window_bits=10/);
});

row('perMessageDeflate options', 'clientMaxWindowBits', async (t) => {
  t.match(await negotiated(t, { clientMaxWindowBits: 10 }), /client_max_window_bits=10/);
});

/** Bytes the server wrote for one message of `text`, with these deflate options. */
async function wireBytes(t: Parameters<Parameters<typeof row>[2]>[0], perMessageDeflate: trident.DeflateOptions, text: string): Promise<number> {
  const server = http.createServer();
  const sockets: Socket[] = [];
  server.on('connection', (socket: Socket) => sockets.push(socket));
  const wss = new WebSocketServer({ server, perMessageDeflate });
  t.teardown(async () => {
    await wss.close();
    await new Promise((resolve) => server.close(resolve));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = nextConnection(wss);
  const client = await connect(t, `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  const [session] = await accepted;
  const before = sockets[0].bytesWritten;
  session.send(text);
  t.equal(String((await nextMessage(client))[0]), text);
  return sockets[0].bytesWritten - before;
}

row('perMessageDeflate options', 'threshold', async (t) => {
  const text = 'a'.repeat(2000);
  t.ok((await wireBytes(t, { threshold: 4096 }, text)) > 2000, 'below the threshold: sent as is');
  t.ok((await wireBytes(t, { threshold: 1024 }, text)) < 200, 'above it: compressed');
});

row('perMessageDeflate options', 'concurrencyLimit', async (t) => {
  const served = await serve(t, { perMessageDeflate: { concurrency: 1, threshold: 0 } });
  const { client, server } = await pair(t, served);
  const received: string[] = [];
  const all = new Promise<void>((resolve) =>
    client.on('message', (data) => {
      received.push(String(data));
      if (received.length === 20) resolve();
    }),
  );
  for (let i = 0; i < 20; i++) server.send(`message ${i} `.repeat(100));
  await all;
  t.same(received, Array.from({ length: 20 }, (_, i) => `message ${i} `.repeat(100)), 'in order through one zlib slot');
});

row('perMessageDeflate options', 'zlibDeflateOptions', async (t) => {
  const text = 'a'.repeat(2000);
  t.ok((await wireBytes(t, { level: 0 }, text)) > 2000, 'level 0 stores');
  t.ok((await wireBytes(t, { level: 9, memLevel: 9 }, text)) < 200, 'level 9 compresses');
});

// ---- WebSocketServer events --------------------------------------------------

row('WebSocketServer events', 'connection', async (t) => {
  // The lines `ws` code writes in its 'connection' handler, on every transport.
  const wss = new WebSocketServer({ noServer: true });
  t.teardown(() => wss.close());
  const http3 = trident.quicAvailable();
  const { port } = await wss.listen({ port: 0, host: '127.0.0.1', tls, http3 });
  for (const transport of ['http/1.1', 'h2', ...(http3 ? ['h3' as const] : [])] as const) {
    const accepted = nextConnection(wss);
    const client = new WebSocket(`wss://127.0.0.1:${port}/live?room=1`, {
      ca,
      transport,
      servername: 'localhost',
      headers: { 'x-forwarded-for': '203.0.113.7' },
    });
    t.teardown(() => client.terminate());
    await opened(client);
    const [, request] = await accepted;
    t.equal(request.transport, transport);
    t.equal(request.url, '/live?room=1', `${transport}: url`);
    t.equal(request.headers['x-forwarded-for'], '203.0.113.7', `${transport}: headers`);
    t.equal(request.socket.remoteAddress, '127.0.0.1', `${transport}: socket.remoteAddress`);
    t.equal(request.socket.remoteFamily, 'IPv4', `${transport}: socket.remoteFamily`);
    t.ok((request.socket.remotePort ?? 0) > 0, `${transport}: socket.remotePort`);
  }
});

row('WebSocketServer events', 'headers', async (t) => {
  // The `ws` idiom, unchanged, on every transport.
  const wss = new WebSocketServer({ noServer: true });
  t.teardown(() => wss.close());
  const http3 = trident.quicAvailable();
  const { port } = await wss.listen({ port: 0, host: '127.0.0.1', tls, http3 });
  const requests: string[] = [];
  wss.on('headers', (headers, request) => {
    requests.push(request.transport);
    headers.push('Set-Cookie: sid=42; HttpOnly');
  });
  for (const transport of ['http/1.1', 'h2', ...(http3 ? ['h3' as const] : [])] as const) {
    const client = new WebSocket(`wss://127.0.0.1:${port}/`, { ca, transport, servername: 'localhost' });
    t.teardown(() => client.terminate());
    const cookies = new Promise<string[] | undefined>((resolve) => client.once('upgrade', (response) => resolve(response.headers['set-cookie'])));
    await opened(client);
    t.same(await cookies, ['sid=42; HttpOnly'], `${transport}: the cookie arrives`);
    t.equal(requests.at(-1), transport, `${transport}: the listener got the request`);
  }
  // `ws`'s own client reads the cookie from its IncomingMessage.
  const tlsOptions = { ca, servername: 'localhost' }; // servername goes on to tls.connect(); @types/ws does not list it
  const wsClient = new WsWebSocket(`wss://127.0.0.1:${port}/`, tlsOptions);
  t.teardown(() => wsClient.terminate());
  const wsCookies = await new Promise<string[] | undefined>((resolve, reject) => {
    wsClient.once('upgrade', (response) => resolve(response.headers['set-cookie']));
    wsClient.once('error', reject);
  });
  t.same(wsCookies, ['sid=42; HttpOnly'], 'ws client: the cookie arrives');
  // A line that would split the response is never sent: the handshake is refused with 500.
  wss.removeAllListeners('headers');
  wss.on('headers', (headers) => headers.push('X-Note: a\r\nX-Injected: 1'));
  const refused = new WebSocket(`wss://127.0.0.1:${port}/`, { ca, transport: 'http/1.1', servername: 'localhost' });
  t.equal(((await handshakeFailure(refused)) as HandshakeError).status, 500);
});

row('WebSocketServer events', 'error', async (t) => {
  const blocker = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  t.teardown(() => blocker.close());
  await new Promise((resolve) => blocker.once('listening', resolve));
  const wss = new WebSocketServer({ port: blocker.address()!.port, host: '127.0.0.1' });
  t.teardown(() => wss.close());
  const error = await new Promise<Error>((resolve) => wss.once('error', resolve));
  t.equal((error as NodeJS.ErrnoException).code, 'EADDRINUSE');
});

row('WebSocketServer events', 'listening', async (t) => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  t.teardown(() => wss.close());
  const address = await new Promise<AddressInfo>((resolve) => wss.once('listening', resolve));
  t.same(address, wss.address());
});

row('WebSocketServer events', 'close', async (t) => {
  const wss = new WebSocketServer({ noServer: true });
  await wss.listen({ port: 0, host: '127.0.0.1' });
  const closeEvent = new Promise<void>((resolve) => wss.once('close', resolve));
  await wss.close();
  await closeEvent;
  t.pass("'close' after close()");
});

// ---- WebSocketServer methods and properties ----------------------------------

row('WebSocketServer methods and properties', 'address', async (t) => {
  const served = await serve(t);
  const address = served.wss.address();
  t.equal(address?.address, '127.0.0.1');
  t.equal(`ws://127.0.0.1:${address?.port}`, served.url);
});

row('WebSocketServer methods and properties', 'clients', async (t) => {
  const served = await serve(t);
  const { client, server } = await pair(t, served);
  t.ok(served.wss.clients instanceof Set);
  t.same([...served.wss.clients], [server]);
  client.close();
  await closed(server);
  t.equal(served.wss.clients.size, 0);
});

row('WebSocketServer methods and properties', 'close', async (t) => {
  const wss = new WebSocketServer({ noServer: true });
  const { port } = await wss.listen({ port: 0, host: '127.0.0.1' });
  const client = new WebSocket(`ws://127.0.0.1:${port}/`);
  await opened(client);
  const clientClosed = closed(client);
  const error = await new Promise<Error | undefined>((resolve) => wss.close(resolve));
  t.equal(error, undefined, 'the callback runs once closed, without an error');
  t.same(await clientClosed, [1001, 'server shutting down'], 'sessions are closed with 1001 (ws 8 leaves them open)');
});

row('WebSocketServer methods and properties', 'handleUpgrade', async (t) => {
  const server = http.createServer();
  const wss = new WebSocketServer({ noServer: true });
  const handled = new Promise<[WebSocket, trident.HandshakeRequest]>((resolve) => {
    server.on('upgrade', (req, socket: Socket, head) => {
      void wss.handleUpgrade(req, socket, head, (ws, request) => resolve([ws, request]));
    });
  });
  let emitted = 0;
  wss.on('connection', () => emitted++);
  t.teardown(async () => {
    await wss.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = await connect(t, `ws://127.0.0.1:${(server.address() as AddressInfo).port}/x`);
  const [ws, request] = await handled;
  t.equal(request.url, '/x');
  ws.send('hi');
  t.equal(String((await nextMessage(client))[0]), 'hi');
  t.equal(emitted, 0, "with a callback, no 'connection' (as in ws)");
});

row('WebSocketServer methods and properties', 'shouldHandle', async (t) => {
  const served = await serve(t, { shouldHandle: (request) => request.pathname.startsWith('/ws/') });
  t.equal(served.wss.shouldHandle(new trident.HandshakeRequest({ transport: 'http/1.1', method: 'GET', scheme: 'http', authority: 'x', url: '/ws/a?b', headers: {}, httpVersion: '1.1' })), true);
  await connect(t, `${served.url}/ws/room`);
  const refused = await handshakeFailure(new WebSocket(`${served.url}/other`));
  t.equal((refused as HandshakeError).status, 404);
});

