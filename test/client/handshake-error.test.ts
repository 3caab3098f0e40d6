// A refused or failed client handshake is a typed HandshakeError with a
// stable code; a refusal carries the server's status, headers and body on
// every transport, after an 'unexpected-response' event (as ws has).
import dgram from 'node:dgram';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import t from 'tap';
import { HandshakeError, rejectHandshake, WebSocket, WebSocketServer, type UnexpectedResponse } from '../../src/index.js';
import { makeTls } from '../transports/http2/tls.js';

const { tls, ca } = makeTls();

/** The events of a failed handshake, in order, with the error. */
function failure(ws: WebSocket): Promise<{ events: string[]; error: Error; response: UnexpectedResponse | null; close: [number, string] }> {
  const events: string[] = [];
  let error: Error | null = null;
  let response: UnexpectedResponse | null = null;
  ws.on('unexpected-response', (r) => {
    events.push('unexpected-response');
    response = r;
  });
  ws.on('open', () => events.push('open'));
  ws.on('error', (e) => {
    events.push('error');
    error = e;
  });
  return new Promise((resolve) =>
    ws.once('close', (code, reason) => {
      events.push('close');
      resolve({ events, error: error!, response, close: [code, reason] });
    }),
  );
}

t.test('a 401 with a header and a body reaches the client as a HandshakeError on h1, h2 and h3', async (t) => {
  const wss = new WebSocketServer({
    noServer: true,
    authenticate: () => rejectHandshake(401, 'login first', { 'www-authenticate': 'Bearer realm="chat"' }),
  });
  const { port } = await wss.listen({ host: '127.0.0.1', port: 0, tls, http3: true });
  t.teardown(() => wss.close());
  for (const transport of ['http/1.1', 'h2', 'h3'] as const) {
    const { events, error, response, close } = await failure(new WebSocket(`wss://127.0.0.1:${port}/`, { ca, transport }));
    t.same(events, ['unexpected-response', 'error', 'close'], `${transport}: events in order`);
    t.ok(error instanceof HandshakeError, `${transport}: a HandshakeError`);
    const refusal = error as HandshakeError;
    t.equal(refusal.code, 'UNEXPECTED_RESPONSE', transport);
    t.equal(refusal.status, 401, transport);
    t.equal(refusal.headers?.['www-authenticate'], 'Bearer realm="chat"', transport);
    t.equal(refusal.body, 'login first\n', transport);
    t.equal(refusal.message, 'unexpected server response: 401', transport);
    t.same(response, { status: 401, headers: refusal.headers, body: 'login first\n' }, `${transport}: 'unexpected-response' carries the same`);
    t.same(close, [1006, ''], transport);
  }
});

t.test('a server that never answers: TIMEOUT', async (t) => {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  const port = (server.address() as net.AddressInfo).port;
  const { error } = await failure(new WebSocket(`ws://127.0.0.1:${port}/`, { handshakeTimeout: 100 }));
  t.ok(error instanceof HandshakeError);
  t.equal((error as HandshakeError).code, 'TIMEOUT');
  t.equal((error as HandshakeError).status, undefined, 'no response');
});

t.test('close() before the answer: ABORTED', async (t) => {
  const server = net.createServer(() => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as net.AddressInfo).port}/`);
  const result = failure(client);
  client.close();
  const { error } = await result;
  t.equal((error as HandshakeError).code, 'ABORTED');
});

t.test("transport 'h2' against a server without HTTP/2 says so", async (t) => {
  const server = https.createServer({ ...tls, ALPNProtocols: ['http/1.1'] }, (_req, res) => res.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const { error } = await failure(new WebSocket(`wss://localhost:${port}/`, { ca, transport: 'h2' }));
  t.ok(error instanceof HandshakeError);
  t.equal((error as HandshakeError).code, 'H2_UNAVAILABLE');
  t.equal(error.message, `https://localhost:${port} does not speak HTTP/2 (its TLS server refused ALPN h2); use transport 'http/1.1' or 'auto'`);
});

t.test("transport 'h3' where nothing listens on the UDP port fails on the ICMP error, naming the port", async (t) => {
  // A port that was just free: ours, closed again.
  const probe = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
  const port = probe.address().port;
  await new Promise<void>((resolve) => probe.close(resolve));
  // A handshake timeout far beyond the test's own: only the ICMP path can end it in time.
  const { error } = await failure(new WebSocket(`wss://127.0.0.1:${port}/`, { ca, transport: 'h3', handshakeTimeout: 600_000 }));
  t.ok(error instanceof HandshakeError);
  t.equal((error as HandshakeError).code, 'H3_UNAVAILABLE');
  t.equal(error.message, `no HTTP/3 WebSocket server at udp://127.0.0.1:${port}: nothing listens on UDP 127.0.0.1:${port} (ICMP port unreachable)`);
});

t.test("transport 'h2' against an HTTP/2 server without extended CONNECT: H2_UNAVAILABLE", async (t) => {
  const server = http2.createSecureServer({ ...tls });
  server.on('stream', (stream) => stream.respond({ ':status': 404 }, { endStream: true }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const { error } = await failure(new WebSocket(`wss://localhost:${port}/`, { ca, transport: 'h2' }));
  t.equal((error as HandshakeError).code, 'H2_UNAVAILABLE');
  t.match(error.message, /no SETTINGS_ENABLE_CONNECT_PROTOCOL/);
});

t.test('a 101 with a wrong Sec-WebSocket-Accept: INVALID_RESPONSE', async (t) => {
  const server = net.createServer((socket) =>
    socket.once('data', () => socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: wrong\r\n\r\n')),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const { error } = await failure(new WebSocket(`ws://127.0.0.1:${(server.address() as net.AddressInfo).port}/`));
  t.equal((error as HandshakeError).code, 'INVALID_RESPONSE');
  t.equal(error.message, 'invalid Sec-WebSocket-Accept');
});
