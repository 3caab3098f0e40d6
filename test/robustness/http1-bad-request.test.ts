// Issue 11 item 6: a bad HTTP/1.1 request followed by more bytes is answered
// once, logged once, and the connection is closed; Node's parser reports its
// error again for every later chunk, which used to add a log line, a timer and
// a listener each time (MaxListenersExceededWarning, 62 MiB of logs from 50
// connections). A bystander session keeps echoing throughout.
import { once } from 'node:events';
import net from 'node:net';
import t from 'tap';
import { echoServer, HEAP_GROWTH_BOUND, heapAfterGc, startBystander } from '../helpers/robustness.js';

const CONNECTIONS = 20;
const CHUNKS_AFTER = 200;

/** Sends a malformed request, then `CHUNKS_AFTER` more chunks, 2 ms apart; returns what came back. */
async function badRequestThenMore(port: number): Promise<{ response: string; closed: boolean }> {
  // Half-open allowed: like an attacker, keep sending after the server's FIN.
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  socket.setNoDelay(true);
  socket.on('error', () => {}); // the server may reset once it stops reading
  let response = '';
  socket.on('data', (chunk: Buffer) => (response += chunk.toString('latin1')));
  const closed = new Promise((resolve) => socket.once('close', resolve)); // once() would reject on EPIPE
  await once(socket, 'connect');
  // A space inside a field name: HPE_INVALID_HEADER_TOKEN (RFC 9112 §5.1).
  socket.write('GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header: x\r\n\r\n');
  for (let i = 0; i < CHUNKS_AFTER && !socket.destroyed; i++) {
    socket.write(Buffer.alloc(512, 0x41 + (i % 26)));
    // Paced (the attack's shape, not a wait for an event) so that each chunk is its own read.
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  socket.end();
  await closed;
  return { response, closed: true };
}

t.test('a bad request followed by many chunks: one answer, one log line, closed', async (t) => {
  const { wss, port, lines, logBytes } = await echoServer({});
  t.teardown(() => wss.close());
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => void warnings.push(warning);
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));

  const bystander = await startBystander(`ws://127.0.0.1:${port}/echo`, { transport: 'h1' });
  const heapBefore = heapAfterGc();
  const results = await Promise.all(Array.from({ length: CONNECTIONS }, () => badRequestThenMore(port)));
  const heapGrowth = heapAfterGc() - heapBefore;
  const echoes = await bystander.stop();

  for (const [i, { response, closed }] of results.entries()) {
    t.match(response, /^HTTP\/1\.1 400 Bad Request\r\n/, `connection ${i}: 400`);
    t.equal(response.split('HTTP/1.1 ').length - 1, 1, `connection ${i}: exactly one response`);
    t.ok(closed, `connection ${i}: closed by the server`);
  }
  const badRequestLines = lines.filter((line) => line.msg === 'bad HTTP request');
  t.equal(badRequestLines.length, CONNECTIONS, 'one log line per bad connection');
  t.ok(badRequestLines.every((line) => line.level === 30 && line.status === 400), 'at info level, with the status');
  t.ok(logBytes() < CONNECTIONS * 1024 + 64 * 1024, `${logBytes()} bytes of logs in all`);
  t.same(warnings.map((w) => w.name), [], 'no process warnings (MaxListenersExceededWarning)');
  t.ok(heapGrowth < HEAP_GROWTH_BOUND, `server heap grew ${(heapGrowth / 1024).toFixed(0)} KiB (bound ${HEAP_GROWTH_BOUND / 1024 / 1024} MiB)`);

  t.equal(echoes.mismatches, 0, 'bystander: every echo intact');
  t.equal(echoes.closedEarly, false, 'bystander: never disconnected');
  t.ok(echoes.roundTrips > 0, `bystander: ${echoes.roundTrips} echoes during the attack`);
});
