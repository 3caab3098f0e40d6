/**
 * HTTP/1.1 Upgrade (RFC 6455 §4.2) for the fuzzing server, on node:http or on
 * the HTTP/1.1 side of the TLS server. The handshake is checked here, with
 * its own code: a client whose request is wrong gets 400 (or 426 for a wrong
 * version, RFC 6455 §4.4) and never reaches a case.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { joinField, once, type ClientConnection, type Negotiator } from './connection.js';

/** RFC 6455 §1.3: the GUID appended to the client's key. */
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function refuse(socket: Duplex, status: number, text: string, extra = ''): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\n${extra}Content-Length: 0\r\n\r\n`);
}

function hasToken(value: string | undefined, token: string): boolean {
  return (value ?? '').split(',').some((item) => item.trim().toLowerCase() === token);
}

/** Answers an upgrade request; returns the connection, or undefined after refusing it. */
export function acceptHttp1(request: IncomingMessage, socket: Duplex, head: Buffer, negotiate: Negotiator): ClientConnection | undefined {
  // After 'upgrade' the socket is ours: a client resetting it (even while it is
  // refused) must not become an uncaught 'error'. A case learns of it through onEnd.
  socket.on('error', () => {});
  const key = request.headers['sec-websocket-key'];
  if (request.headers['sec-websocket-version'] !== '13') {
    refuse(socket, 426, 'Upgrade Required', 'Sec-WebSocket-Version: 13\r\n');
    return undefined;
  }
  // RFC 6455 §4.2.1: GET, Upgrade: websocket, Connection: Upgrade, a 16-byte base64 key.
  const keyValid = typeof key === 'string' && Buffer.from(key, 'base64').length === 16;
  if (request.method !== 'GET' || !hasToken(request.headers.upgrade, 'websocket') || !hasToken(request.headers.connection, 'upgrade') || !keyValid) {
    refuse(socket, 400, 'Bad Request');
    return undefined;
  }
  const accept = createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64');
  // No subprotocol is ever accepted; permessage-deflate only where the case wants it (categories 12, 13).
  const target = request.url ?? '/';
  const extensionOffer = joinField(request.headers['sec-websocket-extensions']);
  const negotiated = negotiate(target, extensionOffer);
  const extensions = negotiated ? `Sec-WebSocket-Extensions: ${negotiated.header}\r\n` : '';
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${extensions}\r\n`);
  (socket as Socket).setNoDelay?.(true);
  return {
    transport: 'http/1.1',
    target,
    ...(extensionOffer !== undefined ? { extensionOffer } : {}),
    ...(negotiated ? { deflate: negotiated.params } : {}),
    write: (data) => {
      if (socket.writable) socket.write(data);
    },
    end: () => socket.end(),
    abort: () => ((socket as Socket).resetAndDestroy ? (socket as Socket).resetAndDestroy() : socket.destroy()),
    onData: (listener) => {
      if (head.length > 0) process.nextTick(() => listener(head));
      socket.on('data', listener);
    },
    onEnd: (listener) => {
      const done = once(listener);
      socket.on('end', () => done('end'));
      socket.on('error', () => done('reset'));
      socket.on('close', () => done('reset'));
    },
  };
}
