// Many streams at once, unidirectional streams both ways, stream ids and
// limits, and no stream state left behind after thousands of streams.
import { once } from 'node:events';
import t from 'tap';
import type { QuicConnection, QuicStream } from '../../src/quic/index.js';
import { echo, pair, pattern, readAll, sha256, shutdown, writeAll } from './helpers.js';

/** Live streams the engine still tracks (internal, for the leak check). */
function tracked(connection: QuicConnection): number {
  return (connection as unknown as { streams: Map<number, unknown> }).streams.size;
}

t.test('50 concurrent streams each echo 256 KiB intact', async (t) => {
  const p = await pair();
  t.teardown(() => shutdown(p));
  echo(p.peer);
  const results = await Promise.all(
    Array.from({ length: 50 }, async (_, i) => {
      const data = pattern(256 * 1024, i + 1);
      const stream = p.client.openStream(true);
      const back = readAll(stream);
      await writeAll(stream, data, 16 * 1024);
      return { id: stream.id, ok: sha256(await back) === sha256(data) };
    }),
  );
  t.same(
    results.map((r) => r.id),
    Array.from({ length: 50 }, (_, i) => i * 4),
    'client-initiated bidirectional ids 0, 4, 8, … (RFC 9000 §2.1)',
  );
  t.equal(results.filter((r) => r.ok).length, 50, 'all 50 intact');
});

t.test('unidirectional streams both ways', async (t) => {
  const p = await pair();
  t.teardown(() => shutdown(p));
  const clientData = pattern(300_000, 11);
  const serverData = pattern(200_000, 12);

  // Listeners go on in the 'stream' handler itself: data follows at once.
  const atServer = new Promise<[QuicStream, Promise<Buffer>]>((resolve) =>
    p.peer.once('stream', (stream: QuicStream) => resolve([stream, readAll(stream)])),
  );
  const up = p.client.openStream(false);
  t.equal(up.id, 2, 'first client unidirectional id is 2');
  t.notOk(up.bidirectional);
  await writeAll(up, clientData);
  const [incoming, upData] = await atServer;
  t.equal(incoming.id, 2);
  t.notOk(incoming.bidirectional);
  t.notOk(incoming.local);
  t.equal(sha256(await upData), sha256(clientData), 'client → server intact');
  t.equal(incoming.write(Buffer.from('x')), false, 'cannot write on the peer’s unidirectional stream');

  const atClient = new Promise<[QuicStream, Promise<Buffer>]>((resolve) =>
    p.client.once('stream', (stream: QuicStream) => resolve([stream, readAll(stream)])),
  );
  const down = p.peer.openStream(false);
  t.equal(down.id, 3, 'first server unidirectional id is 3');
  const closedDown = once(down, 'close');
  await writeAll(down, serverData);
  const [fromServer, downData] = await atClient;
  t.equal(fromServer.id, 3);
  t.notOk(fromServer.local);
  t.equal(sha256(await downData), sha256(serverData), 'server → client intact');
  await closedDown;
  t.pass('a finished unidirectional stream closes on the sending side');
});

t.test('a server-initiated bidirectional stream', async (t) => {
  const p = await pair();
  t.teardown(() => shutdown(p));
  echo(p.client);
  const stream = p.peer.openStream(true);
  t.equal(stream.id, 1, 'first server bidirectional id is 1');
  const back = readAll(stream);
  await writeAll(stream, Buffer.from('hello from the server'));
  t.equal((await back).toString(), 'hello from the server');
});

t.test('openStream throws at the peer’s stream limit', async (t) => {
  const p = await pair({ maxStreamsBidi: 2, maxStreamsUni: 1 });
  t.teardown(() => shutdown(p));
  p.client.openStream(true);
  p.client.openStream(true);
  t.throws(() => p.client.openStream(true), /limit of bidirectional streams/);
  p.client.openStream(false);
  t.throws(() => p.client.openStream(false), /limit of unidirectional streams/);
});

t.test('3,000 short streams leave no state behind (stream limit renewed as streams finish)', async (t) => {
  const p = await pair({ maxStreamsBidi: 100 });
  t.teardown(() => shutdown(p));
  echo(p.peer);
  const serverClosed: Promise<unknown>[] = [];
  p.peer.on('stream', (stream: QuicStream) => serverClosed.push(once(stream, 'close')));
  const total = 3000;
  let opened = 0;
  let echoed = 0;
  let waits = 0;
  const inFlight = new Set<Promise<void>>();
  const run = async (stream: QuicStream, text: string) => {
    const closed = once(stream, 'close');
    const back = readAll(stream);
    stream.write(Buffer.from(text));
    stream.end();
    if ((await back).toString() === text) echoed++;
    await closed;
  };
  while (opened < total) {
    let stream: QuicStream;
    try {
      stream = p.client.openStream(true);
    } catch {
      // At the server's limit of 100: MAX_STREAMS follows as streams finish.
      waits++;
      await once(p.client, 'streamsAvailable');
      continue;
    }
    const job = run(stream, `message ${opened++}`).finally(() => inFlight.delete(job));
    inFlight.add(job);
    if (inFlight.size >= 100) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  await Promise.all(serverClosed);
  t.equal(echoed, total, 'every stream echoed');
  t.equal(serverClosed.length, total, "every stream reached the server's 'stream' event");
  t.ok(waits > 0, `the limit was met and renewed (${waits} waits)`);
  t.equal(tracked(p.client), 0, 'client tracks no streams');
  t.equal(tracked(p.peer), 0, 'server tracks no streams');
});
