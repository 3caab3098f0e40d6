// docs/migrating-from-ws.md, client and session side: each test is one row of
// the guide and runs the `ws` 8 way of doing it (or its documented replacement).
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { WebSocket, WebSocketServer, type MessageEvent, type CloseEvent, type ErrorEvent } from '../../src/index.js';
import { makeTls } from '../transports/http2/tls.js';
import { closed, connect, handshakeFailure, HandshakeError, nextMessage, opened, pair, row, serve, type Served } from './helpers.js';

const { tls, ca } = makeTls();

async function echo(t: Parameters<Parameters<typeof row>[2]>[0], options: ConstructorParameters<typeof WebSocketServer>[0] = {}): Promise<Served> {
  const served = await serve(t, options);
  served.wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary })));
  return served;
}

// ---- WebSocket client options ------------------------------------------------

row('WebSocket client options', 'address', async (t) => {
  const served = await serve(t);
  const ws = await connect(t, new URL(`${served.url}/a?b=1`) as unknown as string);
  t.equal(ws.url, `${served.url}/a?b=1`, 'a URL object works like a string');
  t.throws(() => new WebSocket(served.url.replace('ws:', 'http:')), { name: 'SyntaxError' }, 'http: is refused');
});

row('WebSocket client options', 'protocols', async (t) => {
  const served = await serve(t);
  t.equal((await connect(t, served.url, 'chat')).protocol, 'chat');
  t.equal((await connect(t, served.url, ['v2', 'v1'])).protocol, 'v2', 'the server default picks the first');
});

row('WebSocket client options', 'headers', async (t) => {
  const served = await serve(t);
  const { request } = await pair(t, served, { headers: { cookie: 'sid=1', 'x-trace': 'abc' } });
  t.equal(request.headers.cookie, 'sid=1');
  t.equal(request.headers['x-trace'], 'abc');
});

row('WebSocket client options', 'origin', async (t) => {
  const served = await serve(t);
  const { request } = await pair(t, served, { origin: 'https://app.example' });
  t.equal(request.headers.origin, 'https://app.example');
});

row('WebSocket client options', 'handshakeTimeout', async (t) => {
  const sockets: net.Socket[] = [];
  const silent = net.createServer((socket) => sockets.push(socket)); // accepts and never answers
  t.teardown(() => {
    sockets.forEach((socket) => socket.destroy());
    silent.close();
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const ws = new WebSocket(`ws://127.0.0.1:${(silent.address() as AddressInfo).port}/`, { handshakeTimeout: 100 });
  const error = await handshakeFailure(ws);
  t.ok(error instanceof HandshakeError);
  t.equal((error as HandshakeError).code, 'TIMEOUT');
});

row('WebSocket client options', 'perMessageDeflate', async (t) => {
  const served = await echo(t, { perMessageDeflate: true });
  const byDefault = await connect(t, served.url);
  t.match(byDefault.extensions, /^permessage-deflate/, 'offered by default, as in ws');
  const off = await connect(t, served.url, { perMessageDeflate: false });
  t.equal(off.extensions, '');
});

row('WebSocket client options', 'maxPayload', async (t) => {
  const served = await serve(t);
  const { client, server } = await pair(t, served, { maxMessageSize: 10 });
  server.send('0123456789');
  t.equal(String((await nextMessage(client))[0]), '0123456789');
  server.send('0123456789x');
  t.equal((await closed(client))[0], 1009);
});

row('WebSocket client options', 'maxFragments', async (t) => {
  const served = await serve(t);
  const { client, server } = await pair(t, served, { maxFramesPerMessage: 2 });
  for (let i = 0; i < 3; i++) server.send(String(i), { fin: i === 2 });
  t.equal((await closed(client))[0], 1009);
});

row('WebSocket client options', 'closeTimeout', async (t) => {
  const served = await serve(t);
  const { client, server } = await pair(t, served, { closeTimeout: 200 });
  server.pause(); // never reads the client's close frame
  const started = Date.now();
  client.close(1000);
  t.equal((await closed(client))[0], 1006);
  t.ok(Date.now() - started < 5000, 'after closeTimeout, not the 10 s default');
});

async function tlsServer(t: Parameters<Parameters<typeof row>[2]>[0]): Promise<number> {
  const wss = new WebSocketServer({ noServer: true });
  t.teardown(() => wss.close());
  return (await wss.listen({ port: 0, host: '127.0.0.1', tls })).port;
}

row('WebSocket client options', 'rejectUnauthorized', async (t) => {
  const port = await tlsServer(t);
  const refused = await handshakeFailure(new WebSocket(`wss://localhost:${port}/`, { transport: 'http/1.1' }));
  t.match((refused as NodeJS.ErrnoException).code, /CERT|SELF_SIGNED|UNABLE_TO/, 'an unknown CA is refused by default');
  await connect(t, `wss://localhost:${port}/`, { rejectUnauthorized: false, transport: 'http/1.1' });
});

row('WebSocket client options', 'ca', async (t) => {
  const port = await tlsServer(t);
  const ws = await connect(t, `wss://127.0.0.1:${port}/`, { ca, servername: 'localhost' });
  t.equal(ws.readyState, WebSocket.OPEN);
  // A client certificate (cert, key) reaches the server.
  const server = https.createServer({ ...tls, requestCert: true, rejectUnauthorized: false });
  const presented = new Promise<boolean>((resolve) =>
    server.on('secureConnection', (socket: TLSSocket) => resolve(Object.keys(socket.getPeerCertificate()).length > 0)),
  );
  const wss = new WebSocketServer({ server });
  t.teardown(async () => {
    await wss.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await connect(t, `wss://127.0.0.1:${(server.address() as AddressInfo).port}/`, { ca, servername: 'localhost', cert: tls.cert, key: tls.key });
  t.equal(await presented, true, 'the client certificate was presented');
});

// ---- WebSocket events --------------------------------------------------------

row('WebSocket events', 'open', async (t) => {
  const served = await serve(t);
  const ws = new WebSocket(served.url);
  t.teardown(() => ws.terminate());
  t.equal(ws.readyState, WebSocket.CONNECTING);
  await new Promise<void>((resolve) => ws.on('open', resolve));
  t.equal(ws.readyState, WebSocket.OPEN);
});

row('WebSocket events', 'message', async (t) => {
  const served = await echo(t);
  const ws = await connect(t, served.url);
  ws.send('text');
  const [text, textIsBinary] = await nextMessage(ws);
  t.ok(Buffer.isBuffer(text), 'text arrives as a Buffer, as in ws 8');
  t.equal(String(text), 'text');
  t.equal(textIsBinary, false);
  ws.send(Buffer.from([1, 2, 3]));
  const [binary, isBinary] = await nextMessage(ws);
  t.same([...(binary as Buffer)], [1, 2, 3]);
  t.equal(isBinary, true);
});

row('WebSocket events', 'close', async (t) => {
  const served = await serve(t);
  const { client, server } = await pair(t, served);
  server.close(4000, 'héllo');
  const [code, reason] = await closed(client);
  t.equal(code, 4000);
  t.equal(typeof reason, 'string', 'a string, not a Buffer (decided: see the guide)');
  t.equal(reason.toString(), 'héllo', "ws code's reason.toString() still works");
});

row('WebSocket events', 'error', async (t) => {
  const served = await serve(t);
  const { client, server } = await pair(t, served);
  // A peer's protocol error with no 'error' listener: no crash (ws would throw).
  t.equal(server.listenerCount('error'), 0);
  const errors: Error[] = [];
  client.on('error', (error) => errors.push(error));
  server.send(Buffer.from([0xff, 0xfe]), { binary: false }); // invalid UTF-8 in a text message
  t.equal((await closed(client))[0], 1007);
  t.equal(errors.length, 1, 'a listener gets the error');
});

row('WebSocket events', 'ping', async (t) => {
  const served = await serve(t);
  const { client, server } = await pair(t, served);
  const pong = new Promise<Buffer>((resolve) => server.once('pong', resolve));
  const ping = new Promise<Buffer>((resolve) => client.once('ping', resolve));
  server.ping('are you there');
  t.equal(String(await ping), 'are you there');
  t.equal(String(await pong), 'are you there', 'answered automatically');
});

row('WebSocket events', 'pong', async (t) => {
  const served = await serve(t);
  const { client, server } = await pair(t, served);
  const pong = new Promise<Buffer>((resolve) => server.once('pong', resolve));
  client.pong('unsolicited');
  t.equal(String(await pong), 'unsolicited');
});

row('WebSocket events', 'unexpected-response', async (t) => {
  const served = await serve(t, { authenticate: () => false });
  const ws = new WebSocket(served.url);
  const response = new Promise<{ status: number; body: string }>((resolve) => ws.once('unexpected-response', resolve));
  const closeEvent = closed(ws);
  const error = await handshakeFailure(ws);
  t.equal((await response).status, 401);
  t.equal((error as HandshakeError).status, 401);
  t.same(await closeEvent, [1006, ''], "then 'close' with 1006");
});

row('WebSocket events', 'upgrade', async (t) => {
  // `ws` code reads the success answer's headers here; it gets { status, headers } instead of an IncomingMessage.
  const served = await serve(t);
  served.wss.on('headers', (headers) => headers.push('Set-Cookie: sid=1'));
  const ws = new WebSocket(served.url);
  t.teardown(() => ws.terminate());
  const events: string[] = [];
  const upgrade = new Promise<{ status: number; cookies: string[] | undefined }>((resolve) =>
    ws.on('upgrade', (response) => {
      events.push('upgrade');
      resolve({ status: response.status, cookies: response.headers['set-cookie'] });
    }),
  );
  ws.on('open', () => events.push('open'));
  await opened(ws);
  t.same(await upgrade, { status: 101, cookies: ['sid=1'] });
  t.same(events, ['upgrade', 'open'], "once, before 'open'");
});

// ---- WebSocket methods and properties ----------------------------------------

row('WebSocket methods and properties', 'send', async (t) => {
  const served = await echo(t, { perMessageDeflate: true });
  const ws = await connect(t, served.url);
  const sent = new Promise<Error | null | undefined>((resolve) => t.equal(ws.send('a', { binary: true, compress: false }, resolve), true, 'returns true while nothing waits'));
  t.notOk(await sent, 'the callback runs once the data was handed on');
  const [data, isBinary] = await nextMessage(ws);
  t.same([String(data), isBinary], ['a', true]);
  ws.send('x', { fin: false });
  ws.send('y', { fin: true });
  t.equal(String((await nextMessage(ws))[0]), 'xy', 'fragments with fin');
});

row('WebSocket methods and properties', 'close', async (t) => {
  const served = await serve(t);
  const { client, server } = await pair(t, served);
  client.close(4001, Buffer.from('as a buffer'));
  t.same(await closed(server), [4001, 'as a buffer'], 'a Buffer reason, as ws takes');
  const other = await pair(t, served);
  t.throws(() => other.client.close(4000, 'x'.repeat(124)), TypeError, 'a reason beyond 123 bytes (RFC 6455 §5.5) throws');
});

row('WebSocket methods and properties', 'terminate', async (t) => {
  const served = await serve(t);
  const { client, server } = await pair(t, served);
  client.terminate();
  t.equal((await closed(server))[0], 1006);
});

row('WebSocket methods and properties', 'ping', async (t) => {
  const served = await serve(t);
  const { client, server } = await pair(t, served);
  const ping = new Promise<Buffer>((resolve) => server.once('ping', resolve));
  const error = await new Promise<Error | null | undefined>((resolve) => client.ping('p', true, resolve));
  t.notOk(error, "ws's ping(data, mask, cb): the callback runs");
  t.equal(String(await ping), 'p');
  const second = new Promise<Buffer>((resolve) => server.once('ping', resolve));
  await new Promise<Error | null | undefined>((resolve) => client.ping('q', resolve));
  t.equal(String(await second), 'q', 'ping(data, cb) too');
});

row('WebSocket methods and properties', 'pong', async (t) => {
  const served = await serve(t);
  const { client, server } = await pair(t, served);
  const pong = new Promise<Buffer>((resolve) => client.once('pong', resolve));
  const error = await new Promise<Error | null | undefined>((resolve) => server.pong('p', false, resolve));
  t.notOk(error, 'the callback runs without an error');
  t.equal(String(await pong), 'p');
});

row('WebSocket methods and properties', 'pause', async (t) => {
  const served = await serve(t);
  const { client, server } = await pair(t, served);
  client.pause();
  let received = 0;
  client.on('message', () => received++);
  server.send('held');
  await new Promise((resolve) => server.ping('', resolve)); // sent after 'held'
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(received, 0, 'nothing delivered while paused');
  client.resume();
  await new Promise((resolve) => (received > 0 ? resolve(undefined) : client.once('message', resolve)));
  t.equal(received, 1);
});

row('WebSocket methods and properties', 'resume', async (t) => {
  const served = await serve(t);
  const { client, server } = await pair(t, served);
  client.pause();
  server.send('later');
  const message = nextMessage(client);
  client.resume();
  t.equal(String((await message)[0]), 'later');
});

row('WebSocket methods and properties', 'isPaused', async (t) => {
  const served = await serve(t);
  const ws = await connect(t, served.url);
  t.equal(ws.isPaused, false);
  ws.pause();
  t.equal(ws.isPaused, true);
  ws.resume();
  t.equal(ws.isPaused, false);
});

row('WebSocket methods and properties', 'addEventListener', async (t) => {
  const served = await echo(t);
  const ws = await connect(t, served.url);
  const events: string[] = [];
  ws.addEventListener('message', (event) => events.push(String((event as MessageEvent).data)), { once: true });
  ws.send('one');
  await nextMessage(ws);
  ws.send('two');
  await nextMessage(ws);
  t.same(events, ['one'], '{ once: true } as in ws; text data as a string');
});

row('WebSocket methods and properties', 'removeEventListener', async (t) => {
  const served = await echo(t);
  const ws = await connect(t, served.url);
  const events: unknown[] = [];
  const listener = (event: unknown) => events.push(event);
  ws.addEventListener('message', listener);
  ws.removeEventListener('message', listener);
  ws.send('x');
  await nextMessage(ws);
  t.same(events, []);
});

row('WebSocket methods and properties', 'binaryType', async (t) => {
  const served = await echo(t);
  const ws = await connect(t, served.url);
  t.equal(ws.binaryType, 'nodebuffer');
  ws.binaryType = 'arraybuffer';
  ws.send(Buffer.from([7]));
  const [data] = await nextMessage(ws);
  t.ok(data instanceof ArrayBuffer);
  ws.binaryType = 'fragments' as 'blob';
  t.equal(ws.binaryType, 'arraybuffer', "'fragments' is ignored like any unknown value");
});

row('WebSocket methods and properties', 'bufferedAmount', async (t) => {
  const served = await serve(t);
  const { client, server } = await pair(t, served);
  server.pause();
  t.equal(client.bufferedAmount, 0);
  const chunk = Buffer.alloc(1024 * 1024);
  while (client.send(chunk)); // until backpressure
  t.ok(client.bufferedAmount > 0, 'counts what waits');
  server.resume();
  await new Promise((resolve) => client.once('drain', resolve));
  t.ok(client.bufferedAmount < 64 * 1024, "'drain' once it went out");
});

row('WebSocket methods and properties', 'extensions', async (t) => {
  const served = await serve(t, { perMessageDeflate: true });
  const { client, server } = await pair(t, served);
  t.match(client.extensions, /^permessage-deflate/);
  t.equal(server.extensions, client.extensions);
});

row('WebSocket methods and properties', 'protocol', async (t) => {
  const served = await serve(t);
  const accepted = served.nextConnection();
  const client = await connect(t, served.url, ['mqtt']);
  t.equal(client.protocol, 'mqtt');
  t.equal((await accepted)[0].protocol, 'mqtt');
});

row('WebSocket methods and properties', 'readyState', async (t) => {
  const served = await serve(t);
  const ws = new WebSocket(served.url);
  t.equal(ws.readyState, WebSocket.CONNECTING);
  await opened(ws);
  t.equal(ws.readyState, WebSocket.OPEN);
  ws.close();
  t.equal(ws.readyState, WebSocket.CLOSING);
  await closed(ws);
  t.equal(ws.readyState, WebSocket.CLOSED);
});

row('WebSocket methods and properties', 'url', async (t) => {
  const served = await serve(t);
  const ws = await connect(t, `${served.url}/room?x=1`);
  t.equal(ws.url, `${served.url}/room?x=1`);
});

row('WebSocket methods and properties', 'onopen', async (t) => {
  const served = await serve(t);
  const ws = new WebSocket(served.url);
  t.teardown(() => ws.terminate());
  await new Promise<void>((resolve) => (ws.onopen = () => resolve()));
  t.equal(ws.readyState, WebSocket.OPEN);
});

row('WebSocket methods and properties', 'onmessage', async (t) => {
  const served = await echo(t);
  const ws = await connect(t, served.url);
  const data = new Promise<unknown>((resolve) => (ws.onmessage = (event) => resolve((event as MessageEvent).data)));
  ws.send('via onmessage');
  t.equal(await data, 'via onmessage');
});

row('WebSocket methods and properties', 'onclose', async (t) => {
  const served = await serve(t);
  const { client, server } = await pair(t, served);
  const event = new Promise<CloseEvent>((resolve) => (client.onclose = (e) => resolve(e as CloseEvent)));
  server.close(1000, 'done');
  const { code, reason, wasClean } = await event;
  t.same({ code, reason, wasClean }, { code: 1000, reason: 'done', wasClean: true });
});

row('WebSocket methods and properties', 'onerror', async (t) => {
  const served = await serve(t, { authenticate: () => false });
  const ws = new WebSocket(served.url);
  const message = await new Promise<string>((resolve) => (ws.onerror = (event) => resolve((event as ErrorEvent).message)));
  t.match(message, /401/);
});

row('WebSocket methods and properties', 'CONNECTING', async (t) => {
  const served = await serve(t);
  const ws = await connect(t, served.url);
  t.same([ws.CONNECTING, ws.OPEN, ws.CLOSING, ws.CLOSED], [0, 1, 2, 3]);
});
