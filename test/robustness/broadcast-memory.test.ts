/**
 * Issue 13: one 4 MiB chat message to 300 members over TLS (HTTP/1.1) and
 * over HTTP/3 once cost ~1.3 GB (a copy per member: TLS encryption of the
 * whole frame, Buffer.concat in the HTTP/3 channel). Now the frame exists
 * once and each member holds a bounded slice of it in its transport. The
 * server runs in a child process so that only its memory is measured; the
 * members read in batches (the others are paused, like slow readers), so
 * that the server holds the message for all of them at once.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { WebSocket } from '../../src/index.js';
import { makeTls } from '../transports/http2/tls.js';

const MEMBERS = Number(process.env.BROADCAST_MEMBERS ?? 300);
const MESSAGE = 4 * 1024 * 1024;
const BATCH = 25;
/**
 * The shared frame (4 MiB) plus per member what its transport may hold: up
 * to its high-water mark of slices (256 KiB for a QUIC stream, 16 KiB for a
 * TLS socket) plus one 64 KiB slice, and the TLS or QUIC library's own copy
 * of what it is sending. Measured: TLS +30 MiB RSS, HTTP/3 +73 MiB; the
 * copy-per-member fan-out grew it by more than 1 GiB.
 */
const GROWTH_BOUND = MESSAGE + MEMBERS * 384 * 1024;
const FIXTURE = fileURLToPath(new URL('../pubsub/fixtures/fanout-server.mjs', import.meta.url));

interface Report {
  rssGrowth: number;
  arrayBuffersGrowth: number;
  heapGrowth: number;
  stats: { deliveries: number; framings: number; slowClosed: number; dropped: number };
}

for (const transport of ['h1', 'h3'] as const) {
  t.test(`one 4 MiB message to ${MEMBERS} members over ${transport === 'h1' ? 'TLS' : 'HTTP/3'}: the frame once, bounded per member`, async (t) => {
    const { tls, ca } = makeTls();
    const server = fork(FIXTURE, [], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    t.teardown(() => {
      if (server.exitCode === null) server.kill('SIGKILL');
    });
    const ask = async <T>(command: object): Promise<T> => {
      const reply = once(server, 'message') as Promise<[T]>;
      server.send(command);
      return (await reply)[0];
    };
    const { port } = await ask<{ port: number }>({ listen: { cert: tls.cert.toString(), key: tls.key.toString(), http3: transport === 'h3' } });
    const clients: WebSocket[] = [];
    const received: Array<Promise<number>> = [];
    for (let i = 0; i < MEMBERS; i++) {
      const ws = new WebSocket(`wss://localhost:${port}/chat`, { transport, ca, perMessageDeflate: false });
      await once(ws, 'open');
      ws.pause();
      received.push(new Promise((resolve) => ws.once('message', (data: Buffer) => resolve(data.length))));
      clients.push(ws);
    }
    t.teardown(() => clients.forEach((ws) => ws.terminate()));
    await ask({ members: MEMBERS });
    await ask({ publish: MESSAGE });
    const lengths: number[] = [];
    for (let i = 0; i < MEMBERS; i += BATCH) {
      clients.slice(i, i + BATCH).forEach((ws) => ws.resume());
      lengths.push(...(await Promise.all(received.slice(i, i + BATCH))));
    }
    const report = await ask<Report>({ report: true });
    t.comment(`rss +${(report.rssGrowth / 2 ** 20).toFixed(1)} MiB, arrayBuffers +${(report.arrayBuffersGrowth / 2 ** 20).toFixed(1)} MiB, heap +${(report.heapGrowth / 2 ** 20).toFixed(1)} MiB`);
    t.ok(lengths.every((length) => length === MESSAGE), 'every member got the whole message');
    t.equal(report.stats.deliveries, MEMBERS);
    t.equal(report.stats.framings, 1, 'framed once');
    t.ok(report.arrayBuffersGrowth < GROWTH_BOUND, `Buffers grew ${report.arrayBuffersGrowth} < ${GROWTH_BOUND}`);
    t.ok(report.rssGrowth < GROWTH_BOUND, `RSS grew ${report.rssGrowth} < ${GROWTH_BOUND}`);
    server.send({ close: true });
    await once(server, 'exit');
  });
}
