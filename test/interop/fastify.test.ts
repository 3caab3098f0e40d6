// trident-ws attached to a Fastify application running on HTTP/2 (Fastify's
// `http2: true` server, which uses Node's compatibility 'request' API): the
// application's routes and the WebSockets share one TLS port and one HTTP/2
// connection; HTTP/1.1 clients (allowHTTP1) upgrade on the same port.
import http2 from 'node:http2';
import Fastify from 'fastify';
import t from 'tap';
import WS from 'ws';
import { WebSocket, WebSocketServer } from '../../src/index.js';
import { connectH2 } from '../conformance/http2-target.js';
import { makeTls } from '../transports/http2/tls.js';

const { tls, ca } = makeTls();

function get(session: http2.ClientHttp2Session, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = session.request({ ':path': path });
    let body = '';
    let status = 0;
    request.setEncoding('utf8');
    request.on('response', (headers) => (status = Number(headers[':status'])));
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => resolve({ status, body }));
    request.on('error', reject);
  });
}

t.test('Fastify on HTTP/2 with trident attached: routes and WebSockets on one connection', async (t) => {
  const app = Fastify({ http2: true, https: { ...tls, allowHTTP1: true } });
  app.get('/hello', async (request) => `hello over HTTP/${request.raw.httpVersion}`);
  const wss = new WebSocketServer({ server: app.server, path: '/live' });
  const transports: string[] = [];
  wss.on('connection', (ws: WebSocket) => {
    transports.push(ws.transport ?? '?');
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(async () => {
    await wss.close();
    await app.close();
  });
  const { port } = app.server.address() as { port: number };
  const origin = `https://localhost:${port}`;

  // Fastify's own route, and its 404, over HTTP/2; the connection allows extended CONNECT.
  const session = await connectH2(origin, ca);
  t.teardown(() => session.close());
  t.equal(session.remoteSettings.enableConnectProtocol, true, 'SETTINGS_ENABLE_CONNECT_PROTOCOL on Fastify\'s server');
  t.same(await get(session, '/hello'), { status: 200, body: 'hello over HTTP/2.0' });
  t.equal((await get(session, '/nowhere')).status, 404, "Fastify's 404 for other paths");

  // A WebSocket over HTTP/2 (our client, RFC 8441) and one over HTTP/1.1 (ws) on the same port.
  const h2 = new WebSocket(`wss://localhost:${port}/live`, { transport: 'h2', ca, http2IdleTimeout: 50 });
  await new Promise((resolve, reject) => (h2.once('open', resolve), h2.once('error', reject)));
  t.equal(h2.transport, 'h2');
  const h2Echo = new Promise((resolve) => h2.once('message', (data: Buffer) => resolve(data.toString())));
  h2.send('over h2');
  t.equal(await h2Echo, 'over h2');

  const h1 = new WS(`wss://localhost:${port}/live`, { ca });
  await new Promise((resolve, reject) => (h1.once('open', resolve), h1.once('error', reject)));
  const h1Echo = new Promise((resolve) => h1.once('message', (data: Buffer) => resolve(data.toString())));
  h1.send('over http/1.1');
  t.equal(await h1Echo, 'over http/1.1');
  t.same(transports.sort(), ['h2', 'http/1.1'], 'the server saw one WebSocket per transport');

  // The HTTP/2 connection still serves Fastify's routes beside the open WebSocket.
  t.same(await get(session, '/hello'), { status: 200, body: 'hello over HTTP/2.0' });

  const closed = (ws: { once(event: 'close', listener: (code: number) => void): unknown }) =>
    new Promise<number>((resolve) => ws.once('close', resolve));
  const h2Closed = closed(h2);
  const h1Closed = closed(h1);
  h2.close(1000);
  h1.close(1000);
  t.same(await Promise.all([h2Closed, h1Closed]), [1000, 1000], 'both closed cleanly');
});
