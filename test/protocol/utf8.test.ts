import t from 'tap';
import { Utf8StreamValidator, isValidUtf8 } from '../../src/protocol/utf8.js';

const valid = ['', 'ascii', 'κόσμε', '\u007f\u0080\u07ff\u0800\uffff', '\u{10000}\u{10ffff}', '😀'.repeat(1000)];
const invalid: Array<[string, number[]]> = [
  ['overlong 2-byte', [0xc0, 0xaf]],
  ['overlong 3-byte', [0xe0, 0x80, 0xaf]],
  ['overlong 4-byte', [0xf0, 0x80, 0x80, 0xaf]],
  ['surrogate U+D800', [0xed, 0xa0, 0x80]],
  ['surrogate U+DFFF', [0xed, 0xbf, 0xbf]],
  ['above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ['0xF5 lead', [0xf5, 0x80, 0x80, 0x80]],
  ['0xFE', [0xfe]],
  ['0xFF', [0xff]],
  ['stray continuation', [0x61, 0x80]],
  ['truncated', [0xe2, 0x82]],
  ['lead followed by ASCII', [0xc3, 0x41]],
];

t.test('whole-buffer validation', async (t) => {
  for (const text of valid) t.ok(isValidUtf8(Buffer.from(text)), JSON.stringify(text.slice(0, 10)));
  for (const [name, bytes] of invalid) t.notOk(isValidUtf8(Buffer.from(bytes)), name);
});

t.test('streaming validation at every split point', async (t) => {
  for (const text of valid.slice(1, 5)) {
    const bytes = Buffer.from(text);
    for (let split = 0; split <= bytes.length; split++) {
      const v = new Utf8StreamValidator();
      const ok = v.write(bytes.subarray(0, split)) && v.write(bytes.subarray(split)) && v.end();
      if (!ok) t.fail(`${text} split at ${split}`);
    }
    // One byte at a time.
    const v = new Utf8StreamValidator();
    t.ok([...bytes].every((b) => v.write(Buffer.from([b]))) && v.end(), `${text} byte by byte`);
  }
  for (const [name, bytes] of invalid) {
    const v = new Utf8StreamValidator();
    const ok = bytes.every((b) => v.write(Buffer.from([b]))) && v.end();
    t.notOk(ok, `${name} byte by byte`);
  }
});

t.test('fails at the first bad byte, before the stream ends', async (t) => {
  for (const [name, bytes] of invalid.filter(([name]) => name !== 'truncated')) {
    const v = new Utf8StreamValidator();
    t.notOk(v.write(Buffer.concat([Buffer.from('ok '), Buffer.from(bytes)])), `${name} rejected by write()`);
  }
  const v = new Utf8StreamValidator();
  t.ok(v.write(Buffer.from([0xf0, 0x9f])), 'valid prefix of 😀 accepted');
  t.notOk(v.end(), 'but the stream cannot end there');
  t.notOk(v.write(Buffer.from([0x41])), 'and ASCII cannot continue it');
  const e0 = new Utf8StreamValidator();
  t.notOk(e0.write(Buffer.from([0x41, 0xe0, 0x80])), 'E0 80 is an invalid prefix even at a fragment end');
});
