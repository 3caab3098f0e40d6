// Issue 11 item 12 over HTTP/1.1: an Upgrade request that announces content.
// RFC 6455 §4.1 makes the handshake a GET whose connection carries frames
// right after the head; content would be read as frames, so it is refused
// with 400 and never parsed. A bystander session keeps echoing.
import net from 'node:net';
import t from 'tap';
import { buildFrame, OP } from '../helpers/frames.js';
import { closedWithin } from '../helpers/h2-raw.js';
import { newKey } from '../helpers/http1.js';
import { echoServer, HEAP_GROWTH_BOUND, heapAfterGc, startBystander } from '../helpers/robustness.js';

/**
 * Sends `head` + `body` on a fresh connection and returns what the server
 * answers until it closes, or until the answer's head is complete when `headOnly`.
 */
async function exchange(port: number, head: string, body: Buffer, headOnly = false): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  let response = '';
  socket.on('data', (chunk: Buffer) => {
    response += chunk.toString('latin1');
    if (headOnly && response.includes('\r\n\r\n')) socket.destroy();
  });
  socket.on('connect', () => socket.write(Buffer.concat([Buffer.from(head), body])));
  await closedWithin(socket, 10_000);
  return response;
}

function upgradeHead(port: number, extra: string): string {
  return (
    `GET /echo HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${newKey()}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`
  );
}

t.test('an Upgrade request with content gets 400; its content is never read as frames', async (t) => {
  const { wss, port, lines } = await echoServer({});
  t.teardown(() => wss.close());
  const bystander = await startBystander(`ws://127.0.0.1:${port}/echo`, { transport: 'h1' });
  const heapBefore = heapAfterGc();
  // The content is a complete masked text frame: accepted, it would be echoed.
  const frame = Buffer.from(buildFrame({ opcode: OP.TEXT, payload: 'smuggled', mask: true }));
  for (const [name, extra, body] of [
    ['Content-Length', `Content-Length: ${frame.length}\r\n`, frame],
    ['Transfer-Encoding', 'Transfer-Encoding: chunked\r\n', Buffer.concat([Buffer.from(`${frame.length.toString(16)}\r\n`), frame, Buffer.from('\r\n0\r\n\r\n')])],
  ] as Array<[string, string, Buffer]>) {
    const response = await exchange(port, upgradeHead(port, extra), body);
    t.match(response, /^HTTP\/1\.1 400 Bad Request\r\n/, `${name}: 400`);
    t.notMatch(response, /smuggled/, `${name}: the content was not echoed`);
  }
  const zero = await exchange(port, upgradeHead(port, 'Content-Length: 0\r\n'), Buffer.alloc(0), true);
  t.match(zero, /^HTTP\/1\.1 101 /, 'Content-Length: 0 is no content: 101');
  t.equal(lines.filter((line) => line.msg === 'handshake refused' && line.status === 400).length, 2, 'each refusal logged once');
  const heapGrowth = heapAfterGc() - heapBefore;
  const echoes = await bystander.stop();
  t.equal(echoes.mismatches, 0, 'bystander: every echo intact');
  t.equal(echoes.closedEarly, false, `bystander: never disconnected (${echoes.roundTrips} echoes)`);
  t.ok(heapGrowth < HEAP_GROWTH_BOUND, `server heap grew ${(heapGrowth / 1024).toFixed(0)} KiB (bound ${HEAP_GROWTH_BOUND / 1024 / 1024} MiB)`);
});

t.test('item 1: a 128 KiB message written one byte per TCP segment is echoed intact', async (t) => {
  // The kernel may merge segments into larger reads, so this checks survival
  // over HTTP/1.1 end to end; the exact 1-byte chunking is proven in
  // test/protocol/receiver-reassembly.test.ts and over HTTP/2 DATA frames.
  const { wss, port } = await echoServer({});
  t.teardown(() => wss.close());
  const bystander = await startBystander(`ws://127.0.0.1:${port}/echo`, { transport: 'h1' });
  const heapBefore = heapAfterGc();
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  socket.on('error', () => {});
  let received = Buffer.alloc(0);
  const payload = Buffer.alloc(128 * 1024, 0x62);
  const echoed = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const head = received.indexOf('\r\n\r\n');
      if (head !== -1 && received.length >= head + 4 + 10 + payload.length) resolve();
    });
  });
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(upgradeHead(port, ''));
  const frame = Buffer.from(buildFrame({ opcode: OP.BINARY, payload, mask: true }));
  for (let i = 0; i < frame.length; i++) {
    if (!socket.write(frame.subarray(i, i + 1))) await new Promise((resolve) => socket.once('drain', resolve));
  }
  await echoed;
  const body = received.subarray(received.indexOf('\r\n\r\n') + 4);
  t.match(received.toString('latin1', 0, 12), /^HTTP\/1\.1 101/, '101');
  t.ok(body.subarray(10, 10 + payload.length).equals(payload), 'the echo is intact');
  socket.destroy();
  const heapGrowth = heapAfterGc() - heapBefore;
  const echoes = await bystander.stop();
  t.equal(echoes.mismatches, 0, 'bystander: every echo intact');
  t.equal(echoes.closedEarly, false, `bystander: never disconnected (${echoes.roundTrips} echoes)`);
  t.ok(heapGrowth < HEAP_GROWTH_BOUND, `server heap grew ${(heapGrowth / 1024).toFixed(0)} KiB (bound ${HEAP_GROWTH_BOUND / 1024 / 1024} MiB)`);
});
