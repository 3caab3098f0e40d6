/**
 * Self-checks of the suite's own tools (frame builder, parser, deflate
 * helpers, negotiation checker), so that a passing conformance run means
 * something: e.g. the parser really flags non-minimal lengths and the
 * inflater really rejects data that breaks the agreed LZ77 window.
 */
import t from 'tap';
import {
  FrameParser,
  OP,
  applyMask,
  buildFrame,
  concat,
  deflateMessage,
  fragmentMessage,
  inflateMessage,
  pseudoRandomBytes,
  serverFrameProblems,
} from '../helpers/frames.js';
import { checkDeflateResponse, parseExtensions } from '../../src/conformance/session.js';
import { acceptFor } from '../helpers/http1.js';

t.test('buildFrame encodes headers exactly', async (t) => {
  const key = Uint8Array.from([1, 2, 3, 4]);
  const f = buildFrame({ opcode: OP.TEXT, payload: 'Hi', mask: key });
  t.same([...f.subarray(0, 6)], [0x81, 0x82, 1, 2, 3, 4]);
  t.same([...applyMask(f.subarray(6), key)], [0x48, 0x69]);
  t.same([...buildFrame({ opcode: OP.BINARY, payload: new Uint8Array(126), mask: false }).subarray(0, 4)], [0x82, 126, 0, 126]);
  t.same([...buildFrame({ opcode: OP.BINARY, payload: new Uint8Array(65536), mask: false }).subarray(0, 10)], [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
  t.same([...buildFrame({ opcode: OP.TEXT, payload: 'a', lengthEncoding: 16, mask: false })], [0x81, 126, 0, 1, 0x61]);
  t.same(
    [...buildFrame({ opcode: OP.BINARY, declaredLength: 1n << 63n, headerOnly: true, mask: false })],
    [0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0],
  );
  t.same([...buildFrame({ opcode: 3, fin: false, rsv1: true, rsv2: true, rsv3: true, mask: false })], [0x73, 0]);
  const frags = fragmentMessage(OP.TEXT, new TextEncoder().encode('abcde'), [2, 0, 3], { compressed: true });
  t.same(
    frags.map((x) => x[0]),
    [0x41, 0x00, 0x80],
    'first frame TEXT+RSV1 without FIN, then CONT, then CONT+FIN',
  );
});

t.test('FrameParser is incremental and reports what it saw', async (t) => {
  const frames = concat([
    buildFrame({ opcode: OP.TEXT, payload: 'hello', mask: false }),
    buildFrame({ opcode: OP.BINARY, payload: new Uint8Array(300), mask: false }),
    buildFrame({ opcode: OP.PING, payload: 'p', mask: Uint8Array.from([9, 8, 7, 6]) }),
    buildFrame({ opcode: OP.TEXT, payload: 'x', lengthEncoding: 64, mask: false }),
  ]);
  const p = new FrameParser();
  const got = [];
  for (const b of frames) got.push(...p.push(Uint8Array.of(b)));
  t.equal(got.length, 4);
  t.equal(new TextDecoder().decode(got[0]!.payload), 'hello');
  t.equal(got[1]!.payload.length, 300);
  t.equal(got[2]!.masked, true);
  t.equal(new TextDecoder().decode(got[2]!.payload), 'p', 'unmasked payload');
  t.match(serverFrameProblems(got[2]!, false).join(), /MUST NOT mask/);
  t.equal(got[3]!.minimalLength, false);
  t.match(serverFrameProblems(got[3]!, false).join(), /non-minimal/);
  t.same(serverFrameProblems(got[0]!, false), []);
  t.equal(p.bufferedBytes, 0);
  t.throws(() => new FrameParser().push(buildFrame({ opcode: OP.BINARY, declaredLength: 1n << 63n, headerOnly: true, mask: false })));
});

t.test('deflate helpers', async (t) => {
  const F = new TextEncoder().encode('Hello Hello Hello Hello');
  t.same([...deflateMessage(new Uint8Array(0))], [0x00], 'empty message compresses to 0x00 (RFC 7692 §7.2.3.6)');
  t.same(inflateMessage(deflateMessage(F)), F);
  // RFC 7692 §7.2.3.1 example: "Hello" = f2 48 cd c9 c9 07 00
  t.same([...deflateMessage(new TextEncoder().encode('Hello'))], [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
  t.same(new TextDecoder().decode(inflateMessage(Uint8Array.from([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]))), 'Hello');
  // context takeover: second message refers to the first
  const dict = F;
  const z2 = deflateMessage(F, { dictionary: dict });
  t.ok(z2.length < deflateMessage(F).length, 'dictionary makes it smaller');
  t.same(inflateMessage(z2, { dictionary: dict }), F);
  t.throws(() => inflateMessage(z2), 'a fresh inflater cannot decode a context-takeover message');
  // window enforcement: data compressed with a 32 KiB window, referencing 1536 bytes back
  const b = pseudoRandomBytes(1536, 3);
  const d = concat([b, b]);
  t.throws(() => inflateMessage(deflateMessage(d, { windowBits: 15 }), { windowBits: 10 }), 'distance beyond 2^10 is rejected');
  t.same(inflateMessage(deflateMessage(d, { windowBits: 10 }), { windowBits: 10 }), d, 'same data within a 2^10 window is fine');
  t.same(inflateMessage(deflateMessage(d, { final: true })), d, 'BFINAL=1 form inflates too');
});

t.test('permessage-deflate response checker', async (t) => {
  t.same(parseExtensions('permessage-deflate; server_max_window_bits="10", x-foo'), [
    { name: 'permessage-deflate', params: [['server_max_window_bits', '10']] },
    { name: 'x-foo', params: [] },
  ]);
  t.same(checkDeflateResponse('permessage-deflate', false).problems, []);
  t.match(checkDeflateResponse('permessage-deflate; client_max_window_bits=10', false).problems.join(), /not in the offer/);
  t.match(checkDeflateResponse('permessage-deflate; server_max_window_bits', false).problems.join(), /needs a value/);
  t.match(checkDeflateResponse('permessage-deflate; server_max_window_bits=16', false).problems.join(), /8\.\.15/);
  t.match(checkDeflateResponse('permessage-deflate; foo', false).problems.join(), /unknown/);
  t.match(checkDeflateResponse('permessage-deflate; server_no_context_takeover=1', false).problems.join(), /must not have a value/);
  t.match(checkDeflateResponse('permessage-deflate, permessage-deflate', false).problems.join(), /more than once/);
  const ok = checkDeflateResponse('permessage-deflate; server_no_context_takeover; server_max_window_bits=9', false, 12);
  t.same(ok.problems, []);
  t.equal(ok.deflate?.serverMaxWindowBits, 9);
  t.equal(ok.deflate?.clientMaxWindowBits, 12, 'we stay within the client window we offered');
});

t.test('Sec-WebSocket-Accept (RFC 6455 §1.3 example)', async (t) => {
  t.equal(acceptFor('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
});
