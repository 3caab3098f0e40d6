/**
 * A QPACK decoder with a dynamic table capacity of zero.
 *
 * We advertise SETTINGS_QPACK_MAX_TABLE_CAPACITY = 0 and
 * SETTINGS_QPACK_BLOCKED_STREAMS = 0, so a conforming peer can only send
 * static-table references and literals. Everything else is an encoded field
 * section we cannot resolve, which RFC 9204 makes a connection error of type
 * QPACK_DECOMPRESSION_FAILED (§2.2.3, §3.1, §4.5.1.1, §4.5.1.2).
 */
import { H3_EXCESSIVE_LOAD, Http3Error, QPACK_DECOMPRESSION_FAILED, connectionError } from '../errors.js';
import type { FieldLine } from './encoder.js';
import { decodeInteger, decodeString } from './primitives.js';
import { STATIC_TABLE } from './static-table.js';

/**
 * The decoded field section is larger than the limit we set (RFC 9114 §4.2.2).
 * Not a QPACK failure: the section is valid, we just will not hold it. It is a
 * stream-level problem; what to do (a 431 from a server, a reset) is up to the
 * caller.
 */
export class FieldSectionTooLargeError extends Http3Error {
  readonly limit: number;

  constructor(limit: number) {
    super(H3_EXCESSIVE_LOAD, 'stream', `field section larger than ${limit} bytes`);
    this.name = 'FieldSectionTooLargeError';
    this.limit = limit;
  }
}

export interface DecodeOptions {
  /** Largest decoded size (sum of name + value + 32 per field, RFC 9114 §4.2.2); default unlimited. */
  maxFieldSectionSize?: number;
}

function fail(message: string): Http3Error {
  return connectionError(QPACK_DECOMPRESSION_FAILED, message);
}

function staticEntry(index: number): readonly [string, string] {
  const entry = STATIC_TABLE[index];
  // §3.1: "When the decoder encounters an invalid static table index in a field
  // line representation, it MUST treat this as a connection error of type
  // QPACK_DECOMPRESSION_FAILED."
  if (entry === undefined) throw fail(`static table index ${index} does not exist`);
  return entry;
}

/**
 * Decodes one encoded field section (the payload of a HEADERS frame, or what
 * follows the push ID in PUSH_PROMISE). Names and values come back as latin1
 * strings (one char per byte), in wire order (§2.2: "The decoder MUST emit
 * field lines in the order their representations appear").
 */
export function decodeFieldSection(block: Uint8Array, options: DecodeOptions = {}): FieldLine[] {
  const limit = options.maxFieldSectionSize ?? Infinity;
  // §4.5.1.1: with MaxTableCapacity 0, MaxEntries and FullRange are 0, so any
  // Encoded Required Insert Count other than 0 exceeds FullRange: an error.
  const ric = decodeInteger(block, 0, 8);
  if (ric.value !== 0) throw fail(`Required Insert Count ${ric.value} with a dynamic table capacity of 0`);
  if (ric.next >= block.length) throw fail('field section truncated in its prefix');
  // §4.5.1.2: "An endpoint MUST treat a field block with a Sign bit of 1 as
  // invalid if the value of Required Insert Count is less than or equal to the
  // value of Delta Base" — always so when the Required Insert Count is 0. With
  // Sign 0 any Delta Base is fine: without dynamic references the Base is unused.
  const sign = ((block[ric.next] as number) & 0x80) !== 0;
  const delta = decodeInteger(block, ric.next, 7);
  if (sign) throw fail('negative Base with a Required Insert Count of 0');

  const fields: FieldLine[] = [];
  let size = 0;
  let offset = delta.next;
  while (offset < block.length) {
    const first = block[offset] as number;
    let name: string;
    let value: string;
    if (first & 0x80) {
      // Indexed Field Line (§4.5.2): 1 T index(6+).
      const index = decodeInteger(block, offset, 6);
      if ((first & 0x40) === 0) throw fail('dynamic table reference with a dynamic table capacity of 0');
      [name, value] = staticEntry(index.value);
      offset = index.next;
    } else if (first & 0x40) {
      // Literal Field Line with Name Reference (§4.5.4): 01 N T index(4+), value.
      const index = decodeInteger(block, offset, 4);
      if ((first & 0x10) === 0) throw fail('dynamic table name reference with a dynamic table capacity of 0');
      name = staticEntry(index.value)[0];
      const literal = decodeString(block, index.next, 8);
      value = literal.value.toString('latin1');
      offset = literal.next;
    } else if (first & 0x20) {
      // Literal Field Line with Literal Name (§4.5.6): 001 N H namelen(3+), name, value.
      const nameLiteral = decodeString(block, offset, 4);
      const valueLiteral = decodeString(block, nameLiteral.next, 8);
      name = nameLiteral.value.toString('latin1');
      value = valueLiteral.value.toString('latin1');
      offset = valueLiteral.next;
    } else {
      // 0001xxxx: Indexed Field Line with Post-Base Index (§4.5.3);
      // 0000xxxx: Literal Field Line with Post-Base Name Reference (§4.5.5).
      // Both address the dynamic table at or above Base: entries that cannot exist (§2.2.3).
      throw fail('post-Base dynamic table reference with a dynamic table capacity of 0');
    }
    size += name.length + value.length + 32;
    if (size > limit) throw new FieldSectionTooLargeError(limit);
    fields.push([name, value]);
  }
  return fields;
}
