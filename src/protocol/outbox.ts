import { encodeFrame } from './frame-encoder.js';
import { Opcode } from './opcodes.js';
import type { SharedFrame } from './shared-frame.js';

const EMPTY = Buffer.alloc(0);

export type SendCallback = (error?: Error | null) => void;

/** A frame ready to be written, with the callback of the send that made it. */
export interface OutgoingFrame {
  bytes: Buffer | Buffer[];
  callback: SendCallback | undefined;
}

interface Entry {
  opcode: number;
  fin: boolean;
  /** The payload as given; replaced by the encoded frame once ready. */
  payload: Buffer;
  /** The encoded frame; null while the payload waits to be compressed. */
  bytes: Buffer | Buffer[] | null;
  callback: SendCallback | undefined;
  /** A frame shared with other sessions (a broadcast), taken in slices; null for this session's own frames. */
  shared: SharedFrame | null;
  /** Bytes of `shared` already taken. */
  offset: number;
  /** What this entry still counts in `queuedBytes`. */
  queued: number;
}

/**
 * A shared frame is handed to the transport this much at a time: a transport
 * that copies or encrypts what it is given (TLS, QUIC) then holds one slice
 * per session instead of a copy of the whole broadcast.
 */
export const SHARED_SLICE = 64 * 1024;

/** Up to `max` bytes of `bytes` from `offset`, as views (never a copy). */
function sliceOf(bytes: Buffer | Buffer[], offset: number, max: number): { bytes: Buffer | Buffer[]; length: number } {
  const parts = Array.isArray(bytes) ? bytes : [bytes];
  const out: Buffer[] = [];
  let length = 0;
  for (const part of parts) {
    if (offset >= part.length) {
      offset -= part.length;
      continue;
    }
    const piece = part.subarray(offset, offset + max - length);
    offset = 0;
    out.push(piece);
    length += piece.length;
    if (length === max) break;
  }
  return { bytes: out.length === 1 ? out[0]! : out, length };
}

/**
 * The send side of one WebSocket, sans-I/O (no sockets, no timers, no zlib):
 * what the application and the protocol ask to send goes in, frames come out
 * strictly in that order, and the transport may end only after the last of
 * them. Ordering is therefore a property of this queue, not of callback timing:
 *
 * - a message to compress holds back every frame queued after it until
 *   `compressed()` hands in its deflated payload (RFC 7692 §7.2.1: one deflate
 *   context, so messages are compressed one at a time, in order);
 * - the close frame is the last frame (RFC 6455 §5.5.1: nothing is sent after
 *   it); later messages are refused;
 * - `requestEnd()` asks for the end of the transport; `shouldEnd` turns true
 *   only when every queued frame has been taken.
 *
 * The I/O layer takes ready frames with `take()` while its transport accepts
 * them, so bytes wait here (counted in `queuedBytes`) rather than in the
 * transport, where nothing could be coalesced or counted.
 */
export class Outbox {
  private readonly mask: boolean;
  private entries: Entry[] = [];
  private head = 0;
  /** Entries before this index were encoded or handed to compression: each is looked at once. */
  private compressScan = 0;
  private compressing: Entry | null = null;
  /** Our answer to a ping that still waits here, if any (it takes the next ping's payload). */
  private waitingPong: Entry | null = null;
  private closeQueued = false;
  private endRequested = false;
  private ended = false;
  /** Payload bytes queued and not yet taken. */
  queuedBytes = 0;

  /** Clients mask their frames (RFC 6455 §5.3), servers do not. */
  constructor(options: { mask: boolean }) {
    this.mask = options.mask;
  }

  /** No frame waits, and none is being compressed. */
  get isEmpty(): boolean {
    return this.head === this.entries.length;
  }

  /** The close frame was queued: nothing may follow it. */
  get closing(): boolean {
    return this.closeQueued;
  }

  /** Encodes a frame for the wire with this side's masking. */
  encode(opcode: number, payload: Uint8Array, fin: boolean, rsv1 = false): Buffer | Buffer[] {
    return encodeFrame(opcode, payload, { fin, rsv1, mask: this.mask });
  }

  /** Queues a data frame; with `compress`, its payload waits for `compressed()`. */
  message(opcode: number, payload: Buffer, fin: boolean, compress: boolean, callback?: SendCallback): void {
    this.assertOpen();
    this.push(opcode, payload, fin, compress ? null : this.encode(opcode, payload, fin), callback);
  }

  /**
   * Queues a frame encoded once for many sessions (a broadcast, RFC 6455
   * §5.1: server frames are unmasked, so the bytes are the same for all). It
   * may still be pending (compressing); frames queued after it wait for it.
   */
  shared(frame: SharedFrame, callback?: SendCallback): void {
    this.assertOpen();
    const entry = this.push(Opcode.Binary, EMPTY, true, null, callback);
    entry.shared = frame;
    entry.queued = frame.length;
    this.queuedBytes += frame.length;
  }

  /** Queues a ping or pong (control frames may sit between data frames, RFC 6455 §5.4). */
  control(opcode: number, payload: Buffer, callback?: SendCallback): void {
    this.assertOpen();
    this.push(opcode, payload, true, this.encode(opcode, payload, true), callback);
  }

  /**
   * Queues the answer to a ping. A pong of ours still waiting here takes the
   * new payload instead: RFC 6455 §5.5.3 lets an endpoint answer only the most
   * recent ping, so a peer that pings and never reads costs one pong, not one
   * per ping.
   */
  autoPong(payload: Buffer): void {
    if (this.closeQueued) return;
    const waiting = this.waitingPong;
    if (waiting !== null) {
      this.queuedBytes += payload.length - waiting.queued;
      waiting.payload = payload;
      waiting.queued = payload.length;
      waiting.bytes = this.encode(Opcode.Pong, payload, true);
      return;
    }
    this.waitingPong = this.push(Opcode.Pong, payload, true, this.encode(Opcode.Pong, payload, true), undefined);
  }

  /** Queues the close frame, the last frame of the session. */
  close(payload: Buffer): void {
    this.assertOpen();
    this.push(Opcode.Close, payload, true, this.encode(Opcode.Close, payload, true), undefined);
    this.closeQueued = true;
  }

  /**
   * The next payload to compress, in queue order, or null when none waits or
   * one is being compressed. The caller must answer with `compressed()`.
   */
  nextToCompress(): Buffer | null {
    if (this.compressing !== null) return null;
    for (let i = Math.max(this.compressScan, this.head); i < this.entries.length; i++) {
      const entry = this.entries[i]!;
      if (entry.bytes !== null || entry.shared !== null) continue;
      this.compressScan = i + 1;
      this.compressing = entry;
      return entry.payload;
    }
    this.compressScan = this.entries.length;
    return null;
  }

  /** The deflated payload of the message `nextToCompress()` returned (RSV1 set, RFC 7692 §6). */
  compressed(deflated: Buffer): void {
    const entry = this.compressing;
    if (entry === null) throw new Error('compressed() without a payload being compressed');
    this.compressing = null;
    entry.bytes = this.encode(entry.opcode, deflated, entry.fin, true);
  }

  /** The next frame to write, or null when the queue is empty or its head still waits for compression. */
  take(): OutgoingFrame | null {
    if (this.head === this.entries.length) return null;
    const entry = this.entries[this.head]!;
    if (entry.shared !== null) return this.takeShared(entry, entry.shared);
    if (entry.bytes === null) return null;
    this.advance(entry);
    return { bytes: entry.bytes, callback: entry.callback };
  }

  /** The next slice of a shared frame; the entry (and its callback) goes with the last slice. */
  private takeShared(entry: Entry, frame: SharedFrame): OutgoingFrame | null {
    if (frame.bytes === null) return null;
    let bytes = frame.bytes;
    let length = frame.length;
    if (entry.offset > 0 || length > SHARED_SLICE) ({ bytes, length } = sliceOf(frame.bytes, entry.offset, SHARED_SLICE));
    entry.offset += length;
    if (entry.offset < frame.length) {
      const counted = Math.min(entry.queued, length);
      entry.queued -= counted;
      this.queuedBytes -= counted;
      return { bytes, callback: undefined };
    }
    this.advance(entry);
    return { bytes, callback: entry.callback };
  }

  /** Removes the head entry, which was taken whole. */
  private advance(entry: Entry): void {
    this.entries[this.head++] = undefined as unknown as Entry;
    if (this.head === this.entries.length) {
      this.reset();
    } else if (this.head >= 1024 && this.head * 2 >= this.entries.length) {
      // A queue that never empties (a slow reader) drops its taken slots now and then: linear overall.
      this.entries = this.entries.slice(this.head);
      this.compressScan = Math.max(0, this.compressScan - this.head);
      this.head = 0;
    }
    if (entry === this.waitingPong) this.waitingPong = null;
    this.queuedBytes -= entry.queued;
  }

  /** Asks for the end of the transport once every queued frame was taken. */
  requestEnd(): void {
    this.endRequested = true;
  }

  /** An end of the transport was asked for. */
  get ending(): boolean {
    return this.endRequested;
  }

  /** True once, when the transport should end now: an end was requested and nothing is left to take. */
  get shouldEnd(): boolean {
    if (!this.endRequested || this.ended || !this.isEmpty) return false;
    this.ended = true;
    return true;
  }

  /**
   * Forgets every queued frame (the transport is gone or aborted) and returns
   * their callbacks, which the caller must call with an error: each send's
   * callback is called exactly once.
   */
  drop(): SendCallback[] {
    const callbacks: SendCallback[] = [];
    for (let i = this.head; i < this.entries.length; i++) {
      const callback = this.entries[i]!.callback;
      if (callback !== undefined) callbacks.push(callback);
    }
    this.reset();
    this.compressing = null;
    this.waitingPong = null;
    this.queuedBytes = 0;
    this.closeQueued = true;
    return callbacks;
  }

  private reset(): void {
    this.entries = [];
    this.head = 0;
    this.compressScan = 0;
  }

  private push(
    opcode: number,
    payload: Buffer,
    fin: boolean,
    bytes: Buffer | Buffer[] | null,
    callback: SendCallback | undefined,
  ): Entry {
    const entry: Entry = { opcode, fin, payload, bytes, callback, shared: null, offset: 0, queued: payload.length };
    this.entries.push(entry);
    this.queuedBytes += payload.length;
    return entry;
  }

  private assertOpen(): void {
    // RFC 6455 §5.5.1: after sending a Close frame, the endpoint MUST NOT send any more data frames.
    if (this.closeQueued) throw new Error('no frame may follow the close frame');
  }
}
