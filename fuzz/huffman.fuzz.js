// @ts-check
// HPACK/QPACK Huffman code (src/http3/qpack/huffman.ts).
// Properties: decoding throws only Http3Error QPACK_DECOMPRESSION_FAILED;
// whatever decodes re-encodes to the same bytes (the padding is canonical,
// so the encoding is unique); any byte string encodes to
// huffmanEncodedLength bytes and decodes back to itself.
import { Http3Error, QPACK_DECOMPRESSION_FAILED } from '../dist/http3/errors.js';
import { huffmanDecode, huffmanEncode, huffmanEncodedLength } from '../dist/http3/qpack/huffman.js';
import { assert, assertEqual, expectOnly } from './lib/check.js';

/** @param {Buffer} input */
export function fuzz(input) {
  const decoded = expectOnly(() => huffmanDecode(input), Http3Error);
  if (decoded.ok) {
    assertEqual(huffmanEncode(decoded.value), input, 'decoded string re-encodes differently');
  } else {
    assert(/** @type {Http3Error} */ (decoded.error).code === QPACK_DECOMPRESSION_FAILED, 'wrong error code');
  }
  const encoded = huffmanEncode(input);
  assert(encoded.length === huffmanEncodedLength(input), 'huffmanEncodedLength disagrees with huffmanEncode');
  assertEqual(huffmanDecode(encoded), input, 'round trip');
}
