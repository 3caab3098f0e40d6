import { refuseWrite, type ByteChannel, type ByteChannelEvents, type WriteCallback } from '../../session/byte-channel.js';
import { H3_NO_ERROR, H3_REQUEST_CANCELLED } from '../../http3/errors.js';
import type { Http3RequestStream } from '../../http3/request-stream.js';

/**
 * ByteChannel over an HTTP/3 request stream (RFC 9220 §3): bytes travel in
 * DATA frames, orderly end is the QUIC FIN, abort is RESET_STREAM plus
 * STOP_SENDING with H3_REQUEST_CANCELLED (0x010c), backpressure is QUIC stream
 * flow control (a paused stream stops reading, so its window is not extended).
 */
export class Http3StreamChannel implements ByteChannel {
  readonly transport = 'h3' as const;
  readonly independentEnds = true;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  private readonly stream: Http3RequestStream;
  private failure: Error | undefined = undefined;
  private paused = false;

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
    stream.on('error', (error: Error) => {
      this.failure ??= error;
    });
    stream.on('reset', (code: number) => {
      if (code === H3_NO_ERROR) {
        // The peer finished its direction without error: an orderly end.
        events.end();
        return;
      }
      // RFC 9220 §3: a reset maps to a TCP RST, which ends both directions:
      // abort ours too (RESET_STREAM + STOP_SENDING), and the session ends with 1006.
      this.abort(new Error(`stream reset by the peer (code 0x${code.toString(16)})`));
    });
    stream.on('stopSending', (code: number) => {
      if (code === H3_NO_ERROR) return; // the peer is done reading after a completed close handshake
      this.abort(new Error(`peer stopped reading (code 0x${code.toString(16)})`));
    });
    stream.on('close', () => events.close(this.failure));
    stream.on('end', () => events.end());
    stream.on('drain', () => events.drain());
    stream.on('data', (chunk: Buffer) => events.data(chunk));
    // The front-end paused the stream while the handshake was negotiated; a
    // session paused since (from its 'connection' handler) stays paused.
    process.nextTick(() => {
      if (!this.paused) stream.resume();
    });
    if (stream.closed) process.nextTick(() => events.close(this.failure));
  }

  write(data: Buffer | Buffer[], callback?: WriteCallback): boolean {
    const stream = this.stream;
    if (!stream.writable || stream.closed) return refuseWrite(callback);
    if (!Array.isArray(data)) return stream.write(data, callback);
    // Header and a large payload as DATA frames of their own: the payload is not copied.
    for (let i = 0; i < data.length - 1; i++) stream.write(data[i]!);
    return stream.write(data[data.length - 1]!, callback);
  }

  pause(): void {
    this.paused = true;
    this.stream.pause();
  }

  resume(): void {
    this.paused = false;
    this.stream.resume();
  }

  end(): void {
    if (this.stream.writable) this.stream.end();
  }

  finish(): void {
    // Our FIN is sent and the close frames are through: stop the peer's direction without error.
    if (!this.stream.closed) this.stream.stopSending(H3_NO_ERROR);
  }

  abort(error?: Error): void {
    if (this.stream.closed) return;
    this.failure ??= error ?? new Error('aborted');
    // RFC 9220 §3: abort = RESET_STREAM and STOP_SENDING with H3_REQUEST_CANCELLED.
    this.stream.cancel(H3_REQUEST_CANCELLED);
  }
}
