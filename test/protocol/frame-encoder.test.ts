import t from 'tap';
import { encodeFrame, encodeTextFrame, encodedPayloadLength } from '../../src/protocol/frame-encoder.js';
import { applyMask, applyMaskKey, copyMasked, maskInJavaScript, nativeMasking } from '../../src/protocol/mask.js';
import { Receiver } from '../../src/protocol/receiver.js';

const flat = (frame: Buffer | Buffer[]): Buffer => (Array.isArray(frame) ? Buffer.concat(frame) : frame);
const unmasked = { fin: true, rsv1: false, mask: false };

t.test('unmasked server frames, exact bytes (RFC 6455 §5.7)', async (t) => {
  t.same(flat(encodeFrame(0x1, Buffer.from('Hello'), unmasked)), Buffer.from([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]));
  t.same(flat(encodeFrame(0x1, Buffer.from('Hel'), { ...unmasked, fin: false })), Buffer.from([0x01, 0x03, 0x48, 0x65, 0x6c]));
  t.same(flat(encodeFrame(0x0, Buffer.from('lo'), unmasked)), Buffer.from([0x80, 0x02, 0x6c, 0x6f]));
  t.same(flat(encodeFrame(0x9, Buffer.from('Hello'), unmasked)), Buffer.from([0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]));
  t.same(flat(encodeFrame(0x2, Buffer.alloc(0), { ...unmasked, rsv1: true })), Buffer.from([0xc2, 0x00]));
  t.same(flat(encodeTextFrame('Hello', unmasked)), Buffer.from([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]));
});

t.test('minimal length encodings at every boundary', async (t) => {
  const cases: Array<[number, number[]]> = [
    [125, [0x82, 125]],
    [126, [0x82, 126, 0x00, 0x7e]],
    [65535, [0x82, 126, 0xff, 0xff]],
    [65536, [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]],
    [5 * 2 ** 20, [0x82, 127, 0, 0, 0, 0, 0, 0x50, 0, 0]],
  ];
  for (const [length, header] of cases) {
    const payload = Buffer.alloc(length, 0xab);
    const bytes = flat(encodeFrame(0x2, payload, unmasked));
    t.same(bytes.subarray(0, header.length), Buffer.from(header), `header for ${length}`);
    t.equal(bytes.length, header.length + length);
    t.ok(bytes.subarray(header.length).equals(payload), `payload for ${length}`);
  }
});

t.test('large payloads are not copied; small ones are merged', async (t) => {
  const big = Buffer.alloc(100_000, 1);
  const parts = encodeFrame(0x2, big, unmasked);
  t.ok(Array.isArray(parts));
  t.equal((parts as Buffer[])[1], big, 'the payload buffer itself is sent');
  t.notOk(Array.isArray(encodeFrame(0x2, Buffer.alloc(100), unmasked)));
});

t.test('masked client frames round-trip through a server receiver', async (t) => {
  for (const length of [0, 1, 3, 4, 5, 31, 32, 33, 125, 126, 1000, 65536, 200_001]) {
    const payload = Buffer.from(Array.from({ length }, (_, i) => (i * 7) % 256));
    const original = Buffer.from(payload);
    const frame = flat(encodeFrame(0x2, payload, { fin: true, rsv1: false, mask: true }));
    t.ok(payload.equals(original), 'caller payload untouched');
    t.equal(frame[1] & 0x80, 0x80, 'mask bit set');
    const r = new Receiver({ expectMasked: true, maxMessageSize: 1 << 20, maxFramesPerMessage: 10, compression: false });
    r.push(frame);
    t.same(r.read(), { type: 'message', binary: true, data: original }, `length ${length}`);
  }
  const text = flat(encodeTextFrame('héllo 😀', { fin: true, rsv1: false, mask: true }));
  const r = new Receiver({ expectMasked: true, maxMessageSize: 100, maxFramesPerMessage: 10, compression: false });
  r.push(text);
  t.same(r.read(), { type: 'message', binary: false, data: Buffer.from('héllo 😀') });
});

t.test('consecutive masked frames use different keys', async (t) => {
  const keys = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const frame = flat(encodeFrame(0x2, Buffer.alloc(4), { fin: true, rsv1: false, mask: true }));
    keys.add(frame.subarray(2, 6).toString('hex'));
  }
  t.ok(keys.size >= 49, `${keys.size} distinct keys of 50`);
});

t.test('masking equals the byte-wise definition at any alignment and length', async (t) => {
  const key = Buffer.from([0x01, 0x80, 0xfe, 0x7f]);
  const backing = Buffer.from(Array.from({ length: 4200 }, (_, i) => i & 0xff));
  const byNumber = (data: Uint8Array, k: Uint8Array) => applyMaskKey(data, Buffer.from(k).readUInt32BE(0));
  for (const [name, mask] of [['JavaScript', maskInJavaScript], ['applyMask', applyMask], ['applyMaskKey', byNumber]] as const) {
    for (const offset of [0, 1, 2, 3]) {
      for (const length of [0, 1, 2, 3, 5, 6, 7, 31, 32, 33, 63, 64, 65, 127, 128, 255, 256, 257, 4096]) {
        const data = Buffer.from(backing).subarray(offset, offset + length);
        const expected = Buffer.from(data.map((byte, i) => byte ^ key[i & 3]));
        mask(data, key);
        if (!data.equals(expected)) t.fail(`${name}: offset ${offset}, length ${length}`);
      }
    }
    t.pass(`${name}: 76 alignments and lengths`);
  }
  t.ok(nativeMasking, 'bufferutil is installed here, so the native path was the one tested above');
});

t.test('copyMasked writes the masked bytes at the offset and leaves the source and the rest alone', async (t) => {
  const key = Buffer.from([0x11, 0x22, 0x33, 0xc4]);
  for (const length of [0, 5, 255, 256, 1000]) {
    const source = Buffer.from(Array.from({ length }, (_, i) => (i * 7) & 0xff));
    const before = Buffer.from(source);
    const target = Buffer.alloc(length + 10, 0xee);
    copyMasked(source, key, target, 3);
    t.same(target.subarray(3, 3 + length), Buffer.from(source.map((byte, i) => byte ^ key[i & 3])), `length ${length}: masked`);
    t.ok(target.subarray(0, 3).every((b) => b === 0xee) && target.subarray(3 + length).every((b) => b === 0xee), `length ${length}: nothing else written`);
    t.same(source, before, `length ${length}: source unchanged`);
  }
});

t.test('encodedPayloadLength reads the length back from 7-bit, 16-bit and 64-bit headers, masked or not', async (t) => {
  for (const length of [0, 125, 126, 65535, 65536, 70000]) {
    for (const mask of [false, true]) {
      const frame = encodeTextFrame('a'.repeat(length), { fin: true, rsv1: false, mask });
      t.equal(encodedPayloadLength(frame), length, `${length} bytes, mask ${mask}`);
    }
  }
});
