// The HTTP/2 client (RFC 8441): transport 'h2', connection sharing, 'auto'
// selection and fallback, and a hand-written server as independent peer.
import { once } from 'node:events';
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import t from 'tap';
import { WebSocket, WebSocketServer, type HandshakeRequest } from '../../../src/index.js';
import { buildFrame, OP } from '../../helpers/frames.js';
import { makeTls } from './tls.js';

const { tls, ca } = makeTls();

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => ws.once('message', (data: Buffer) => resolve(data.toString())));
}

function closed(ws: WebSocket): Promise<[number, string]> {
  return new Promise((resolve) => ws.once('close', (code: number, reason: string) => resolve([code, reason])));
}

t.test("transport 'h2': several WebSockets share one connection, which closes after the last", async (t) => {
  const app = http2.createSecureServer({ ...tls });
  const wss = new WebSocketServer({ server: app });
  const requests: HandshakeRequest[] = [];
  wss.on('connection', (ws: WebSocket, request: HandshakeRequest) => {
    requests.push(request);
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  const sessions: http2.ServerHttp2Session[] = [];
  app.on('session', (session) => sessions.push(session));
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  const port = (app.address() as { port: number }).port;
  t.teardown(() => app.close());
  const clients = [1, 2, 3].map(() => new WebSocket(`wss://localhost:${port}/echo`, { ca, transport: 'h2', http2IdleTimeout: 100 }));
  await Promise.all(clients.map(opened));
  for (const [i, client] of clients.entries()) {
    t.equal(client.transport, 'h2');
    client.send(`message ${i}`);
    t.equal(await nextMessage(client), `message ${i}`);
  }
  t.equal(sessions.length, 1, 'one HTTP/2 connection for three WebSockets');
  t.equal(new Set(requests.map((r) => r.remotePort)).size, 1, 'all from the same client port');
  const sessionClosed = once(sessions[0], 'close');
  for (const client of clients) {
    client.close(1000, 'bye');
    t.same(await closed(client), [1000, ''], 'clean close');
  }
  await sessionClosed;
  t.pass('the connection closed after its last WebSocket (idle timeout)');
  await wss.close();
});

t.test("transport 'h2' fails clearly without SETTINGS_ENABLE_CONNECT_PROTOCOL", async (t) => {
  const app = http2.createSecureServer({ ...tls });
  app.on('stream', (stream) => stream.respond({ ':status': 404 }, { endStream: true }));
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  t.teardown(() => app.close());
  const client = new WebSocket(`wss://localhost:${(app.address() as { port: number }).port}/`, { ca, transport: 'h2' });
  const closing = closed(client); // 'close' follows 'error' at once
  const error = await new Promise<Error>((resolve) => client.once('error', resolve));
  t.match(error.message, /SETTINGS_ENABLE_CONNECT_PROTOCOL/);
  t.same(await closing, [1006, '']);
});

t.test("transport 'auto': HTTP/2 when offered, HTTP/1.1 otherwise", async (t) => {
  // 1. Our own server on a TLS port: h2 with extended CONNECT.
  const full = new WebSocketServer({ noServer: true });
  full.on('connection', (ws: WebSocket) => ws.send(`hello over ${ws.transport}`));
  const { port } = await full.listen({ host: '127.0.0.1', port: 0, tls });
  t.teardown(() => full.close());
  const viaH2 = new WebSocket(`wss://localhost:${port}/`, { ca });
  t.equal(await nextMessage(viaH2), 'hello over h2');
  t.equal(viaH2.transport, 'h2');
  viaH2.close();

  // 2. An HTTP/2 server without extended CONNECT (its WebSockets are HTTP/1.1 only).
  const h2NoConnect = http2.createSecureServer({ ...tls, allowHTTP1: true }, (_req, res) => res.end());
  const legacy = new WebSocketServer({ noServer: true });
  legacy.on('connection', (ws: WebSocket) => ws.send(`hello over ${ws.transport}`));
  h2NoConnect.on('upgrade', (req, socket, head) => void legacy.handleUpgrade(req, socket as Socket, head));
  await new Promise<void>((resolve) => h2NoConnect.listen(0, '127.0.0.1', resolve));
  t.teardown(() => h2NoConnect.close());
  const fallback = new WebSocket(`wss://localhost:${(h2NoConnect.address() as { port: number }).port}/`, { ca });
  t.equal(await nextMessage(fallback), 'hello over http/1.1', 'fell back to HTTP/1.1 Upgrade');
  fallback.terminate();

  // 3. An HTTPS/1.1-only server: ALPN picks http/1.1 and the same socket carries the upgrade.
  const https1 = new WebSocketServer({ noServer: true });
  https1.on('connection', (ws: WebSocket) => ws.send(`hello over ${ws.transport}`));
  const { createServer } = await import('node:https');
  const plain = createServer(tls);
  plain.on('upgrade', (req, socket, head) => void https1.handleUpgrade(req, socket as Socket, head));
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  t.teardown(() => plain.close());
  const connections: unknown[] = [];
  plain.on('secureConnection', (socket) => connections.push(socket));
  const h1 = new WebSocket(`wss://localhost:${(plain.address() as { port: number }).port}/`, { ca });
  t.equal(await nextMessage(h1), 'hello over http/1.1');
  t.equal(connections.length, 1, 'one TLS connection: the probe socket was reused');
  h1.terminate();
  await Promise.all([legacy.close(), https1.close()]);
});

t.test("ws:// with transport 'h2' uses h2c (prior knowledge)", async (t) => {
  const wss = new WebSocketServer({ noServer: true });
  wss.on('connection', (ws: WebSocket) => ws.on('message', (data: Buffer) => ws.send(data, { binary: false })));
  const { port } = await wss.listen({ host: '127.0.0.1', port: 0, h2c: true });
  t.teardown(() => wss.close());
  const client = new WebSocket(`ws://127.0.0.1:${port}/`, { transport: 'h2' });
  await opened(client);
  t.equal(client.transport, 'h2');
  client.send('cleartext h2');
  t.equal(await nextMessage(client), 'cleartext h2');
  client.close(1000);
  await closed(client);
});

t.test('against a hand-written HTTP/2 server: masked frames out, refusals reported', async (t) => {
  const app = http2.createSecureServer({ ...tls, settings: { enableConnectProtocol: true } });
  const seen: Buffer[] = [];
  app.on('stream', (stream, headers) => {
    if (headers[':path'] === '/refuse') {
      stream.respond({ ':status': 403 }, { endStream: true });
      return;
    }
    t.equal(headers[':method'], 'CONNECT');
    t.equal(headers[':protocol'], 'websocket');
    t.equal(headers['sec-websocket-version'], '13');
    t.equal(headers['sec-websocket-key'], undefined, 'no key over HTTP/2');
    stream.respond({ ':status': 200 });
    stream.write(buildFrame({ opcode: OP.TEXT, payload: 'from a raw server', mask: false }));
    stream.on('data', (chunk: Buffer) => seen.push(chunk));
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  t.teardown(() => app.close());
  const port = (app.address() as { port: number }).port;
  const client = new WebSocket(`wss://localhost:${port}/ws`, { ca, transport: 'h2', perMessageDeflate: false, http2IdleTimeout: 50 });
  t.equal(await nextMessage(client), 'from a raw server');
  client.send('x');
  await new Promise<void>((resolve) => {
    const check = setInterval(() => seen.length > 0 && resolve(clearInterval(check)), 5);
  });
  const frame = Buffer.concat(seen);
  t.equal(frame[0], 0x81, 'FIN + text');
  t.equal(frame[1], 0x81, 'masked, length 1');
  t.equal(frame[6] ^ frame[2], 'x'.charCodeAt(0), 'payload masked with the key');
  client.terminate();
  const refused = new WebSocket(`wss://localhost:${port}/refuse`, { ca, transport: 'h2', http2IdleTimeout: 50 });
  const error = await new Promise<Error>((resolve) => refused.once('error', resolve));
  t.match(error.message, /403/);
});

t.test('1,200 WebSockets one after another on one connection: closed without resets', async (t) => {
  // nghttp2 sends GOAWAY after ~1,000 RST_STREAMs on a session (rapid-reset
  // mitigation); ending WebSocket streams by close handshake + END_STREAM never counts.
  const wss = new WebSocketServer({ noServer: true });
  const ports = new Set<number | undefined>();
  wss.on('connection', (ws: WebSocket, request: HandshakeRequest) => {
    ports.add(request.remotePort);
    ws.on('message', (data: Buffer) => ws.send(data));
  });
  const { port } = await wss.listen({ host: '127.0.0.1', port: 0, tls });
  t.teardown(() => wss.close());
  let clean = 0;
  for (let i = 0; i < 1200; i++) {
    const client = new WebSocket(`wss://localhost:${port}/`, { ca, transport: 'h2', http2IdleTimeout: 50 });
    await opened(client);
    const done = closed(client);
    client.close(1000);
    if ((await done)[0] === 1000 && client.wasClean) clean++;
  }
  t.equal(clean, 1200, 'every close was clean');
  t.equal(ports.size, 1, 'all rode the same connection (no GOAWAY forced a new one)');
});
