/**
 * A QPACK encoder that only ever uses the static table (RFC 9204 §3.1).
 *
 * Our peers may offer a dynamic table; we never use it. That keeps every
 * encoded field section decodable on arrival (no blocked streams, RFC 9204
 * §2.1.2), needs no encoder stream (§4.2: "An endpoint MAY avoid creating an
 * encoder stream if it will not be used") and no per-connection state, and
 * leaks nothing between requests through a shared table (§7.1).
 *
 * Names and values are byte strings held in JS strings one byte per char
 * (latin1), so any byte round-trips; callers validate fields before encoding.
 */
import { encodeInteger, encodeString } from './primitives.js';
import { findExact, findName } from './static-table.js';

export type FieldLine = readonly [name: string, value: string];

function bytes(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

export interface EncodeOptions {
  /** Huffman-code strings when that is shorter (default true); false sends every string as it is. */
  huffman?: boolean;
}

/** Encodes a field section: prefix, then one representation per field line, in order. */
export function encodeFieldSection(fields: Iterable<FieldLine>, options: EncodeOptions = {}): Buffer {
  const huffman = options.huffman ?? true;
  // Encoded Field Section Prefix (§4.5.1): Required Insert Count 0 (no dynamic
  // references), then Sign 0 and Delta Base 0 — "setting Delta Base to zero is
  // one of the most efficient encodings" when the dynamic table is unused.
  const out: number[] = [0x00, 0x00];
  for (const [name, value] of fields) {
    const exact = findExact(name, value);
    if (exact !== undefined) {
      // Indexed Field Line (§4.5.2): '1', T=1 (static), 6-bit index.
      encodeInteger(out, 0xc0, 6, exact);
      continue;
    }
    const nameIndex = findName(name);
    if (nameIndex !== undefined) {
      // Literal Field Line with Name Reference (§4.5.4): '01', N=0, T=1, 4-bit index, then the value.
      encodeInteger(out, 0x50, 4, nameIndex);
      encodeString(out, 0x00, 8, bytes(value), huffman);
      continue;
    }
    // Literal Field Line with Literal Name (§4.5.6): '001', N=0, then the name
    // as a 4-bit prefix string (H flag + 3-bit length), then the value.
    encodeString(out, 0x20, 4, bytes(name), huffman);
    encodeString(out, 0x00, 8, bytes(value), huffman);
  }
  return Buffer.from(out);
}

/** RFC 9114 §4.2.2: a field's size is its name and value lengths plus 32. */
export function fieldSectionSize(fields: Iterable<FieldLine>): number {
  let size = 0;
  for (const [name, value] of fields) size += name.length + value.length + 32;
  return size;
}
