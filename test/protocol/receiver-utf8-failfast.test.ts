import t, { type Test } from 'tap';
import { ChunkQueue, type PieceVisitor } from '../../src/protocol/chunk-queue.js';
import { buildFrame } from '../helpers/frames.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import { Receiver, type ReceiverEvent, type ReceiverOptions } from '../../src/protocol/receiver.js';

// RFC 6455 §8.1: invalid UTF-8 inside ONE text frame fails the connection at
// the chunk that brings the bad byte, not when the frame is complete
// (Autobahn 6.4.3 and 6.4.4).

const KEY = Uint8Array.from([0x37, 0xfa, 0x21, 0x3d]);

/** A frame (RFC 6455 §5.2) from its first byte (FIN + opcode), masked with KEY when `mask`. */
function frame(first: number, data: Buffer, mask: boolean, rsv1 = false): Buffer {
  return Buffer.from(buildFrame({ opcode: first & 0x0f, fin: (first & 0x80) !== 0, rsv1, payload: data, mask: mask ? KEY : false }));
}

function receiver(mask: boolean, options: Partial<ReceiverOptions> = {}, queue?: ChunkQueue): Receiver {
  const all = { expectMasked: mask, maxMessageSize: 1 << 20, maxFramesPerMessage: 100, compression: false, ...options };
  return new Receiver(all, queue);
}

/**
 * Pushes `bytes` in chunks of `chunkSize`, reading after each, and returns the
 * events plus the offset of the end of the chunk that threw (-1 if none did).
 */
function feed(r: Receiver, bytes: Buffer, chunkSize: number): { events: ReceiverEvent[]; failedAt: number; error: unknown } {
  const events: ReceiverEvent[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) {
    // A copy per chunk, as a socket would deliver: the receiver unmasks in place.
    r.push(Buffer.from(bytes.subarray(i, i + chunkSize)));
    try {
      for (let e = r.read(); e !== null; e = r.read()) events.push(e);
    } catch (error) {
      return { events, failedAt: Math.min(i + chunkSize, bytes.length), error };
    }
  }
  return { events, failedAt: -1, error: null };
}

function is1007(t: Test, error: unknown): void {
  t.ok(error instanceof ProtocolError, 'a ProtocolError');
  t.match(error, { closeCode: 1007, code: 'WS_ERR_INVALID_UTF8' }, 'close code 1007');
}

const VALID = Buffer.from('κόσμε and some ASCII around it, 😀 too', 'utf8');

for (const mask of [true, false]) {
  const side = mask ? 'server (masked frames)' : 'client (unmasked frames)';

  t.test(`${side}: an invalid byte fails as soon as it arrives, before the frame is complete`, async (t) => {
    const payload = Buffer.concat([VALID, Buffer.from([0xff]), VALID]);
    const bytes = frame(0x81, payload, mask);
    const invalidEnd = bytes.length - payload.length + VALID.length + 1;
    for (const chunkSize of [1, 3, 7]) {
      const { events, failedAt, error } = feed(receiver(mask), bytes, chunkSize);
      is1007(t, error);
      t.same(events, [], `chunks of ${chunkSize}: no event`);
      t.equal(failedAt, Math.min(Math.ceil(invalidEnd / chunkSize) * chunkSize, bytes.length), `chunks of ${chunkSize}: failed in the chunk holding the bad byte`);
      t.ok(failedAt < bytes.length, `chunks of ${chunkSize}: before the frame is complete`);
    }
  });

  t.test(`${side}: a sequence made invalid across chunks fails at its bad byte`, async (t) => {
    // U+D800 (ED A0 80) is a surrogate: A0 is the first byte that cannot follow ED (Unicode Table 3-7).
    const payload = Buffer.concat([Buffer.from('ab'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('cdefgh')]);
    const bytes = frame(0x81, payload, mask);
    const { failedAt, error } = feed(receiver(mask), bytes, 1);
    is1007(t, error);
    t.equal(failedAt, bytes.length - payload.length + 4, 'failed at the byte after ED');
  });

  t.test(`${side}: continuation frames of a text message are checked while they arrive`, async (t) => {
    const second = Buffer.from('Ascii where a continuation byte is due');
    // The first fragment ends inside a code point (E2 82): the second must go on with a continuation byte, not 'A'.
    const bytes = Buffer.concat([frame(0x01, Buffer.from([0x61, 0xe2, 0x82]), mask), frame(0x80, second, mask)]);
    const validBytes = Buffer.concat([frame(0x01, Buffer.from([0x61, 0xe2, 0x82]), mask), frame(0x80, Buffer.concat([Buffer.from([0xac]), second.subarray(1)]), mask)]);
    const { failedAt, error } = feed(receiver(mask), bytes, 1);
    is1007(t, error);
    t.equal(failedAt, bytes.length - second.length + 1, 'failed at the first byte of the second frame');
    const ok = feed(receiver(mask), validBytes, 1);
    t.equal(ok.error, null, 'the valid variant passes');
    t.same(ok.events.map((e) => e.type === 'message' && e.data.toString()), [`a€${second.subarray(1).toString()}`]);
  });

  t.test(`${side}: a frame that ends inside a code point fails when it ends`, async (t) => {
    const bytes = frame(0x81, Buffer.concat([VALID, Buffer.from([0xf0, 0x9f, 0x98])]), mask);
    const { failedAt, error } = feed(receiver(mask), bytes, 2);
    is1007(t, error);
    t.equal(failedAt, bytes.length, 'at the end of the frame');
  });

  t.test(`${side}: valid text arrives intact whatever the chunking`, async (t) => {
    // Frames back to back, so chunks also hold the end of one frame and the start of the next.
    const long = Buffer.from('€𝄞ü'.repeat(3000), 'utf8');
    const bytes = Buffer.concat([
      frame(0x81, VALID, mask),
      frame(0x01, long.subarray(0, 1001), mask),
      frame(0x89, Buffer.from('ping'), mask),
      frame(0x80, long.subarray(1001), mask),
      frame(0x82, Buffer.from([0xff, 0xfe, 0xc0]), mask),
      frame(0x81, long, mask),
    ]);
    for (const chunkSize of [1, 2, 5, 13, 300, 4096, bytes.length]) {
      const { events, error } = feed(receiver(mask), bytes, chunkSize);
      t.equal(error, null, `chunks of ${chunkSize}: no error`);
      t.same(
        events.map((e) => (e.type === 'message' ? [e.binary, e.data.toString('hex')] : [e.type])),
        [[false, VALID.toString('hex')], ['ping'], [false, long.toString('hex')], [true, 'fffec0'], [false, long.toString('hex')]],
        `chunks of ${chunkSize}: the same messages`,
      );
    }
  });
}

t.test('binary frames and compressed text are not validated as text while they arrive', async (t) => {
  const invalid = Buffer.concat([VALID, Buffer.from([0xff]), VALID]);
  const binary = feed(receiver(true), frame(0x82, invalid, true), 1);
  t.equal(binary.error, null, 'binary: no error');
  t.same(binary.events.map((e) => e.type === 'message' && e.data.equals(invalid)), [true]);
  // RFC 7692: a compressed payload is only text after inflation, which the caller does.
  const compressed = feed(receiver(true, { compression: true }), frame(0x81, invalid, true, true), 1);
  t.equal(compressed.error, null, 'compressed: no error');
  t.same(compressed.events.map((e) => e.type), ['compressed-frame']);
});

/** Counts the bytes the receiver's early validation visits. */
class CountingQueue extends ChunkQueue {
  visited = 0;
  override scanTo<C>(length: number, visit: PieceVisitor<C>, context: C): void {
    super.scanTo(
      length,
      (chunk, start, end, copied, c) => {
        this.visited += end - start;
        visit(chunk, start, end, copied, c);
      },
      context,
    );
  }
}

t.test('each payload byte is validated once however it is chunked (linear work)', async (t) => {
  const long = Buffer.from('€'.repeat(20000), 'utf8');
  for (const chunkSize of [1, 100]) {
    const queue = new CountingQueue();
    const { events, error } = feed(receiver(true, {}, queue), frame(0x81, long, true), chunkSize);
    t.equal(error, null);
    t.equal(events.length, 1, `chunks of ${chunkSize}: one message`);
    t.equal(queue.visited, long.length, `chunks of ${chunkSize}: ${long.length} bytes visited once each`);
  }
});
