import type { Socket } from 'node:net';
import type { ByteChannel, ByteChannelEvents } from '../../session/byte-channel.js';

/**
 * ByteChannel over an upgraded TCP or TLS socket (RFC 6455 over HTTP/1.1):
 * orderly end is a FIN, abort destroys the socket, backpressure is the
 * socket's own write buffer.
 */
export class SocketChannel implements ByteChannel {
  readonly transport = 'http/1.1' as const;
  private readonly socket: Socket;
  private readonly head: Buffer;

  constructor(socket: Socket, head: Buffer) {
    this.socket = socket;
    this.head = head;
    socket.setNoDelay(true);
    socket.setTimeout(0);
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }

  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  bind(events: ByteChannelEvents): void {
    const socket = this.socket;
    let failure: Error | undefined;
    socket.on('error', (error) => {
      failure = error;
    });
    socket.on('close', () => events.close(failure));
    socket.on('end', () => events.end());
    socket.on('drain', () => events.drain());
    // Bytes that arrived together with the handshake belong to the WebSocket;
    // put them back so that all data arrives in order, after bind() returned.
    if (this.head.length > 0) socket.unshift(this.head);
    socket.on('data', (chunk: Buffer) => events.data(chunk));
    if (socket.destroyed) {
      process.nextTick(() => events.close(failure));
    } else if (socket.readableEnded) {
      process.nextTick(() => events.end());
    }
  }

  write(data: Buffer | Buffer[], callback?: (error?: Error | null) => void): boolean {
    const socket = this.socket;
    if (!Array.isArray(data)) return socket.write(data, callback);
    // Corked writes leave as one writev: one syscall for header and payload.
    socket.cork();
    for (let i = 0; i < data.length - 1; i++) socket.write(data[i]);
    const result = socket.write(data[data.length - 1], callback);
    socket.uncork();
    return result;
  }

  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  end(): void {
    this.socket.end();
  }

  abort(error?: Error): void {
    this.socket.destroy(error);
  }
}
