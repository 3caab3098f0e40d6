// Bad input from any peer gets a precise answer, is logged, never crashes the
// server and never disturbs other connections: attacks run against the real
// binary while well-behaved clients keep echoing through it.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { deflateRawSync } from 'node:zlib';
import t from 'tap';
import WS from 'ws';
import { buildFrame, OP, parseClosePayload, pseudoRandomBytes } from '../helpers/frames.js';
import { startBinary } from '../helpers/binary.js';
import { createHttp1Target } from '../conformance/http1-target.js';

const HANDSHAKE_TIMEOUT = 1000;
const MAX_MESSAGE = 1024 * 1024;

const server = await startBinary([
  '--handshake-timeout', String(HANDSHAKE_TIMEOUT),
  '--max-message-size', String(MAX_MESSAGE),
  '--heartbeat', '0',
]);
t.teardown(() => server.kill());
const port = server.httpPort;
const target = createHttp1Target({ host: '127.0.0.1', port, limits: { maxMessageSize: MAX_MESSAGE } });

function rssKiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match![1]);
}

/** Opens a raw TCP connection, sends `data` (in steps if given an array with delays), collects what comes back. */
function rawExchange(data: Buffer | string, options: { end?: boolean } = {}): Promise<{ response: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let response = '';
    socket.on('data', (chunk) => (response += chunk.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => resolve({ response, closedAfterMs: Date.now() - started }));
    socket.on('connect', () => (options.end ? socket.end(data) : socket.write(data)));
    setTimeout(() => {
      socket.destroy();
      reject(new Error('server did not close the connection within 8 s'));
    }, 8000).unref();
  });
}

/** Well-behaved clients echo sequence-numbered messages until told to stop. */
async function goodClient(deflate: boolean, stop: Promise<void>) {
  const client = new WS(`ws://127.0.0.1:${port}/echo`, { perMessageDeflate: deflate });
  await once(client, 'open');
  let closed = false;
  client.on('close', () => (closed = true));
  let roundTrips = 0;
  let mismatches = 0;
  let stopped = false;
  void stop.then(() => (stopped = true));
  const deadline = Date.now() + 30_000;
  const echo = async (text: string): Promise<void> => {
    client.send(text);
    const [data] = (await once(client, 'message')) as [Buffer];
    if (data.toString() !== text) mismatches++;
  };
  while (!stopped && !closed && Date.now() < deadline) {
    await echo(`message ${roundTrips} ${'x'.repeat(roundTrips % 2000)}`);
    roundTrips++;
  }
  // Counting echoes during the attacks would measure the machine's speed; one
  // more echo once they are over proves the session survived them.
  let echoedAfter = false;
  if (!closed) {
    await echo('after the attacks');
    echoedAfter = true;
  }
  const wasClosed = closed;
  client.close(1000);
  return { roundTrips, mismatches, wasClosed, echoedAfter };
}

t.test('attacks while good clients keep echoing', async (t) => {
  let finishAttacks!: () => void;
  const attacksDone = new Promise<void>((resolve) => (finishAttacks = resolve));
  const good = [goodClient(false, attacksDone), goodClient(true, attacksDone), goodClient(false, attacksDone)];
  const rssBefore = rssKiB(server.pid);

  const attacks = {
    async garbageInsteadOfHttp() {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => rawExchange(Buffer.from(pseudoRandomBytes(4096, i + 1)))),
      );
      for (const { response } of results) t.match(response, /^HTTP\/1\.1 400 Bad Request\r\n/, 'garbage gets 400');
    },
    async truncatedHandshake() {
      const { response } = await rawExchange('GET /echo HTTP/1.1\r\nHost: x\r\nUpgr', { end: true });
      t.notMatch(response, /101/, 'a truncated handshake never upgrades');
    },
    async slowLoris() {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => {});
      await once(socket, 'connect');
      const request = 'GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n';
      let sent = 0;
      const drip = setInterval(() => {
        if (sent < request.length && !socket.destroyed) socket.write(request[sent++]);
      }, 100);
      let response = '';
      socket.on('data', (chunk) => (response += chunk.toString()));
      const started = Date.now();
      await Promise.race([once(socket, 'close'), new Promise((resolve) => setTimeout(resolve, 8000))]);
      clearInterval(drip);
      const elapsed = Date.now() - started;
      t.ok(socket.destroyed || socket.readableEnded, 'the slow client was disconnected');
      t.ok(elapsed < HANDSHAKE_TIMEOUT + 2500, `cut off after ${elapsed} ms (handshake timeout ${HANDSHAKE_TIMEOUT} ms)`);
      t.match(response, /^HTTP\/1\.1 408 Request Timeout\r\n/, 'with 408');
      socket.destroy();
    },
    async oversizedHeaders() {
      const { response } = await rawExchange(`GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
      t.match(response, /^HTTP\/1\.1 431 /, 'oversized request head gets 431');
    },
    async abandonedHandshakes() {
      const sockets = await Promise.all(
        Array.from({ length: 100 }, async () => {
          const socket = net.connect(port, '127.0.0.1');
          socket.on('error', () => {});
          await once(socket, 'connect');
          socket.write('GET /echo HTTP/1.1\r\n');
          socket.resume(); // read the server's answer so its FIN is seen
          return socket;
        }),
      );
      await Promise.all(sockets.map((socket) => once(socket, 'close')));
      t.pass('100 half-sent handshakes were all closed by the server');
    },
    async garbageFrames() {
      const peer = await target.open();
      await peer.write(Buffer.from([0x7f, 0xff, ...pseudoRandomBytes(100, 9)]));
      const frame = await peer.nextFrame(5000);
      t.equal(frame.opcode, OP.CLOSE);
      t.equal(parseClosePayload(frame.payload).code, 1002, 'garbage frame → 1002');
      t.equal(await peer.ended(5000), 'end', 'then the server ends the connection');
      peer.destroy();
    },
    async compressionBomb() {
      const peer = await target.open({ extensions: 'permessage-deflate' });
      t.match(peer.handshake.extensions ?? '', /permessage-deflate/);
      const inflated = Buffer.alloc(256 * 1024 * 1024); // 256 MiB of zeros
      const compressed = deflateRawSync(inflated, { level: 9 });
      const payload = compressed.subarray(0, compressed.length - 4); // RFC 7692 §7.2.1: drop 00 00 ff ff
      t.ok(payload.length < 300 * 1024, `bomb is ${payload.length} bytes compressed`);
      await peer.write(buildFrame({ opcode: OP.BINARY, payload, rsv1: true }));
      const frame = await peer.nextFrame(10_000);
      t.equal(frame.opcode, OP.CLOSE);
      t.equal(parseClosePayload(frame.payload).code, 1009, 'compression bomb → 1009');
      peer.destroy();
    },
  };
  // All attacks at once, while the good clients echo.
  await Promise.all(Object.values(attacks).map((attack) => attack()));
  const rssGrowthMiB = (rssKiB(server.pid) - rssBefore) / 1024;
  finishAttacks();

  const results = await Promise.all(good);
  for (const [i, result] of results.entries()) {
    t.ok(result.roundTrips >= 1, `good client ${i} echoed during the attacks (${result.roundTrips} round trips)`);
    t.ok(result.echoedAfter, `good client ${i} still echoes after them`);
    t.equal(result.mismatches, 0, `good client ${i}: every echo intact`);
    t.equal(result.wasClosed, false, `good client ${i} was never disconnected`);
  }
  t.ok(rssGrowthMiB < 100, `server RSS grew by ${rssGrowthMiB.toFixed(1)} MiB during a 256 MiB bomb`);

  const levels = server.logs.map((line) => line.msg);
  t.ok(levels.includes('bad HTTP request'), 'malformed requests were logged');
  t.ok(levels.includes('peer violated the protocol'), 'protocol violations were logged');
  t.notOk(server.logs.some((line) => (line.level ?? 0) >= 50), 'nothing logged at error level or above');
  t.equal(await server.stop('SIGTERM'), 0, 'the server is still alive and shuts down cleanly');
  t.equal(server.stderr(), '', 'nothing on stderr');
});
