// Interop over HTTP/3 (RFC 9220) with an independent stack: a small WebSocket
// peer written in Go on Debian's quic-go (test/interop/go/), as the client of
// our server and as the server of our client. quic-go advertises
// max_udp_payload_size 1452, so these runs see real packet sizes, unlike
// trident talking to itself over 16 KiB loopback datagrams.
//
// Every cell is a subtest named `peer=quic-go version=V direction=D
// transport=h3 deflate=off CASE`, the key=value prefix the interop report reads.
// A missing Go toolchain or quic-go package fails the cells (the peer is built
// inside each cell's fixture).
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { WebSocket, WebSocketServer } from '../../src/index.js';
import { GoPeer, pattern, quicGoVersion, sha256, type PeerEvent } from '../helpers/go-h3-peer.js';

const certDir = mkdtempSync(join(tmpdir(), 'trident-quic-go-'));
execFileSync('sh', ['scripts/gen-certs.sh', certDir]);
const tls = { cert: readFileSync(join(certDir, 'server.crt')), key: readFileSync(join(certDir, 'server.key')) };
const ca = readFileSync(join(certDir, 'ca.crt'));
const CA_FILE = join(certDir, 'ca.crt');

const H3_NO_ERROR = 0x100;
const H3_REQUEST_CANCELLED = 0x10c;
const version = await quicGoVersion();
const CLIENT = 'client->trident';
const SERVER = 'trident->server';
const cell = (direction: string, name: string): string =>
  `peer=quic-go version=${version} direction=${direction} transport=h3 deflate=off ${name}`;

const ECHO_SIZES = [0, 125, 126, 64 * 1024, 1024 * 1024];
const sizeName = (n: number): string => (n >= 1024 * 1024 ? `${n / (1024 * 1024)} MiB` : n >= 1024 ? `${n / 1024} KiB` : `${n} B`);
/** How long an abort may take to close the other side, in ms: far below any heartbeat (off by default), far above a loopback round trip. */
const PROMPTLY = 5000;
const BACKPRESSURE_SIZE = 100_000;

/** Rejects after `ms`, so an event that never comes fails the cell instead of the file's timeout. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One promise per call, created on first use: a fixture that failed fails every cell that needs it. */
function lazy<T>(make: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= make());
}

/** One WebSocket of a cell: the Go peer, its session id, and trident's side. */
interface Pair {
  peer: GoPeer;
  session: number;
  ws: WebSocket;
}
type ServerApp = (ws: WebSocket) => void;

const bySession = (event: string, session: unknown) => (e: PeerEvent) => e.event === event && e.session === session;

// ---------------------------------------------------------------------------
// quic-go client → trident server
// ---------------------------------------------------------------------------

/** Our server, echoing by default; `next()` hands out the server side of the next WebSocket. */
async function startTrident(app: ServerApp = echo) {
  const server = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const arrivals: WebSocket[] = [];
  const waiting: Array<(ws: WebSocket) => void> = [];
  server.on('connection', (ws: WebSocket) => {
    ws.on('error', () => {});
    app(ws);
    const waiter = waiting.shift();
    if (waiter) waiter(ws);
    else arrivals.push(ws);
  });
  const { port } = await server.listen({ host: '127.0.0.1', port: 0, tls, http3: true });
  const next = (): Promise<WebSocket> => {
    const ws = arrivals.shift();
    return ws ? Promise.resolve(ws) : within(new Promise((resolve) => waiting.push(resolve)), 5000, 'a WebSocket on the server');
  };
  return { server, port, next };
}

function echo(ws: WebSocket): void {
  ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
}

/**
 * Echoes, honouring backpressure: stops reading while send() reports a full
 * buffer, resumes on 'drain'. Returns how often it paused (for the log).
 */
function politeEcho(ws: WebSocket): { pauses: number } {
  const stats = { pauses: 0 };
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!ws.send(data, { binary: isBinary })) {
      stats.pauses++;
      ws.pause();
      ws.once('drain', () => ws.resume());
    }
  });
  return stats;
}

async function startGoClient(port: number): Promise<GoPeer> {
  const peer = await GoPeer.start(['client', '-connect', `127.0.0.1:${port}`, '-ca', CA_FILE]);
  const settings = await peer.waitFor('settings');
  // RFC 9220 §5: the server enables extended CONNECT in its SETTINGS.
  if ((settings.settings as Record<string, number>)['0x8'] !== 1) throw new Error(`no SETTINGS_ENABLE_CONNECT_PROTOCOL: ${JSON.stringify(settings)}`);
  return peer;
}

/** Opens a WebSocket from the Go client; resolves with its session id and the server side. */
async function goConnect(peer: GoPeer, trident: { next(): Promise<WebSocket> }) {
  await peer.command({ cmd: 'connect', path: '/echo' });
  const response = await peer.waitFor('response');
  if (response.status !== '200') throw new Error(`extended CONNECT answered ${String(response.status)}`);
  return { session: response.session as number, ws: await trident.next() };
}

/** A fresh WebSocket from the shared Go client, or with its own server when trident's side needs `app`. */
async function openFromGoClient(t: Test, app?: ServerApp): Promise<Pair> {
  if (app === undefined) {
    const { trident, peer } = await shared();
    return { peer, ...(await goConnect(peer, trident)) };
  }
  const trident = await startTrident(app);
  const peer = await startGoClient(trident.port);
  t.teardown(async () => {
    await peer.stop();
    await trident.server.close();
  });
  return { peer, ...(await goConnect(peer, trident)) };
}

const shared = lazy(async () => {
  const trident = await startTrident();
  const peer = await startGoClient(trident.port);
  const { session } = await goConnect(peer, trident);
  return { trident, peer, session };
});
t.teardown(async () => {
  const s = await shared().catch(() => undefined);
  if (!s) return;
  await s.peer.stop();
  await s.trident.server.close();
});

for (const type of ['text', 'binary'] as const) {
  for (const size of ECHO_SIZES) {
    t.test(cell(CLIENT, `echo ${type} ${sizeName(size)}`), async (t) => {
      const { peer, session } = await shared();
      await peer.command({ cmd: 'send', session, type, size });
      const back = await peer.waitFor(bySession('message', session));
      t.equal(back.type, type, 'same message type');
      t.equal(back.size, size, 'same length');
      t.equal(back.sha256, sha256(pattern(type, size)), 'same bytes');
    });
  }
}

t.test(cell(CLIENT, 'echo fragmented text (3 frames)'), async (t) => {
  const { peer, session } = await shared();
  await peer.command({ cmd: 'send', session, type: 'text', size: 3000, fragments: 3 });
  const back = await peer.waitFor(bySession('message', session));
  t.equal(back.size, 3000, 'one message of the three fragments');
  t.equal(back.sha256, sha256(pattern('text', 3000)), 'same bytes');
});

t.test(cell(CLIENT, '501 for an unknown :protocol'), async (t) => {
  const { trident, peer } = await shared();
  await peer.command({ cmd: 'connect', path: '/echo', protocol: 'not-websocket' });
  const response = await peer.waitFor('response');
  t.equal(response.status, '501', 'RFC 9220 §3 / RFC 8441 §4: 501 for a protocol the server does not speak');
  const { session } = await goConnect(peer, trident);
  await peer.command({ cmd: 'send', session, type: 'text', size: 10 });
  t.equal((await peer.waitFor(bySession('message', session))).size, 10, 'the connection still serves WebSockets');
});

// Issue 10, defects 1 and 2 over HTTP/3: what intermediaries send must still open a WebSocket.
for (const [name, request] of [
  // RFC 9220 §3 / RFC 8441 §5: the key is not processed; nothing forbids the field.
  ['extended CONNECT carrying sec-websocket-key is accepted, the key ignored', { headers: { 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } }],
  // RFC 9110 §7.8: protocol names in Upgrade are case-insensitive; :protocol carries the same token.
  [':protocol WebSocket is accepted (tokens compare case-insensitively)', { protocol: 'WebSocket' }],
] as const) {
  t.test(cell(CLIENT, name), async (t) => {
    const { peer, trident } = await shared();
    await peer.command({ cmd: 'connect', path: '/echo', ...request });
    const response = await peer.waitFor('response');
    t.equal(response.status, '200', 'the WebSocket opens');
    t.notOk((response.headers as Record<string, string>)['sec-websocket-accept'], 'and no accept key is answered');
    const ws = await trident.next(); // the server side of this WebSocket, so later cells get their own
    await peer.command({ cmd: 'send', session: response.session as number, type: 'text', size: 10 });
    t.equal((await peer.waitFor(bySession('message', response.session as number))).size, 10, 'and it echoes');
    ws.close(1000);
  });
}

t.test(cell(CLIENT, 'GOAWAY at server shutdown'), async (t) => {
  const trident = await startTrident();
  const peer = await startGoClient(trident.port);
  t.teardown(() => peer.stop());
  const { session } = await goConnect(peer, trident);
  const closing = trident.server.close();
  const close = await peer.waitFor(bySession('close', session));
  t.equal(close.code, 1001, 'the WebSocket closes with 1001 going away');
  const ended = await peer.waitFor((e) => e.event === 'conn_closed' && e.conn !== undefined);
  t.equal(ended.code, H3_NO_ERROR, 'the connection closes with H3_NO_ERROR');
  t.equal(ended.remote, true, 'closed by the server');
  await within(closing, 5000, 'server.close()');
  // Whatever the server's control stream delivered has been reported once it ended.
  await peer.waitFor('control_ended');
  const goaway = peer.log.find((e) => e.event === 'goaway');
  t.ok(goaway, 'quic-go saw GOAWAY before the connection closed');
  // RFC 9114 §5.2: GOAWAY carries the first request stream id not processed; the client used stream 0.
  t.equal(goaway?.id, 4, 'GOAWAY names stream 4, the first one not processed');
});

// ---------------------------------------------------------------------------
// trident client → quic-go server
// ---------------------------------------------------------------------------

async function startGoServer(): Promise<{ peer: GoPeer; url: string }> {
  const peer = await GoPeer.start(['server', '-listen', '127.0.0.1:0', '-cert', join(certDir, 'server.crt'), '-key', join(certDir, 'server.key')]);
  const { port } = await peer.waitFor('listening');
  return { peer, url: `wss://localhost:${String(port)}` };
}

/** A trident client WebSocket over HTTP/3 and the Go server's session id for it. */
async function tridentConnect(peer: GoPeer, url: string): Promise<{ ws: WebSocket; session: number }> {
  const ws = new WebSocket(`${url}/echo`, { transport: 'h3', ca, perMessageDeflate: false, http3IdleTimeout: 100 });
  ws.on('error', () => {});
  await within(once(ws, 'open'), 5000, 'open');
  const opened = await peer.waitFor('open');
  return { ws, session: opened.session as number };
}

function nextMessage(ws: WebSocket): Promise<[Buffer, boolean]> {
  return within(once(ws, 'message') as Promise<[Buffer, boolean]>, 10_000, 'a message');
}

/** A fresh WebSocket from our client to the shared Go server; `app` is attached before any message flows. */
async function openToGoServer(_t: Test, app?: ServerApp): Promise<Pair> {
  const { peer, url } = await goServer();
  const { ws, session } = await tridentConnect(peer, url);
  app?.(ws);
  return { peer, ws, session };
}

const goServer = lazy(async () => {
  const { peer, url } = await startGoServer();
  const { ws, session } = await tridentConnect(peer, url);
  return { peer, url, ws, session };
});
t.teardown(async () => {
  const s = await goServer().catch(() => undefined);
  if (!s) return;
  s.ws.close();
  await s.peer.stop();
});

for (const type of ['text', 'binary'] as const) {
  for (const size of ECHO_SIZES) {
    t.test(cell(SERVER, `echo ${type} ${sizeName(size)}`), async (t) => {
      const { peer, ws, session } = await goServer();
      const payload = pattern(type, size);
      const back = nextMessage(ws);
      ws.send(type === 'text' ? payload.toString() : payload);
      const seen = await peer.waitFor(bySession('message', session));
      t.equal(seen.type, type, 'the server got the type we sent');
      t.equal(seen.sha256, sha256(payload), 'the server got the bytes we sent');
      const [data, isBinary] = await back;
      t.equal(isBinary, type === 'binary', 'echo keeps the type');
      t.ok(Buffer.from(data).equals(payload), 'echo keeps the bytes');
    });
  }
}

t.test(cell(SERVER, 'fragmented text from the server (3 frames)'), async (t) => {
  const { peer, ws, session } = await goServer();
  const back = nextMessage(ws);
  await peer.command({ cmd: 'send', session, type: 'text', size: 3000, fragments: 3 });
  const [data, isBinary] = await back;
  t.equal(isBinary, false, 'a text message');
  t.ok(Buffer.from(data).equals(pattern('text', 3000)), 'the three fragments form one message');
});

t.test(cell(SERVER, 'refusal with 501'), async (t) => {
  const { peer, url } = await goServer();
  const ws = new WebSocket(`${url}/status/501`, { transport: 'h3', ca, perMessageDeflate: false, http3IdleTimeout: 100 });
  // Not events.once: it rejects when 'error' comes first, which is the point here.
  const error = new Promise<unknown>((resolve) => ws.once('error', resolve));
  const closed = new Promise<number>((resolve) => ws.once('close', resolve));
  const request = await peer.waitFor((e) => e.event === 'request' && (e.headers as Record<string, string>)[':path'] === '/status/501');
  t.equal((request.headers as Record<string, string>)[':protocol'], 'websocket', 'an extended CONNECT for websocket');
  t.match(String(await within(error, 5000, 'error')), /501/, 'the client reports the status');
  t.equal(await within(closed, 5000, 'close'), 1006, 'and closes with 1006, never having opened');
});

t.test(cell(SERVER, 'GOAWAY from the server'), async (t) => {
  const { peer, url } = await startGoServer();
  t.teardown(() => peer.stop());
  const first = await tridentConnect(peer, url);
  await peer.command({ cmd: 'goaway' });
  t.equal((await peer.waitFor('goaway_sent')).id, 4, 'GOAWAY sent naming stream 4');
  // RFC 9114 §5.2: no new request on a connection that got GOAWAY; the next WebSocket needs a new connection.
  await pingRoundTrip(first.ws);
  const second = await tridentConnect(peer, url);
  const opened = peer.log.filter((e) => e.event === 'open').map((e) => [e.session, e.conn]);
  t.same(opened.at(-1), [second.session, 2], 'the second WebSocket came on a second connection');
  // The request in flight before GOAWAY keeps working.
  const back = nextMessage(first.ws);
  first.ws.send('still here');
  t.equal(String((await back)[0]), 'still here', 'the first WebSocket still echoes');
  const closed = once(first.ws, 'close');
  await peer.command({ cmd: 'shutdown' });
  t.equal((await within(closed, 5000, 'close at shutdown'))[0], 1001, 'shutdown closes with 1001');
  second.ws.terminate();
});

/**
 * The GOAWAY went out on the server's control stream before this pong (the
 * server wrote it first), so once the pong is here our client has read it.
 */
async function pingRoundTrip(ws: WebSocket): Promise<void> {
  const pong = once(ws, 'pong');
  ws.ping();
  await within(pong, 5000, 'pong');
}

// ---------------------------------------------------------------------------
// Cells that read the same in both directions (trident's side is `ws`)
// ---------------------------------------------------------------------------

function sessionCells(direction: string, roles: { go: string; trident: string }, open: (t: Test, app?: ServerApp) => Promise<Pair>): void {
  t.test(cell(direction, 'ping/pong'), async (t) => {
    const { peer, session, ws } = await open(t);
    const ping = once(ws, 'ping');
    await peer.command({ cmd: 'ping', session, data: 'from-go' });
    t.equal(String((await within(ping, 5000, 'ping'))[0]), 'from-go', 'trident sees the ping of quic-go');
    t.equal((await peer.waitFor(bySession('pong', session))).data, 'from-go', 'and answers it with its payload');
    const pong = once(ws, 'pong');
    ws.ping(Buffer.from('from-trident'));
    t.equal((await peer.waitFor(bySession('ping', session))).data, 'from-trident', 'quic-go sees our ping');
    t.equal(String((await within(pong, 5000, 'pong'))[0]), 'from-trident', 'and answers it with its payload');
    ws.close(1000);
  });

  t.test(cell(direction, `close with code and reason from the ${roles.go}`), async (t) => {
    const { peer, session, ws } = await open(t);
    const closed = once(ws, 'close');
    await peer.command({ cmd: 'close', session, code: 4001, reason: 'bye from quic-go' });
    const [code, reason] = await within(closed, 5000, 'trident closing');
    t.equal(code, 4001, 'trident sees the code');
    t.equal(String(reason), 'bye from quic-go', 'trident sees the reason');
    t.ok(ws.wasClean, 'a clean close');
    t.equal((await peer.waitFor(bySession('close', session))).code, 4001, 'trident echoes the code (RFC 6455 §5.5.1)');
    await peer.waitFor(bySession('end', session)); // and ends its direction (FIN) after the close frame
  });

  t.test(cell(direction, `close with code and reason from the ${roles.trident}`), async (t) => {
    const { peer, session, ws } = await open(t);
    const closed = once(ws, 'close');
    ws.close(4002, 'bye from trident');
    const seen = await peer.waitFor(bySession('close', session));
    t.equal(seen.code, 4002, 'quic-go sees the code');
    t.equal(seen.reason, 'bye from trident', 'quic-go sees the reason');
    const [code] = await within(closed, 5000, 'trident closing');
    t.equal(code, 4002, 'trident closes with the code quic-go echoed');
    t.ok(ws.wasClean, 'a clean close');
    await peer.waitFor(bySession('end', session)); // our FIN after the close frames
  });

  t.test(cell(direction, `abort by the ${roles.go} (H3_REQUEST_CANCELLED)`), async (t) => {
    const { peer, session, ws } = await open(t);
    const closed = once(ws, 'close');
    await peer.command({ cmd: 'abort', session });
    // RFC 9220 §3: a reset stream is the abrupt TCP close of RFC 6455, i.e. 1006.
    const [code] = await within(closed, PROMPTLY, `trident's ${roles.trident} closing after the ${roles.go} aborted the stream`);
    t.equal(code, 1006, 'trident closes with 1006');
  });

  t.test(cell(direction, `reset of the ${roles.go} direction only (RESET_STREAM H3_REQUEST_CANCELLED)`), async (t) => {
    const { peer, session, ws } = await open(t);
    const closed = once(ws, 'close');
    await peer.command({ cmd: 'reset', session });
    // RFC 9220 §3 maps a reset to TCP RST: trident aborts its direction too and closes with 1006 (issue 9 defect 3).
    const [code] = await within(closed, PROMPTLY, `trident's ${roles.trident} closing after the ${roles.go} reset its direction`);
    t.equal(code, 1006, 'trident closes with 1006');
    const reset = await peer.waitFor(bySession('reset', session), PROMPTLY);
    t.equal(reset.code, H3_REQUEST_CANCELLED, 'trident resets its direction with H3_REQUEST_CANCELLED');
  });

  t.test(cell(direction, `abort by the ${roles.trident} (H3_REQUEST_CANCELLED)`), async (t) => {
    const { peer, session, ws } = await open(t);
    ws.terminate();
    t.equal((await peer.waitFor(bySession('reset', session))).code, H3_REQUEST_CANCELLED, 'RESET_STREAM with H3_REQUEST_CANCELLED');
    // trident also stopped reading (STOP_SENDING): a write from quic-go fails with the same code.
    await t.rejects(peer.command({ cmd: 'send', session, type: 'text', size: 1 }), /failed/, 'quic-go cannot send any more');
    t.equal((await peer.waitFor(bySession('stop_sending', session))).code, H3_REQUEST_CANCELLED, 'STOP_SENDING with H3_REQUEST_CANCELLED');
  });

  t.test(cell(direction, 'backpressure: 100 KB echoed by an app that pauses until drain'), async (t) => {
    let stats = { pauses: 0 };
    const { peer, session } = await open(t, (ws) => (stats = politeEcho(ws)));
    await peer.command({ cmd: 'send', session, type: 'binary', size: BACKPRESSURE_SIZE });
    const back = await peer.waitFor(bySession('message', session));
    t.equal(back.sha256, sha256(pattern('binary', BACKPRESSURE_SIZE)), 'the echo arrives whole');
    t.comment(`trident's app paused ${stats.pauses} time(s)`);
    // After the pause, the session must read again (issue 9 defect 2): a ping, then a second message, then the close.
    await peer.command({ cmd: 'ping', session, data: 'after' });
    t.equal((await peer.waitFor(bySession('pong', session), PROMPTLY)).data, 'after', 'ping answered after the pause');
    await peer.command({ cmd: 'send', session, type: 'binary', size: BACKPRESSURE_SIZE });
    t.equal((await peer.waitFor(bySession('message', session), PROMPTLY)).size, BACKPRESSURE_SIZE, 'a second message echoed');
    await peer.command({ cmd: 'close', session, code: 1000 });
    t.equal((await peer.waitFor(bySession('close', session), PROMPTLY)).code, 1000, 'close handshake completes');
  });
}

sessionCells(CLIENT, { go: 'client', trident: 'server' }, openFromGoClient);
sessionCells(SERVER, { go: 'server', trident: 'client' }, openToGoServer);
