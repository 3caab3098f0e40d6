/**
 * A WebSocket client over a raw TCP socket that completes the handshake and
 * then never answers anything, the server's close frame included: it holds a
 * shutdown open until the server's close timeout.
 */
import type { Socket } from 'node:net';
import { connect, newKey, readResponseHead, upgradeRequest } from '../helpers/http1.js';

const TIMEOUT = 5000;

export interface SilentPeer {
  socket: Socket;
  /** Resolves with the first byte of the first frame the server sends (0x88: a final Close frame). */
  firstFrameByte: Promise<number>;
}

export async function openSilentPeer(port: number, path = '/echo'): Promise<SilentPeer> {
  const socket = await connect({ host: '127.0.0.1', port }, TIMEOUT);
  socket.write(upgradeRequest({ host: `127.0.0.1:${port}`, key: newKey(), path }));
  const result = await readResponseHead(socket, TIMEOUT);
  if (result.kind !== 'response' || result.head.status !== 101) {
    socket.destroy();
    throw new Error(`handshake to ${path} failed: ${JSON.stringify(result.kind === 'response' ? result.head.status : result)}`);
  }
  const firstFrameByte = new Promise<number>((resolve, reject) => {
    if (result.head.rest.length > 0) return resolve(result.head.rest[0]!);
    socket.once('data', (chunk: Buffer) => resolve(chunk[0]!));
    socket.once('close', () => reject(new Error('connection closed before any frame arrived')));
  });
  // A test that failed before awaiting it must not add an unhandled rejection.
  firstFrameByte.catch(() => {});
  socket.resume();
  return { socket, firstFrameByte };
}
