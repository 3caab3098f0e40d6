/**
 * permessage-deflate at run time (RFC 7692 §7.2): compress outgoing messages
 * and inflate incoming ones with node:zlib, asynchronously, under a shared
 * limit on concurrent zlib jobs.
 */
import zlib from 'node:zlib';
import { CloseCode } from '../close-codes.js';
import { ProtocolError } from '../errors.js';
import type { DeflateParams } from './negotiation.js';
import type { LimiterTicket, ZlibLimiter } from './zlib-limiter.js';
import { type PooledStream, type ZlibPool, sharedZlibPool } from './zlib-pool.js';

/**
 * RFC 7692 §7.2.1: a sync flush ends with an empty stored block whose last
 * four octets are 00 00 ff ff; the sender removes them and the receiver
 * appends them again (§7.2.2) before inflating.
 */
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const EMPTY = Buffer.alloc(0);

/**
 * RFC 7692 §7.2.3.4 lets a sender end its data with a DEFLATE block whose
 * BFINAL bit is set, followed by padding so that the appended tail still
 * parses. zlib stops at a final block; whatever follows in the message is
 * decoded by a new zlib stream (its window starts empty: zlib cannot resume
 * a finished stream). Legitimate data needs at most one such restart within
 * a message; more are refused so that a peer cannot make us create a zlib
 * stream for every two bytes of a frame.
 */
const MAX_RESTARTS_PER_MESSAGE = 1;

type Callback = (err: Error | null, result?: Buffer) => void;

export interface PerMessageDeflateOptions {
  /**
   * Largest inflated size of one message; `Infinity` for none. Exceeding it
   * fails decompress() with ProtocolError 1009 (RFC 6455 §7.4.1).
   */
  maxMessageSize: number;
  /** zlib level 0..9, default 6 (see DEFLATE_DEFAULTS in negotiation.ts). */
  level?: number;
  /** zlib memLevel 1..9, default 8. */
  memLevel?: number;
  /** Shared bound on concurrent zlib jobs. */
  limiter: ZlibLimiter;
  /** Where zlib streams come from and go back to between messages; default `sharedZlibPool`. */
  pool?: ZlibPool;
}

/** Settings that make a compressor produce the same bytes for the same message (see `sharedCompression`). */
export interface SharedCompression {
  readonly windowBits: number;
  readonly level: number;
  readonly memLevel: number;
}

interface DeflateOp {
  cb: Callback;
  data: Buffer;
  chunks: Buffer[];
  length: number;
  ticket: LimiterTicket | null;
}

interface InflateOp {
  cb: Callback;
  data: Buffer;
  fin: boolean;
  chunks: Buffer[];
  length: number;
  ticket: LimiterTicket | null;
}

function concat(chunks: Buffer[], length: number): Buffer {
  if (chunks.length === 1) return chunks[0]!;
  if (chunks.length === 0) return EMPTY;
  return Buffer.concat(chunks, length);
}

function endsWithTail(buf: Buffer): boolean {
  const n = buf.length;
  return n >= 4 && buf[n - 4] === 0x00 && buf[n - 3] === 0x00 && buf[n - 2] === 0xff && buf[n - 1] === 0xff;
}

/**
 * One session's permessage-deflate state: a compressor for the messages we
 * send and an inflater for the ones we receive, each created on first use.
 *
 * Contract with the caller (the session):
 * - compress() calls are strictly sequential (the next one only after the
 *   previous callback), and so are decompress() calls; the two directions are
 *   independent and may overlap.
 * - Every callback is called asynchronously and exactly once, unless close()
 *   is called first: after close() no callback is ever called (the session
 *   is gone and fails its own pending sends), and later calls do nothing.
 * - After a decompress() error the session must fail the connection; the
 *   inflater has been discarded.
 */
export class PerMessageDeflate {
  readonly params: DeflateParams;
  readonly role: 'server' | 'client';

  readonly #limiter: ZlibLimiter;
  readonly #pool: ZlibPool;
  readonly #maxMessageSize: number;
  readonly #level: number;
  readonly #memLevel: number;
  /** Our compressor's window and context-takeover rule. */
  readonly #deflateWindowBits: number;
  readonly #deflateNoContextTakeover: boolean;
  /** The peer's, which our inflater follows. */
  readonly #inflateWindowBits: number;
  readonly #inflateNoContextTakeover: boolean;

  #closed = false;

  #deflater: PooledStream<zlib.DeflateRaw> | null = null;
  #deflateOp: DeflateOp | null = null;

  #inflater: PooledStream<zlib.InflateRaw> | null = null;
  #inflateOp: InflateOp | null = null;
  /** Inflated bytes of the current message so far. */
  #messageLength = 0;
  /** Compressed bytes of the current message received so far. */
  #messageBytesIn = 0;
  /** Compressed bytes of the current message zlib has consumed so far. */
  #messageConsumed = 0;
  /** New zlib streams started within the current message (see MAX_RESTARTS_PER_MESSAGE). */
  #messageRestarts = 0;

  constructor(
    params: DeflateParams,
    role: 'server' | 'client',
    options: PerMessageDeflateOptions,
  ) {
    if (role !== 'server' && role !== 'client') throw new TypeError(`role must be 'server' or 'client', got ${String(role)}`);
    for (const key of ['serverMaxWindowBits', 'clientMaxWindowBits'] as const) {
      const bits = params[key];
      if (!Number.isInteger(bits) || bits < 8 || bits > 15) throw new RangeError(`params.${key} must be 8..15, got ${String(bits)}`);
    }
    const { maxMessageSize } = options;
    if (typeof maxMessageSize !== 'number' || Number.isNaN(maxMessageSize) || maxMessageSize < 0) {
      throw new RangeError(`maxMessageSize must be a number >= 0, got ${String(maxMessageSize)}`);
    }
    this.params = { ...params };
    this.role = role;
    this.#limiter = options.limiter;
    this.#pool = options.pool ?? sharedZlibPool;
    this.#maxMessageSize = maxMessageSize;
    // Checked here, not when zlib is first used: a bad option must not throw
    // later from inside a limiter job that another session's release started.
    const level = options.level ?? 6;
    const memLevel = options.memLevel ?? 8;
    if (!Number.isInteger(level) || level < -1 || level > 9) throw new RangeError(`level must be -1..9, got ${String(level)}`);
    if (!Number.isInteger(memLevel) || memLevel < 1 || memLevel > 9) throw new RangeError(`memLevel must be 1..9, got ${String(memLevel)}`);
    this.#level = level;
    this.#memLevel = memLevel;

    const server = role === 'server';
    const ownBits = server ? params.serverMaxWindowBits : params.clientMaxWindowBits;
    const peerBits = server ? params.clientMaxWindowBits : params.serverMaxWindowBits;
    // Negotiation never lets our own compressor agree to 8 (zlib would use 9
    // and break the agreement); refuse params that say otherwise.
    if (ownBits < 9) throw new RangeError(`${role} cannot compress with a window of 8 bits (zlib uses at least 9)`);
    this.#deflateWindowBits = ownBits;
    this.#deflateNoContextTakeover = server ? params.serverNoContextTakeover : params.clientNoContextTakeover;
    // The inflater uses the agreed window, which is all a conforming peer may
    // use, so a session that negotiated a small window really saves the
    // memory (zlib allocates 2^bits bytes for an inflater's window). 8 is
    // raised to 9: a zlib-based peer that agreed to 8 compresses with 9 (the
    // same zlib quirk), and a 9-bit inflater also reads 8-bit streams.
    this.#inflateWindowBits = Math.max(peerBits, 9);
    this.#inflateNoContextTakeover = server ? params.clientNoContextTakeover : params.serverNoContextTakeover;
  }

  /**
   * The settings of our compressor when every message we send is compressed
   * on its own (our direction has no context takeover, RFC 7692 §7.1.1):
   * then a message compresses to the same bytes for every session with these
   * settings, so a broadcast may compress it once for all of them. Null when
   * our compressor carries context from message to message.
   */
  get sharedCompression(): SharedCompression | null {
    if (!this.#deflateNoContextTakeover) return null;
    return { windowBits: this.#deflateWindowBits, level: this.#level, memLevel: this.#memLevel };
  }

  // -------------------------------------------------------------------------
  // Compression (RFC 7692 §7.2.1)
  // -------------------------------------------------------------------------

  /**
   * Compress one whole message payload. `cb` gets the compressed payload
   * with the trailing 00 00 ff ff removed (RFC 7692 §7.2.1), or an Error if
   * zlib failed (an internal failure: the session should close with 1011).
   */
  compress(data: Buffer, cb: Callback): void {
    if (this.#closed) return;
    if (this.#deflateOp !== null) throw new Error('compress() called before the previous compress() completed');
    const op: DeflateOp = { cb, data, chunks: [], length: 0, ticket: null };
    this.#deflateOp = op;
    if (data.length === 0) {
      // zlib emits nothing for a sync flush without new input (Z_BUF_ERROR),
      // so the empty message is encoded here: 0x00 plus the tail is an empty
      // stored block, which leaves the LZ77 window as it is (§7.2.3.6).
      process.nextTick(() => {
        if (op === this.#deflateOp) this.#finishDeflate(op, null, Buffer.from([0x00]));
      });
      return;
    }
    op.ticket = this.#limiter.schedule(() => this.#runDeflate(op));
  }

  #runDeflate(op: DeflateOp): void {
    const deflater = this.#deflater ?? this.#takeDeflater();
    // The stream's default flush mode is Z_SYNC_FLUSH (see ZlibPool), so
    // this one write compresses the message and ends it with the empty
    // stored block of §7.2.1, in a single thread-pool round trip.
    deflater.stream.write(op.data, (err) => {
      if (op !== this.#deflateOp || deflater !== this.#deflater) return; // closed or failed meanwhile
      if (err) {
        this.#failDeflate(op, err);
        return;
      }
      const out = concat(op.chunks, op.length);
      if (!endsWithTail(out)) {
        this.#failDeflate(op, new Error('zlib sync flush did not end with 00 00 ff ff'));
        return;
      }
      // §7.2.1: with no context takeover for our direction, the next message
      // must not refer to this one, so nothing needs to outlive it: the
      // stream (~256 KiB at 15 window bits and memLevel 8) goes back to the
      // pool now rather than stay with a session that may idle for hours.
      if (this.#deflateNoContextTakeover) this.#dropDeflater(true);
      this.#finishDeflate(op, null, out.subarray(0, out.length - 4));
    });
  }

  #takeDeflater(): PooledStream<zlib.DeflateRaw> {
    const settings = { windowBits: this.#deflateWindowBits, level: this.#level, memLevel: this.#memLevel };
    const deflater = this.#pool.deflater(settings, {
      data: (chunk) => {
        const op = this.#deflateOp;
        if (op === null || deflater !== this.#deflater) return;
        op.chunks.push(chunk);
        op.length += chunk.length;
      },
      error: (err) => {
        if (deflater !== this.#deflater) return;
        const op = this.#deflateOp;
        if (op !== null) this.#failDeflate(op, err);
        else this.#dropDeflater(false);
      },
    });
    this.#deflater = deflater;
    return deflater;
  }

  #failDeflate(op: DeflateOp, err: Error): void {
    this.#dropDeflater(false);
    const error = new Error(`permessage-deflate: compression failed: ${err.message}`);
    error.cause = err;
    this.#finishDeflate(op, error);
  }

  #finishDeflate(op: DeflateOp, err: Error | null, result?: Buffer): void {
    this.#deflateOp = null;
    op.ticket?.cancel(); // release the limiter slot before running user code
    op.chunks = [];
    if (err) op.cb(err);
    else op.cb(null, result);
  }

  /** `reusable`: no write is running and none failed, so the stream may serve another message. */
  #dropDeflater(reusable: boolean): void {
    const deflater = this.#deflater;
    this.#deflater = null;
    if (deflater === null) return;
    if (reusable) this.#pool.release(deflater);
    else this.#pool.discard(deflater);
  }

  // -------------------------------------------------------------------------
  // Decompression (RFC 7692 §7.2.2)
  // -------------------------------------------------------------------------

  /**
   * Inflate the payload of one frame of a compressed message (`fin`: last
   * frame). `cb` gets the bytes this frame inflates to (possibly empty), so
   * the caller can check UTF-8 and sizes as the message arrives. On `fin`,
   * 00 00 ff ff is appended before inflating (§7.2.2).
   *
   * Errors (as ProtocolError):
   * - 1009 WS_ERR_MESSAGE_TOO_BIG when the message inflates to more than
   *   maxMessageSize bytes. Inflation stops at the first output chunk past the
   *   limit, so a compression bomb costs at most maxMessageSize + 16 KiB.
   * - 1002 WS_ERR_INVALID_COMPRESSED_DATA when the payload is not valid
   *   DEFLATE data. RFC 7692 (§6.2, §7.2.2) does not name a code. Data that
   *   does not follow the payload transformation of the negotiated extension
   *   breaks the protocol itself, which is 1002 in RFC 6455 §7.4.1; 1007 is
   *   for a well-formed message whose content does not fit its type (bad
   *   UTF-8 in a text message). `ws` uses 1007 here; Autobahn|Testsuite has
   *   no case for corrupt compressed data, so either code passes it.
   */
  decompress(data: Buffer, fin: boolean, cb: Callback): void {
    if (this.#closed) return;
    if (this.#inflateOp !== null) throw new Error('decompress() called before the previous decompress() completed');
    const op: InflateOp = { cb, data, fin, chunks: [], length: 0, ticket: null };
    this.#inflateOp = op;
    if (data.length === 0 && (!fin || this.#messageBytesIn === 0)) {
      // Nothing to inflate: no zlib job, but still an asynchronous callback.
      // A message whose compressed payload is empty altogether is read as
      // an empty message: the tail alone is not a complete DEFLATE block,
      // and feeding it to zlib would leave the stream mid-block and corrupt
      // the next message.
      process.nextTick(() => {
        if (op === this.#inflateOp) this.#finishInflate(op, null);
      });
      return;
    }
    this.#messageBytesIn += data.length;
    op.ticket = this.#limiter.schedule(() => this.#feed(op, data));
  }

  /**
   * Write `data` of `op` (plus the tail on fin) to the inflater and finish
   * the op once zlib has consumed it.
   */
  #feed(op: InflateOp, data: Buffer): void {
    const inflater = this.#inflater ?? this.#takeInflater();
    const consumedBefore = inflater.stream.bytesWritten;
    const total = data.length + (op.fin ? TAIL.length : 0);
    const done = (err: Error | null | undefined): void => {
      if (op !== this.#inflateOp || inflater !== this.#inflater) return; // finished, failed or closed meanwhile
      if (err) {
        this.#failInflate(op, err);
        return;
      }
      // Every write ran in Z_SYNC_FLUSH mode, so zlib produced all the output
      // it could; input it left unconsumed means the stream hit a final block.
      const consumed = inflater.stream.bytesWritten - consumedBefore;
      // Nothing of this message consumed: the stream had already ended with
      // the previous message, so a new one is simply due (not a restart).
      const endedBefore = consumed === 0 && this.#messageConsumed === 0;
      this.#messageConsumed += consumed;
      const leftover = total - consumed;
      if (leftover > 0) {
        // The stream ended at a final block and holds unconsumed input: never reused.
        this.#dropInflater(false);
        const dataLeft = leftover - (op.fin ? TAIL.length : 0);
        if (dataLeft > 0) {
          // Data after a final block (§7.2.3.4): decode it with a new stream.
          if (!endedBefore && ++this.#messageRestarts > MAX_RESTARTS_PER_MESSAGE) {
            this.#finishInflate(
              op,
              new ProtocolError(CloseCode.ProtocolError, 'WS_ERR_INVALID_COMPRESSED_DATA', 'Invalid compressed data: data after more than one final DEFLATE block'),
            );
            return;
          }
          this.#feed(op, data.subarray(data.length - dataLeft));
          return;
        }
        // Only (part of) the appended tail was left: the message is complete
        // and the next one starts a new stream.
      }
      this.#finishInflate(op, null);
    };
    if (!op.fin) {
      inflater.stream.write(data, done);
    } else if (data.length === 0) {
      inflater.stream.write(TAIL, done);
    } else {
      // Two writes rather than a concatenation: no copy of the payload.
      inflater.stream.write(data);
      inflater.stream.write(TAIL, done);
    }
  }

  #takeInflater(): PooledStream<zlib.InflateRaw> {
    const inflater = this.#pool.inflater(this.#inflateWindowBits, {
      data: (chunk) => this.#inflated(inflater, chunk),
      error: (err) => {
        if (inflater !== this.#inflater) return;
        const op = this.#inflateOp;
        if (op !== null) this.#failInflate(op, err);
        else this.#dropInflater(false);
      },
    });
    this.#inflater = inflater;
    return inflater;
  }

  #inflated(inflater: PooledStream<zlib.InflateRaw>, chunk: Buffer): void {
    const op = this.#inflateOp;
    if (op === null || inflater !== this.#inflater) return;
    this.#messageLength += chunk.length;
    if (this.#messageLength > this.#maxMessageSize) {
      // Destroying the stream from its 'data' handler makes zlib stop
      // before inflating the next chunk: a bomb is never inflated whole.
      this.#dropInflater(false);
      this.#finishInflate(
        op,
        new ProtocolError(CloseCode.MessageTooBig, 'WS_ERR_MESSAGE_TOO_BIG', `Inflated message exceeds ${this.#maxMessageSize} bytes`),
      );
      return;
    }
    op.chunks.push(chunk);
    op.length += chunk.length;
  }

  #failInflate(op: InflateOp, err: Error): void {
    this.#dropInflater(false);
    const error = new ProtocolError(CloseCode.ProtocolError, 'WS_ERR_INVALID_COMPRESSED_DATA', `Invalid compressed data: ${err.message}`);
    error.cause = err;
    this.#finishInflate(op, error);
  }

  #finishInflate(op: InflateOp, err: Error | null): void {
    this.#inflateOp = null;
    op.ticket?.cancel(); // release the limiter slot before running user code
    const result = err ? EMPTY : concat(op.chunks, op.length);
    op.chunks = [];
    if (err || op.fin) {
      this.#messageLength = 0;
      this.#messageBytesIn = 0;
      this.#messageConsumed = 0;
      this.#messageRestarts = 0;
    }
    if (err) {
      this.#dropInflater(false);
      op.cb(err);
      return;
    }
    // §7.2.2: with no context takeover for the peer's direction each message
    // starts with an empty window, so the inflater (~40 KiB at 15 window
    // bits) goes back to the pool between messages, like the compressor.
    if (op.fin && this.#inflateNoContextTakeover) this.#dropInflater(true);
    op.cb(null, result);
  }

  /** `reusable`: no write is running and none failed, so the stream may serve another message. */
  #dropInflater(reusable: boolean): void {
    const inflater = this.#inflater;
    this.#inflater = null;
    if (inflater === null) return;
    if (reusable) this.#pool.release(inflater);
    else this.#pool.discard(inflater);
  }

  // -------------------------------------------------------------------------

  /**
   * Release zlib resources. Pending callbacks are never called afterwards,
   * queued zlib jobs are withdrawn from the limiter and running ones give
   * their slot back at once. Idempotent; later calls to compress() and
   * decompress() do nothing.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const deflateOp = this.#deflateOp;
    const inflateOp = this.#inflateOp;
    this.#deflateOp = null;
    this.#inflateOp = null;
    deflateOp?.ticket?.cancel();
    inflateOp?.ticket?.cancel();
    // A stream with an operation pending may be inside a zlib job: freed, never reused.
    this.#dropDeflater(deflateOp === null);
    this.#dropInflater(inflateOp === null);
  }
}
