// RFC 9220 specifics: WebSockets over HTTP/3 on our server and client.
import t from 'tap';
import { WebSocket, WebSocketServer, type HandshakeRequest } from '../../../src/index.js';
import { buildFrame, closeFrame, OP, parseClosePayload } from '../../helpers/frames.js';
import { StreamPeer } from '../../helpers/stream-peer.js';
import { connectH3, extendedConnectH3, Http3Duplex } from '../../conformance/http3-target.js';
import { H3_NO_ERROR, H3_REQUEST_CANCELLED } from '../../../src/http3/errors.js';
import type { HeaderList } from '../../../src/http3/fields.js';
import type { Http3RequestStream } from '../../../src/http3/request-stream.js';
import { makeTls } from '../http2/tls.js';
import { lossyProxy } from '../../quic/helpers.js';

const { tls, ca } = makeTls();

function field(headers: HeaderList, name: string): string | undefined {
  return headers.find(([n]) => n === name)?.[1];
}

async function echoServer(options: ConstructorParameters<typeof WebSocketServer>[0] = {}, http3: true | { loopbackPacketSize: number } = true) {
  const wss = new WebSocketServer({ noServer: true, path: '/echo', ...options });
  const sessions: WebSocket[] = [];
  wss.on('connection', (ws: WebSocket) => {
    sessions.push(ws);
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  const { port } = await wss.listen({ host: '127.0.0.1', port: 0, tls, http3 });
  return { wss, port, sessions };
}

function peerOf(stream: Http3RequestStream, headers: HeaderList): StreamPeer {
  return new StreamPeer(new Http3Duplex(stream), { status: Number(field(headers, ':status')), headers: Object.fromEntries(headers) }, new Uint8Array(0));
}

async function echoOnce(peer: StreamPeer, text: string): Promise<string> {
  await peer.write(buildFrame({ opcode: OP.TEXT, payload: text }));
  return Buffer.from((await peer.nextFrame(3000)).payload).toString();
}

t.test('SETTINGS_ENABLE_CONNECT_PROTOCOL, 200, and FIN after the close handshake', async (t) => {
  const { wss, port } = await echoServer();
  t.teardown(() => wss.close());
  const session = await connectH3('127.0.0.1', port, ca); // throws unless 0x08 = 1
  t.teardown(() => session.close());
  t.equal(session.peerSettings?.enableConnectProtocol, true);
  const { stream, headers } = await extendedConnectH3(session, `localhost:${port}`, { protocols: ['chat'] });
  t.equal(field(headers, ':status'), '200');
  t.equal(field(headers, 'sec-websocket-protocol'), 'chat');
  t.equal(field(headers, 'sec-websocket-accept'), undefined);
  const peer = peerOf(stream, headers);
  t.equal(await echoOnce(peer, 'over h3'), 'over h3');
  await peer.write(closeFrame(1000, 'done'));
  t.equal(parseClosePayload((await peer.nextFrame(3000)).payload).code, 1000);
  t.equal(await peer.ended(3000), 'end', 'the server sent FIN after the close frame');
});

t.test('refusals: 501, 426, 400, 404, and plain requests', async (t) => {
  const { wss, port } = await echoServer();
  t.teardown(() => wss.close());
  const session = await connectH3('127.0.0.1', port, ca);
  t.teardown(() => session.close());
  const cases: Array<[string, Array<[string, string | undefined]>, string]> = [
    ['unknown :protocol', [[':protocol', 'webtransport']], '501'],
    ['version 8', [['sec-websocket-version', '8']], '426'],
    ['unknown path', [[':path', '/nope']], '404'],
    // RFC 9114 §4.1.2 / RFC 9220 §3: malformed, whatever the path routing would say
    ['no :path', [[':path', undefined]], '400'],
    ['no :scheme', [[':scheme', undefined]], '400'],
    ['no :authority', [[':authority', undefined]], '400'],
    ['version list without 13', [['sec-websocket-version', '8, 7']], '426'],
  ];
  for (const [name, overrides, status] of cases) {
    const { stream, headers } = await extendedConnectH3(session, `localhost:${port}`, {}, overrides);
    t.equal(field(headers, ':status'), status, name);
    if (status === '426') t.equal(field(headers, 'sec-websocket-version'), '13');
    let body = '';
    stream.on('data', (chunk: Buffer) => (body += chunk));
    const ended = new Promise((resolve) => stream.once('end', resolve));
    stream.resume();
    await ended;
    t.ok(body.trim().length > 0, `${name}: "${body.trim()}"`);
  }
  const get = session.request([[':method', 'GET'], [':scheme', 'https'], [':authority', `localhost:${port}`], [':path', '/']], { endStream: true });
  const response = await new Promise<HeaderList>((resolve) => get.once('response', resolve));
  t.equal(field(response, ':status'), '404', 'an ordinary GET is refused: this endpoint serves WebSockets only');
});

t.test('accepted as sent by proxies and old clients: a Sec-WebSocket-Key, :protocol WebSocket, version "13, 8"', async (t) => {
  const { wss, port } = await echoServer();
  t.teardown(() => wss.close());
  const session = await connectH3('127.0.0.1', port, ca);
  t.teardown(() => session.close());
  const cases: Array<[string, Array<[string, string]>]> = [
    // RFC 9220 §3 (by way of RFC 8441 §5): the key is not processed, but not forbidden.
    ['Sec-WebSocket-Key sent', [['sec-websocket-key', 'dGhlIHNhbXBsZSBub25jZQ==']]],
    // RFC 9110 §7.8: protocol names compare case-insensitively.
    [':protocol WebSocket', [[':protocol', 'WebSocket']]],
    // RFC 6455 §4.4: a client may offer versions; 13 among them is enough.
    ['version "13, 8"', [['sec-websocket-version', '13, 8']]],
  ];
  for (const [name, overrides] of cases) {
    const { stream, headers } = await extendedConnectH3(session, `localhost:${port}`, {}, overrides);
    t.equal(field(headers, ':status'), '200', `${name}: 200`);
    t.equal(field(headers, 'sec-websocket-accept'), undefined, `${name}: no Sec-WebSocket-Accept`);
    const peer = peerOf(stream, headers);
    t.equal(await echoOnce(peer, name), name, `${name}: echo`);
    await peer.write(closeFrame(1000));
    t.equal(parseClosePayload((await peer.nextFrame(3000)).payload).code, 1000, `${name}: closed`);
  }
});

t.test('resets both ways carry H3_REQUEST_CANCELLED', async (t) => {
  const { wss, port, sessions } = await echoServer();
  t.teardown(() => wss.close());
  const session = await connectH3('127.0.0.1', port, ca);
  t.teardown(() => session.close());
  const first = await extendedConnectH3(session, `localhost:${port}`);
  const second = await extendedConnectH3(session, `localhost:${port}`);
  await new Promise((resolve) => setImmediate(resolve));
  const closed = new Promise<number>((resolve) => sessions[0].once('close', (code: number) => resolve(code)));
  first.stream.cancel(H3_REQUEST_CANCELLED);
  t.equal(await closed, 1006, "the client's RESET_STREAM/STOP_SENDING ends the session with 1006");
  t.equal(await echoOnce(peerOf(second.stream, second.headers), 'still here'), 'still here', 'the other stream keeps working');
  const reset = new Promise<number>((resolve) => second.stream.once('reset', resolve));
  sessions[1].terminate();
  t.equal(await reset, H3_REQUEST_CANCELLED, 'terminate() → RESET_STREAM with 0x010c');
});

t.test('many WebSockets on one QUIC connection, and a slow reader beside a busy stream', async (t) => {
  const wss = new WebSocketServer({ noServer: true, maxBufferedAmount: 64 * 1024 * 1024 });
  let floodResult = true;
  wss.on('connection', (ws: WebSocket, request: HandshakeRequest) => {
    if (request.pathname === '/flood') {
      const chunk = Buffer.alloc(64 * 1024, 1);
      for (let i = 0; i < 256 && floodResult; i++) floodResult = ws.send(chunk);
    } else ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  const { port } = await wss.listen({ host: '127.0.0.1', port: 0, tls, http3: true });
  t.teardown(() => wss.close());
  const session = await connectH3('127.0.0.1', port, ca);
  t.teardown(() => session.close());
  const flood = await extendedConnectH3(session, `localhost:${port}`, { path: '/flood' });
  flood.stream.pause(); // never read
  const peers = await Promise.all(
    Array.from({ length: 50 }, () => extendedConnectH3(session, `localhost:${port}`).then(({ stream, headers }) => peerOf(stream, headers))),
  );
  const echoes = await Promise.all(peers.map((peer, i) => echoOnce(peer, `stream ${i}`)));
  t.same(echoes, peers.map((_, i) => `stream ${i}`), '50 WebSockets on one connection');
  let roundTrips = 0;
  const payload = 'y'.repeat(16 * 1024);
  for (; roundTrips < 100; roundTrips++) if ((await echoOnce(peers[0], payload)) !== payload) break;
  t.equal(roundTrips, 100, '100 echoes of 16 KiB while another stream is stalled');
  t.equal(floodResult, false, 'the flooding side saw backpressure from QUIC flow control');
});

t.test('graceful shutdown: 1001, GOAWAY, CONNECTION_CLOSE with H3_NO_ERROR', async (t) => {
  const { wss, port } = await echoServer();
  const session = await connectH3('127.0.0.1', port, ca);
  const { stream, headers } = await extendedConnectH3(session, `localhost:${port}`);
  const peer = peerOf(stream, headers);
  const goaway = new Promise((resolve) => session.once('goaway', resolve));
  const connectionClosed = new Promise<{ code: number; isApp: boolean }>((resolve) => session.once('close', resolve));
  const closing = wss.close();
  const frame = await peer.nextFrame(3000);
  t.equal(parseClosePayload(frame.payload).code, 1001);
  await peer.write(closeFrame(1001));
  t.equal(await peer.ended(3000), 'end');
  peer.end();
  await goaway;
  t.pass('GOAWAY received');
  const info = await connectionClosed;
  t.equal(info.code, H3_NO_ERROR);
  t.equal(info.isApp, true);
  await closing;
});

t.test("client transport 'h3': several WebSockets share one QUIC connection", async (t) => {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: true });
  const ports = new Set<number | undefined>();
  wss.on('connection', (ws: WebSocket, request: HandshakeRequest) => {
    ports.add(request.remotePort);
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  const { port } = await wss.listen({ host: '127.0.0.1', port: 0, tls, http3: true });
  t.teardown(() => wss.close());
  const clients = [1, 2, 3].map(() => new WebSocket(`wss://localhost:${port}/`, { ca, transport: 'h3', http3IdleTimeout: 50 }));
  await Promise.all(clients.map((c) => new Promise((resolve, reject) => (c.once('open', resolve), c.once('error', reject)))));
  for (const [i, client] of clients.entries()) {
    t.equal(client.transport, 'h3');
    const big = Buffer.alloc(300_000, i);
    client.send(big);
    const data = await new Promise<Buffer>((resolve) => client.once('message', resolve));
    t.ok(data.equals(big), `client ${i}: 300 KB echoed intact`);
  }
  t.equal(ports.size, 1, 'one QUIC connection (one client UDP port) for three WebSockets');
  for (const client of clients) {
    const closed = new Promise<[number, string]>((resolve) => client.once('close', (...args: [number, string]) => resolve(args)));
    client.close(1000, 'bye');
    t.same(await closed, [1000, '']);
  }
});

t.test('HTTP/1.1 and HTTP/2 answers advertise the HTTP/3 twin with Alt-Svc', async (t) => {
  const { wss, port } = await echoServer();
  t.teardown(() => wss.close());
  const https = await import('node:https');
  const altSvc = await new Promise<string | undefined>((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, servername: 'localhost', ca, path: '/' }, (res) => {
      res.resume();
      resolve(res.headers['alt-svc'] as string | undefined);
    }).on('error', reject);
  });
  t.equal(altSvc, `h3=":${port}"; ma=86400`);
  const ws = new WebSocket(`wss://localhost:${port}/echo`, { ca, transport: 'h1' });
  const upgrade = await new Promise<string>((resolve, reject) => {
    ws.once('open', () => resolve('open'));
    ws.once('error', reject);
  });
  t.equal(upgrade, 'open');
  ws.terminate();
});

t.test('packet loss: every message still arrives, in order', async (t) => {
  // Internet-size datagrams from the server (not the 16 KiB a loopback peer
  // gets by default), so the 1 MiB comes back in many datagrams, some lost.
  const { wss, port } = await echoServer({}, { loopbackPacketSize: 1350 });
  t.teardown(() => wss.close());
  // 5% of datagrams dropped each way, decided by a seeded PRNG.
  const proxy = await lossyProxy(port, 0.05, 0.05, 7);
  t.teardown(() => proxy.close());
  const client = new WebSocket(`wss://localhost:${proxy.port}/echo`, { ca, transport: 'h3', servername: 'localhost', http3IdleTimeout: 50 });
  await new Promise((resolve, reject) => (client.once('open', resolve), client.once('error', reject)));
  const received: Buffer[] = [];
  const count = 200;
  const done = new Promise<void>((resolve) =>
    client.on('message', (data: Buffer) => {
      received.push(data);
      if (received.length === count + 1) resolve();
    }),
  );
  const big = Buffer.from(Array.from({ length: 1024 * 1024 }, (_, i) => (i * 31) & 0xff));
  for (let i = 0; i < count; i++) client.send(`message ${i}`);
  client.send(big);
  await done;
  t.same(received.slice(0, count).map((d) => d.toString()), Array.from({ length: count }, (_, i) => `message ${i}`), '200 messages in order');
  t.ok(received[count].equals(big), '1 MiB intact');
  t.ok(proxy.dropped.up + proxy.dropped.down > 10, `the proxy really dropped datagrams (${proxy.dropped.up} up, ${proxy.dropped.down} down)`);
  client.close(1000);
  await new Promise((resolve) => client.once('close', resolve));
});

t.test("transport 'auto' moves to HTTP/3 after Alt-Svc, and back to TCP when QUIC fails", async (t) => {
  const { rememberAltSvc, knownHttp3Port } = await import('../../../src/client/alt-svc.js');
  const { wss, port } = await echoServer();
  t.teardown(() => wss.close());
  const open = async (): Promise<WebSocket> => {
    const ws = new WebSocket(`wss://localhost:${port}/echo`, { ca, http3IdleTimeout: 50, http2IdleTimeout: 50 });
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    return ws;
  };
  const first = await open();
  t.equal(first.transport, 'h2', 'first over TCP (HTTP/2 via ALPN)');
  t.equal(knownHttp3Port(`https://localhost:${port}`), port, 'the Alt-Svc of its answer was remembered');
  first.close();
  const second = await open();
  t.equal(second.transport, 'h3', 'the next one rides HTTP/3');
  second.close();
  // An advertised alternative that does not answer: fall back to the origin over TCP.
  const dgram = await import('node:dgram');
  const dead = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => dead.bind(0, '127.0.0.1', resolve));
  const deadPort = dead.address().port;
  dead.close();
  rememberAltSvc(`https://localhost:${port}`, `h3=":${deadPort}"; ma=60`);
  const third = await open();
  t.not(third.transport, 'h3', `fell back to ${third.transport}`);
  t.equal(knownHttp3Port(`https://localhost:${port}`), port, 'and relearned the working alternative');
  third.close();
});

t.test('Alt-Svc parsing', async (t) => {
  const { rememberAltSvc, knownHttp3Port } = await import('../../../src/client/alt-svc.js');
  const now = 1_000_000;
  rememberAltSvc('https://a', 'h2=":443", h3=":8443"; ma=100', now);
  t.equal(knownHttp3Port('https://a', now), 8443);
  t.equal(knownHttp3Port('https://a', now + 101_000), undefined, 'expired after ma seconds');
  rememberAltSvc('https://b', 'h3="other.example:443"', now);
  t.equal(knownHttp3Port('https://b', now), undefined, 'other hosts are not used');
  rememberAltSvc('https://c', 'h3=":9443"', now);
  rememberAltSvc('https://c', 'clear', now);
  t.equal(knownHttp3Port('https://c', now), undefined, '"clear" forgets');
});

t.test('a Host header naming another authority than :authority is refused with 400 (RFC 9114 §4.3.1)', async (t) => {
  const { wss, port } = await echoServer();
  t.teardown(() => wss.close());
  const session = await connectH3('127.0.0.1', port, ca);
  t.teardown(() => session.close());
  const refused = await extendedConnectH3(session, `localhost:${port}`, { headers: { host: 'elsewhere.example' } });
  t.equal(field(refused.headers, ':status'), '400');
  const same = await extendedConnectH3(session, `localhost:${port}`, { headers: { host: `LOCALHOST:${port}` } });
  t.equal(field(same.headers, ':status'), '200', 'the same authority in other letters is accepted');
});
