import http2, { type Http2Stream } from 'node:http2';
import { failedAfter, refuseWrite, type ByteChannel, type ByteChannelEvents, type WriteCallback } from '../../session/byte-channel.js';

/**
 * ByteChannel over an HTTP/2 stream (RFC 8441 §5): bytes are DATA frames,
 * orderly end is END_STREAM, abort is RST_STREAM(CANCEL), backpressure is the
 * stream's flow-control window (a paused stream stops consuming, so the peer
 * runs out of window on that stream only).
 */
export class Http2StreamChannel implements ByteChannel {
  readonly transport = 'h2' as const;
  readonly independentEnds = true;
  private readonly stream: Http2Stream;
  private failure: Error | undefined = undefined;

  constructor(stream: Http2Stream) {
    this.stream = stream;
  }

  get remoteAddress(): string | undefined {
    return this.stream.session?.socket?.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.stream.session?.socket?.remotePort;
  }

  get bufferedAmount(): number {
    return this.stream.writableLength;
  }

  bind(events: ByteChannelEvents): void {
    const stream = this.stream;
    stream.on('error', (error: Error) => {
      this.failure ??= error;
    });
    stream.on('close', () => {
      // A peer's RST_STREAM (or a dead connection) closes the stream with a non-zero code.
      if (stream.rstCode !== undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) {
        this.failure ??= new Error(`stream reset (HTTP/2 error code ${stream.rstCode})`);
      }
      events.close(this.failure);
    });
    stream.on('end', () => events.end());
    stream.on('drain', () => events.drain());
    stream.on('data', (chunk: Buffer) => events.data(chunk));
    if (stream.closed) process.nextTick(() => events.close(this.failure));
  }

  write(data: Buffer | Buffer[], callback?: WriteCallback): boolean {
    const stream = this.stream;
    // Ended or reset: Node would emit 'error' for this write; the contract says callback only.
    if (!stream.writable || stream.destroyed) return refuseWrite(callback);
    if (callback !== undefined) callback = failedAfter(callback, () => this.failure);
    if (!Array.isArray(data)) return stream.write(data, callback);
    stream.cork();
    for (let i = 0; i < data.length - 1; i++) stream.write(data[i]);
    const result = stream.write(data[data.length - 1], callback);
    stream.uncork();
    return result;
  }

  cork(): void {
    this.stream.cork();
  }

  uncork(): void {
    this.stream.uncork();
  }

  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }

  end(): void {
    if (!this.stream.writableEnded) this.stream.end();
  }

  finish(): void {
    // RFC 9113 §8.1: after a complete response (our END_STREAM), RST_STREAM with
    // NO_ERROR asks the peer to stop sending, without error.
    if (!this.stream.destroyed) this.stream.close(http2.constants.NGHTTP2_NO_ERROR);
  }

  abort(error?: Error): void {
    if (this.stream.destroyed) return;
    this.failure ??= error ?? new Error('aborted');
    // RST_STREAM(CANCEL), RFC 8441 §5 / RFC 9113 §8.1; only for real aborts, see notes on rapid-reset limits.
    this.stream.close(http2.constants.NGHTTP2_CANCEL);
  }
}
