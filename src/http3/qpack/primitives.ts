/**
 * QPACK's two primitives (RFC 9204 §4.1): HPACK's prefixed integers
 * (RFC 7541 §5.1) and string literals (RFC 7541 §5.2, with the N-bit prefix
 * generalisation of RFC 9204 §4.1.2).
 */
import { QPACK_DECOMPRESSION_FAILED, connectionError, streamError } from '../errors.js';
import { huffmanDecode, huffmanEncode, huffmanEncodedLength } from './huffman.js';

/** QPACK decoders "MUST be able to decode integers up to and including 62 bits long" (RFC 9204 §4.1.1). */
const INTEGER_MAX = (1n << 62n) - 1n;

/**
 * Appends a prefixed integer: `high` holds the bits above the N-bit prefix
 * (the representation's pattern and flags), `prefix` is N (1–8).
 */
export function encodeInteger(out: number[], high: number, prefix: number, value: number): void {
  const max = (1 << prefix) - 1;
  if (value < max) {
    out.push(high | value);
    return;
  }
  out.push(high | max);
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
}

export interface Decoded<T> {
  value: T;
  /** Offset just after what was read. */
  next: number;
}

/**
 * Reads a prefixed integer whose first byte is at `offset` (its high bits are
 * the caller's). Values up to 2^62-1 are read (exact up to 2^53-1, which is
 * more than any index or length a field section can hold); a longer one is a
 * value "larger than it is able to decode", a stream error
 * QPACK_DECOMPRESSION_FAILED on a request stream (RFC 9204 §7.4). Running out
 * of bytes means the field section is truncated: a connection error.
 * Returns null instead of throwing on truncation when `partialOk` is set (for
 * the encoder/decoder streams, whose instructions can be split across chunks).
 */
export function decodeInteger(buf: Uint8Array, offset: number, prefix: number): Decoded<number>;
export function decodeInteger(buf: Uint8Array, offset: number, prefix: number, partialOk: true): Decoded<number> | null;
export function decodeInteger(buf: Uint8Array, offset: number, prefix: number, partialOk = false): Decoded<number> | null {
  if (offset >= buf.length) {
    if (partialOk) return null;
    throw connectionError(QPACK_DECOMPRESSION_FAILED, 'field section truncated inside an integer');
  }
  const max = (1 << prefix) - 1;
  const first = (buf[offset] as number) & max;
  if (first < max) return { value: first, next: offset + 1 };
  // Find the last continuation byte: at most 9 (9 × 7 = 63 bits) can be part of a 62-bit value.
  let end = offset + 1;
  for (;;) {
    if (end >= buf.length) {
      if (partialOk) return null;
      throw connectionError(QPACK_DECOMPRESSION_FAILED, 'field section truncated inside an integer');
    }
    if (end - offset > 10) throw streamError(QPACK_DECOMPRESSION_FAILED, 'integer longer than 62 bits');
    if (((buf[end++] as number) & 0x80) === 0) break;
  }
  if (end - offset <= 8) {
    // Up to 7 continuation bytes: at most 2^8 + 2^49, exact as a number.
    let value = 0;
    for (let i = end - 1; i > offset; i--) value = value * 128 + ((buf[i] as number) & 0x7f);
    return { value: value + max, next: end };
  }
  let big = 0n;
  for (let i = end - 1; i > offset; i--) big = (big << 7n) | BigInt((buf[i] as number) & 0x7f);
  big += BigInt(max);
  if (big > INTEGER_MAX) throw streamError(QPACK_DECOMPRESSION_FAILED, 'integer longer than 62 bits');
  return { value: Number(big), next: end };
}

/**
 * Appends a string literal with an N-bit prefix (N = `prefix`, 2–8; the
 * Huffman flag is the prefix's top bit). Huffman is used only when it is
 * strictly shorter, as RFC 7541 §5.2 leaves the choice to the encoder.
 */
export function encodeString(out: number[], high: number, prefix: number, bytes: Uint8Array, huffman = true): void {
  const huffmanLength = huffman ? huffmanEncodedLength(bytes) : Infinity;
  const hBit = 1 << (prefix - 1);
  if (huffmanLength < bytes.length) {
    encodeInteger(out, high | hBit, prefix - 1, huffmanLength);
    for (const byte of huffmanEncode(bytes)) out.push(byte);
  } else {
    encodeInteger(out, high, prefix - 1, bytes.length);
    for (const byte of bytes) out.push(byte);
  }
}

/**
 * Reads a string literal with an N-bit prefix at `offset`. A length that runs
 * past the end of the field section is a truncated (invalid) section:
 * QPACK_DECOMPRESSION_FAILED on the connection.
 */
export function decodeString(buf: Uint8Array, offset: number, prefix: number): Decoded<Buffer> {
  if (offset >= buf.length) throw connectionError(QPACK_DECOMPRESSION_FAILED, 'field section truncated before a string');
  const huffman = ((buf[offset] as number) & (1 << (prefix - 1))) !== 0;
  const length = decodeInteger(buf, offset, prefix - 1);
  const end = length.next + length.value;
  if (end > buf.length) throw connectionError(QPACK_DECOMPRESSION_FAILED, 'string literal runs past the field section');
  const raw = Buffer.from(buf.buffer, buf.byteOffset + length.next, length.value);
  return { value: huffman ? huffmanDecode(raw) : raw, next: end };
}
