// @ts-check
// QUIC variable-length integers (src/http3/varint.ts).
// Properties: decodeVarint and decodeVarintBigInt agree (the number is the
// bigint rounded to a double) and never throw; a decoded value re-encodes
// minimally and decodes back to itself; VarintReader fed one byte at a time
// reads the same value; any 62-bit value built from the input round-trips.
import {
  VARINT_MAX,
  VarintReader,
  decodeVarint,
  decodeVarintBigInt,
  encodeVarint,
  varintLength,
} from '../dist/http3/varint.js';
import { assert, assertEqual } from './lib/check.js';

/** @param {bigint} value */
function roundTrip(value) {
  const encoded = encodeVarint(value);
  assert(encoded.length === varintLength(value), `length of ${value}`);
  const decoded = decodeVarintBigInt(encoded);
  assertEqual(decoded, { value, length: encoded.length }, `round trip of ${value}`);
  if (value <= BigInt(Number.MAX_SAFE_INTEGER)) assertEqual(encodeVarint(Number(value)), encoded, `number encoding of ${value}`);
}

/** @param {Buffer} input */
export function fuzz(input) {
  for (let offset = 0; offset <= input.length; offset++) {
    const big = decodeVarintBigInt(input, offset);
    const num = decodeVarint(input, offset);
    if (big === null) {
      assert(num === null, `number decoder read a varint at ${offset} that the bigint decoder did not`);
      continue;
    }
    assert(num !== null && num.length === big.length && num.value === Number(big.value), `decoders disagree at ${offset}`);
    assert(big.value >= 0n && big.value <= VARINT_MAX, `out of range ${big.value}`);
    roundTrip(big.value);
    const reader = new VarintReader();
    let taken = 0;
    for (let i = offset; reader.value === null; i++) taken += reader.push(input.subarray(i, i + 1));
    assertEqual(reader.value, big, `VarintReader at ${offset}`);
    assert(taken === big.length, 'VarintReader consumed a wrong number of bytes');
  }
  if (input.length >= 8) roundTrip(input.readBigUInt64BE(0) & VARINT_MAX);
}
