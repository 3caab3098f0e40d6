/**
 * A RawPeer over any Node Duplex (net.Socket, tls.TLSSocket, and later an
 * http2 stream or a QUIC stream): feeds received bytes into the suite's own
 * FrameParser and tracks how the server ended the transport.
 */
import type { Duplex } from 'node:stream';
import { FrameParser } from './frames.js';
import type { ServerFrame } from './frames.js';
import { PeerEndedError, WaitTimeoutError } from './target.js';
import type { HandshakeInfo, RawPeer } from './target.js';

export interface StreamPeerOptions {
  /**
   * Maps a stream error to 'reset' (abort) or 'end'. Default: any error is an
   * abort. (For HTTP/2, an RST_STREAM with NO_ERROR after END_STREAM could be
   * mapped to 'end'.)
   */
  classifyError?: (err: Error) => 'end' | 'reset';
  defaultTimeoutMs?: number;
}

type Waiter<T> = { resolve: (v: T) => void; reject: (e: Error) => void };

export class StreamPeer implements RawPeer {
  private readonly parser = new FrameParser();
  private readonly frames: ServerFrame[] = [];
  private frameWaiters: Waiter<ServerFrame>[] = [];
  private endWaiters: Waiter<'end' | 'reset'>[] = [];
  private endState: 'end' | 'reset' | undefined;
  private parseError: Error | undefined;
  private readonly timeout: number;
  /** the error that ended the stream, if any (diagnostics) */
  lastError: Error | undefined;

  constructor(
    private readonly stream: Duplex,
    readonly handshake: HandshakeInfo,
    initial: Uint8Array,
    private readonly opts: StreamPeerOptions = {},
  ) {
    this.timeout = opts.defaultTimeoutMs ?? 2000;
    stream.on('data', (chunk: Buffer) => this.onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)));
    stream.on('end', () => this.onEnd('end'));
    stream.on('error', (err: Error) => {
      this.lastError = err;
      this.onEnd(this.opts.classifyError ? this.opts.classifyError(err) : 'reset');
    });
    stream.on('close', () => this.onEnd('reset'));
    if (initial.length) this.onData(initial);
    // the handshake reader leaves the stream paused; start reading now
    stream.resume();
  }

  private onData(chunk: Uint8Array): void {
    if (this.parseError) return;
    let got: ServerFrame[];
    try {
      got = this.parser.push(chunk);
    } catch (e) {
      this.parseError = e as Error;
      for (const w of this.frameWaiters.splice(0)) w.reject(this.parseError);
      return;
    }
    for (const f of got) {
      const w = this.frameWaiters.shift();
      if (w) w.resolve(f);
      else this.frames.push(f);
    }
  }

  private onEnd(how: 'end' | 'reset'): void {
    if (this.endState) return;
    this.endState = how;
    for (const w of this.endWaiters.splice(0)) w.resolve(how);
    for (const w of this.frameWaiters.splice(0)) w.reject(new PeerEndedError(how));
  }

  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve) => {
      if (this.stream.destroyed || this.stream.writableEnded) return resolve();
      try {
        this.stream.write(bytes, () => resolve());
      } catch {
        resolve();
      }
    });
  }

  nextFrame(timeoutMs = this.timeout): Promise<ServerFrame> {
    const f = this.frames.shift();
    if (f) return Promise.resolve(f);
    if (this.parseError) return Promise.reject(this.parseError);
    if (this.endState) return Promise.reject(new PeerEndedError(this.endState));
    return new Promise<ServerFrame>((resolve, reject) => {
      const w: Waiter<ServerFrame> = {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.frameWaiters = this.frameWaiters.filter((x) => x !== w);
        reject(new WaitTimeoutError(`timeout: no frame from the server within ${timeoutMs} ms`));
      }, timeoutMs);
      this.frameWaiters.push(w);
    });
  }

  ended(timeoutMs = this.timeout): Promise<'end' | 'reset'> {
    if (this.endState) return Promise.resolve(this.endState);
    return new Promise((resolve, reject) => {
      const w: Waiter<'end' | 'reset'> = {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject,
      };
      const timer = setTimeout(() => {
        this.endWaiters = this.endWaiters.filter((x) => x !== w);
        reject(new WaitTimeoutError(`timeout: the server did not end the transport within ${timeoutMs} ms`));
      }, timeoutMs);
      this.endWaiters.push(w);
    });
  }

  /** bytes received that do not (yet) form a complete frame */
  get partialBytes(): number {
    return this.parser.bufferedBytes;
  }

  end(): void {
    if (!this.stream.destroyed && !this.stream.writableEnded) this.stream.end();
  }

  destroy(): void {
    this.stream.destroy();
  }
}
