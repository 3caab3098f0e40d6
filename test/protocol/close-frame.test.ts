import t from 'tap';
import { ProtocolError } from '../../src/protocol/errors.js';
import { decodeClosePayload, encodeClosePayload, truncateCloseReason } from '../../src/protocol/close-frame.js';

t.test('encode', async (t) => {
  t.same(encodeClosePayload(1000, 'bye'), Buffer.from([0x03, 0xe8, 0x62, 0x79, 0x65]));
  t.same(encodeClosePayload(4999), Buffer.from([0x13, 0x87]));
  t.same(encodeClosePayload(1005), Buffer.alloc(0), '1005 means an empty payload');
  for (const code of [999, 1004, 1006, 1015, 2000, 5000]) t.throws(() => encodeClosePayload(code), TypeError, `${code}`);
  t.throws(() => encodeClosePayload(1000, 'x'.repeat(124)), TypeError, 'reason over 123 bytes');
  t.same(encodeClosePayload(1000, 'x'.repeat(123)).length, 125);
});

t.test('decode', async (t) => {
  t.same(decodeClosePayload(Buffer.alloc(0)), { code: 1005, reason: '' });
  t.same(decodeClosePayload(Buffer.from([0x0b, 0xb8, 0xc3, 0xa9])), { code: 3000, reason: 'é' });
  t.throws(() => decodeClosePayload(Buffer.from([3])), new ProtocolError(1002, 'WS_ERR_INVALID_CLOSE_PAYLOAD', 'close frame payload of 1 byte'));
  t.throws(() => decodeClosePayload(Buffer.from([0x03, 0xe8, 0xc3])), new ProtocolError(1007, 'WS_ERR_INVALID_UTF8', 'close reason is not valid UTF-8'));
});

t.test('truncate reasons on code point boundaries', async (t) => {
  t.equal(truncateCloseReason('short'), 'short');
  const long = '€'.repeat(50); // 150 bytes
  const cut = truncateCloseReason(long);
  t.equal(Buffer.byteLength(cut), 123);
  t.equal(cut, '€'.repeat(41));
});
