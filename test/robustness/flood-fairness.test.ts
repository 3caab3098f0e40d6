// Issue 11 item 8: one connection flooding tiny messages must not hold the
// event loop for everyone else. Counted, not timed: how much of the flood the
// server had handled when a bystander's single message got its turn.
import net from 'node:net';
import t from 'tap';
import { WebSocketServer, type WebSocket } from '../../src/index.js';
import { buildFrame, OP } from '../helpers/frames.js';

const FLOOD_MESSAGES = 300_000; // 7-byte frames: ~2 MiB, what libuv reads from one socket in one turn

async function rawSession(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(
    'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  await new Promise<void>((resolve) => {
    let head = '';
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        socket.off('data', onData);
        resolve();
      }
    };
    socket.on('data', onData);
  });
  return socket;
}

t.test('a flood of tiny messages yields to a bystander long before it is handled', async (t) => {
  const wss = new WebSocketServer({ noServer: true });
  const sessions: WebSocket[] = [];
  wss.on('connection', (ws: WebSocket) => sessions.push(ws));
  const { port } = await wss.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => wss.close());

  const flooder = await rawSession(port);
  const bystander = await rawSession(port);
  t.teardown(() => (flooder.destroy(), bystander.destroy()));
  await new Promise<void>((resolve) => {
    const check = (): void => (sessions.length === 2 ? resolve() : void setImmediate(check));
    check();
  });
  const [floodSession, bystanderSession] = sessions as [WebSocket, WebSocket];

  let flooded = 0;
  floodSession.on('message', () => flooded++);
  const handledWhenBystanderServed = new Promise<number>((resolve) => bystanderSession.once('message', () => resolve(flooded)));
  const firstFloodMessage = new Promise<void>((resolve) => floodSession.once('message', () => resolve()));

  const frame = Buffer.from(buildFrame({ opcode: OP.TEXT, payload: 'x', mask: new Uint8Array([1, 2, 3, 4]) }));
  flooder.write(Buffer.concat(Array.from({ length: FLOOD_MESSAGES }, () => frame)));
  await firstFloodMessage; // the server is busy with the flood
  bystander.write(Buffer.from(buildFrame({ opcode: OP.TEXT, payload: 'my turn?' })));

  const handled = await handledWhenBystanderServed;
  // A session yields after 1,024 events; without that, ~50,000 were handled first here.
  t.ok(handled < 10 * 1024, `the bystander was served after ${handled} of ${FLOOD_MESSAGES} flood messages`);
  await new Promise<void>((resolve) => {
    const check = (): void => (flooded === FLOOD_MESSAGES ? resolve() : void setTimeout(check, 5));
    check();
  });
  t.equal(flooded, FLOOD_MESSAGES, 'and the flood was still handled in full, in order');
});
