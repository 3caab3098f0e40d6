import t, { type Test } from 'tap';
import { ProtocolError } from '../../src/protocol/errors.js';
import { Receiver, type ReceiverEvent, type ReceiverOptions } from '../../src/protocol/receiver.js';

const KEY = [0x37, 0xfa, 0x21, 0x3d];

/** A client frame built by hand (RFC 6455 §5.2), masked with KEY unless `mask` is false. */
function frame(first: number, payload: Buffer | string, opts: { mask?: boolean; length?: Buffer } = {}): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const mask = opts.mask ?? true;
  let lengthBytes: Buffer;
  if (opts.length) lengthBytes = opts.length;
  else if (data.length < 126) lengthBytes = Buffer.from([data.length]);
  else if (data.length < 65536) lengthBytes = Buffer.from([126, data.length >> 8, data.length & 0xff]);
  else {
    lengthBytes = Buffer.alloc(9);
    lengthBytes[0] = 127;
    lengthBytes.writeBigUInt64BE(BigInt(data.length), 1);
  }
  if (mask) lengthBytes[0] |= 0x80;
  const masked = Buffer.from(data.map((byte, i) => byte ^ KEY[i & 3]));
  return Buffer.concat([Buffer.from([first]), lengthBytes, mask ? Buffer.from(KEY) : Buffer.alloc(0), mask ? masked : data]);
}

/** Asserts that `fn` throws a ProtocolError carrying `closeCode`. */
function throwsClose(t: Test, fn: () => unknown, closeCode: number, message = `close code ${closeCode}`, code?: string): void {
  let caught: unknown = null;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  t.ok(caught instanceof ProtocolError && caught.closeCode === closeCode && (code === undefined || caught.code === code), message);
}

function receiver(options: Partial<ReceiverOptions> = {}): Receiver {
  return new Receiver({ expectMasked: true, maxMessageSize: 1 << 20, maxFramesPerMessage: 100, compression: false, ...options });
}

function readAll(r: Receiver, bytes: Buffer, chunkSize = bytes.length): ReceiverEvent[] {
  const events: ReceiverEvent[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) {
    r.push(bytes.subarray(i, i + chunkSize));
    for (let e = r.read(); e !== null; e = r.read()) events.push(e);
  }
  return events;
}

function failure(t: Test, bytes: Buffer, closeCode: number, code: string, options: Partial<ReceiverOptions> = {}): void {
  let caught: unknown = null;
  try {
    readAll(receiver(options), bytes);
  } catch (error) {
    caught = error;
  }
  t.ok(caught instanceof ProtocolError, `${code}: a ProtocolError`);
  t.match(caught, { closeCode, code }, `${code} with close code ${closeCode}`);
}

t.test('RFC 6455 §5.7 examples', async (t) => {
  // "A single-frame masked text message" from the RFC, byte for byte.
  const hello = Buffer.from([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
  t.same(readAll(receiver(), hello), [{ type: 'message', binary: false, data: Buffer.from('Hello') }]);
  // "A fragmented unmasked text message" (read by a client).
  const fragmented = Buffer.from([0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f]);
  t.same(readAll(receiver({ expectMasked: false }), fragmented), [{ type: 'message', binary: false, data: Buffer.from('Hello') }]);
  // "Unmasked Ping request and masked Ping response".
  t.same(readAll(receiver({ expectMasked: false }), Buffer.from([0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f])), [
    { type: 'ping', data: Buffer.from('Hello') },
  ]);
  const pong = Buffer.from([0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
  t.same(readAll(receiver(), pong), [{ type: 'pong', data: Buffer.from('Hello') }]);
  // "256 bytes binary message in a single unmasked frame" / "64KiB".
  const b256 = Buffer.concat([Buffer.from([0x82, 0x7e, 0x01, 0x00]), Buffer.alloc(256, 7)]);
  t.same(readAll(receiver({ expectMasked: false }), b256), [{ type: 'message', binary: true, data: Buffer.alloc(256, 7) }]);
  const b64k = Buffer.concat([Buffer.from([0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]), Buffer.alloc(65536, 9)]);
  t.same(readAll(receiver({ expectMasked: false }), b64k), [{ type: 'message', binary: true, data: Buffer.alloc(65536, 9) }]);
});

t.test('any chunking gives the same events', async (t) => {
  const payload = Buffer.from(Array.from({ length: 70000 }, (_, i) => i % 251));
  const bytes = Buffer.concat([
    frame(0x81, 'first'),
    frame(0x02, payload.subarray(0, 1000)),
    frame(0x89, 'ping!'),
    frame(0x80, payload.subarray(1000)),
    frame(0x82, Buffer.alloc(0)),
    frame(0x81, 'x'.repeat(200)),
    frame(0x88, Buffer.from([0x03, 0xe8, 0x62, 0x79, 0x65])),
  ]);
  const expected = readAll(receiver(), Buffer.from(bytes));
  t.equal(expected.length, 6);
  t.same(expected.map((e) => e.type), ['message', 'ping', 'message', 'message', 'message', 'close']);
  t.same((expected[2] as { data: Buffer }).data, payload, 'fragments reassembled around a ping');
  t.same(expected[5], { type: 'close', code: 1000, reason: 'bye' });
  // Sizes not multiples of 4 split masked payloads mid-key: each piece is unmasked from its own key offset.
  for (const size of [1, 2, 3, 7, 13, 125, 1000, 4096, 4099, 65539]) {
    t.same(readAll(receiver(), Buffer.from(bytes), size), expected, `chunks of ${size} bytes`);
  }
});

t.test('data after a close frame is ignored', async (t) => {
  const r = receiver();
  const events = readAll(r, Buffer.concat([frame(0x88, Buffer.from([0x03, 0xe8])), frame(0x81, 'late'), Buffer.from([0xff])]));
  t.same(events, [{ type: 'close', code: 1000, reason: '' }]);
});

t.test('frame-level protocol errors close with 1002', async (t) => {
  failure(t, frame(0xa1, 'x'), 1002, 'WS_ERR_UNEXPECTED_RSV_2_3');
  failure(t, frame(0x91, 'x'), 1002, 'WS_ERR_UNEXPECTED_RSV_2_3');
  failure(t, frame(0xc1, 'x'), 1002, 'WS_ERR_UNEXPECTED_RSV_1', {}); // no extension negotiated
  for (const opcode of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    failure(t, frame(0x80 | opcode, ''), 1002, 'WS_ERR_INVALID_OPCODE');
  }
  failure(t, frame(0x09, 'x'), 1002, 'WS_ERR_FRAGMENTED_CONTROL');
  failure(t, frame(0x89, Buffer.alloc(126)), 1002, 'WS_ERR_CONTROL_TOO_LONG');
  failure(t, frame(0x80, 'x'), 1002, 'WS_ERR_UNEXPECTED_CONTINUATION');
  failure(t, Buffer.concat([frame(0x01, 'a'), frame(0x81, 'b')]), 1002, 'WS_ERR_EXPECTED_CONTINUATION');
  failure(t, Buffer.concat([frame(0x01, 'a'), frame(0x02, 'b')]), 1002, 'WS_ERR_EXPECTED_CONTINUATION');
  failure(t, frame(0x81, 'x', { mask: false }), 1002, 'WS_ERR_EXPECTED_MASK');
  failure(t, frame(0x81, 'x'), 1002, 'WS_ERR_UNEXPECTED_MASK', { expectMasked: false });
  failure(t, frame(0xc9, ''), 1002, 'WS_ERR_UNEXPECTED_RSV_1', { compression: true });
  failure(t, Buffer.concat([frame(0x41, 'a'), frame(0xc0, 'b')]), 1002, 'WS_ERR_UNEXPECTED_RSV_1', { compression: true });
});

t.test('length encodings (RFC 6455 §5.2)', async (t) => {
  failure(t, frame(0x82, Buffer.alloc(100), { length: Buffer.from([126, 0, 100]) }), 1002, 'WS_ERR_NON_MINIMAL_LENGTH');
  failure(t, frame(0x82, Buffer.alloc(200), { length: Buffer.from([127, 0, 0, 0, 0, 0, 0, 0, 200]) }), 1002, 'WS_ERR_NON_MINIMAL_LENGTH');
  failure(t, frame(0x82, Buffer.alloc(0), { length: Buffer.from([127, 0x80, 0, 0, 0, 0, 0, 0, 1]) }), 1002, 'WS_ERR_INVALID_LENGTH');
  // 2^32 bytes: a legal encoding, but far above any message limit.
  failure(t, frame(0x82, Buffer.alloc(0), { length: Buffer.from([127, 0, 0, 0, 1, 0, 0, 0, 0]) }), 1009, 'WS_ERR_MESSAGE_TOO_BIG');
  t.same(readAll(receiver(), frame(0x82, Buffer.alloc(126, 1))), [{ type: 'message', binary: true, data: Buffer.alloc(126, 1) }]);
  t.same(readAll(receiver(), frame(0x82, Buffer.alloc(65536, 2))), [{ type: 'message', binary: true, data: Buffer.alloc(65536, 2) }]);
});

t.test('errors are detected from the header, before the payload arrives', async (t) => {
  const r = receiver({ maxMessageSize: 1000 });
  // Header of a 1 MiB frame only: must fail now, not wait for a megabyte.
  r.push(frame(0x82, Buffer.alloc(1 << 20)).subarray(0, 14));
  throwsClose(t, () => r.read(), 1009, 'too big, from the header alone', 'WS_ERR_MESSAGE_TOO_BIG');
  const partial = receiver();
  partial.push(Buffer.from([0xf1])); // RSV bits set: one byte is enough to know
  t.equal(partial.read(), null, 'one byte is not a header yet');
  partial.push(Buffer.from([0x80]));
  throwsClose(t, () => partial.read(), 1002);
});

t.test('limits: message size and frame count', async (t) => {
  const limits = { maxMessageSize: 10, maxFramesPerMessage: 3 };
  t.same(readAll(receiver(limits), frame(0x82, Buffer.alloc(10))), [{ type: 'message', binary: true, data: Buffer.alloc(10) }]);
  failure(t, frame(0x82, Buffer.alloc(11)), 1009, 'WS_ERR_MESSAGE_TOO_BIG', limits);
  failure(t, Buffer.concat([frame(0x02, Buffer.alloc(6)), frame(0x80, Buffer.alloc(5))]), 1009, 'WS_ERR_MESSAGE_TOO_BIG', limits);
  t.same(readAll(receiver(limits), Buffer.concat([frame(0x01, 'a'), frame(0x00, 'b'), frame(0x80, 'c')])), [
    { type: 'message', binary: false, data: Buffer.from('abc') },
  ]);
  failure(t, Buffer.concat([frame(0x01, ''), frame(0x00, ''), frame(0x00, ''), frame(0x80, '')]), 1009, 'WS_ERR_TOO_MANY_FRAMES', limits);
  // Control frames do not count against the message.
  t.same(readAll(receiver(limits), Buffer.concat([frame(0x01, 'a'), frame(0x89, ''), frame(0x89, ''), frame(0x00, 'b'), frame(0x80, 'c')])).length, 3);
});

t.test('UTF-8 (RFC 6455 §8.1)', async (t) => {
  const text = 'κόσμε 😀 \u{10ffff}';
  t.same(readAll(receiver(), frame(0x81, text)), [{ type: 'message', binary: false, data: Buffer.from(text) }]);
  failure(t, frame(0x81, Buffer.from([0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64])), 1007, 'WS_ERR_INVALID_UTF8');
  // A code point split between fragments is fine.
  const euro = Buffer.from('€'); // e2 82 ac
  t.same(readAll(receiver(), Buffer.concat([frame(0x01, euro.subarray(0, 1)), frame(0x00, euro.subarray(1, 2)), frame(0x80, euro.subarray(2))])), [
    { type: 'message', binary: false, data: euro },
  ]);
  // Fail fast: the first fragment is already invalid; no need for the rest.
  const r = receiver();
  r.push(frame(0x01, Buffer.from([0x61, 0xc0, 0xaf])));
  throwsClose(t, () => r.read(), 1007);
  // Invalid prefix at the end of a fragment (0xf5 can never start a sequence).
  const r2 = receiver();
  r2.push(frame(0x01, Buffer.from([0x61, 0xf5])));
  throwsClose(t, () => r2.read(), 1007, 'fails in the fragment holding the bad byte');
  // Truncated at the end of the message.
  failure(t, Buffer.concat([frame(0x01, 'a'), frame(0x80, Buffer.from([0xe2, 0x82]))]), 1007, 'WS_ERR_INVALID_UTF8');
  // Binary messages are not checked.
  t.same(readAll(receiver(), frame(0x82, Buffer.from([0xff, 0xfe]))), [{ type: 'message', binary: true, data: Buffer.from([0xff, 0xfe]) }]);
});

t.test('close frames (RFC 6455 §5.5.1, §7.4)', async (t) => {
  t.same(readAll(receiver(), frame(0x88, '')), [{ type: 'close', code: 1005, reason: '' }]);
  failure(t, frame(0x88, Buffer.from([0x03])), 1002, 'WS_ERR_INVALID_CLOSE_PAYLOAD');
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
    failure(t, frame(0x88, Buffer.from([code >> 8, code & 0xff])), 1002, 'WS_ERR_INVALID_CLOSE_CODE');
  }
  for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999]) {
    t.same(readAll(receiver(), frame(0x88, Buffer.from([code >> 8, code & 0xff]))), [{ type: 'close', code, reason: '' }]);
  }
  failure(t, frame(0x88, Buffer.from([0x03, 0xe8, 0xff])), 1007, 'WS_ERR_INVALID_UTF8');
  const reason = 'r'.repeat(123);
  t.same(readAll(receiver(), frame(0x88, Buffer.concat([Buffer.from([0x0f, 0xa0]), Buffer.from(reason)]))), [
    { type: 'close', code: 4000, reason },
  ]);
});

t.test('compressed messages are handed out frame by frame', async (t) => {
  const r = receiver({ compression: true });
  r.push(Buffer.concat([frame(0x41, 'aa'), frame(0x89, 'p'), frame(0x80, 'bb')]));
  t.same(r.read(), { type: 'compressed-frame', payload: Buffer.from('aa'), fin: false });
  t.equal(r.acceptInflated(Buffer.from('hello '), false), null);
  t.same(r.read(), { type: 'ping', data: Buffer.from('p') }, 'control frames between fragments');
  t.same(r.read(), { type: 'compressed-frame', payload: Buffer.from('bb'), fin: true });
  t.same(r.acceptInflated(Buffer.from('world'), true), { type: 'message', binary: false, data: Buffer.from('hello world') });
  const bad = receiver({ compression: true });
  readAll(bad, frame(0xc1, 'x'));
  throwsClose(t, () => bad.acceptInflated(Buffer.from([0xff]), true), 1007, 'inflated text is validated');
});
