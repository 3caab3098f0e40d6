/**
 * Readers for the peer's QPACK encoder stream (type 0x02) and decoder stream
 * (type 0x03), RFC 9204 §4.2–§4.4, for an endpoint whose own dynamic table
 * capacity is 0 and whose encoder never uses the peer's table.
 */
import { Http3Error, QPACK_DECODER_STREAM_ERROR, QPACK_ENCODER_STREAM_ERROR, connectionError } from '../errors.js';
import { decodeInteger } from './primitives.js';

/** Instructions are at most a first byte plus ~9 continuation bytes; more unparsed than this means garbage. */
const MAX_PENDING = 16;

abstract class InstructionReader {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): void {
    let buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let offset = 0;
    while (offset < buf.length) {
      let next: number | null;
      try {
        next = this.instruction(buf, offset);
      } catch (error) {
        // An integer too long for us (reported as QPACK_DECOMPRESSION_FAILED by
        // the shared integer reader) is, on these streams, an error of the stream
        // itself (RFC 9204 §7.4: "a connection error of the appropriate type").
        if (error instanceof Http3Error && error.code !== this.code) this.garbage();
        throw error;
      }
      if (next === null) break; // incomplete: wait for more bytes
      offset = next;
    }
    buf = buf.subarray(offset);
    if (buf.length > MAX_PENDING) this.garbage();
    this.pending = Buffer.from(buf);
  }

  protected abstract readonly code: number;

  /** Reads one instruction at `offset`; returns the offset after it, or null if it is incomplete. Throws on errors. */
  protected abstract instruction(buf: Buffer, offset: number): number | null;

  protected abstract garbage(): never;
}

/**
 * The peer's encoder stream. Our SETTINGS_QPACK_MAX_TABLE_CAPACITY is 0, so:
 * - Set Dynamic Table Capacity (001xxxxx) above 0 exceeds our limit:
 *   QPACK_ENCODER_STREAM_ERROR (§4.3.1). A capacity of 0 is within the limit and
 *   changes nothing; §3.2.3 says an encoder facing a zero maximum "MUST NOT send
 *   any encoder instructions", but tolerating a harmless no-op costs nothing.
 * - Insert with Name Reference (1xxxxxxx) and Insert with Literal Name
 *   (01xxxxxx) add an entry larger than the capacity (every entry is at least
 *   32 bytes): QPACK_ENCODER_STREAM_ERROR (§3.2.2).
 * - Duplicate (000xxxxx) references an entry that cannot exist:
 *   QPACK_ENCODER_STREAM_ERROR (§2.2.3, §4.3.4).
 */
export class EncoderStreamReader extends InstructionReader {
  protected readonly code = QPACK_ENCODER_STREAM_ERROR;

  protected instruction(buf: Buffer, offset: number): number | null {
    const first = buf[offset] as number;
    if (first & 0x80) throw connectionError(QPACK_ENCODER_STREAM_ERROR, 'Insert with Name Reference into a table of capacity 0');
    if (first & 0x40) throw connectionError(QPACK_ENCODER_STREAM_ERROR, 'Insert with Literal Name into a table of capacity 0');
    if ((first & 0x20) === 0) throw connectionError(QPACK_ENCODER_STREAM_ERROR, 'Duplicate of an entry in an empty table');
    const capacity = decodeInteger(buf, offset, 5, true);
    if (capacity === null) return null;
    if (capacity.value !== 0) {
      throw connectionError(QPACK_ENCODER_STREAM_ERROR, `dynamic table capacity ${capacity.value} exceeds our maximum of 0`);
    }
    return capacity.next;
  }

  protected garbage(): never {
    throw connectionError(QPACK_ENCODER_STREAM_ERROR, 'unparseable encoder stream instruction');
  }
}

/**
 * The peer's decoder stream, which acknowledges what our encoder sent. Our
 * encoder never references the dynamic table and never inserts, so:
 * - Section Acknowledgment (1xxxxxxx) always refers to a stream "on which every
 *   encoded field section with a non-zero Required Insert Count has already been
 *   acknowledged" (there are none): QPACK_DECODER_STREAM_ERROR (§4.4.1).
 * - Insert Count Increment (00xxxxxx) is either 0 or raises the Known Received
 *   Count beyond the zero inserts we sent: QPACK_DECODER_STREAM_ERROR (§4.4.3).
 * - Stream Cancellation (01xxxxxx) is legitimate: a decoder emits it whenever a
 *   stream is reset or abandoned (§2.2.2.2, §4.4.2), whatever our encoder did.
 */
export class DecoderStreamReader extends InstructionReader {
  protected readonly code = QPACK_DECODER_STREAM_ERROR;
  /** How many Stream Cancellations the peer's decoder sent (for diagnostics). */
  cancelled = 0;

  protected instruction(buf: Buffer, offset: number): number | null {
    const first = buf[offset] as number;
    if (first & 0x80) throw connectionError(QPACK_DECODER_STREAM_ERROR, 'Section Acknowledgment, but no section referenced the dynamic table');
    if ((first & 0x40) === 0) throw connectionError(QPACK_DECODER_STREAM_ERROR, 'Insert Count Increment, but we inserted nothing');
    const streamId = decodeInteger(buf, offset, 6, true);
    if (streamId === null) return null;
    this.cancelled++;
    return streamId.next;
  }

  protected garbage(): never {
    throw connectionError(QPACK_DECODER_STREAM_ERROR, 'unparseable decoder stream instruction');
  }
}
