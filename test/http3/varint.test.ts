import t from 'tap';
import {
  VARINT_MAX,
  VarintReader,
  decodeVarint,
  decodeVarintBigInt,
  encodeVarint,
  varintLength,
  writeVarint,
} from '../../src/http3/varint.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

t.test('RFC 9000 Appendix A.1 examples', async (t) => {
  const eight = decodeVarintBigInt(hex('c2197c5eff14e88c'));
  t.same(eight, { value: 151288809941952652n, length: 8 }, '8-byte example, exact as a bigint');
  t.equal(decodeVarint(hex('c2197c5eff14e88c'))?.length, 8);
  t.equal(decodeVarint(hex('c2197c5eff14e88c'))?.value, Number(151288809941952652n), 'as a number: the nearest double');
  t.same(decodeVarint(hex('9d7f3e7d')), { value: 494878333, length: 4 });
  t.same(decodeVarint(hex('7bbd')), { value: 15293, length: 2 });
  t.same(decodeVarint(hex('25')), { value: 37, length: 1 });
  t.same(decodeVarint(hex('4025')), { value: 37, length: 2 }, 'non-minimal two-byte 37 decodes');
  t.equal(encodeVarint(151288809941952652n).toString('hex'), 'c2197c5eff14e88c');
  t.equal(encodeVarint(494878333).toString('hex'), '9d7f3e7d');
  t.equal(encodeVarint(15293).toString('hex'), '7bbd');
  t.equal(encodeVarint(37).toString('hex'), '25', 'minimal: 37 takes one byte');
});

t.test('boundaries of each length', async (t) => {
  const cases: Array<[number | bigint, number, string]> = [
    [0, 1, '00'],
    [63, 1, '3f'],
    [64, 2, '4040'],
    [16383, 2, '7fff'],
    [16384, 4, '80004000'],
    [1073741823, 4, 'bfffffff'],
    [1073741824, 8, 'c000000040000000'],
    [Number.MAX_SAFE_INTEGER, 8, 'c01fffffffffffff'],
    [VARINT_MAX, 8, 'ffffffffffffffff'],
  ];
  for (const [value, length, encoding] of cases) {
    t.equal(varintLength(value), length, `${value} takes ${length} bytes`);
    t.equal(encodeVarint(value).toString('hex'), encoding, `${value} encodes minimally`);
    const big = decodeVarintBigInt(hex(encoding));
    t.same(big, { value: BigInt(value), length }, `${value} decodes back exactly`);
    if (typeof value === 'number') t.same(decodeVarint(hex(encoding)), { value, length });
  }
});

t.test('out-of-range values are refused rather than rounded', async (t) => {
  t.throws(() => encodeVarint(-1), RangeError);
  t.throws(() => encodeVarint(1.5), RangeError);
  t.throws(() => encodeVarint(2 ** 53), RangeError, 'an unsafe number could already be rounded');
  t.throws(() => encodeVarint(VARINT_MAX + 1n), RangeError);
  t.throws(() => encodeVarint(-1n), RangeError);
  t.throws(() => writeVarint(Buffer.alloc(1), 0, 64), RangeError, 'does not fit');
});

t.test('incomplete input returns null', async (t) => {
  t.equal(decodeVarint(Buffer.alloc(0)), null);
  t.equal(decodeVarint(hex('40')), null);
  t.equal(decodeVarint(hex('9d7f3e')), null);
  t.equal(decodeVarint(hex('c2197c5eff14e8')), null);
  t.equal(decodeVarintBigInt(hex('c2')), null);
  t.same(decodeVarint(hex('ff 7bbd'), 1), { value: 15293, length: 2 }, 'at an offset');
  t.equal(decodeVarint(hex('25'), 1), null, 'offset at the end');
});

t.test('VarintReader takes one byte at a time', async (t) => {
  for (const encoding of ['25', '7bbd', '9d7f3e7d', 'c2197c5eff14e88c']) {
    const reader = new VarintReader();
    const bytes = hex(encoding);
    for (let i = 0; i < bytes.length; i++) {
      t.equal(reader.value, null, 'not yet');
      t.equal(reader.push(bytes.subarray(i, i + 1)), 1);
    }
    t.same(reader.value, decodeVarintBigInt(bytes), encoding);
  }
  const reader = new VarintReader();
  t.equal(reader.push(hex('7bbd ffff')), 2, 'stops at the end of the varint');
  t.equal(reader.value?.value, 15293n);
});

t.test('round trip over many values', async (t) => {
  let failures = 0;
  for (let bits = 0; bits < 53; bits++) {
    for (const value of [2 ** bits - 1, 2 ** bits, 2 ** bits + 1]) {
      if (!Number.isSafeInteger(value)) continue;
      const decoded = decodeVarint(encodeVarint(value));
      if (decoded?.value !== value || decoded.length !== varintLength(value)) failures++;
    }
  }
  t.equal(failures, 0);
});

// Found by fuzz/varint.fuzz.js: adding byte by byte rounded at every step, so
// some 8-byte values above 2^53 came back one double away from the nearest.
t.test('8-byte values above 2^53 decode to the nearest double', async (t) => {
  for (const encoded of ['ff00000701050d01', 'fffffbffff14e88c', 'c020000000000001', 'c0200000000000ff']) {
    const exact = decodeVarintBigInt(hex(encoded))!.value;
    t.equal(decodeVarint(hex(encoded))?.value, Number(exact), `${encoded} = ${exact}`);
  }
});
