// HTTP/3 attacks against a WebSocketServer (listen({ tls, http3 })) while a
// WebSocket over HTTP/3 keeps echoing through it: half-open QUIC handshakes
// from one socket, an Initial flood, and request streams whose header section
// never completes. Each asserts counts — connections admitted or refused,
// answers sent, streams rejected with the right code — and that the
// bystander kept echoing and new clients still connect.
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import t from 'tap';
import { WebSocket, WebSocketServer } from '../../src/index.js';
import { H3_REQUEST_REJECTED } from '../../src/http3/errors.js';
import { FrameType, encodeFrameHeader } from '../../src/http3/frames.js';
import { connectQuic } from '../../src/quic/index.js';
import { connectH3, extendedConnectH3 } from '../conformance/http3-target.js';
import { makeTls } from '../transports/http2/tls.js';
import { RETRY, RawQuicSocket } from '../quic/attacker.js';

const { tls, ca } = makeTls();
const HANDSHAKE_TIMEOUT = 3000;
const PER_ADDRESS_HANDSHAKES = 20;
// Above what the half-open test needs (a Retry and a refusal per refused connection), far below the flood.
const RETRY_RATE_PER_ADDRESS = 200;
const MAX_INCOMPLETE = 100;

const wss = new WebSocketServer({ noServer: true, path: '/echo', handshakeTimeout: HANDSHAKE_TIMEOUT });
wss.on('connection', (ws: WebSocket) => ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary })));
const { port } = await wss.listen({
  host: '127.0.0.1',
  port: 0,
  tls,
  http3: { maxHandshakesPerAddress: PER_ADDRESS_HANDSHAKES, retryRatePerAddress: RETRY_RATE_PER_ADDRESS, maxIncompleteRequests: MAX_INCOMPLETE },
});
t.teardown(() => wss.close());

/** A WebSocket over HTTP/3 that echoes a numbered message whenever the previous one came back. */
async function bystander() {
  const ws = new WebSocket(`wss://localhost:${port}/echo`, { transport: 'h3', ca, perMessageDeflate: false });
  await once(ws, 'open');
  let roundTrips = 0;
  let mismatches = 0;
  let closed = false;
  let waiter: { target: number; resolve: () => void } | null = null;
  ws.on('close', () => (closed = true));
  ws.on('message', (data: Buffer) => {
    if (data.toString() !== `echo ${roundTrips}`) mismatches++;
    roundTrips++;
    if (waiter !== null && roundTrips >= waiter.target) {
      waiter.resolve();
      waiter = null;
    }
    if (!closed) ws.send(`echo ${roundTrips}`);
  });
  ws.send('echo 0');
  return {
    /** Resolves after `count` more round trips. */
    progress(count: number): Promise<void> {
      return new Promise((resolve) => (waiter = { target: roundTrips + count, resolve }));
    },
    stop() {
      ws.close(1000);
      return { roundTrips, mismatches, closed };
    },
  };
}

/** A new client: its own QUIC connection, SETTINGS, an extended CONNECT answered 200. */
async function newcomerStatus(): Promise<string | undefined> {
  const session = await connectH3('127.0.0.1', port, ca);
  try {
    const { headers } = await extendedConnectH3(session, `localhost:${port}`);
    return headers.find(([name]) => name === ':status')?.[1];
  } finally {
    session.close();
  }
}

const echoing = await bystander();
t.teardown(() => echoing.stop());

t.test('half-open handshakes from one socket cannot fill the server', async (t) => {
  const attacker = await RawQuicSocket.open('127.0.0.2', port);
  t.teardown(() => attacker.close());
  // 5× its budget, each completing Retry and then silent (the attack run filled
  // all 10,000 connection slots this way in 5.4 s).
  const outcomes = await Promise.all(Array.from({ length: 5 * PER_ADDRESS_HANDSHAKES }, () => attacker.halfOpen()));
  t.equal(outcomes.filter((o) => o === 'admitted').length, PER_ADDRESS_HANDSHAKES, 'admitted: the per-address handshake budget');
  t.equal(outcomes.filter((o) => o === 'refused').length, 4 * PER_ADDRESS_HANDSHAKES, 'the rest: CONNECTION_REFUSED');
  t.equal(await newcomerStatus(), '200', 'a new client still connects and opens a WebSocket');
  await echoing.progress(3);
  t.pass('the bystander kept echoing');
});

t.test('an Initial flood gets a bounded number of Retry answers', async (t) => {
  const attacker = await RawQuicSocket.open('127.0.0.3', port);
  t.teardown(() => attacker.close());
  const started = performance.now();
  for (const initial of attacker.initials(1000)) attacker.send(initial);
  await attacker.barrier();
  const seconds = (performance.now() - started) / 1000;
  const retries = attacker.received.get(RETRY) ?? 0;
  t.ok(retries >= 1, 'answered at first');
  t.ok(retries <= RETRY_RATE_PER_ADDRESS * (1 + seconds), `${retries} Retry packets for 1,000 Initials in ${seconds.toFixed(2)} s: at most the per-address bucket`);
  t.ok(attacker.bytesIn <= attacker.bytesOut / 10, `${attacker.bytesIn} bytes answered for ${attacker.bytesOut}`);
  t.equal(await newcomerStatus(), '200', 'a new client still connects');
  await echoing.progress(3);
  t.pass('the bystander kept echoing');
});

t.test('request streams whose header section never completes: bounded, then rejected', async (t) => {
  const connection = await connectQuic({ host: '127.0.0.1', port, servername: 'localhost', ca, alpn: ['h3'] });
  t.teardown(() => connection.close(0));
  // The first bytes of a HEADERS frame announcing 100 bytes, on 1.5× as many
  // streams as one connection may leave incomplete; then silence.
  const partial = Buffer.concat([encodeFrameHeader(FrameType.HEADERS, 100), Buffer.alloc(10)]);
  const count = MAX_INCOMPLETE + MAX_INCOMPLETE / 2;
  const resets: number[] = [];
  let onReset: (() => void) | null = null;
  for (let i = 0; i < count; i++) {
    const stream = connection.openStream(true);
    stream.on('reset', (code: number) => {
      resets.push(code);
      onReset?.();
    });
    stream.write(partial);
  }
  const resetsReach = (target: number): Promise<void> =>
    new Promise((resolve) => {
      onReset = () => {
        if (resets.length < target) return;
        onReset = null;
        resolve();
      };
      onReset();
    });
  await resetsReach(count - MAX_INCOMPLETE);
  await echoing.progress(3);
  t.equal(resets.length, count - MAX_INCOMPLETE, `beyond ${MAX_INCOMPLETE} incomplete requests, the rest are rejected at once`);
  await resetsReach(count);
  t.same(new Set(resets), new Set([H3_REQUEST_REJECTED]), 'all reset with H3_REQUEST_REJECTED, the held ones after handshakeTimeout');
  t.equal(await newcomerStatus(), '200', 'a new client still connects');
  await echoing.progress(3);
  const result = echoing.stop();
  t.equal(result.mismatches, 0, 'every echo matched');
  t.equal(result.closed, false, 'the bystander was never closed');
});
