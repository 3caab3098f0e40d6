// @ts-check
// QPACK field sections (src/http3/qpack/decoder.ts), the HTTP/3
// field rules applied after them (fields.ts) and the encoder/decoder stream
// readers (instruction-streams.ts).
// Input: [options][3 chunking bytes][bytes].
// Properties: only Http3Error escapes; a decoded section respects
// maxFieldSectionSize, re-encodes (with and without Huffman) and decodes to
// the same fields; fields made from the input round-trip through the
// encoder; the instruction readers give the same outcome for any chunking.
import { Http3Error } from '../dist/http3/errors.js';
import { checkRequestHeaders, checkResponseHeaders } from '../dist/http3/fields.js';
import { decodeFieldSection, FieldSectionTooLargeError } from '../dist/http3/qpack/decoder.js';
import { encodeFieldSection, fieldSectionSize } from '../dist/http3/qpack/encoder.js';
import { DecoderStreamReader, EncoderStreamReader } from '../dist/http3/qpack/instruction-streams.js';
import { assert, assertEqual, chunkings, expectOnly } from './lib/check.js';

/**
 * @param {() => EncoderStreamReader | DecoderStreamReader} make
 * @param {Buffer[]} chunks
 */
function readInstructions(make, chunks) {
  const reader = make();
  const outcome = expectOnly(() => {
    for (const chunk of chunks) reader.push(chunk);
  }, Http3Error);
  const cancelled = reader instanceof DecoderStreamReader ? reader.cancelled : 0;
  return outcome.ok ? ['ok', cancelled] : ['error', /** @type {Http3Error} */ (outcome.error).code, cancelled];
}

/** Name/value pairs cut from the input at zero bytes, as latin1 strings. */
function fieldsFrom(/** @type {Buffer} */ bytes) {
  const parts = bytes.toString('latin1').split('\0');
  /** @type {Array<[string, string]>} */
  const fields = [];
  for (let i = 0; i + 1 < parts.length; i += 2) fields.push([parts[i], parts[i + 1]]);
  return fields;
}

/** @param {Buffer} input */
export function fuzz(input) {
  if (input.length < 4) return;
  const flags = input[0];
  const block = input.subarray(4);
  const limit = (flags & 1) !== 0 ? 64 + block.length : Infinity;
  const decoded = expectOnly(() => decodeFieldSection(block, { maxFieldSectionSize: limit }), Http3Error);
  if (decoded.ok) {
    const fields = decoded.value;
    assert(fieldSectionSize(fields) <= limit, 'decoded section exceeds maxFieldSectionSize');
    for (const huffman of [true, false]) {
      assertEqual(decodeFieldSection(encodeFieldSection(fields, { huffman })), fields, `re-encoded section (huffman ${huffman})`);
    }
    /** @type {Array<[string, string]>} */
    const list = fields.map(([name, value]) => [name, value]);
    expectOnly(() => checkRequestHeaders(list, { allowProtocol: (flags & 2) !== 0 }), Http3Error);
    expectOnly(() => checkResponseHeaders(list), Http3Error);
  } else if (decoded.error instanceof FieldSectionTooLargeError) {
    assert(limit !== Infinity, 'FieldSectionTooLargeError without a limit');
  }

  const made = fieldsFrom(block);
  assertEqual(decodeFieldSection(encodeFieldSection(made, { huffman: (flags & 4) !== 0 })), made, 'encoded fields');

  for (const make of [() => new EncoderStreamReader(), () => new DecoderStreamReader()]) {
    const [[firstName, firstChunks], ...others] = chunkings(block, input.subarray(1, 4));
    const expected = readInstructions(make, firstChunks);
    for (const [name, chunks] of others) assertEqual(readInstructions(make, chunks), expected, `instruction stream with ${name} differs from ${firstName}`);
  }
}
