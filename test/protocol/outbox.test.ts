import t from 'tap';
import { Outbox, type OutgoingFrame } from '../../src/protocol/outbox.js';
import { Opcode } from '../../src/protocol/opcodes.js';

/** Everything the outbox hands out now, as whole frames. */
function takeAll(outbox: Outbox): Buffer[] {
  const frames: Buffer[] = [];
  let frame: OutgoingFrame | null;
  while ((frame = outbox.take()) !== null) {
    frames.push(Array.isArray(frame.bytes) ? Buffer.concat(frame.bytes) : frame.bytes);
  }
  return frames;
}

const hex = (frames: Buffer[]) => frames.map((frame) => frame.toString('hex'));

t.test('frames leave in the order they were queued, unmasked for a server', async (t) => {
  const outbox = new Outbox({ mask: false });
  outbox.message(Opcode.Text, Buffer.from('hi'), true, false);
  outbox.control(Opcode.Ping, Buffer.from('p'));
  outbox.message(Opcode.Binary, Buffer.from([1, 2]), true, false);
  t.equal(outbox.queuedBytes, 5);
  t.same(hex(takeAll(outbox)), ['81026869', '890170', '82020102']);
  t.equal(outbox.queuedBytes, 0);
  t.ok(outbox.isEmpty);
});

t.test('a client masks every frame (RFC 6455 §5.3)', async (t) => {
  const outbox = new Outbox({ mask: true });
  outbox.message(Opcode.Text, Buffer.from('hi'), true, false);
  const [frame] = takeAll(outbox);
  t.equal(frame![0], 0x81);
  t.equal(frame![1], 0x82, 'MASK bit and length 2');
  const key = frame!.subarray(2, 6);
  t.same(Buffer.from([frame![6]! ^ key[0]!, frame![7]! ^ key[1]!]).toString(), 'hi');
});

t.test('a message waiting for compression holds back everything queued after it, the close frame included', async (t) => {
  const outbox = new Outbox({ mask: false });
  outbox.message(Opcode.Text, Buffer.from('a'), true, false);
  outbox.message(Opcode.Text, Buffer.from('compress me'), true, true);
  outbox.control(Opcode.Pong, Buffer.alloc(0));
  outbox.close(Buffer.from([0x03, 0xe8]));
  outbox.requestEnd();
  t.same(hex(takeAll(outbox)), ['810161'], 'only the frame before the compressed one');
  t.notOk(outbox.shouldEnd, 'the transport may not end while frames wait');
  t.same(outbox.nextToCompress(), Buffer.from('compress me'));
  t.equal(outbox.nextToCompress(), null, 'one compression at a time (one deflate context)');
  t.same(takeAll(outbox), [], 'still held while compressing');
  outbox.compressed(Buffer.from([0xaa, 0xbb]));
  t.same(hex(takeAll(outbox)), ['c102aabb', '8a00', '880203e8'], 'RSV1 set on the compressed frame, then the rest in order');
  t.ok(outbox.shouldEnd, 'now the transport ends');
  t.notOk(outbox.shouldEnd, 'and only once');
});

t.test('compressions run in queue order', async (t) => {
  const outbox = new Outbox({ mask: false });
  outbox.message(Opcode.Text, Buffer.from('one'), true, true);
  outbox.message(Opcode.Text, Buffer.from('two'), true, true);
  t.same(outbox.nextToCompress(), Buffer.from('one'));
  outbox.compressed(Buffer.from('1'));
  t.same(outbox.nextToCompress(), Buffer.from('two'));
  outbox.compressed(Buffer.from('2'));
  t.same(hex(takeAll(outbox)), ['c10131', 'c10132']);
});

t.test('nothing may follow the close frame (RFC 6455 §5.5.1)', async (t) => {
  const outbox = new Outbox({ mask: false });
  outbox.close(Buffer.alloc(0));
  t.ok(outbox.closing);
  t.throws(() => outbox.message(Opcode.Text, Buffer.from('late'), true, false));
  t.throws(() => outbox.control(Opcode.Ping, Buffer.alloc(0)));
  t.throws(() => outbox.close(Buffer.alloc(0)));
  outbox.autoPong(Buffer.from('x'));
  t.same(hex(takeAll(outbox)), ['8800'], 'an answer to a ping is not sent after our close either');
});

t.test('answers to pings coalesce while they wait: only the latest ping is answered (RFC 6455 §5.5.3)', async (t) => {
  const outbox = new Outbox({ mask: false });
  outbox.message(Opcode.Binary, Buffer.alloc(3), true, true); // holds the queue, like a full transport would
  for (let i = 0; i < 1000; i++) outbox.autoPong(Buffer.from(`ping ${i}`));
  t.equal(outbox.queuedBytes, 3 + 'ping 999'.length, 'one pong is counted, not a thousand');
  outbox.nextToCompress();
  outbox.compressed(Buffer.from([0]));
  const frames = takeAll(outbox);
  t.equal(frames.length, 2, 'the message and one pong');
  t.same(frames[1], Buffer.concat([Buffer.from([0x8a, 8]), Buffer.from('ping 999')]));
  outbox.autoPong(Buffer.from('next'));
  t.equal(takeAll(outbox).length, 1, 'a pong already taken is not replaced: the next ping gets its own');
});

t.test('drop() returns the callback of every frame not taken, and nothing more leaves', async (t) => {
  const outbox = new Outbox({ mask: false });
  const called: string[] = [];
  outbox.message(Opcode.Text, Buffer.from('a'), true, false, () => called.push('a'));
  outbox.message(Opcode.Text, Buffer.from('b'), true, true, () => called.push('b'));
  outbox.control(Opcode.Ping, Buffer.alloc(0), () => called.push('ping'));
  const taken = outbox.take()!;
  taken.callback?.();
  outbox.nextToCompress();
  const callbacks = outbox.drop();
  t.equal(callbacks.length, 2);
  for (const callback of callbacks) callback(new Error('gone'));
  t.same(called, ['a', 'b', 'ping']);
  t.equal(outbox.queuedBytes, 0);
  t.equal(outbox.take(), null);
  t.ok(outbox.closing, 'a dropped outbox takes nothing new');
  t.throws(() => outbox.compressed(Buffer.alloc(1)), 'a compression that outlived the drop is refused');
});

t.test('a queue that never empties stays in order and keeps one waiting pong across its compactions', async (t) => {
  const outbox = new Outbox({ mask: false });
  const ids = (frames: Buffer[]): number[] =>
    frames.filter((frame) => frame[0] !== 0x8a).map((frame) => frame[2]! | ((frame[1]! > 1 ? frame[3]! : 0) << 8));
  const out: Buffer[] = [];
  outbox.message(Opcode.Binary, Buffer.from([0]), true, false);
  for (let i = 1; i <= 5000; i++) {
    const compress = i % 3 === 0;
    outbox.message(Opcode.Binary, Buffer.from([i & 0xff, i >> 8]), true, compress);
    if (compress) outbox.compressed(outbox.nextToCompress()!); // "compressed" to itself
    outbox.autoPong(Buffer.from(`p${i}`));
    const frame = outbox.take()!; // the queue never empties while this runs
    out.push(Array.isArray(frame.bytes) ? Buffer.concat(frame.bytes) : frame.bytes);
  }
  const rest = takeAll(outbox);
  t.same([...ids(out), ...ids(rest)], Array.from({ length: 5001 }, (_, i) => i), 'every message, in order');
  t.equal(rest.filter((frame) => frame[0] === 0x8a).length, 1, 'one pong waits, however many pings came');
  t.same(rest.find((frame) => frame[0] === 0x8a)!.subarray(2).toString(), 'p5000', 'with the latest payload');
  t.equal(outbox.queuedBytes, 0);
});

t.test('a shared frame: taken in slices of views of the same bytes, callback with the last, counted in queuedBytes', async (t) => {
  const { SharedFrame } = await import('../../src/protocol/shared-frame.js');
  const { SHARED_SLICE } = await import('../../src/protocol/outbox.js');
  const payload = Buffer.alloc(SHARED_SLICE * 2 + 100, 0xab);
  const header = Buffer.from([0x82, 127, 0, 0, 0, 0, 0, 2, 0, 100]);
  const frame = new SharedFrame(payload.length);
  frame.fill([header, payload]);
  const outbox = new Outbox({ mask: false });
  let called = 0;
  outbox.shared(frame, () => called++);
  outbox.message(Opcode.Text, Buffer.from('after'), true, false);
  t.equal(outbox.queuedBytes, header.length + payload.length + 5);
  const slices: OutgoingFrame[] = [];
  let slice: OutgoingFrame | null;
  while ((slice = outbox.take()) !== null) slices.push(slice);
  t.equal(slices.length, 4, 'three slices of the shared frame, then the next frame');
  const parts = slices.slice(0, 3).flatMap((s) => (Array.isArray(s.bytes) ? s.bytes : [s.bytes]));
  t.ok(parts.every((part) => part.buffer === payload.buffer || part.buffer === header.buffer), 'views, never copies');
  t.ok(parts.every((part) => part.length <= SHARED_SLICE), 'no slice above SHARED_SLICE');
  t.same(Buffer.concat(parts), Buffer.concat([header, payload]), 'the slices are the frame');
  t.same(slices.map((s) => s.callback !== undefined), [false, false, true, false], 'the callback goes with the last slice');
  t.equal(outbox.queuedBytes, 0);
  t.equal(called, 0);
});

t.test('a pending shared frame holds back what was queued after it, and goes out once filled', async (t) => {
  const { SharedFrame } = await import('../../src/protocol/shared-frame.js');
  const frame = new SharedFrame(3);
  const outbox = new Outbox({ mask: false });
  outbox.message(Opcode.Text, Buffer.from('a'), true, false);
  outbox.shared(frame);
  outbox.message(Opcode.Text, Buffer.from('b'), true, true);
  outbox.message(Opcode.Text, Buffer.from('c'), true, false);
  t.same(hex(takeAll(outbox)), ['810161'], 'only the frame before it');
  t.same(outbox.nextToCompress(), Buffer.from('b'), "the session's own compression is not held back by the shared frame");
  outbox.compressed(Buffer.from([0x4a, 0x02, 0x00]));
  t.same(hex(takeAll(outbox)), [], 'still waiting for the shared frame');
  frame.fill(Buffer.from([0xc1, 0x01, 0x4b]));
  t.same(hex(takeAll(outbox)), ['c1014b', 'c1034a0200', '810163'], 'then everything, in queue order');
  t.equal(outbox.queuedBytes, 0);
});
