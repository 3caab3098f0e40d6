/**
 * What every interop cell checks, from trident's side of a connection to an
 * echo agent (test/interop/peers/python/agent_protocol.md): echo of text and
 * binary at the frame-length boundaries, fragmented messages both ways,
 * ping/pong both ways, and the close handshake started by either side.
 */
import { once } from 'node:events';
import type { Test } from 'tap';
import type { WebSocket } from '../../../src/index.js';
import type { PeerProcess } from './peer-process.js';

/** RFC 6455 §5.2: 125 is the largest 7-bit length, 126 the first 16-bit one; 64 KiB the first 64-bit one. */
export const ECHO_SIZES = [0, 125, 126, 64 * 1024, 1024 * 1024];
export const FRAGMENTED_MESSAGE = 'fragmented-message'.repeat(200);
export const PEER_CLOSE = { code: 4002, reason: 'peer-bye' };
export const TRIDENT_CLOSE = { code: 4001, reason: 'trident-bye' };
const WAIT_MS = 20_000;

/** Reads a WebSocket's messages in order. */
export function messageQueue(ws: WebSocket): () => Promise<[Buffer, boolean]> {
  const queued: Array<[Buffer, boolean]> = [];
  const waiting: Array<(message: [Buffer, boolean]) => void> = [];
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const next = waiting.shift();
    if (next) next([data, isBinary]);
    else queued.push([data, isBinary]);
  });
  return () => {
    const ready = queued.shift();
    if (ready) return Promise.resolve(ready);
    return withTimeout(new Promise((resolve) => waiting.push(resolve)), 'a message');
  };
}

export function withTimeout<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function payload(size: number, binary: boolean): string | Buffer {
  if (!binary) return 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(Math.ceil(size / 36)).slice(0, size);
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 2654435761) >>> 24; // incompressible-looking, every byte value
  return bytes;
}

/**
 * The full set of checks on a fresh connection, ending with the close
 * handshake started by the peer (4002 "peer-bye").
 */
export async function checkEcho(t: Test, ws: WebSocket): Promise<void> {
  const next = messageQueue(ws);
  for (const binary of [false, true]) {
    for (const size of ECHO_SIZES) {
      const sent = payload(size, binary);
      ws.send(sent, { binary });
      const [data, isBinary] = await next();
      t.equal(isBinary, binary, `${binary ? 'binary' : 'text'} ${size} B: type kept`);
      t.ok(data.equals(Buffer.from(sent)), `${binary ? 'binary' : 'text'} ${size} B: bytes kept (got ${data.length} B)`);
    }
  }
  // RFC 6455 §5.4: our fragments (text first frame, continuations) must come back as one message.
  ws.send('frag', { fin: false });
  ws.send('men', { fin: false });
  ws.send('ted', { fin: true });
  const [ours, oursIsBinary] = await next();
  t.same([ours.toString(), oursIsBinary], ['fragmented', false], 'our fragmented message reassembled by the peer');
  ws.send('cmd:fragment');
  const [fragmented, fragmentedIsBinary] = await next();
  t.equal(fragmentedIsBinary, false, 'fragmented message from the peer: text');
  t.equal(fragmented.toString(), FRAGMENTED_MESSAGE, 'fragmented message from the peer: reassembled');

  const pong = withTimeout(once(ws, 'pong'), 'pong');
  ws.ping('trident-ping');
  const [pongData] = (await pong) as [Buffer];
  t.equal(Buffer.from(pongData).toString(), 'trident-ping', 'the peer answers our ping with its payload');
  ws.send('cmd:ping');
  const [reply] = await next();
  t.equal(reply.toString(), 'pong:agent-ping', "the peer got our pong to its ping, with its payload");

  const closed = withTimeout(once(ws, 'close'), 'close');
  ws.send('cmd:close');
  const [code, reason] = (await closed) as [number, string | Buffer];
  t.equal(code, PEER_CLOSE.code, 'close started by the peer: code');
  t.equal(String(reason), PEER_CLOSE.reason, 'close started by the peer: reason');
}

/** One more echo on a second connection, then the close handshake started by trident; the peer must report it. */
export async function checkCloseFromTrident(t: Test, ws: WebSocket, peer: PeerProcess): Promise<void> {
  const next = messageQueue(ws);
  ws.send('last');
  t.equal((await next())[0].toString(), 'last', 'second connection echoes');
  const closed = withTimeout(once(ws, 'close'), 'close');
  const reported = peer.lines.length;
  ws.close(TRIDENT_CLOSE.code, TRIDENT_CLOSE.reason);
  await closed;
  // RFC 6455 §5.5.1: the answering close frame "typically" echoes the code;
  // autobahn answers 1000, which is allowed, so only a clean close is required.
  t.ok(ws.wasClean, 'close started by trident: the peer answered with a close frame');
  const [line] = await peer.waitForLine(/^CLOSED .*$/, { from: reported, timeoutMs: WAIT_MS });
  t.equal(line, `CLOSED ${TRIDENT_CLOSE.code} ${TRIDENT_CLOSE.reason}`, 'the peer received our close code and reason');
}
