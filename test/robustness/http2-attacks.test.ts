// Issue 11 items 1, 4, 5, 10, 12 over HTTP/2: a raw HTTP/2 peer sends the
// exact frames of each attack while a bystander WebSocket on another HTTP/2
// connection keeps echoing. Each test asserts the wire outcome (status,
// RST_STREAM / GOAWAY code, connection closed by the server), that the
// bystander got every echo, and a bound on the server's heap growth.
import net from 'node:net';
import t, { type Test } from 'tap';
import { buildFrame, OP } from '../helpers/frames.js';
import { ErrorCode, Flag, FrameType, RawH2, closedWithin, encodeFrame, hpackLiterals, statusOf, type H2Frame } from '../helpers/h2-raw.js';
import type { LogLine } from '../helpers/binary.js';
import { echoServer, HEAP_GROWTH_BOUND, heapAfterGc, startBystander } from '../helpers/robustness.js';
import { makeTls } from '../transports/http2/tls.js';

const HANDSHAKE_TIMEOUT = 500;
const IDLE_TIMEOUT = 400;
const MAX_STREAMS = 4;
/** How long a test waits for the server to close a connection before failing (far above the timeouts above). */
const CLOSE_BOUND = 20_000;
const { tls: serverTls, ca } = makeTls();

interface AttackContext {
  port: number;
  /** The server's log lines. */
  lines: LogLine[];
  /** How to reach the server with a raw peer. */
  connect(options?: { settings?: Array<[number, number]> }): Promise<RawH2>;
}

/**
 * Runs `attack` against a fresh server (h2c, or TLS when asked) while a
 * bystander echoes over its own HTTP/2 connection; checks the bystander and
 * the heap bound afterwards.
 */
async function underAttack(t: Test, options: { tls?: boolean; idleTimeout?: number }, attack: (context: AttackContext) => Promise<void>): Promise<void> {
  const { wss, port, lines } = await echoServer(options.tls ? { tls: serverTls } : { h2c: true }, {
    handshakeTimeout: HANDSHAKE_TIMEOUT,
    http2: { maxConcurrentStreams: MAX_STREAMS, idleTimeout: options.idleTimeout ?? IDLE_TIMEOUT },
  });
  t.teardown(() => wss.close());
  const url = `${options.tls ? 'wss' : 'ws'}://127.0.0.1:${port}/echo`;
  const bystander = await startBystander(url, { transport: 'h2', ca });
  const heapBefore = heapAfterGc();
  await attack({
    port,
    lines,
    connect: (extra = {}) => RawH2.connect({ port, tls: options.tls ? { ca, servername: 'localhost' } : undefined, ...extra }),
  });
  const heapGrowth = heapAfterGc() - heapBefore;
  const echoes = await bystander.stop();
  t.equal(echoes.mismatches, 0, 'bystander: every echo intact');
  t.equal(echoes.closedEarly, false, `bystander: never disconnected (${echoes.roundTrips} echoes during the attack)`);
  t.ok(heapGrowth < HEAP_GROWTH_BOUND, `server heap grew ${(heapGrowth / 1024).toFixed(0)} KiB (bound ${HEAP_GROWTH_BOUND / 1024 / 1024} MiB)`);
}

const isHeaders = (streamId: number) => (f: H2Frame) => f.type === FrameType.HEADERS && f.streamId === streamId;
const settingsAck = (f: H2Frame) => f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) !== 0;

/** Opens a WebSocket on `streamId` and returns its response status. */
async function openWebSocket(peer: RawH2, streamId: number, options: Parameters<RawH2['connectWebSocket']>[1] = {}): Promise<number | undefined> {
  peer.connectWebSocket(streamId, options);
  const headers = await peer.waitFor(isHeaders(streamId), { what: `response HEADERS on stream ${streamId}` });
  return statusOf(headers.payload);
}

/** Sends a masked text message on a WebSocket stream and waits for its unmasked echo. */
async function echoOn(peer: RawH2, streamId: number, text: string): Promise<string> {
  const from = peer.frames.length;
  peer.data(streamId, buildFrame({ opcode: OP.TEXT, payload: text, mask: true }));
  const expected = 2 + Buffer.byteLength(text);
  await peer.waitFor(() => peer.dataOn(streamId).length >= expected, { from, what: `echo on stream ${streamId}` });
  return peer.dataOn(streamId).subarray(2, expected).toString();
}

t.test('item 10: a stream beyond the concurrent-stream limit is refused, the others go on', async (t) => {
  await underAttack(t, {}, async ({ connect }) => {
    const peer = await connect();
    t.teardown(() => peer.destroy());
    await peer.waitFor(settingsAck);
    const streams = Array.from({ length: MAX_STREAMS }, (_, i) => 1 + 2 * i);
    for (const id of streams) t.equal(await openWebSocket(peer, id), 200, `stream ${id} opened`);
    const extra = 1 + 2 * MAX_STREAMS;
    peer.connectWebSocket(extra);
    await peer.waitFor((f) => f.type === FrameType.RST_STREAM && f.streamId === extra, { what: 'RST_STREAM on the extra stream' });
    t.equal(peer.resetCode(extra), ErrorCode.REFUSED_STREAM, 'RST_STREAM(REFUSED_STREAM), RFC 9113 §5.1.2');
    for (const id of streams) t.equal(await echoOn(peer, id, `still here ${id}`), `still here ${id}`, `stream ${id} still echoes`);
    t.equal(peer.goaway(), undefined, 'no GOAWAY');
    t.equal(peer.socket.destroyed, false, 'the connection stays open');
  });
});

t.test('item 12: an extended CONNECT that already carries END_STREAM gets 400', async (t) => {
  await underAttack(t, {}, async ({ connect }) => {
    const peer = await connect();
    t.teardown(() => peer.destroy());
    t.equal(await openWebSocket(peer, 1, { endStream: true }), 400, 'END_STREAM on the CONNECT: 400');
    t.equal(await openWebSocket(peer, 3), 200, 'the connection serves the next WebSocket');
  });
});

t.test('item 12: a Host header that names another authority than :authority gets 400', async (t) => {
  await underAttack(t, {}, async ({ connect, port }) => {
    const peer = await connect();
    t.teardown(() => peer.destroy());
    t.equal(await openWebSocket(peer, 1, { extra: [['host', 'evil.example']] }), 400, 'Host: evil.example → 400');
    t.equal(await openWebSocket(peer, 3, { extra: [['host', `127.0.0.1:${port}`]] }), 200, 'Host equal to :authority → 200');
  });
});

for (const overTls of [false, true]) {
  t.test(`item 5: rapid reset ends in GOAWAY and the server closes the connection (${overTls ? 'TLS' : 'h2c'})`, async (t) => {
    // No idle timeout here: the close must come from the reset guard itself.
    // Over TLS the resets are processed inside one TLS read; destroying the
    // session from there once crashed the process (a native assertion).
    await underAttack(t, { tls: overTls, idleTimeout: 0 }, async ({ connect, lines }) => {
      const peers = await Promise.all(Array.from({ length: 3 }, () => connect()));
      await Promise.all(peers.map((peer) => peer.waitFor(settingsAck)));
      const request = hpackLiterals([[':method', 'GET'], [':scheme', overTls ? 'https' : 'http'], [':path', '/'], [':authority', 'x']]);
      const frames: Buffer[] = [];
      for (let id = 1; id < 2 * 3000; id += 2) {
        frames.push(encodeFrame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, id, request));
        frames.push(encodeFrame(FrameType.RST_STREAM, 0, id, Buffer.from([0, 0, 0, ErrorCode.CANCEL])));
      }
      const burst = Buffer.concat(frames);
      for (const peer of peers) peer.send(burst);
      await Promise.all(peers.map((peer) => peer.closedWithin(CLOSE_BOUND)));
      for (const peer of peers) {
        const goaway = peer.goaway();
        t.ok(goaway !== undefined && goaway.code !== ErrorCode.NO_ERROR, `GOAWAY with an error code (${goaway?.code}), then closed (RFC 9113 §5.4.1)`);
      }
      const logged = lines.filter((line) => line.msg === 'HTTP/2 streams reset faster than allowed: connection closed');
      // Node 20's http2 leaves such a connection open (the guard closes and logs it);
      // Node 22 and later close it themselves, so the guard may have nothing to do.
      t.ok(logged.length <= peers.length, `logged at most once per connection (${logged.length} by the guard)`);
      t.ok(logged.every((line) => line.level === 30), 'at info level');
    });
  });
}

t.test('item 5: connections that open no stream are closed after the handshake timeout', async (t) => {
  await underAttack(t, {}, async ({ connect }) => {
    const peers = await Promise.all(Array.from({ length: 50 }, () => connect()));
    await Promise.all(peers.map((peer) => peer.closedWithin(CLOSE_BOUND)));
    t.ok(peers.every((peer) => peer.goaway()?.code === ErrorCode.NO_ERROR), '50 preface-only connections: GOAWAY(NO_ERROR), then closed');
  });
});

t.test('item 5: a connection whose last stream closed is closed after the idle timeout', async (t) => {
  await underAttack(t, {}, async ({ connect }) => {
    const peer = await connect();
    peer.headers(1, [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'x']], { endStream: true });
    const response = await peer.waitFor(isHeaders(1));
    t.equal(statusOf(response.payload), 426, 'a plain request gets its answer');
    await peer.closedWithin(CLOSE_BOUND);
    t.equal(peer.goaway()?.code, ErrorCode.NO_ERROR, 'then, idle, GOAWAY(NO_ERROR) and close');
  });
});

t.test('item 4: a request header block that never ends is bounded by the handshake timeout', async (t) => {
  await underAttack(t, {}, async ({ connect }) => {
    const peer = await connect();
    // HEADERS without END_HEADERS, and no CONTINUATION ever (RFC 9113 §6.10).
    peer.send(encodeFrame(FrameType.HEADERS, 0, 1, hpackLiterals([[':method', 'CONNECT'], [':protocol', 'websocket']])));
    await peer.closedWithin(CLOSE_BOUND);
    t.pass('closed by the server');
  });
});

t.test('item 5: a TLS handshake that never completes is bounded by the handshake timeout', async (t) => {
  await underAttack(t, { tls: true }, async ({ port }) => {
    const silent = net.connect(port, '127.0.0.1');
    silent.on('error', () => {});
    // And one that starts TLS but stalls after a partial ClientHello.
    const partial = net.connect(port, '127.0.0.1', () => partial.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])));
    partial.on('error', () => {});
    await Promise.all([closedWithin(silent, CLOSE_BOUND), closedWithin(partial, CLOSE_BOUND)]);
    t.pass('both closed by the server (Node would wait 120 s)');
  });
});

t.test('item 1: a 512 KiB message in 1-byte DATA frames is reassembled in linear time', async (t) => {
  await underAttack(t, {}, async ({ connect }) => {
    const peer = await connect();
    t.teardown(() => peer.destroy());
    t.equal(await openWebSocket(peer, 1), 200);
    const payload = Buffer.alloc(512 * 1024, 0x61);
    const frame = Buffer.from(buildFrame({ opcode: OP.BINARY, payload, mask: true }));
    // Within the 1 MiB stream window, so no WINDOW_UPDATE is needed (RFC 9113 §6.9).
    const frames: Buffer[] = [];
    for (let i = 0; i < frame.length; i++) frames.push(encodeFrame(FrameType.DATA, 0, 1, frame.subarray(i, i + 1)));
    peer.send(Buffer.concat(frames));
    await peer.waitFor(() => peer.dataOn(1).length >= payload.length + 10, { timeoutMs: 60_000, what: 'the echo' });
    const echo = peer.dataOn(1);
    t.equal(echo.length, payload.length + 10, 'the whole message echoed');
    t.ok(echo.subarray(10).equals(payload), 'intact');
  });
});
