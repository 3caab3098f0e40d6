import type { Socket } from 'node:net';
import { failedAfter, refuseWrite, type ByteChannel, type ByteChannelEvents, type WriteCallback } from '../../session/byte-channel.js';

const kChannel = Symbol('trident.socketChannel');
type ChannelSocket = Socket & { [kChannel]?: SocketChannel };

// Module-level listeners that find their channel on the socket: no closures
// per connection, which matters with tens of thousands of idle sessions.
function onData(this: ChannelSocket, chunk: Buffer): void {
  this[kChannel]!.events!.data(chunk);
}
function onEnd(this: ChannelSocket): void {
  this[kChannel]!.events!.end();
}
function onDrain(this: ChannelSocket): void {
  this[kChannel]!.events!.drain();
}
function onError(this: ChannelSocket, error: Error): void {
  this[kChannel]!.failure ??= error;
}
function onClose(this: ChannelSocket): void {
  const channel = this[kChannel]!;
  channel.events!.close(channel.failure);
}

/**
 * ByteChannel over an upgraded TCP or TLS socket (RFC 6455 over HTTP/1.1):
 * orderly end is a FIN, abort destroys the socket, backpressure is the
 * socket's own write buffer.
 */
export class SocketChannel implements ByteChannel {
  readonly transport = 'http/1.1' as const;
  readonly independentEnds = false;
  /** @internal */
  events: ByteChannelEvents | null = null;
  /** @internal */
  failure: Error | undefined = undefined;
  private readonly socket: ChannelSocket;
  private head: Buffer | null;

  constructor(socket: Socket, head: Buffer) {
    this.socket = socket;
    this.head = head.length > 0 ? head : null;
    socket.setNoDelay(true);
    socket.setTimeout(0);
    // The session ends our direction when the close handshake says so (RFC
    // 6455 §7.1.1), after input still being processed (a message inflating);
    // Node's client sockets would end it on the peer's FIN by themselves.
    socket.allowHalfOpen = true;
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
    this.events = events;
    socket[kChannel] = this;
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.on('end', onEnd);
    socket.on('drain', onDrain);
    // Bytes that arrived together with the handshake belong to the WebSocket;
    // put them back so that all data arrives in order, after bind() returned.
    if (this.head !== null) socket.unshift(this.head);
    this.head = null;
    socket.on('data', onData);
    if (socket.closed) {
      // Gone before bind(): its 'close' was emitted already (rule 1: still on a later tick).
      process.nextTick(() => events.close(this.failure));
    } else if (socket.readableEnded) {
      process.nextTick(() => events.end());
    }
  }

  write(data: Buffer | Buffer[], callback?: WriteCallback): boolean {
    const socket = this.socket;
    // Ended, destroyed or reset: Node would emit 'error' for this write; the contract says callback only.
    if (!socket.writable) return refuseWrite(callback);
    if (callback !== undefined) callback = failedAfter(callback, () => this.failure);
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
    const socket = this.socket;
    if (socket.destroyed) return;
    this.failure ??= error ?? new Error('aborted');
    try {
      // An abort is a TCP RST: the peer learns at once (ECONNRESET) instead of
      // taking it for an orderly FIN, and unsent bytes are discarded.
      socket.resetAndDestroy();
    } catch {
      // TLS sockets have no TCP handle of their own to reset: close (FIN) instead.
      socket.destroy();
    }
  }
}
