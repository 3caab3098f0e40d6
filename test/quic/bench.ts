// Rough throughput of the QUIC engine on loopback, client and server in this
// one process. NOT a test (no assertions on time; tap skips it); run by hand
// from the repository root:
//
//   TS_NODE_PROJECT=tsconfig.test.json TS_NODE_TRANSPILE_ONLY=1 \
//     node --import @tapjs/typescript/import test/quic/bench.ts [bulkMiB] [seconds]
//
// Prints: bulk MiB/s of one stream (client → server, 64 MiB by default), and
// 1 KiB echo round trips per second on 1 stream and spread over 50 streams
// (each stream: send 1 KiB, wait for it to come back, repeat, for 3 s).
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { QuicConnection, QuicStream } from '../../src/quic/index.js';
import { pair, shutdown } from './helpers.js';

const bulkMiB = Number(process.argv[2] ?? 64);
const seconds = Number(process.argv[3] ?? 3);

async function bulk(): Promise<void> {
  const p = await pair();
  const total = bulkMiB * 1024 * 1024;
  p.peer.on('stream', (stream: QuicStream) => {
    let received = 0;
    stream.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    stream.on('end', () => {
      stream.write(Buffer.from(String(received)));
      stream.end();
    });
  });
  const stream = p.client.openStream(true);
  const chunk = Buffer.alloc(64 * 1024, 7);
  const start = performance.now();
  const reply: Buffer[] = [];
  stream.on('data', (c: Buffer) => reply.push(c));
  const ended = once(stream, 'end');
  for (let sent = 0; sent < total; sent += chunk.length) {
    if (!stream.write(chunk)) await once(stream, 'drain');
  }
  stream.end();
  await ended;
  const ms = performance.now() - start;
  const got = Number(Buffer.concat(reply).toString());
  console.log(
    `bulk: ${bulkMiB} MiB in ${ms.toFixed(0)} ms = ${((total / 1048576) / (ms / 1000)).toFixed(1)} MiB/s` +
      ` (server received ${got === total ? 'all' : got} bytes)`,
  );
  await shutdown(p);
}

/** Echo round trips of `size`-byte messages on `streams` streams for `seconds`. */
async function pingPong(streams: number, size: number): Promise<void> {
  const p = await pair();
  p.peer.on('stream', (stream: QuicStream) => {
    stream.on('data', (chunk: Buffer) => stream.write(chunk));
    stream.on('end', () => stream.end());
  });
  const message = Buffer.alloc(size, 1);
  let trips = 0;
  let running = true;
  const loops: Promise<void>[] = [];
  const run = (connection: QuicConnection) =>
    new Promise<void>((resolve) => {
      const stream = connection.openStream(true);
      let pendingBytes = 0;
      stream.on('data', (chunk: Buffer) => {
        pendingBytes -= chunk.length;
        if (pendingBytes > 0) return;
        trips++;
        if (!running) {
          stream.end();
          resolve();
          return;
        }
        pendingBytes = size;
        stream.write(message);
      });
      pendingBytes = size;
      stream.write(message);
    });
  const start = performance.now();
  for (let i = 0; i < streams; i++) loops.push(run(p.client));
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  running = false;
  await Promise.all(loops);
  const elapsed = (performance.now() - start) / 1000;
  console.log(`echo: ${size} B on ${streams} stream(s): ${(trips / elapsed).toFixed(0)} round trips/s`);
  await shutdown(p);
}

if (process.env.TAP === '1') {
  console.log('# bench.ts is a manual benchmark, not a test: skipped under tap');
} else {
  await bulk();
  await pingPong(1, 1024);
  await pingPong(50, 1024);
}
