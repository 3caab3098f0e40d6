/**
 * QUIC variable-length integers (RFC 9000 §16), used by every HTTP/3 frame
 * header, setting and stream type (RFC 9114 §2.2).
 *
 * The two most significant bits of the first byte give the length: 00 → 1
 * byte (6-bit value), 01 → 2 bytes (14 bits), 10 → 4 bytes (30 bits),
 * 11 → 8 bytes (62 bits). The rest is the value in network byte order.
 *
 * Numbers and 2^62: JavaScript numbers are exact up to 2^53-1
 * (Number.MAX_SAFE_INTEGER). `decodeVarint` returns a number; values above
 * 2^53-1 (only possible in the 8-byte form) come back rounded to the nearest
 * double. HTTP/3 never needs such values exactly except for identifiers
 * (stream/push ids in GOAWAY, MAX_PUSH_ID, setting ids), where callers that
 * care use `decodeVarintBigInt`. Lengths above 2^53-1 are rejected by the
 * frame parser as excessive (no peer can send 8 PiB in one frame anyway).
 * `encodeVarint` takes a safe-integer number or a bigint up to 2^62-1 and
 * throws a RangeError for anything else, so a rounded value is never sent.
 */

/** The largest value a varint can carry: 2^62-1. */
export const VARINT_MAX = (1n << 62n) - 1n;

export interface Varint {
  value: number;
  /** Bytes the encoding took: 1, 2, 4 or 8. */
  length: number;
}

export interface VarintBigInt {
  value: bigint;
  length: number;
}

/** Length of the encoding from its first byte (RFC 9000 §16, Table 4). */
export function varintLengthFromFirstByte(firstByte: number): 1 | 2 | 4 | 8 {
  return (1 << (firstByte >> 6)) as 1 | 2 | 4 | 8;
}

function checkValue(value: number | bigint): void {
  if (typeof value === 'bigint') {
    if (value < 0n || value > VARINT_MAX) throw new RangeError(`varint out of range: ${value}`);
  } else if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`varint must be a non-negative safe integer (use a bigint above 2^53-1): ${value}`);
  }
}

/** Bytes the minimal encoding of `value` takes. */
export function varintLength(value: number | bigint): 1 | 2 | 4 | 8 {
  checkValue(value);
  const v = Number(value);
  // Every value below 2^30 is exact as a number even when given as a bigint.
  if (v < 0x40) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x40000000) return 4;
  return 8;
}

/**
 * Writes the minimal encoding (RFC 9000 §16 lets a sender pick any length that
 * fits; the shortest is what §16 calls for when nothing else matters) and
 * returns the offset after it.
 */
export function writeVarint(target: Uint8Array, offset: number, value: number | bigint): number {
  const length = varintLength(value);
  if (offset + length > target.length) throw new RangeError('varint does not fit in the target buffer');
  if (length === 8) {
    let big = BigInt(value);
    for (let i = 7; i >= 1; i--) {
      target[offset + i] = Number(big & 0xffn);
      big >>= 8n;
    }
    target[offset] = Number(big) | 0xc0;
    return offset + 8;
  }
  let v = Number(value);
  for (let i = length - 1; i >= 1; i--) {
    target[offset + i] = v & 0xff;
    v = Math.floor(v / 256);
  }
  target[offset] = v | ([0, 0x40, 0x80][length >> 1] as number);
  return offset + length;
}

/** A new buffer holding the minimal encoding of `value`. */
export function encodeVarint(value: number | bigint): Buffer {
  const out = Buffer.allocUnsafe(varintLength(value));
  writeVarint(out, 0, value);
  return out;
}

/**
 * Reads one varint at `offset`, or returns null when `buf` ends before the
 * encoding does (the caller waits for more bytes and tries again from the same
 * offset). Non-minimal encodings are accepted, as RFC 9000 §16 allows
 * ("values do not need to be encoded on the minimum number of bytes").
 */
export function decodeVarint(buf: Uint8Array, offset = 0): Varint | null {
  if (offset >= buf.length) return null;
  const first = buf[offset] as number;
  const length = varintLengthFromFirstByte(first);
  if (offset + length > buf.length) return null;
  let value = first & 0x3f;
  if (length === 8) {
    // Two exact 32-bit halves added once: the sum is rounded once, to the
    // nearest double (adding byte by byte rounds at every step beyond 2^53).
    let low = 0;
    for (let i = 1; i < 4; i++) value = value * 256 + (buf[offset + i] as number);
    for (let i = 4; i < 8; i++) low = low * 256 + (buf[offset + i] as number);
    return { value: value * 0x100000000 + low, length };
  }
  for (let i = 1; i < length; i++) value = value * 256 + (buf[offset + i] as number);
  return { value, length };
}

/** As decodeVarint, exact over the whole 62-bit range. */
export function decodeVarintBigInt(buf: Uint8Array, offset = 0): VarintBigInt | null {
  if (offset >= buf.length) return null;
  const first = buf[offset] as number;
  const length = varintLengthFromFirstByte(first);
  if (offset + length > buf.length) return null;
  let value = BigInt(first & 0x3f);
  for (let i = 1; i < length; i++) value = (value << 8n) | BigInt(buf[offset + i] as number);
  return { value, length };
}

/**
 * Reads a varint that may arrive split over several chunks (a unidirectional
 * stream's type, RFC 9114 §6.2). Feed bytes until `value` is not null.
 */
export class VarintReader {
  private readonly bytes = Buffer.alloc(8);
  private have = 0;
  private need = 0;
  value: VarintBigInt | null = null;

  /** Consumes what it needs from `chunk` and returns how many bytes it took. */
  push(chunk: Uint8Array, offset = 0): number {
    let i = offset;
    while (this.value === null && i < chunk.length) {
      const byte = chunk[i++] as number;
      if (this.have === 0) this.need = varintLengthFromFirstByte(byte);
      this.bytes[this.have++] = byte;
      if (this.have === this.need) this.value = decodeVarintBigInt(this.bytes.subarray(0, this.need));
    }
    return i - offset;
  }
}
