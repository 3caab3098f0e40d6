import t, { type Test } from 'tap';
import {
  H3_EXCESSIVE_LOAD,
  Http3Error,
  QPACK_DECODER_STREAM_ERROR,
  QPACK_DECOMPRESSION_FAILED,
  QPACK_ENCODER_STREAM_ERROR,
} from '../../src/http3/errors.js';
import { FieldSectionTooLargeError, decodeFieldSection } from '../../src/http3/qpack/decoder.js';
import { type FieldLine, encodeFieldSection, fieldSectionSize } from '../../src/http3/qpack/encoder.js';
import {
  EOS,
  HUFFMAN_CODES,
  HUFFMAN_LENGTHS,
  huffmanDecode,
  huffmanEncode,
  huffmanEncodedLength,
} from '../../src/http3/qpack/huffman.js';
import { DecoderStreamReader, EncoderStreamReader } from '../../src/http3/qpack/instruction-streams.js';
import { decodeInteger, encodeInteger } from '../../src/http3/qpack/primitives.js';
import { STATIC_TABLE, findExact, findName } from '../../src/http3/qpack/static-table.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function throwsH3(t: Test, fn: () => unknown, code: number, scope: 'connection' | 'stream', message: string): void {
  try {
    fn();
    t.fail(`${message}: no error`);
  } catch (error) {
    if (!(error instanceof Http3Error)) throw error;
    t.equal(error.code, code, message);
    t.equal(error.scope, scope, `${message} (${scope} error)`);
  }
}

t.test('static table (RFC 9204 Appendix A)', async (t) => {
  t.equal(STATIC_TABLE.length, 99, '99 entries');
  const spot: Array<[number, string, string]> = [
    [0, ':authority', ''],
    [1, ':path', '/'],
    [2, 'age', '0'],
    [4, 'content-length', '0'],
    [15, ':method', 'CONNECT'],
    [17, ':method', 'GET'],
    [21, ':method', 'PUT'],
    [23, ':scheme', 'https'],
    [25, ':status', '200'],
    [31, 'accept-encoding', 'gzip, deflate, br'],
    [52, 'content-type', 'text/html; charset=utf-8'],
    [58, 'strict-transport-security', 'max-age=31536000; includesubdomains; preload'],
    [63, ':status', '100'],
    [71, ':status', '500'],
    [72, 'accept-language', ''],
    [85, 'content-security-policy', "script-src 'none'; object-src 'none'; base-uri 'none'"],
    [90, 'origin', ''],
    [95, 'user-agent', ''],
    [97, 'x-frame-options', 'deny'],
    [98, 'x-frame-options', 'sameorigin'],
  ];
  for (const [index, name, value] of spot) t.same(STATIC_TABLE[index], [name, value], `${index}: ${name} ${JSON.stringify(value)}`);
  t.ok(STATIC_TABLE.every(([name]) => name === name.toLowerCase() && name.length > 0), 'names are lower case');
  const statuses = STATIC_TABLE.filter(([name]) => name === ':status').map(([, value]) => value);
  t.same(statuses, ['103', '200', '304', '404', '503', '100', '204', '206', '302', '400', '403', '421', '425', '500']);
  t.equal(findExact(':method', 'GET'), 17);
  t.equal(findExact(':method', 'PATCH'), undefined);
  t.equal(findName(':method'), 15, 'a name reference uses the lowest index');
  t.equal(findName('x-unknown'), undefined);
});

t.test('Huffman code table (RFC 7541 Appendix B)', async (t) => {
  const appendixB: Array<[number, number, number]> = [
    [0, 0x1ff8, 13], [1, 0x7fffd8, 23], [9, 0xffffea, 24], [10, 0x3ffffffc, 30], [13, 0x3ffffffd, 30],
    [22, 0x3ffffffe, 30], [31, 0xffffffb, 28], [32, 0x14, 6], [33, 0x3f8, 10], [35, 0xffa, 12],
    [36, 0x1ff9, 13], [38, 0xf8, 8], [39, 0x7fa, 11], [48, 0x0, 5], [57, 0x1f, 6], [58, 0x5c, 7],
    [60, 0x7ffc, 15], [63, 0x3fc, 10], [64, 0x1ffa, 13], [65, 0x21, 6], [87, 0x72, 7], [88, 0xfc, 8],
    [90, 0xfd, 8], [92, 0x7fff0, 19], [94, 0x3ffc, 14], [96, 0x7ffd, 15], [97, 0x3, 5], [116, 0x9, 5],
    [122, 0x7b, 7], [123, 0x7ffe, 15], [124, 0x7fc, 11], [125, 0x3ffd, 14], [126, 0x1ffd, 13],
    [127, 0xffffffc, 28], [128, 0xfffe6, 20], [142, 0xffffeb, 24], [153, 0x1fffdc, 21], [176, 0x1fffe0, 21],
    [192, 0x3ffffe0, 26], [195, 0x7fff1, 19], [199, 0x1ffffec, 25], [203, 0x7ffffde, 27], [208, 0x7fff2, 19],
    [220, 0xffffffd, 28], [241, 0x7ffffe6, 27], [249, 0xffffffe, 28], [254, 0x7fffff0, 27], [255, 0x3ffffee, 26],
    [EOS, 0x3fffffff, 30],
  ];
  for (const [symbol, code, length] of appendixB) {
    t.equal(HUFFMAN_LENGTHS[symbol], length, `symbol ${symbol} has ${length} bits`);
    t.equal(HUFFMAN_CODES[symbol], code, `symbol ${symbol} is 0x${code.toString(16)}`);
  }
  t.equal(HUFFMAN_CODES.length, 257);
  t.equal(HUFFMAN_LENGTHS.reduce((sum, length) => sum + 2 ** -length, 0), 1, 'a complete prefix code (Kraft sum 1)');
});

t.test('Huffman: RFC 7541 Appendix C.4 and C.6 examples', async (t) => {
  const examples: Array<[string, string]> = [
    ['www.example.com', 'f1e3 c2e5 f23a 6ba0 ab90 f4ff'],
    ['no-cache', 'a8eb 1064 9cbf'],
    ['custom-key', '25a8 49e9 5ba9 7d7f'],
    ['custom-value', '25a8 49e9 5bb8 e8b4 bf'],
    ['302', '6402'],
    ['private', 'aec3 771a 4b'],
    ['Mon, 21 Oct 2013 20:13:21 GMT', 'd07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff'],
    ['https://www.example.com', '9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3'],
    ['307', '640e ff'],
    ['Mon, 21 Oct 2013 20:13:22 GMT', 'd07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff'],
    ['gzip', '9bd9 ab'],
    [
      'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1',
      '94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07',
    ],
  ];
  for (const [text, encoded] of examples) {
    t.equal(huffmanEncode(Buffer.from(text)).toString('hex'), hex(encoded).toString('hex'), `encode ${text}`);
    t.equal(huffmanDecode(hex(encoded)).toString(), text, `decode ${text}`);
    t.equal(huffmanEncodedLength(Buffer.from(text)), hex(encoded).length);
  }
});

t.test('Huffman: every byte round-trips', async (t) => {
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  t.same(huffmanDecode(huffmanEncode(all)), all);
  let bad = 0;
  for (let b = 0; b < 256; b++) if (!huffmanDecode(huffmanEncode(Buffer.from([b]))).equals(Buffer.from([b]))) bad++;
  t.equal(bad, 0, 'each byte alone');
  t.equal(huffmanDecode(Buffer.alloc(0)).length, 0, 'empty string');
});

t.test('Huffman: invalid encodings are QPACK_DECOMPRESSION_FAILED', async (t) => {
  throwsH3(t, () => huffmanDecode(hex('ff')), QPACK_DECOMPRESSION_FAILED, 'connection', 'eight bits of padding');
  throwsH3(t, () => huffmanDecode(hex('f1e3 c2e5 f23a 6ba0 ab90 f4ff ff')), QPACK_DECOMPRESSION_FAILED, 'connection', 'a valid string and a byte of padding');
  throwsH3(t, () => huffmanDecode(hex('ffff fffc')), QPACK_DECOMPRESSION_FAILED, 'connection', 'EOS (30 ones) inside the string');
  throwsH3(t, () => huffmanDecode(hex('f1e3 c2e5 f23a 6ba0 ab90 f4fe')), QPACK_DECOMPRESSION_FAILED, 'connection', 'padding with a zero bit');
  throwsH3(t, () => huffmanDecode(hex('18')), QPACK_DECOMPRESSION_FAILED, 'connection', "'a' (00011) padded with zeros");
  throwsH3(t, () => huffmanDecode(hex('fe')), QPACK_DECOMPRESSION_FAILED, 'connection', 'a cut symbol is not padding');
  t.equal(huffmanDecode(hex('1f')).toString(), 'a', "'a' padded with three ones is fine");
});

t.test('prefixed integers (RFC 7541 C.1)', async (t) => {
  const out: number[] = [];
  encodeInteger(out, 0, 5, 10);
  t.same(out, [0x0a], 'C.1.1: 10 in a 5-bit prefix');
  const out2: number[] = [];
  encodeInteger(out2, 0, 5, 1337);
  t.same(out2, [0x1f, 0x9a, 0x0a], 'C.1.2: 1337 in a 5-bit prefix');
  const out3: number[] = [];
  encodeInteger(out3, 0, 8, 42);
  t.same(out3, [0x2a], 'C.1.3: 42 at an octet boundary');
  t.same(decodeInteger(Buffer.from([0xff, 0x9a, 0x0a]), 0, 5), { value: 1337, next: 3 }, 'high bits are ignored');
  t.same(decodeInteger(Buffer.from([0x1f, 0x9a]), 0, 5, true), null, 'incomplete with partialOk');
  // 2^62-1 in a 7-bit prefix, built with bigints (it is not exact as a number).
  const big = [0x7f];
  for (let rest = (1n << 62n) - 1n - 127n; ; rest >>= 7n) {
    if (rest < 128n) {
      big.push(Number(rest));
      break;
    }
    big.push(Number(rest & 0x7fn) | 0x80);
  }
  t.equal(decodeInteger(Buffer.from(big), 0, 7).value, Number((1n << 62n) - 1n), '2^62-1 decodes (RFC 9204 §4.1.1)');
  throwsH3(t, () => decodeInteger(Buffer.from([...big.slice(0, -1), (big[big.length - 1] as number) + 1]), 0, 7), QPACK_DECOMPRESSION_FAILED, 'stream', '2^62 + … does not');
  const safe: number[] = [];
  encodeInteger(safe, 0, 7, Number.MAX_SAFE_INTEGER);
  t.equal(decodeInteger(Buffer.from(safe), 0, 7).value, Number.MAX_SAFE_INTEGER, '2^53-1 exactly');
  throwsH3(t, () => decodeInteger(Buffer.from([0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), 0, 7), QPACK_DECOMPRESSION_FAILED, 'stream', 'beyond 62 bits: stream error (RFC 9204 §7.4)');
});

t.test('RFC 9204 Appendix B.1: literal field line with a static name reference', async (t) => {
  const bytes = hex('0000 510b 2f69 6e64 6578 2e68 746d 6c');
  t.same(decodeFieldSection(bytes), [[':path', '/index.html']], 'decodes');
  t.equal(encodeFieldSection([[':path', '/index.html']], { huffman: false }).toString('hex'), bytes.toString('hex'), 'our encoding, Huffman off, is byte for byte the same');
  const huffman = encodeFieldSection([[':path', '/index.html']]);
  t.ok(huffman.length < bytes.length, 'with Huffman it is shorter');
  t.equal(huffman[2], 0x51, 'still a name reference to static index 1');
  t.same(decodeFieldSection(huffman), [[':path', '/index.html']]);
});

t.test('encoder representations', async (t) => {
  t.equal(encodeFieldSection([[':method', 'GET']]).toString('hex'), '0000d1', 'exact match → indexed field line, static 17');
  t.equal(encodeFieldSection([[':status', '200']]).toString('hex'), '0000d9', 'static 25');
  t.equal(encodeFieldSection([['x-frame-options', 'sameorigin']]).toString('hex'), '0000ff23', 'static 98 needs a second byte (63 + 35)');
  const literalName = encodeFieldSection([['x-custom', 'v']], { huffman: false });
  t.equal(literalName[2], 0x27, 'first byte 0010 0111: pattern 001, N=0, H=0, length ≥ 7');
  t.equal(literalName[3], 0x01, 'length 8 = 7 + 1');
  t.equal(literalName.subarray(4, 12).toString(), 'x-custom');
  t.same([...literalName.subarray(12)], [0x01, 0x76], 'value "v", no Huffman');
  const nameRef = encodeFieldSection([['user-agent', 'trident']], { huffman: false });
  t.equal(nameRef[2], 0x5f, '01 N=0 T=1 and index 95 ≥ 15 → 0x5f');
  t.equal(nameRef[3], 95 - 15, 'index continuation');
});

t.test('encode/decode round trips', async (t) => {
  const sections: FieldLine[][] = [
    [],
    [[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'https'], [':path', '/chat?x=1'], [':authority', 'example.com:4433'], ['sec-websocket-version', '13'], ['origin', 'https://example.com']],
    [[':status', '200'], ['sec-websocket-extensions', 'permessage-deflate; client_max_window_bits=15'], ['date', 'Mon, 21 Oct 2013 20:13:21 GMT']],
    [['x-bytes', Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('latin1')]],
    [['cookie', ''], ['cookie', 'a=b'], ['empty', '']],
    [['x-long', 'z'.repeat(5000)]],
  ];
  for (const section of sections) {
    for (const huffman of [true, false]) {
      t.same(decodeFieldSection(encodeFieldSection(section, { huffman })), section, `${section.length} fields, huffman ${huffman}`);
    }
  }
});

t.test('decoder rejects what a zero-capacity table cannot resolve', async (t) => {
  const cases: Array<[string, string]> = [
    ['0100 d1', 'a non-zero Required Insert Count'],
    ['0200 d1', 'Required Insert Count 2'],
    ['0080 d1', 'Sign bit 1 (negative Base) with Required Insert Count 0'],
    ['0000 80', 'indexed field line, dynamic table (T=0)'],
    ['0000 4003 616263', 'literal with a dynamic name reference (T=0)'],
    ['0000 10', 'indexed field line with post-Base index'],
    ['0000 0003 616263', 'literal with post-Base name reference'],
    ['0000 ff24', 'static index 99 (does not exist)'],
    ['0000 ff7f', 'static index 190'],
    ['0000 5f', 'name reference cut inside the index'],
    ['0000 51', 'value missing'],
    ['0000 5105 6162', 'value shorter than its length'],
    ['0000 2361 62', 'literal name shorter than its length'],
    ['0000 518f ff', 'bad Huffman in a value'],
    ['00', 'prefix cut after the Required Insert Count'],
    ['', 'empty section'],
  ];
  for (const [bytes, what] of cases) {
    throwsH3(t, () => decodeFieldSection(hex(bytes)), QPACK_DECOMPRESSION_FAILED, 'connection', what);
  }
  t.same(decodeFieldSection(hex('007f ffff ffff ffff ffff 1f d1')), [[':method', 'GET']], 'any Delta Base with Sign 0 is fine: Base is unused');
  t.same(decodeFieldSection(hex('0000')), [], 'an empty field section');
});

t.test('field section size limit (RFC 9114 §4.2.2)', async (t) => {
  const fields: FieldLine[] = [[':method', 'GET'], ['x-a', '12345']];
  const size = fieldSectionSize(fields);
  t.equal(size, 7 + 3 + 32 + 3 + 5 + 32, 'name + value + 32 per field');
  const block = encodeFieldSection(fields);
  t.same(decodeFieldSection(block, { maxFieldSectionSize: size }), fields, 'at the limit');
  try {
    decodeFieldSection(block, { maxFieldSectionSize: size - 1 });
    t.fail('no error');
  } catch (error) {
    t.ok(error instanceof FieldSectionTooLargeError, 'FieldSectionTooLargeError');
    t.equal((error as Http3Error).scope, 'stream', 'a stream-level problem, not a QPACK failure');
    t.equal((error as Http3Error).code, H3_EXCESSIVE_LOAD);
  }
});

t.test('peer encoder stream (RFC 9204 §4.3) with our capacity 0', async (t) => {
  const ok = new EncoderStreamReader();
  ok.push(hex('20'));
  ok.push(hex('3f'));
  throwsH3(t, () => ok.push(hex('e1 1f')), QPACK_ENCODER_STREAM_ERROR, 'connection', 'Set Dynamic Table Capacity 0 is fine; 63+97 is not');
  const split = new EncoderStreamReader();
  split.push(hex('3f'));
  throwsH3(t, () => split.push(hex('bd01')), QPACK_ENCODER_STREAM_ERROR, 'connection', 'capacity 220 (RFC 9204 B.2) split over chunks');
  throwsH3(t, () => new EncoderStreamReader().push(hex('c00f7777772e6578616d706c652e636f6d')), QPACK_ENCODER_STREAM_ERROR, 'connection', 'Insert with Name Reference');
  throwsH3(t, () => new EncoderStreamReader().push(hex('4a637573746f6d2d6b6579')), QPACK_ENCODER_STREAM_ERROR, 'connection', 'Insert with Literal Name');
  throwsH3(t, () => new EncoderStreamReader().push(hex('02')), QPACK_ENCODER_STREAM_ERROR, 'connection', 'Duplicate');
  throwsH3(t, () => new EncoderStreamReader().push(hex('3f ffffffffffffffffffff01')), QPACK_ENCODER_STREAM_ERROR, 'connection', 'an endless integer');
  const many = new EncoderStreamReader();
  for (let i = 0; i < 50; i++) many.push(hex('20'));
  t.pass('repeated capacity 0 instructions are harmless');
});

t.test('peer decoder stream (RFC 9204 §4.4) against an encoder that never inserts', async (t) => {
  const reader = new DecoderStreamReader();
  reader.push(hex('48'));
  reader.push(hex('7f'));
  reader.push(hex('01'));
  t.equal(reader.cancelled, 2, 'Stream Cancellation is accepted (also split)');
  throwsH3(t, () => new DecoderStreamReader().push(hex('84')), QPACK_DECODER_STREAM_ERROR, 'connection', 'Section Acknowledgment');
  throwsH3(t, () => new DecoderStreamReader().push(hex('01')), QPACK_DECODER_STREAM_ERROR, 'connection', 'Insert Count Increment 1');
  throwsH3(t, () => new DecoderStreamReader().push(hex('00')), QPACK_DECODER_STREAM_ERROR, 'connection', 'Insert Count Increment 0');
});
