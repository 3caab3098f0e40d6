/**
 * The HPACK Huffman code (RFC 7541 §5.2, Appendix B), which QPACK uses
 * unchanged for string literals (RFC 9204 §4.1.2).
 *
 * Appendix B's code is canonical: sorted by (length, symbol), each code is the
 * previous one plus one, shifted left when the length grows. So the table
 * below only lists the bit length of each of the 257 symbols (0–255 and EOS =
 * 256) and the codes are rebuilt from the lengths; the tests check the result
 * against the hex codes printed in Appendix B and the examples of Appendix C.
 */
import { QPACK_DECOMPRESSION_FAILED, connectionError } from '../errors.js';

// prettier-ignore
const LENGTHS: readonly number[] = [
  // 0-31
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  // 32-63: ' ' ! " # $ % & ' ( ) * + , - . /  0-9 : ; < = > ?
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  // 64-95: @ A-Z [ \ ] ^ _
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  // 96-127: ` a-z { | } ~ DEL
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  // 128-159
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  // 160-191
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  // 192-223
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  // 224-255
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  // 256: EOS
  30,
];

export const EOS = 256;

/** CODES[symbol]: the code, right-aligned (as Appendix B's "as hex" column). */
export const HUFFMAN_CODES: readonly number[] = (() => {
  const order = LENGTHS.map((length, symbol) => ({ length, symbol })).sort((a, b) => a.length - b.length || a.symbol - b.symbol);
  const codes = new Array<number>(LENGTHS.length).fill(0);
  let code = 0;
  let previous = (order[0] as { length: number }).length;
  order.forEach(({ length, symbol }, i) => {
    if (i > 0) code = (code + 1) * 2 ** (length - previous);
    previous = length;
    codes[symbol] = code;
  });
  return codes;
})();

export const HUFFMAN_LENGTHS: readonly number[] = LENGTHS;

/**
 * The decoding tree as flat arrays: node n has children CHILD[2n] (bit 0) and
 * CHILD[2n+1] (bit 1); a negative child -(symbol + 1) is a leaf.
 */
const CHILD = (() => {
  const child = new Int32Array(2 * 512);
  let nodes = 1;
  LENGTHS.forEach((length, symbol) => {
    const code = HUFFMAN_CODES[symbol] as number;
    let node = 0;
    for (let i = length - 1; i >= 0; i--) {
      const bit = Math.floor(code / 2 ** i) % 2;
      const slot = 2 * node + bit;
      if (i === 0) {
        child[slot] = -(symbol + 1);
      } else {
        if (child[slot] === 0) child[slot] = nodes++;
        node = child[slot] as number;
      }
    }
  });
  return child;
})();

/** Bytes the Huffman encoding of `data` takes (padding included). */
export function huffmanEncodedLength(data: Uint8Array): number {
  let bits = 0;
  for (const byte of data) bits += LENGTHS[byte] as number;
  return Math.ceil(bits / 8);
}

/** Huffman-encodes `data`, padding the last byte with the most significant bits of EOS (all ones, RFC 7541 §5.2). */
export function huffmanEncode(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(huffmanEncodedLength(data));
  let acc = 0; // at most 7 + 30 bits: plain arithmetic, not 32-bit bitwise operators
  let bits = 0;
  let o = 0;
  for (const byte of data) {
    const length = LENGTHS[byte] as number;
    acc = acc * 2 ** length + (HUFFMAN_CODES[byte] as number);
    bits += length;
    while (bits >= 8) {
      bits -= 8;
      const scale = 2 ** bits;
      out[o++] = Math.floor(acc / scale) & 0xff;
      acc %= scale;
    }
  }
  if (bits > 0) out[o++] = ((acc << (8 - bits)) | (0xff >> bits)) & 0xff;
  return out;
}

/**
 * Decodes a Huffman-encoded string. RFC 7541 §5.2: "A padding strictly longer
 * than 7 bits MUST be treated as a decoding error", so is padding that is not
 * the most significant bits of EOS (i.e. not all ones), and "a Huffman-encoded
 * string literal containing the EOS symbol MUST be treated as a decoding
 * error". In QPACK a decoding error of a field section is
 * QPACK_DECOMPRESSION_FAILED (RFC 9204 §6).
 */
export function huffmanDecode(data: Uint8Array): Buffer {
  // The shortest code is 5 bits, so n bytes yield at most floor(8n / 5) symbols.
  const out = Buffer.allocUnsafe(Math.floor((data.length * 8) / 5));
  let o = 0;
  let node = 0;
  let pendingBits = 0; // bits read since the last complete symbol
  let pendingAllOnes = true;
  for (const byte of data) {
    for (let shift = 7; shift >= 0; shift--) {
      const bit = (byte >> shift) & 1;
      const next = CHILD[2 * node + bit] as number;
      pendingBits++;
      if (bit === 0) pendingAllOnes = false;
      if (next < 0) {
        const symbol = -next - 1;
        if (symbol === EOS) throw connectionError(QPACK_DECOMPRESSION_FAILED, 'Huffman string contains EOS');
        out[o++] = symbol;
        node = 0;
        pendingBits = 0;
        pendingAllOnes = true;
      } else {
        node = next;
      }
    }
  }
  if (pendingBits > 7) throw connectionError(QPACK_DECOMPRESSION_FAILED, 'Huffman padding longer than 7 bits');
  if (!pendingAllOnes) throw connectionError(QPACK_DECOMPRESSION_FAILED, 'Huffman padding is not the prefix of EOS');
  return out.subarray(0, o);
}
