import type { ByteChannel, ByteChannelEvents } from '../../session/byte-channel.js';
import { H3_NO_ERROR, H3_REQUEST_CANCELLED } from './errors.js';
import type { Http3RequestStream } from './request-stream.js';

/**
 * ByteChannel over an HTTP/3 request stream (RFC 9220 §3): bytes travel in
 * DATA frames, orderly end is the QUIC FIN, abort is RESET_STREAM plus
 * STOP_SENDING with H3_REQUEST_CANCELLED (0x010c), backpressure is QUIC stream
 * flow control (a paused stream stops reading, so its window is not extended).
 */
export class Http3StreamChannel implements ByteChannel {
  readonly transport = 'h3' as const;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  private readonly stream: Http3RequestStream;

  constructor(stream: Http3RequestStream, remote: { address?: string; port?: number }) {
    this.stream = stream;
    this.remoteAddress = remote.address;
    this.remotePort = remote.port;
  }

  get bufferedAmount(): number {
    return this.stream.bufferedAmount;
  }

  bind(events: ByteChannelEvents): void {
    const stream = this.stream;
    let failure: Error | undefined;
    stream.on('error', (error: Error) => {
      failure ??= error;
    });
    stream.on('reset', (code: number) => {
      // The peer aborted its direction (RFC 9220 §3): the session ends with 1006.
      if (code !== H3_NO_ERROR) failure ??= new Error(`stream reset by the peer (code 0x${code.toString(16)})`);
    });
    stream.on('stopSending', (code: number) => {
      if (code === H3_NO_ERROR) return; // the peer is done reading after a completed close handshake
      failure ??= new Error(`peer stopped reading (code 0x${code.toString(16)})`);
      stream.cancel(H3_REQUEST_CANCELLED);
    });
    stream.on('close', () => events.close(failure));
    stream.on('end', () => events.end());
    stream.on('drain', () => events.drain());
    stream.on('data', (chunk: Buffer) => events.data(chunk));
    // The front-end paused the stream while the handshake was negotiated.
    process.nextTick(() => stream.resume());
    if (stream.closed) process.nextTick(() => events.close(failure));
  }

  write(data: Buffer | Buffer[], callback?: (error?: Error | null) => void): boolean {
    if (!Array.isArray(data)) return this.stream.write(data, callback);
    // One DATA frame for the whole WebSocket frame (header and payload).
    return this.stream.write(Buffer.concat(data), callback);
  }

  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }

  end(): void {
    this.stream.end();
  }

  finish(): void {
    // Our FIN is sent and the close frames are through: stop the peer's direction without error.
    if (!this.stream.closed) this.stream.stopSending(H3_NO_ERROR);
  }

  abort(): void {
    // RFC 9220 §3: abort = RESET_STREAM and STOP_SENDING with H3_REQUEST_CANCELLED.
    if (!this.stream.closed) this.stream.cancel(H3_REQUEST_CANCELLED);
  }
}
