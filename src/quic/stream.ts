/**
 * What a stream needs from the connection that owns it (QuicConnectionImpl
 * implements it): declared here so the stream does not import the connection
 * that imports it.
 */
export interface StreamHost {
  readonly native: NativeConnection;
  readonly highWaterMark: number;
  readonly isClosing: boolean;
  /** Whether events may be emitted now (not inside a native call). */
  readonly canEmit: boolean;
  /** Depth of user callbacks on the stack; the connection flushes when it returns to 0. */
  userDepth: number;
  pausedCount: number;
  schedule(): void;
  addPending(stream: QuicStreamImpl): void;
  addResumed(stream: QuicStreamImpl): void;
  forget(stream: QuicStreamImpl): void;
  shutdown(id: number, direction: number, code: number): void;
  deferEmit(stream: QuicStreamImpl, event: string, argument: number | undefined): void;
  deferCallback(callback: (error?: Error | null) => void, error: Error | null): void;
}

/**
 * One QUIC stream (RFC 9000 §2–3) over quiche's stream API.
 *
 * Sending (RFC 9000 §3.1): write() hands bytes to quiche at once when nothing
 * is queued; quiche takes only what stream and connection flow control and the
 * congestion window allow (its capacity), the rest is queued here — by
 * reference, not copied — and offered again after every received datagram
 * (an ACK opens the congestion window) and in every flush. bufferedAmount is
 * what quiche has not taken; write() returns false at the high-water mark and
 * 'drain' follows below it. end() = FIN after the queue; reset() = RESET_STREAM
 * (streamShutdown Write); the peer's STOP_SENDING surfaces as StreamStopped(code)
 * from streamSend/streamCapacity.
 *
 * Receiving (RFC 9000 §3.2): data is read from quiche only while not paused.
 * quiche extends the peer's flow-control window (MAX_STREAM_DATA, §4.2) only
 * as data is read, so a paused reader throttles the sender instead of
 * buffering without bound. The peer's RESET_STREAM surfaces as
 * StreamReset(code) from streamRecv; stopSending() = STOP_SENDING
 * (streamShutdown Read).
 *
 * 'close' follows once both directions are finished; the connection then
 * forgets the stream.
 */
import { EventEmitter } from 'node:events';
import type { NativeConnection } from './binding.js';
import { streamResetCode, streamStoppedCode, QuicConnectionError } from './errors.js';
import { READ_ROOM, readSlab } from './slab.js';
import type { QuicStream, StreamId } from './types.js';

type WriteCallback = (error?: Error | null) => void;

const EMPTY = new Uint8Array(0);
const SHUTDOWN_READ = 0;
const SHUTDOWN_WRITE = 1;

export class QuicStreamImpl extends EventEmitter implements QuicStream {
  readonly id: StreamId;
  readonly bidirectional: boolean;
  readonly local: boolean;

  /** Reading continues (no FIN, reset or stopSending yet); false from the start for our unidirectional streams. */
  readOpen: boolean;
  paused = false;
  /** write() is still allowed (no end(), reset or STOP_SENDING yet). */
  writeOpen: boolean;
  /** The sending direction is finished: FIN handed to quiche, or reset, or stopped by the peer. */
  writeDone: boolean;
  closed = false;
  /** Listed in the connection's pending-writes list. */
  inPending = false;
  /** Listed in the connection's resumed list. */
  inResumed = false;
  /** Position in the connection's stream list. */
  listIndex = -1;
  /** Counted in the connection's pausedCount. */
  countedPaused = false;

  private readonly hasSendSide: boolean;
  /** Reset by us or stopped by the peer. */
  private sendAborted = false;
  private finQueued = false;
  /** FIN was read while paused: 'end' follows resume(). */
  private endPending = false;
  private readonly queue: Array<Uint8Array | undefined> = [];
  private head = 0;
  private headOffset = 0;
  private buffered = 0;
  /** Bytes write() accepted, and bytes quiche took, since the stream began (for callbacks). */
  private written = 0;
  private taken = 0;
  private callbacks: Array<{ end: number; callback: WriteCallback }> | null = null;
  private needDrain = false;

  constructor(
    private readonly connection: StreamHost,
    id: StreamId,
    bidirectional: boolean,
    local: boolean,
  ) {
    super();
    this.id = id;
    this.bidirectional = bidirectional;
    this.local = local;
    this.readOpen = bidirectional || !local;
    this.hasSendSide = bidirectional || local;
    this.writeOpen = this.hasSendSide;
    this.writeDone = !this.hasSendSide;
  }

  get bufferedAmount(): number {
    return this.buffered;
  }

  // The user's calls: what they cause is reported later, from I/O processing
  // (the contract: never an event from inside a method call).

  write(data: Uint8Array, callback?: (error?: Error | null) => void): boolean {
    this.connection.userDepth++;
    try {
      return this.writeNow(data, callback);
    } finally {
      this.connection.userDepth--;
    }
  }

  end(): void {
    this.connection.userDepth++;
    try {
      this.endNow();
    } finally {
      this.connection.userDepth--;
    }
  }

  reset(code: number): void {
    this.connection.userDepth++;
    try {
      this.resetNow(code);
    } finally {
      this.connection.userDepth--;
    }
  }

  stopSending(code: number): void {
    this.connection.userDepth++;
    try {
      this.stopSendingNow(code);
    } finally {
      this.connection.userDepth--;
    }
  }

  private writeNow(data: Uint8Array, callback?: (error?: Error | null) => void): boolean {
    const connection = this.connection;
    if (!this.writeOpen) {
      if (callback !== undefined) {
        connection.deferCallback(callback, new QuicConnectionError(`stream ${this.id} is not writable`));
      }
      return false;
    }
    const length = data.length;
    this.written += length;
    if (callback !== undefined) (this.callbacks ??= []).push({ end: this.written, callback });
    if (length > 0) {
      let sent = 0;
      if (this.buffered === 0) {
        sent = this.sendNow(data);
        if (sent < 0) return false; // stopped by the peer or gone; reported from the I/O path
      }
      if (sent < length) {
        this.queue.push(sent === 0 ? data : data.subarray(sent));
        this.buffered += length - sent;
      }
    }
    if (this.buffered > 0 || this.callbacks !== null) connection.addPending(this);
    connection.schedule();
    if (this.buffered >= connection.highWaterMark) {
      this.needDrain = true;
      return false;
    }
    return true;
  }

  private endNow(): void {
    if (!this.writeOpen) return;
    this.writeOpen = false;
    this.finQueued = true;
    if (this.buffered === 0) this.sendFin();
    if (!this.writeDone || this.callbacks !== null) this.connection.addPending(this);
    this.connection.schedule();
  }

  private resetNow(code: number): void {
    if (!this.hasSendSide || this.sendAborted || this.closed) return;
    this.sendAborted = true;
    this.writeOpen = false;
    this.dropQueue(new QuicConnectionError(`stream ${this.id} was reset (code ${code})`));
    // RESET_STREAM (RFC 9000 §19.4); after a FIN quiche still resets what is not acknowledged.
    this.connection.shutdown(this.id, SHUTDOWN_WRITE, code);
    this.finishWrite();
  }

  private stopSendingNow(code: number): void {
    if (!this.readOpen) return;
    this.closeRead();
    // STOP_SENDING (RFC 9000 §19.5); quiche discards what arrives after it.
    this.connection.shutdown(this.id, SHUTDOWN_READ, code);
    this.maybeClose();
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    if (this.readOpen && !this.closed) {
      this.countedPaused = true;
      this.connection.pausedCount++;
    }
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.uncountPaused();
    if (this.readOpen) this.connection.addResumed(this);
  }

  private closeRead(): void {
    this.readOpen = false;
    this.uncountPaused();
  }

  private uncountPaused(): void {
    if (!this.countedPaused) return;
    this.countedPaused = false;
    this.connection.pausedCount--;
  }

  // ---- driven by the connection, from its I/O processing ----

  /** Delivers what quiche has for this stream; called while not paused. */
  readAvailable(): void {
    if (this.endPending) {
      if (this.paused || !this.readOpen) return;
      this.endPending = false;
      this.closeRead();
      this.emit('end');
      this.maybeClose();
      return;
    }
    const native = this.connection.native;
    while (this.readOpen && !this.paused && !this.connection.isClosing) {
      const room = readSlab.room(READ_ROOM);
      let result: [number, boolean] | null;
      try {
        result = native.streamRecv(this.id, room);
      } catch (error) {
        this.closeRead();
        const code = streamResetCode(error);
        if (code !== null) this.emit('reset', code);
        this.maybeClose();
        return;
      }
      if (result === null) return;
      const length = result[0];
      const fin = result[1];
      if (length > 0) this.emit('data', readSlab.take(length));
      if (fin) {
        if (!this.readOpen) return; // stopSending() from a 'data' handler
        if (this.paused) {
          // pause() from a 'data' handler: 'end' waits for resume().
          this.endPending = true;
          return;
        }
        this.closeRead();
        this.emit('end');
        this.maybeClose();
        return;
      }
      // A short read took everything contiguous quiche had: skip the call that would say so.
      if (length < room.length) return;
    }
  }

  /** Offers queued bytes (and FIN) to quiche; returns whether anything is left pending. */
  pushQueued(): boolean {
    const native = this.connection.native;
    const queue = this.queue;
    while (this.head < queue.length) {
      const chunk = queue[this.head]!;
      const view = this.headOffset === 0 ? chunk : chunk.subarray(this.headOffset);
      const fin = this.finQueued && this.head === queue.length - 1;
      let sent: number | null;
      try {
        sent = native.streamSend(this.id, view, fin);
      } catch (error) {
        this.onSendError(error);
        return false;
      }
      if (sent === null) break;
      this.taken += sent;
      this.buffered -= sent;
      if (sent < view.length) {
        this.headOffset += sent;
        break;
      }
      queue[this.head++] = undefined;
      this.headOffset = 0;
      if (fin) this.finishWrite();
    }
    if (this.head === queue.length && this.head > 0) {
      queue.length = 0;
      this.head = 0;
    }
    if (this.buffered === 0 && this.finQueued && !this.writeDone) this.sendFin();
    if (this.callbacks !== null) this.runCallbacks();
    if (this.needDrain && this.buffered < this.connection.highWaterMark && this.writeOpen) {
      this.needDrain = false;
      this.emit('drain');
    }
    return !this.closed && (this.buffered > 0 || (this.finQueued && !this.writeDone) || this.callbacks !== null);
  }

  /** An idle sending side learns of STOP_SENDING only by asking quiche. */
  probeStopped(): void {
    try {
      this.connection.native.streamCapacity(this.id);
    } catch (error) {
      this.onSendError(error);
    }
  }

  /** The connection is gone: everything pending fails, then 'close'. */
  abort(error: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.closeRead();
    this.writeOpen = false;
    this.writeDone = true;
    this.dropQueue(error);
    this.emit('close');
  }

  // ---- internals ----

  /** Hands bytes to quiche directly; -1 when the sending side turned out to be gone. */
  private sendNow(data: Uint8Array): number {
    let sent: number | null;
    try {
      sent = this.connection.native.streamSend(this.id, data, false);
    } catch (error) {
      this.onSendError(error);
      return -1;
    }
    if (sent === null) return 0;
    this.taken += sent;
    return sent;
  }

  /**
   * A FIN with no data. Known quiche 0.18 limitation, measured through a lossy
   * proxy: when the packet with a FIN-only STREAM frame is lost after all the
   * stream's data was acknowledged, the FIN is not retransmitted (its
   * retransmit range ends at the acknowledged offset), so the peer never sees
   * the end of the stream. A FIN handed over in the same turn as the last
   * write shares that write's STREAM frame and is recovered with it; the
   * WebSocket layer's close linger covers the rest (session/websocket.ts).
   */
  private sendFin(): void {
    let result: number | null;
    try {
      result = this.connection.native.streamSend(this.id, EMPTY, true);
    } catch (error) {
      this.onSendError(error);
      return;
    }
    if (result !== null) this.finishWrite();
  }

  private onSendError(error: unknown): void {
    const code = streamStoppedCode(error);
    if (code === null) {
      // The stream is gone in quiche (collected, or a final-size error): nothing more can be sent.
      this.writeOpen = false;
      this.dropQueue(new QuicConnectionError(`stream ${this.id} cannot send: ${(error as Error).message}`));
      this.finishWrite();
      return;
    }
    if (this.sendAborted) return;
    this.sendAborted = true;
    this.writeOpen = false;
    this.dropQueue(new QuicConnectionError(`stream ${this.id} was stopped by the peer (code ${code})`));
    // quiche already answered with RESET_STREAM carrying the same code (RFC 9000 §3.5);
    // shutting the sending side down takes the stream off quiche's writable list.
    this.connection.shutdown(this.id, SHUTDOWN_WRITE, code);
    this.fire('stopSending', code);
    this.finishWrite();
  }

  private finishWrite(): void {
    if (this.writeDone) return;
    this.writeDone = true;
    this.maybeClose();
  }

  private dropQueue(error: Error): void {
    this.queue.length = 0;
    this.head = 0;
    this.headOffset = 0;
    this.buffered = 0;
    this.needDrain = false;
    const callbacks = this.callbacks;
    if (callbacks === null) return;
    this.callbacks = null;
    for (const { end, callback } of callbacks) {
      // What quiche already took counts as written.
      this.connection.deferCallback(callback, end <= this.taken ? null : error);
    }
  }

  private runCallbacks(): void {
    const callbacks = this.callbacks!;
    let done = 0;
    while (done < callbacks.length && callbacks[done]!.end <= this.taken) done++;
    if (done === 0) return;
    const ready = callbacks.splice(0, done);
    if (callbacks.length === 0) this.callbacks = null;
    for (const { callback } of ready) this.connection.deferCallback(callback, null);
  }

  private maybeClose(): void {
    if (this.closed || this.readOpen || !this.writeDone) return;
    // Callbacks of bytes quiche took in this same turn (the FIN went with
    // them) would otherwise wait for a pushQueued() that never comes: the
    // connection forgets a closed stream.
    if (this.callbacks !== null) this.runCallbacks();
    this.closed = true;
    this.connection.forget(this);
    this.fire('close');
  }

  /** Emits now when inside I/O processing, else from the next flush (never inside a user's call). */
  private fire(event: string, argument?: number): void {
    if (!this.connection.canEmit) this.connection.deferEmit(this, event, argument);
    else if (argument === undefined) this.emit(event);
    else this.emit(event, argument);
  }
}
