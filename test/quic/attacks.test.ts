// The server's defences against handshake-level attacks, driven by a raw
// quiche client on its own loopback address (attacker.ts): the
// anti-amplification limit without Retry (RFC 9000 §8.1), one connection per
// Retry token, the handshake budget and timeout (§21.6), and the rate of
// Retry answers. Each asserts counts and bytes; a well-behaved client on
// 127.0.0.1 must still get through.
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import t, { type Test } from 'tap';
import type { QuicConnection, QuicServer } from '../../src/quic/index.js';
import { INITIAL, RETRY, RawQuicSocket } from './attacker.js';
import { closed, connect, echo, readAll, startServer } from './helpers.js';

async function attacker(t: Test, host: string, port: number): Promise<RawQuicSocket> {
  const socket = await RawQuicSocket.open(host, port);
  t.teardown(() => socket.close());
  return socket;
}

async function server(t: Test, options: Parameters<typeof startServer>[0]): Promise<{ server: QuicServer; port: number }> {
  const started = await startServer(options);
  t.teardown(() => started.server.close());
  return started;
}

/** A well-behaved client from 127.0.0.1 completes its handshake (and closes). */
async function newcomerConnects(port: number): Promise<boolean> {
  try {
    const client = await connect(port, { handshakeTimeout: 5000 });
    const done = closed(client);
    client.close(0);
    await done;
    return true;
  } catch {
    return false;
  }
}

/** One round trip on a new stream of an echoing connection. */
async function echoOnce(connection: QuicConnection, text: string): Promise<string> {
  const stream = connection.openStream(true);
  const back = readAll(stream);
  stream.write(Buffer.from(text));
  stream.end();
  return (await back).toString();
}

t.test('retry off: one Initial draws at most three times its bytes (RFC 9000 §8.1)', async (t) => {
  // 6 s covers quiche's probe timeouts at ~1, 2 and 5 s; before the driver
  // counted datagrams itself they sent 5,656 bytes by then (6,512 by 10 s).
  const { server: quic, port } = await server(t, { retry: false, handshakeTimeout: 6000 });
  const socket = await attacker(t, '127.0.0.2', port);
  const { native } = socket.connection();
  socket.flush(native); // the Initial, then silence
  t.equal(socket.bytesOut, 1200, 'one padded Initial');
  const [peer] = (await once(quic, 'handshakeTimeout')) as [{ address: string }];
  t.equal(peer.address, '127.0.0.2');
  await socket.barrier();
  t.ok(socket.received.get(INITIAL)! >= 1, 'the server answered with its Initial');
  t.ok(socket.bytesIn <= 3 * socket.bytesOut, `${socket.bytesIn} bytes sent for ${socket.bytesOut} received: at most 3×`);
  t.equal(quic.connectionCount, 0, 'the half-open connection is gone');
});

t.test('a Retry token opens one connection, not one per connection ID it is sent with', async (t) => {
  const { server: quic, port } = await server(t, {});
  const socket = await attacker(t, '127.0.0.2', port);
  t.equal(await socket.halfOpen(), 'admitted');
  t.equal(socket.received.get(RETRY), 1, 'admitted after one Retry');
  t.equal(quic.connectionCount, 1);
  // The same token, each time under a connection ID of the attacker's choice:
  // before tokens were bound to their Retry's connection ID, every copy
  // opened a connection without a Retry round trip of its own.
  for (let i = 0; i < 5; i++) socket.replayToken(socket.lastToken!);
  await socket.barrier();
  t.equal(quic.connectionCount, 1, 'no connection for a replayed token');
  t.equal(socket.received.get(RETRY), 1, 'and no new Retry');
});

/** Resolves after `count` `event`s from `emitter`. */
function events(emitter: QuicServer, event: string, count: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const listener = (): void => {
      if (++seen < count) return;
      emitter.off(event, listener);
      resolve();
    };
    emitter.on(event, listener);
  });
}

function tally(outcomes: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const outcome of outcomes) counts[outcome] = (counts[outcome] ?? 0) + 1;
  return counts;
}

t.test('half-open handshakes have their own budget, per address and in all, and a timeout (RFC 9000 §21.6)', async (t) => {
  const { server: quic, port } = await server(t, { maxHandshakesPerAddress: 4, maxHandshakes: 6, handshakeTimeout: 1500 });
  quic.on('connection', echo);
  const established = await connect(port);
  t.teardown(() => established.close(0));

  // One socket completes Retry for 10 connections and goes silent.
  const first = await attacker(t, '127.0.0.2', port);
  const firstOutcomes = await Promise.all(Array.from({ length: 10 }, () => first.halfOpen()));
  t.same(tally(firstOutcomes), { admitted: 4, refused: 6 }, 'one address gets maxHandshakesPerAddress handshakes');
  t.equal(quic.handshakeCount, 4);
  t.ok(await newcomerConnects(port), 'a client from another address still connects');

  // A second address fills what is left of the global handshake budget.
  const second = await attacker(t, '127.0.0.3', port);
  const secondOutcomes = await Promise.all(Array.from({ length: 10 }, () => second.halfOpen()));
  t.same(tally(secondOutcomes), { admitted: 2, refused: 8 }, 'maxHandshakes bounds them all');
  t.equal(quic.handshakeCount, 6);
  t.equal(quic.connectionCount, 7, 'the six half-open ones and the established one');
  t.equal(await newcomerConnects(port), false, 'a full handshake budget refuses new clients …');
  t.equal(await echoOnce(established, 'still here'), 'still here', '… but not established connections');

  // Silent handshakes end at handshakeTimeout, and their room is free again.
  await events(quic, 'handshakeTimeout', 6);
  t.equal(quic.handshakeCount, 0);
  t.equal(quic.stats.handshakeTimeouts, 6);
  t.equal(quic.stats.refused, 6 + 8 + 1);
  t.ok(await newcomerConnects(port), 'new clients connect again');
});

t.test('Retry answers are rate-limited per address and in all', async (t) => {
  const { server: quic, port } = await server(t, { retryRatePerAddress: 10, retryRate: 25 });
  const started = performance.now();
  const flooders = await Promise.all(['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'].map((host) => attacker(t, host, port)));
  for (const flooder of flooders) for (const initial of flooder.initials(100)) flooder.send(initial);
  await Promise.all(flooders.map((flooder) => flooder.barrier()));
  const seconds = (performance.now() - started) / 1000;
  const answered = flooders.map((flooder) => flooder.received.get(RETRY) ?? 0);
  for (const [i, count] of answered.entries()) {
    // A bucket of 10 refilled at 10/s: at most 10 + 10/s × the time the flood took.
    t.ok(count <= 10 + 10 * seconds, `attacker ${i + 1}: ${count} Retry packets for 100 Initials in ${seconds.toFixed(2)} s`);
  }
  const total = answered.reduce((a, b) => a + b, 0);
  t.ok(total <= 25 + 25 * seconds, `${total} Retry packets in all: at most the global bucket`);
  t.ok(total >= 25, 'the global burst was used');
  t.equal(quic.stats.retries, total);
  t.equal(quic.stats.answersDropped, 400 - total, 'every other Initial went unanswered');
  t.ok(await newcomerConnects(port), 'a client from another address still connects (its Initial is retransmitted if dropped)');
});
