import { refuseWrite, type ByteChannel, type ByteChannelEvents, type WriteCallback } from '../../src/session/byte-channel.js';

/**
 * An in-memory ByteChannel pair that obeys the channel contract
 * (src/session/byte-channel.ts), for session tests: what one side writes the
 * other receives on a later tick. `stalled` makes a side stop reading so its
 * peer's writes pile up, like a client that never reads from its socket.
 */
export class MemoryChannel implements ByteChannel {
  readonly transport = 'http/1.1' as const;
  readonly independentEnds = false;
  readonly remoteAddress = '127.0.0.1';
  readonly remotePort = 1234;
  peer!: MemoryChannel;
  events: ByteChannelEvents | null = null;
  /** Bytes written but not yet taken by a reading peer, with their callbacks. */
  private pending: Array<{ chunk: Buffer; callback: WriteCallback | undefined }> = [];
  private pendingBytes = 0;
  private writeEnded = false;
  /** The peer's end reached us (delivered as 'end'). */
  private endDelivered = false;
  private closed = false;
  private needDrain = false;
  private keepAlive: NodeJS.Timeout | null = null;
  paused = false;
  stalled = false;
  highWaterMark = 16 * 1024;
  written: Buffer[] = [];
  ended = false;
  aborted = false;

  static pair(): [MemoryChannel, MemoryChannel] {
    const a = new MemoryChannel();
    const b = new MemoryChannel();
    a.peer = b;
    b.peer = a;
    // Sessions unref their timers, as a real socket keeps the process alive; so must we.
    a.keepAlive = b.keepAlive = setInterval(() => {}, 1000);
    return [a, b];
  }

  get bufferedAmount(): number {
    return this.pendingBytes;
  }

  bind(events: ByteChannelEvents): void {
    this.events = events;
    setImmediate(() => this.peer.flush());
  }

  write(data: Buffer | Buffer[], callback?: WriteCallback): boolean {
    if (this.writeEnded || this.closed) return refuseWrite(callback);
    const chunk = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    this.written.push(chunk);
    this.pending.push({ chunk, callback });
    this.pendingBytes += chunk.length;
    setImmediate(() => this.flush());
    if (this.pendingBytes < this.highWaterMark) return true;
    this.needDrain = true;
    return false;
  }

  /** Moves written bytes to the peer while it reads, then our end. */
  flush(): void {
    const peer = this.peer;
    if (this.closed || peer.events === null) return;
    while (this.pending.length > 0 && !peer.stalled && !peer.paused && !peer.closed) {
      const { chunk, callback } = this.pending.shift()!;
      this.pendingBytes -= chunk.length;
      callback?.(null);
      peer.events.data(chunk);
    }
    if (this.needDrain && this.pendingBytes < this.highWaterMark && !this.closed) {
      this.needDrain = false;
      this.events?.drain();
    }
    if (this.writeEnded && this.pending.length === 0 && !peer.paused && !peer.closed && !peer.endDelivered) {
      peer.endDelivered = true;
      peer.events.end();
      this.maybeClose();
    }
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    setImmediate(() => this.peer.flush());
  }

  unstall(): void {
    this.stalled = false;
    setImmediate(() => this.peer.flush());
  }

  end(): void {
    if (this.writeEnded || this.closed) return;
    this.writeEnded = true;
    this.ended = true;
    setImmediate(() => this.flush());
  }

  /** Closed for good once both ends were delivered (like a TCP socket with both FINs). */
  private maybeClose(): void {
    if (this.endDelivered && this.peer.endDelivered) this.closeBoth(undefined, undefined);
  }

  private closeBoth(ours: Error | undefined, theirs: Error | undefined): void {
    if (this.keepAlive) clearInterval(this.keepAlive);
    for (const [side, error] of [[this, ours], [this.peer, theirs]] as const) {
      if (side.closed) continue;
      side.closed = true;
      const failed = side.pending;
      side.pending = [];
      side.pendingBytes = 0;
      const events = side.events;
      setImmediate(() => {
        for (const { callback } of failed) callback?.(error ?? new Error('channel closed'));
        events?.close(error);
      });
    }
  }

  abort(error?: Error): void {
    if (this.closed) return;
    this.aborted = true;
    this.closeBoth(error ?? new Error('aborted'), new Error('connection reset by the peer'));
  }
}
