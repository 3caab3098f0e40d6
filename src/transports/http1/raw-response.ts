import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { HandshakeRejection } from '../../handshake/rejection.js';

/**
 * Writes an HTTP/1.1 response on a socket taken over from the HTTP server (the
 * 'upgrade' event hands us a bare socket, so there is no ServerResponse).
 */
export function writeHead(socket: Socket, status: number, headers: Array<[string, string]>): void {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
  socket.write(head + '\r\n');
}

/** How long a refused client may take to close its side before the socket is destroyed. */
const LINGER_MS = 2000;

/**
 * Sends a refusal with a short plain-text body and closes the connection. The
 * socket is ended, not destroyed, so unread request bytes cannot turn the close
 * into a reset that discards the response; it is destroyed when the client
 * closes its side, or after a short linger.
 */
export function writeRejection(socket: Socket, rejection: HandshakeRejection): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = Buffer.from(rejection.body + '\n');
  const headers: Array<[string, string]> = [
    ['Connection', 'close'],
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['Content-Length', String(body.length)],
  ];
  for (const [name, value] of Object.entries(rejection.headers)) {
    for (const item of Array.isArray(value) ? value : [value]) headers.push([name, String(item)]);
  }
  writeHead(socket, rejection.status, headers);
  socket.end(body);
  const timer = setTimeout(() => socket.destroy(), LINGER_MS).unref();
  socket.once('close', () => clearTimeout(timer));
  socket.on('end', () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.resume();
}
