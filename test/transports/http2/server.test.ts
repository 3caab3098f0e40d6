// HTTP/2-specific server behaviour (RFC 8441), with Node's own http2 client
// speaking extended CONNECT by hand as the independent peer.
import { once } from 'node:events';
import http2 from 'node:http2';
import pino from 'pino';
import t from 'tap';
import { WebSocketServer, type WebSocket } from '../../../src/index.js';
import { buildFrame, closeFrame, OP, parseClosePayload } from '../../helpers/frames.js';
import { StreamPeer } from '../../helpers/stream-peer.js';
import { connectH2, extendedConnect } from '../../conformance/http2-target.js';
import { makeTls } from './tls.js';

const { tls, ca } = makeTls();

async function echoServer(options: ConstructorParameters<typeof WebSocketServer>[0] = {}) {
  const wss = new WebSocketServer({ noServer: true, path: '/echo', ...options });
  const sessions: WebSocket[] = [];
  wss.on('connection', (ws: WebSocket) => {
    sessions.push(ws);
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  const { port } = await wss.listen({ host: '127.0.0.1', port: 0, tls });
  return { wss, origin: `https://127.0.0.1:${port}`, sessions };
}

function peerOf(stream: http2.ClientHttp2Stream, headers: http2.IncomingHttpHeaders): StreamPeer {
  return new StreamPeer(stream, { status: Number(headers[':status']), headers: headers as Record<string, string> }, new Uint8Array(0));
}

async function echoOnce(peer: StreamPeer, text: string): Promise<string> {
  await peer.write(buildFrame({ opcode: OP.TEXT, payload: text }));
  const frame = await peer.nextFrame(3000);
  return Buffer.from(frame.payload).toString();
}

t.test('SETTINGS_ENABLE_CONNECT_PROTOCOL is advertised and a correct CONNECT gets 200', async (t) => {
  const { wss, origin } = await echoServer();
  t.teardown(() => wss.close());
  const session = await connectH2(origin, ca); // throws unless the setting is 1
  t.teardown(() => session.destroy());
  t.equal(session.remoteSettings.enableConnectProtocol, true);
  const { stream, headers } = await extendedConnect(session, origin, { protocols: ['chat'] });
  t.equal(headers[':status'], 200, '200, never 101');
  t.equal(headers['sec-websocket-accept'], undefined, 'no Sec-WebSocket-Accept');
  t.equal(headers['sec-websocket-protocol'], 'chat');
  t.equal(headers.upgrade, undefined);
  const peer = peerOf(stream, headers);
  t.equal(await echoOnce(peer, 'over h2'), 'over h2');
  await peer.write(closeFrame(1000, 'done'));
  const close = await peer.nextFrame(3000);
  t.equal(parseClosePayload(close.payload).code, 1000);
  t.equal(await peer.ended(3000), 'end', 'END_STREAM after the close handshake');
});

t.test('refusals: 501, 405, 400, 426, 404 with reasons', async (t) => {
  const { wss, origin } = await echoServer();
  t.teardown(() => wss.close());
  const session = await connectH2(origin, ca);
  t.teardown(() => session.destroy());
  const cases: Array<[string, Record<string, string | undefined>, number]> = [
    ['unknown :protocol', { ':protocol': 'webtransport' }, 501],
    ['version 8', { 'sec-websocket-version': '8' }, 426],
    ['missing version', { 'sec-websocket-version': undefined }, 426],
    ['version list without 13', { 'sec-websocket-version': '8, 7' }, 426],
    ['unknown path', { ':path': '/nope' }, 404],
    ['bad subprotocol token', { 'sec-websocket-protocol': 'a b' }, 400],
  ];
  for (const [name, overrides, status] of cases) {
    const { stream, headers } = await extendedConnect(session, origin, {}, overrides);
    t.equal(headers[':status'], status, name);
    if (status === 426) t.equal(headers['sec-websocket-version'], '13', `${name}: names version 13`);
    let body = '';
    for await (const chunk of stream) body += chunk;
    t.ok(body.trim().length > 0, `${name}: reason "${body.trim()}"`);
  }
  // A plain CONNECT (tunnelling) carries only :method and :authority.
  const plain = session.request({ ':method': 'CONNECT', ':authority': 'example.com:443' });
  const [response] = (await once(plain, 'response')) as [http2.IncomingHttpHeaders];
  t.equal(response[':status'], 405, 'plain CONNECT refused with 405');
  plain.destroy();
  // RFC 8441 §4: :protocol on another method is a malformed request (RFC 9113
  // §8.1.1): the stream is reset with PROTOCOL_ERROR before it reaches us.
  const malformed = session.request({ ':method': 'GET', ':protocol': 'websocket', ':path': '/echo', 'sec-websocket-version': '13' });
  malformed.on('error', () => {});
  await new Promise((resolve) => malformed.once('close', resolve));
  t.equal(malformed.rstCode, http2.constants.NGHTTP2_PROTOCOL_ERROR, ':protocol on GET → RST_STREAM(PROTOCOL_ERROR)');
  t.notOk(session.destroyed, 'the connection stays usable');
});

t.test('accepted as sent by proxies and old clients: a Sec-WebSocket-Key, :protocol WebSocket, version "13, 8"', async (t) => {
  const { wss, origin } = await echoServer();
  t.teardown(() => wss.close());
  const session = await connectH2(origin, ca);
  t.teardown(() => session.destroy());
  const cases: Array<[string, Record<string, string>]> = [
    // RFC 8441 §5: the key is not processed, but not forbidden (haproxy forwards the client's).
    ['Sec-WebSocket-Key sent', { 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' }],
    // RFC 9110 §7.8: protocol names compare case-insensitively (haproxy copies "Upgrade: WebSocket").
    [':protocol WebSocket', { ':protocol': 'WebSocket' }],
    [':protocol WEBSOCKET', { ':protocol': 'WEBSOCKET' }],
    // RFC 6455 §4.4: a client may offer versions; 13 among them is enough.
    ['version "13, 8"', { 'sec-websocket-version': '13, 8' }],
  ];
  for (const [name, overrides] of cases) {
    const { stream, headers } = await extendedConnect(session, origin, {}, overrides);
    t.equal(headers[':status'], 200, `${name}: 200`);
    t.equal(headers['sec-websocket-accept'], undefined, `${name}: no Sec-WebSocket-Accept`);
    const peer = peerOf(stream, headers);
    t.equal(await echoOnce(peer, name), name, `${name}: echo`);
    await peer.write(closeFrame(1000));
    t.equal(parseClosePayload((await peer.nextFrame(3000)).payload).code, 1000, `${name}: closed`);
  }
});

t.test('an unknown :protocol is a refusal logged at info, not a server error', async (t) => {
  const lines: Array<{ level: number; msg: string; status?: number }> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const { wss, origin } = await echoServer({ logger });
  t.teardown(() => wss.close());
  const session = await connectH2(origin, ca);
  t.teardown(() => session.destroy());
  const { stream, headers } = await extendedConnect(session, origin, {}, { ':protocol': 'webtransport' });
  t.equal(headers[':status'], 501);
  stream.resume();
  await once(stream, 'end');
  const refusals = lines.filter((line) => line.status === 501);
  t.same(
    refusals.map((line) => [line.level, line.msg]),
    [[pino.levels.values.info, 'handshake refused']],
    'logged once, at info',
  );
});

t.test('two WebSockets and an ordinary GET share one connection', async (t) => {
  const app = http2.createSecureServer({ ...tls, allowHTTP1: true }, (req, res) => res.end(`page ${req.url} over ${req.httpVersion}`));
  const wss = new WebSocketServer({ server: app, path: '/echo' });
  wss.on('connection', (ws: WebSocket) => ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary })));
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  const origin = `https://127.0.0.1:${(app.address() as { port: number }).port}`;
  t.teardown(() => app.close());
  const session = await connectH2(origin, ca);
  t.teardown(() => session.destroy());
  const [a, b] = await Promise.all([extendedConnect(session, origin), extendedConnect(session, origin)]);
  const get = session.request({ ':path': '/about' });
  let page = '';
  get.on('data', (chunk) => (page += chunk));
  const peerA = peerOf(a.stream, a.headers);
  const peerB = peerOf(b.stream, b.headers);
  const [echoA, echoB] = await Promise.all([echoOnce(peerA, 'to a'), echoOnce(peerB, 'to b')]);
  await once(get, 'end');
  t.equal(echoA, 'to a');
  t.equal(echoB, 'to b');
  t.equal(page, 'page /about over 2.0', "the application's compat 'request' route still answers");
  t.equal(wss.clients.size, 2);
  for (const ws of wss.clients) t.equal(ws.transport, 'h2');
  session.destroy(); // our raw peers would not answer the server's close frames
  await wss.close();
});

t.test('RST_STREAM in both directions', async (t) => {
  const { wss, origin, sessions } = await echoServer();
  t.teardown(() => wss.close());
  const session = await connectH2(origin, ca);
  t.teardown(() => session.destroy());
  // Client resets: the server session ends with 1006, others are unaffected.
  const first = await extendedConnect(session, origin);
  const second = await extendedConnect(session, origin);
  const serverSide = sessions[0];
  const closed = new Promise<number>((resolve) => serverSide.once('close', (code: number) => resolve(code)));
  first.stream.close(http2.constants.NGHTTP2_CANCEL);
  t.equal(await closed, 1006, 'peer RST_STREAM → close 1006');
  t.equal(await echoOnce(peerOf(second.stream, second.headers), 'still here'), 'still here', 'the other stream keeps working');
  // Server aborts: the client stream sees RST_STREAM(CANCEL).
  const rst = new Promise<number | undefined>((resolve) => second.stream.once('close', () => resolve(second.stream.rstCode)));
  sessions[1].terminate();
  t.equal(await rst, http2.constants.NGHTTP2_CANCEL, 'terminate() → RST_STREAM(CANCEL)');
  t.notOk(session.destroyed, 'the connection survives both resets');
});

t.test('a slow reader on one stream does not starve another', async (t) => {
  const wss = new WebSocketServer({ noServer: true, maxBufferedAmount: 64 * 1024 * 1024 });
  let slowSide: WebSocket | null = null;
  let sendResult = true;
  wss.on('connection', (ws: WebSocket, request) => {
    if (request.pathname === '/flood') {
      slowSide = ws;
      // Send until the transport pushes back (the client never reads this stream).
      const chunk = Buffer.alloc(64 * 1024, 7);
      for (let i = 0; i < 256 && sendResult; i++) sendResult = ws.send(chunk);
    } else ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  const { port } = await wss.listen({ host: '127.0.0.1', port: 0, tls });
  const origin = `https://127.0.0.1:${port}`;
  t.teardown(() => wss.close());
  const session = await connectH2(origin, ca);
  t.teardown(() => session.destroy());
  const flood = await extendedConnect(session, origin, { path: '/flood' });
  flood.stream.pause(); // a reader that stopped reading
  const fast = await extendedConnect(session, origin, { path: '/fast' });
  const peer = peerOf(fast.stream, fast.headers);
  const payload = 'x'.repeat(16 * 1024);
  let roundTrips = 0;
  for (; roundTrips < 200; roundTrips++) {
    if ((await echoOnce(peer, payload)) !== payload) break;
  }
  t.equal(roundTrips, 200, '200 echoes of 16 KiB on the other stream while one stream is stalled');
  t.equal(sendResult, false, 'the flooding side saw backpressure from the stalled stream');
  t.ok(slowSide!.bufferedAmount < 32 * 1024 * 1024, `its buffer stayed bounded (${slowSide!.bufferedAmount} bytes)`);
});

t.test('graceful shutdown: close 1001 on every WebSocket stream, then GOAWAY', async (t) => {
  const { wss, origin } = await echoServer();
  const session = await connectH2(origin, ca);
  t.teardown(() => session.destroy());
  const a = await extendedConnect(session, origin);
  const peer = peerOf(a.stream, a.headers);
  const goaway = once(session, 'goaway');
  const closing = wss.close();
  const frame = await peer.nextFrame(3000);
  t.equal(frame.opcode, OP.CLOSE);
  t.equal(parseClosePayload(frame.payload).code, 1001);
  await peer.write(closeFrame(1001));
  t.equal(await peer.ended(3000), 'end');
  peer.end(); // END_STREAM from our side completes the stream
  const [code] = (await goaway) as [number];
  t.equal(code, http2.constants.NGHTTP2_NO_ERROR, 'GOAWAY with NO_ERROR');
  await closing;
});

t.test('attach to a raw-stream http2 server and to handleStream()', async (t) => {
  // The application routes its own streams with the raw 'stream' API.
  const app = http2.createSecureServer({ ...tls, settings: { enableConnectProtocol: true } });
  const wss = new WebSocketServer({ noServer: true });
  wss.on('connection', (ws: WebSocket) => ws.send('via handleStream'));
  app.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => {
    if (headers[':method'] === 'CONNECT' && headers[':path'] === '/ws') void wss.handleStream(stream, headers, undefined, rawHeaders);
    else {
      stream.respond({ ':status': 200 });
      stream.end('raw route');
    }
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  const origin = `https://127.0.0.1:${(app.address() as { port: number }).port}`;
  t.teardown(() => app.close());
  const session = await connectH2(origin, ca);
  t.teardown(() => session.destroy());
  const { stream, headers } = await extendedConnect(session, origin, { path: '/ws' });
  t.equal(headers[':status'], 200);
  const frame = await peerOf(stream, headers).nextFrame(3000);
  t.equal(Buffer.from(frame.payload).toString(), 'via handleStream');
  const get = session.request({ ':path': '/' });
  let body = '';
  for await (const chunk of get) body += chunk;
  t.equal(body, 'raw route');
  session.destroy();
  await wss.close();
});

t.test('a peer that never ends its stream after the close handshake is released with RST_STREAM(NO_ERROR)', async (t) => {
  // Firefox 153 behaves like this: close frames exchanged, but no END_STREAM.
  const { wss, origin, sessions } = await echoServer({ closeTimeout: 10_000 });
  t.teardown(() => wss.close());
  const session = await connectH2(origin, ca);
  t.teardown(() => session.destroy());
  const { stream, headers } = await extendedConnect(session, origin);
  const peer = peerOf(stream, headers);
  const serverClosed = new Promise<[number, boolean]>((resolve) =>
    sessions[0].once('close', (code: number) => resolve([code, sessions[0].wasClean])),
  );
  const started = Date.now();
  await peer.write(closeFrame(1000, 'bye'));
  t.equal(parseClosePayload((await peer.nextFrame(3000)).payload).code, 1000);
  t.same(await serverClosed, [1000, true], 'clean close reported to the application');
  const elapsed = Date.now() - started;
  t.ok(elapsed < 3000, `released after ${elapsed} ms, not after the 10 s close timeout`);
  await new Promise((resolve) => (stream.closed ? resolve(null) : stream.once('close', resolve)));
  t.equal(stream.rstCode, http2.constants.NGHTTP2_NO_ERROR, 'RST_STREAM(NO_ERROR), not CANCEL');
});
