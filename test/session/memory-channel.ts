import type { ByteChannel, ByteChannelEvents } from '../../src/session/byte-channel.js';

/**
 * An in-memory ByteChannel pair for session tests: what one side writes the
 * other receives on a later tick. `stalled` makes a side stop reading so its
 * peer's writes pile up, like a client that never reads from its socket.
 */
export class MemoryChannel implements ByteChannel {
  readonly transport = 'http/1.1' as const;
  readonly remoteAddress = '127.0.0.1';
  readonly remotePort = 1234;
  peer!: MemoryChannel;
  events: ByteChannelEvents | null = null;
  /** Bytes written but not yet taken by a reading peer. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private writeEnded = false;
  private closed = false;
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
  }

  write(data: Buffer | Buffer[], callback?: (error?: Error | null) => void): boolean {
    const chunk = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    this.written.push(chunk);
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    setImmediate(() => this.flush());
    if (callback) setImmediate(callback);
    return this.pendingBytes < this.highWaterMark;
  }

  /** Moves written bytes to the peer unless it stopped reading. */
  flush(): void {
    if (this.closed || this.peer.stalled || this.peer.paused || this.peer.events === null) return;
    const wasFull = this.pendingBytes >= this.highWaterMark;
    const chunks = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    for (const chunk of chunks) this.peer.events.data(chunk);
    if (wasFull) this.events?.drain();
    if (this.writeEnded && !this.peer.closed) this.peer.events.end();
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
    if (this.writeEnded) return;
    this.writeEnded = true;
    this.ended = true;
    setImmediate(() => {
      this.flush();
      this.maybeClose();
    });
  }

  /** Closed for good once both directions ended (like a TCP socket with both FINs). */
  private maybeClose(): void {
    if (this.writeEnded && this.peer.writeEnded) {
      this.closeBoth();
    }
  }

  private closeBoth(error?: Error): void {
    if (this.keepAlive) clearInterval(this.keepAlive);
    for (const side of [this, this.peer]) {
      if (side.closed) continue;
      side.closed = true;
      const events = side.events;
      setImmediate(() => events?.close(side === this ? error : undefined));
    }
  }

  abort(error?: Error): void {
    this.aborted = true;
    this.closeBoth(error);
  }
}
