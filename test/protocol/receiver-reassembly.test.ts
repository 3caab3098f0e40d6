// Reassembly must be linear in bytes and chunks whatever the chunking (issue
// 11 item 1: one `shift()` per chunk made 128K one-byte chunks cost seconds).
// These tests count work instead of timing it: every read and write the
// receiver makes on its chunk array goes through a counting Proxy (so an O(n)
// array operation such as `shift()` counts n), and every Buffer#copy counts
// its bytes. The speed itself is a benchmark row (npm run bench -- --only receiver).
import t from 'tap';
import { ChunkQueue } from '../../src/protocol/chunk-queue.js';
import { Receiver, type ReceiverEvent } from '../../src/protocol/receiver.js';
import { buildFrame, OP, type ClientFrameSpec } from '../helpers/frames.js';

interface Work {
  arrayOps: number;
  copiedBytes: number;
}

/** A receiver whose chunk array counts every property access made on it. */
function countingReceiver(work: Work, expectMasked = true): Receiver {
  const items = new Proxy([] as Buffer[], {
    get(target, key, receiver) {
      work.arrayOps++;
      return Reflect.get(target, key, receiver) as unknown;
    },
    set(target, key, value, receiver) {
      work.arrayOps++;
      return Reflect.set(target, key, value, receiver);
    },
    deleteProperty(target, key) {
      work.arrayOps++;
      return Reflect.deleteProperty(target, key);
    },
    has(target, key) {
      work.arrayOps++;
      return Reflect.has(target, key);
    },
  });
  const options = { expectMasked, maxMessageSize: 64 << 20, maxFramesPerMessage: 1 << 20, compression: false };
  return new Receiver(options, new ChunkQueue(items));
}

/** Runs `fn` with Buffer#copy counting the bytes it copies. */
function countingCopies<T>(work: Work, fn: () => T): T {
  const original = Buffer.prototype.copy;
  Buffer.prototype.copy = function (this: Buffer, target: Uint8Array, targetStart?: number, sourceStart?: number, sourceEnd?: number): number {
    const n = original.call(this, target, targetStart, sourceStart, sourceEnd);
    work.copiedBytes += n;
    return n;
  };
  try {
    return fn();
  } finally {
    Buffer.prototype.copy = original;
  }
}

/** Feeds `bytes` in chunks of the given sizes (cycled), reading events after each. */
function feed(r: Receiver, bytes: Buffer, sizes: number[]): ReceiverEvent[] {
  const events: ReceiverEvent[] = [];
  let i = 0;
  for (let at = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length];
    r.push(bytes.subarray(at, at + size));
    at += size;
    for (let e = r.read(); e !== null; e = r.read()) events.push(e);
  }
  return events;
}

function chunkCount(length: number, sizes: number[]): number {
  let n = 0;
  for (let at = 0; at < length; n++) at += sizes[n % sizes.length];
  return n;
}

const frame = (spec: ClientFrameSpec): Buffer => Buffer.from(buildFrame(spec));
const payload = (length: number): Buffer => Buffer.from(Array.from({ length }, (_, i) => (i * 31) % 251));

// Bound per chunk (or frame) and per byte: a few array accesses per push/read, each byte copied at most twice
// (into the tail, then out of it), plus the frame headers copied into scratch space.
const OPS_PER_CHUNK = 12;
const COPIES_PER_BYTE = 2;

for (const [name, sizes, length] of [
  ['1 MiB in 1-byte chunks', [1], 1 << 20],
  ['1 MiB in 300-byte chunks (too big to gather)', [300], 1 << 20],
  ['256 KiB in mixed chunks (1, 255, 257, 4096, 2)', [1, 255, 257, 4096, 2], 256 << 10],
] as Array<[string, number[], number]>) {
  t.test(`${name}: work is linear in chunks and bytes`, async (t) => {
    const data = payload(length);
    const bytes = frame({ opcode: OP.BINARY, payload: data, mask: true });
    const work: Work = { arrayOps: 0, copiedBytes: 0 };
    const events = countingCopies(work, () => feed(countingReceiver(work), bytes, sizes));
    t.equal(events.length, 1, 'one message');
    t.same((events[0] as { data: Buffer }).data.equals(data), true, 'payload intact');
    const chunks = chunkCount(bytes.length, sizes);
    t.ok(work.arrayOps <= OPS_PER_CHUNK * chunks, `${work.arrayOps} array accesses for ${chunks} chunks (bound ${OPS_PER_CHUNK}/chunk)`);
    t.ok(work.copiedBytes <= COPIES_PER_BYTE * bytes.length, `${work.copiedBytes} bytes copied for ${bytes.length} (bound ${COPIES_PER_BYTE}×)`);
  });
}

t.test('many small frames with headers split across 1-byte chunks: linear', async (t) => {
  const messages = Array.from({ length: 4000 }, (_, i) => payload(i % 200));
  const bytes = Buffer.concat(messages.map((m) => frame({ opcode: OP.BINARY, payload: m, mask: true })));
  for (const sizes of [[1], [3, 1, 2], [7, 300]]) {
    const work: Work = { arrayOps: 0, copiedBytes: 0 };
    const events = countingCopies(work, () => feed(countingReceiver(work), Buffer.from(bytes), sizes));
    t.equal(events.length, messages.length, `chunks ${sizes}: every message`);
    t.ok(events.every((e, i) => e.type === 'message' && e.data.equals(messages[i])), `chunks ${sizes}: every payload intact`);
    // Each frame costs a few accesses too (header, payload), however many share a chunk.
    const steps = chunkCount(bytes.length, sizes) + messages.length;
    t.ok(work.arrayOps <= OPS_PER_CHUNK * steps, `chunks ${sizes}: ${work.arrayOps} array accesses for ${steps} chunks + frames`);
    // Headers (at most 14 bytes each) are also copied into scratch space while incomplete.
    t.ok(
      work.copiedBytes <= COPIES_PER_BYTE * bytes.length + 14 * 14 * messages.length,
      `chunks ${sizes}: ${work.copiedBytes} bytes copied for ${bytes.length}`,
    );
  }
});

t.test('a fragmented message from many tiny frames, unmasked (client side): linear', async (t) => {
  const parts = Array.from({ length: 20000 }, (_, i) => payload(1 + (i % 5)));
  const bytes = Buffer.concat(
    parts.map((part, i) => frame({ opcode: i === 0 ? OP.BINARY : OP.CONT, fin: i === parts.length - 1, payload: part, mask: false })),
  );
  const work: Work = { arrayOps: 0, copiedBytes: 0 };
  const events = countingCopies(work, () => feed(countingReceiver(work, false), bytes, [1]));
  t.equal(events.length, 1);
  t.ok((events[0] as { data: Buffer }).data.equals(Buffer.concat(parts)), 'reassembled');
  t.ok(work.arrayOps <= OPS_PER_CHUNK * bytes.length, `${work.arrayOps} array accesses for ${bytes.length} chunks`);
});

t.test('views handed out stay intact while later small chunks are gathered', async (t) => {
  // The first message ends inside gathered bytes; its payload is a view of the
  // shared tail, which must not be overwritten by what arrives after it.
  const first = payload(50);
  const second = Buffer.alloc(50, 0xee);
  const bytes = Buffer.concat([frame({ opcode: OP.BINARY, payload: first, mask: false }), frame({ opcode: OP.BINARY, payload: second, mask: false })]);
  const r = countingReceiver({ arrayOps: 0, copiedBytes: 0 }, false);
  const events = feed(r, bytes, [1]);
  t.equal(events.length, 2);
  t.ok((events[0] as { data: Buffer }).data.equals(first), 'first payload unchanged after the second arrived');
  t.ok((events[1] as { data: Buffer }).data.equals(second));
  t.equal(r.bufferedBytes, 0);
});

t.test('random chunkings (gathered and queued chunks interleaved) give the same events as one chunk', async (t) => {
  let seed = 12345;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const messages = Array.from({ length: 300 }, (_, i) => payload(random(i % 10 === 0 ? 70000 : 400)));
  const bytes = Buffer.concat(messages.map((m) => frame({ opcode: OP.BINARY, payload: m, mask: true })));
  for (let round = 0; round < 20; round++) {
    const sizes = Array.from({ length: 50 }, () => 1 + random(random(2) === 0 ? 20 : 700));
    const events = feed(countingReceiver({ arrayOps: 0, copiedBytes: 0 }), Buffer.from(bytes), sizes);
    const intact = events.length === messages.length && events.every((e, i) => e.type === 'message' && e.data.equals(messages[i]));
    t.ok(intact, `round ${round}: ${events.length} messages intact`);
  }
});
