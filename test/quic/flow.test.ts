// A paused reader throttles its sender through flow control (RFC 9000 §4)
// while another stream on the same connection keeps moving; after resume()
// everything arrives.
import { once } from 'node:events';
import t from 'tap';
import type { QuicStream } from '../../src/quic/index.js';
import { pair, pattern, readAll, sha256, shutdown, writeAll } from './helpers.js';

t.test('slow reader: one stream paused, another keeps moving', async (t) => {
  const window = 64 * 1024;
  const highWaterMark = 128 * 1024;
  // The server (reader) grants 64 KiB per stream; the client queues up to 128 KiB.
  const p = await pair({ maxStreamData: window }, { streamHighWaterMark: highWaterMark });
  t.teardown(() => shutdown(p));

  const incoming = new Map<number, { stream: QuicStream; received: number; data: Promise<Buffer> }>();
  p.peer.on('stream', (stream: QuicStream) => {
    const entry = { stream, received: 0, data: readAll(stream) };
    stream.on('data', (chunk: Buffer) => (entry.received += chunk.length));
    incoming.set(stream.id, entry);
    if (stream.id === 0) stream.pause(); // the slow reader
    else stream.on('end', () => stream.end()); // the other stream: answer once done
  });

  const slowData = pattern(1024 * 1024, 5);
  const slow = p.client.openStream(true);
  // Fill the paused stream until write() says stop.
  let offset = 0;
  let accepted = true;
  while (accepted) {
    accepted = slow.write(slowData.subarray(offset, offset + 16 * 1024));
    offset += 16 * 1024;
  }
  t.ok(slow.bufferedAmount >= highWaterMark, `write() returned false at bufferedAmount ${slow.bufferedAmount}`);

  // Meanwhile a second stream moves 2 MiB through the same connection.
  const fastData = pattern(2 * 1024 * 1024, 6);
  const fast = p.client.openStream(true);
  const fastDone = once(fast, 'end');
  fast.on('data', () => {});
  await writeAll(fast, fastData);
  await fastDone;
  t.equal(sha256(await incoming.get(4)!.data), sha256(fastData), 'the other stream delivered 2 MiB meanwhile');

  const reader = incoming.get(0)!;
  t.equal(reader.received, 0, "no 'data' while paused");
  // Top the queue up again: quiche cannot take more than the window.
  while (slow.write(slowData.subarray(offset, offset + 16 * 1024))) offset += 16 * 1024;
  offset += 16 * 1024;
  const taken = offset - slow.bufferedAmount;
  t.ok(taken <= window, `quiche took ${taken} bytes, within the ${window}-byte window the paused reader granted`);
  t.ok(slow.bufferedAmount >= highWaterMark, `bufferedAmount ${slow.bufferedAmount} stays at the high-water mark`);
  t.equal(slow.write(Buffer.alloc(0)), false, 'write() returns false');

  // Resume: the rest follows, 'drain' lets the writer finish.
  let drains = 0;
  slow.on('drain', () => drains++);
  reader.stream.resume();
  const finish = (async () => {
    await once(slow, 'drain');
    while (offset < slowData.length) {
      if (!slow.write(slowData.subarray(offset, offset + 16 * 1024))) await once(slow, 'drain');
      offset += 16 * 1024;
    }
    slow.end();
  })();
  await finish;
  t.equal(sha256(await reader.data), sha256(slowData), 'after resume() the paused stream delivered 1 MiB intact');
  t.ok(drains >= 1, "'drain' was emitted");
});

t.test('pause() and resume() from a data handler keep order', async (t) => {
  const p = await pair();
  t.teardown(() => shutdown(p));
  const data = pattern(3 * 1024 * 1024, 9);
  const received = new Promise<Buffer>((resolve) => {
    p.peer.on('stream', (stream: QuicStream) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        stream.pause();
        setImmediate(() => stream.resume());
      });
      stream.on('end', () => resolve(Buffer.concat(chunks)));
    });
  });
  const stream = p.client.openStream(false);
  await writeAll(stream, data);
  t.equal(sha256(await received), sha256(data));
});
