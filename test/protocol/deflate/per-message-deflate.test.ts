import t, { type Test } from 'tap';
import { createRequire } from 'node:module';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import zlib from 'node:zlib';
import { ProtocolError } from '../../../src/protocol/errors.js';
import type { DeflateParams } from '../../../src/protocol/deflate/negotiation.js';
import { PerMessageDeflate } from '../../../src/protocol/deflate/per-message-deflate.js';
import { ZlibLimiter, type LimiterJob } from '../../../src/protocol/deflate/zlib-limiter.js';
import { ZlibPool } from '../../../src/protocol/deflate/zlib-pool.js';

const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const params = (p: Partial<DeflateParams> = {}): DeflateParams => ({
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
  ...p,
});

const sharedLimiter = new ZlibLimiter(10);

function make(
  role: 'server' | 'client',
  p: Partial<DeflateParams> = {},
  options: { maxMessageSize?: number; limiter?: ZlibLimiter; level?: number; pool?: ZlibPool } = {},
): PerMessageDeflate {
  return new PerMessageDeflate(params(p), role, {
    maxMessageSize: options.maxMessageSize ?? Infinity,
    limiter: options.limiter ?? sharedLimiter,
    level: options.level,
    pool: options.pool,
  });
}

/** Every callback must be asynchronous and called once; violations are collected here. */
const violations: string[] = [];

type Cb = (err: Error | null, result?: Buffer) => void;
function call(start: (cb: Cb) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let returned = false;
    let calls = 0;
    start((err, result) => {
      calls++;
      if (!returned) violations.push('callback called synchronously');
      if (calls > 1) {
        violations.push('callback called twice');
        return;
      }
      if (err) reject(err);
      else if (!Buffer.isBuffer(result)) reject(new Error('no result'));
      else resolve(result);
    });
    returned = true;
  });
}
const compress = (pmd: PerMessageDeflate, data: Buffer | string) =>
  call((cb) => pmd.compress(typeof data === 'string' ? Buffer.from(data) : data, cb));
const decompress = (pmd: PerMessageDeflate, data: Buffer, fin = true) => call((cb) => pmd.decompress(data, fin, cb));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Pseudo-random bytes from a fixed seed (incompressible, reproducible). */
function noise(length: number, seed = 1): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Compressible text of about `length` bytes. */
function text(length: number): Buffer {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'];
  const parts: string[] = [];
  let n = 0;
  for (let i = 0; n < length; i++) {
    const w = `{"id":${i},"name":"${words[(i * 7) % 8]}","ok":${i % 3 === 0}}`;
    parts.push(w);
    n += w.length;
  }
  return Buffer.from(parts.join('').slice(0, length));
}

// ---------------------------------------------------------------------------
// RFC 7692 §7.2.3 examples
// ---------------------------------------------------------------------------

t.test('§7.2.3.1: "Hello" compresses to f2 48 cd c9 c9 07 00 and back', async (t) => {
  const server = make('server');
  const client = make('client');
  const compressed = await compress(server, 'Hello');
  t.equal(compressed.toString('hex'), 'f248cdc9c90700');
  t.equal((await decompress(client, compressed)).toString(), 'Hello');
  server.close();
  client.close();
});

t.test('§7.2.3.1: the fragmented "Hello" decompresses frame by frame', async (t) => {
  const client = make('client');
  const first = await decompress(client, hex('f2 48 cd'), false);
  const second = await decompress(client, hex('c9 c9 07 00'), true);
  t.equal(Buffer.concat([first, second]).toString(), 'Hello');
  t.ok(first.length > 0, 'output of the first frame is delivered before the message ends');
  client.close();
});

t.test('§7.2.3.2: sharing the LZ77 window (context takeover)', async (t) => {
  const server = make('server');
  const client = make('client');
  const one = await compress(server, 'Hello');
  const two = await compress(server, 'Hello');
  t.equal(one.toString('hex'), 'f248cdc9c90700');
  t.equal(two.toString('hex'), 'f200110000');
  t.equal((await decompress(client, one)).toString(), 'Hello');
  t.equal((await decompress(client, two)).toString(), 'Hello');
  server.close();
  client.close();
});

t.test('§7.2.3.2 without context takeover: each message compresses alone', async (t) => {
  const server = make('server', { serverNoContextTakeover: true });
  t.equal((await compress(server, 'Hello')).toString('hex'), 'f248cdc9c90700');
  t.equal((await compress(server, 'Hello')).toString('hex'), 'f248cdc9c90700');
  server.close();
  const client = make('client', { clientNoContextTakeover: true });
  t.equal((await compress(client, 'Hello')).toString('hex'), 'f248cdc9c90700');
  t.equal((await compress(client, 'Hello')).toString('hex'), 'f248cdc9c90700');
  client.close();
});

t.test('§7.2.3.3: a DEFLATE block with no compression', async (t) => {
  const client = make('client');
  t.equal((await decompress(client, hex('00 05 00 fa ff 48 65 6c 6c 6f 00'))).toString(), 'Hello');
  client.close();
});

t.test('§7.2.3.4: a DEFLATE block with BFINAL set, and the session goes on', async (t) => {
  const client = make('client');
  t.equal((await decompress(client, hex('f3 48 cd c9 c9 07 00 00'))).toString(), 'Hello');
  t.equal((await decompress(client, hex('f2 48 cd c9 c9 07 00'))).toString(), 'Hello');
  // Also without the padding octet.
  t.equal((await decompress(client, hex('f3 48 cd c9 c9 07 00'))).toString(), 'Hello');
  t.equal((await decompress(client, hex('f2 48 cd c9 c9 07 00'))).toString(), 'Hello');
  client.close();
});

t.test('§7.2.3.5: two DEFLATE blocks in one message', async (t) => {
  const client = make('client');
  t.equal((await decompress(client, hex('f2 48 05 00 00 00 ff ff ca c9 c9 07 00'))).toString(), 'Hello');
  client.close();
});

// ---------------------------------------------------------------------------
// Final blocks (BFINAL) inside a message
// ---------------------------------------------------------------------------

t.test('data after one final block is decoded by a new stream', async (t) => {
  const client = make('client');
  // Two final blocks back to back: "Hello" "Hello".
  t.equal((await decompress(client, hex('f3 48 cd c9 c9 07 00 f3 48 cd c9 c9 07 00'))).toString(), 'HelloHello');
  // Split across frames, the second final block at the start of a frame.
  t.equal((await decompress(client, hex('f3 48 cd c9 c9 07 00'), false)).toString(), 'Hello');
  t.equal((await decompress(client, hex('f3 48 cd c9 c9 07 00'), true)).toString(), 'Hello');
  client.close();
});

t.test('more than one restart in a message is refused (1002)', async (t) => {
  const client = make('client');
  const three = hex('f3 48 cd c9 c9 07 00 f3 48 cd c9 c9 07 00 f3 48 cd c9 c9 07 00');
  await t.rejects(decompress(client, three), {
    name: 'ProtocolError',
    closeCode: 1002,
    code: 'WS_ERR_INVALID_COMPRESSED_DATA',
    message: 'Invalid compressed data: data after more than one final DEFLATE block',
  });
  // Thousands of tiny final blocks (03 00 = empty fixed block, BFINAL set) fail fast.
  const many = Buffer.alloc(200_000);
  for (let i = 0; i < many.length; i += 2) many[i] = 0x03;
  // Counted, not timed: the work per message stays linear only if a restart
  // budget, not the number of blocks, bounds the inflate streams made.
  const inflatersMade = t.capture(zlib, 'createInflateRaw', zlib.createInflateRaw);
  const victim = make('client', {}, { pool: new ZlibPool(0) });
  await t.rejects(decompress(victim, many), { name: 'ProtocolError', closeCode: 1002 });
  victim.close();
  const made = inflatersMade().length;
  t.ok(made >= 1 && made <= 2, `refused after ${made} inflate streams, not one per block (100,000 blocks)`);
  client.close();
});

t.test('messages that each end exactly at a final block are not restarts', async (t) => {
  // Non-final stored "Hello", then the header of a final stored block whose
  // LEN/NLEN is the appended tail: zlib consumes everything and ends.
  const client = make('client');
  const message = hex('00 05 00 fa ff 48 65 6c 6c 6f 01');
  for (let i = 0; i < 4; i++) t.equal((await decompress(client, message)).toString(), 'Hello', `message ${i}`);
  // And one with padding after a final block, after such a message.
  t.equal((await decompress(client, hex('f3 48 cd c9 c9 07 00 00'))).toString(), 'Hello');
  client.close();
});

// ---------------------------------------------------------------------------
// Empty messages and frames
// ---------------------------------------------------------------------------

t.test('empty message compresses to 00 and decompresses to nothing', async (t) => {
  const server = make('server');
  const client = make('client');
  t.equal((await compress(server, 'Hello')).toString('hex'), 'f248cdc9c90700');
  const empty = await compress(server, Buffer.alloc(0));
  t.equal(empty.toString('hex'), '00');
  t.equal((await compress(server, 'Hello')).toString('hex'), 'f200110000', 'window unchanged by the empty message');
  t.equal((await decompress(client, hex('f248cdc9c90700'))).toString(), 'Hello');
  t.equal((await decompress(client, empty)).length, 0);
  t.equal((await decompress(client, hex('f200110000'))).toString(), 'Hello');
  server.close();
  client.close();
});

t.test('empty frames and an empty compressed payload', async (t) => {
  const client = make('client');
  t.equal((await decompress(client, Buffer.alloc(0), false)).length, 0, 'empty non-final frame');
  t.equal((await decompress(client, Buffer.alloc(0), true)).length, 0, 'message with an empty payload');
  // The inflater is not left in the middle of a block by it.
  t.equal((await decompress(client, hex('f248cdc9c90700'))).toString(), 'Hello');
  // An empty final frame ends a message whose data came earlier.
  t.equal((await decompress(client, hex('f200110000'), false)).toString(), 'Hello');
  t.equal((await decompress(client, Buffer.alloc(0), true)).length, 0);
  t.equal((await decompress(client, hex('f200110000'))).toString(), 'Hello', 'window kept across the fragmented message');
  client.close();
});

// ---------------------------------------------------------------------------
// Round trips and context takeover
// ---------------------------------------------------------------------------

async function roundTrip(t: Test, p: Partial<DeflateParams>, from: 'server' | 'client') {
  const sender = make(from, p);
  const receiver = make(from === 'server' ? 'client' : 'server', p);
  const messages = [text(5000), noise(70_000, 7), text(5000), Buffer.from('x'), text(300_000), noise(10, 3), text(5000)];
  for (const [i, message] of messages.entries()) {
    const compressed = await compress(sender, message);
    // Deliver in frames of odd sizes.
    const frames: Buffer[] = [];
    for (let off = 0; off < compressed.length; off += 4099) frames.push(compressed.subarray(off, off + 4099));
    const out: Buffer[] = [];
    for (const [j, frame] of frames.entries()) out.push(await decompress(receiver, frame, j === frames.length - 1));
    t.ok(Buffer.concat(out).equals(message), `message ${i} (${message.length} bytes, ${frames.length} frames)`);
  }
  sender.close();
  receiver.close();
}

t.test('round trip server -> client with context takeover', (t) => roundTrip(t, {}, 'server'));
t.test('round trip client -> server with context takeover', (t) => roundTrip(t, {}, 'client'));
t.test('round trip without context takeover', (t) =>
  roundTrip(t, { serverNoContextTakeover: true, clientNoContextTakeover: true }, 'server'),
);
t.test('round trip with small windows', (t) => roundTrip(t, { serverMaxWindowBits: 9, clientMaxWindowBits: 10 }, 'client'));

t.test('context takeover makes the second identical message smaller', async (t) => {
  const message = text(4000);
  const taking = make('server');
  const first = await compress(taking, message);
  const second = await compress(taking, message);
  t.ok(second.length * 4 < first.length, `second ${second.length} bytes vs first ${first.length}`);
  const fresh = make('server', { serverNoContextTakeover: true });
  const a = await compress(fresh, message);
  const b = await compress(fresh, message);
  t.ok(a.equals(b), 'without context takeover both messages are identical');
  t.ok(a.equals(first));
  taking.close();
  fresh.close();
});

t.test("the inflater resets after each message when the peer has no context takeover", async (t) => {
  // f200110000 refers back to the previous message's "Hello".
  const keeps = make('server');
  t.equal((await decompress(keeps, hex('f248cdc9c90700'))).toString(), 'Hello');
  t.equal((await decompress(keeps, hex('f200110000'))).toString(), 'Hello');
  keeps.close();

  const resets = make('server', { clientNoContextTakeover: true });
  t.equal((await decompress(resets, hex('f248cdc9c90700'))).toString(), 'Hello');
  await t.rejects(decompress(resets, hex('f200110000')), { closeCode: 1002, code: 'WS_ERR_INVALID_COMPRESSED_DATA' });
  resets.close();

  // For the client it is the server's flag that counts.
  const clientResets = make('client', { serverNoContextTakeover: true });
  t.equal((await decompress(clientResets, hex('f248cdc9c90700'))).toString(), 'Hello');
  await t.rejects(decompress(clientResets, hex('f200110000')), { name: 'ProtocolError', closeCode: 1002 });
  clientResets.close();
  const clientKeeps = make('client', { clientNoContextTakeover: true });
  t.equal((await decompress(clientKeeps, hex('f248cdc9c90700'))).toString(), 'Hello');
  t.equal((await decompress(clientKeeps, hex('f200110000'))).toString(), 'Hello');
  clientKeeps.close();
});

// ---------------------------------------------------------------------------
// Window bits
// ---------------------------------------------------------------------------

t.test('the compressor honours its agreed window', async (t) => {
  // A 1000-byte block repeated at distance 1000: a 15-bit window finds the
  // repeat, a 9-bit one (512 bytes) cannot.
  const block = noise(1000, 42);
  const data = Buffer.concat([block, block]);
  const server15 = make('server');
  const server9 = make('server', { serverMaxWindowBits: 9 });
  const client9 = make('client', { clientMaxWindowBits: 9 });
  const wide = await compress(server15, data);
  const narrow = await compress(server9, data);
  const clientNarrow = await compress(client9, data);
  t.ok(wide.length < 1100, `15 bits: ${wide.length} bytes`);
  t.ok(narrow.length > 1900, `9 bits: ${narrow.length} bytes`);
  t.ok(clientNarrow.length > 1900, `client 9 bits: ${clientNarrow.length} bytes`);
  // The server's own window is not limited by the client's.
  const mixed = make('server', { clientMaxWindowBits: 9 });
  t.ok((await compress(mixed, data)).length < 1100);
  for (const p of [server15, server9, client9, mixed]) p.close();
});

t.test('the inflater uses the agreed peer window', async (t) => {
  // Message two refers 1000 bytes back into message one.
  const block = noise(1000, 5);
  const sender = make('server');
  const one = await compress(sender, block);
  const two = await compress(sender, block);
  t.ok(two.length < 50);

  const wide = make('client');
  t.ok((await decompress(wide, one)).equals(block));
  t.ok((await decompress(wide, two)).equals(block));

  const narrow = make('client', { serverMaxWindowBits: 9 });
  t.ok((await decompress(narrow, one)).equals(block));
  await t.rejects(decompress(narrow, two), {
    closeCode: 1002,
    code: 'WS_ERR_INVALID_COMPRESSED_DATA',
    message: /invalid distance too far back/,
  });
  for (const p of [sender, wide, narrow]) p.close();
});

t.test('a peer window of 8 is inflated with 9 bits; our own 8 is refused', async (t) => {
  // zlib compresses "8" with 9 bits; a 9-bit inflater reads it.
  const data = Buffer.concat([noise(400, 9), noise(400, 9)]);
  const compressed = zlib.deflateRawSync(data, { windowBits: 8, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  t.ok(compressed.subarray(-4).equals(TAIL));
  const server = make('server', { clientMaxWindowBits: 8 });
  t.ok((await decompress(server, compressed.subarray(0, -4))).equals(data));
  server.close();
  t.throws(() => make('server', { serverMaxWindowBits: 8 }), {
    name: 'RangeError',
    message: 'server cannot compress with a window of 8 bits (zlib uses at least 9)',
  });
  t.throws(() => make('client', { clientMaxWindowBits: 8 }), {
    message: 'client cannot compress with a window of 8 bits (zlib uses at least 9)',
  });
  t.doesNotThrow(() => make('client', { serverMaxWindowBits: 8 }).close());
});

t.test('the level option reaches zlib', async (t) => {
  const data = text(5000);
  const stored = make('server', {}, { level: 0 });
  const best = make('server', {}, { level: 9 });
  t.ok((await compress(stored, data)).length > data.length, 'level 0 stores');
  t.ok((await compress(best, data)).length < data.length / 4, 'level 9 compresses');
  stored.close();
  best.close();
});

t.test('constructor validation', async (t) => {
  t.throws(() => make('server', { serverMaxWindowBits: 16 }), { name: 'RangeError', message: 'params.serverMaxWindowBits must be 8..15, got 16' });
  t.throws(() => make('server', { clientMaxWindowBits: 7 }), { message: 'params.clientMaxWindowBits must be 8..15, got 7' });
  t.throws(() => make('server', {}, { maxMessageSize: -1 }), { message: 'maxMessageSize must be a number >= 0, got -1' });
  t.throws(() => make('peer' as 'server'), { name: 'TypeError', message: "role must be 'server' or 'client', got peer" });
  t.throws(() => make('server', {}, { level: 10 }), { name: 'RangeError', message: 'level must be -1..9, got 10' });
  t.throws(
    () => new PerMessageDeflate(params(), 'server', { maxMessageSize: 1, limiter: sharedLimiter, memLevel: 0 }),
    { name: 'RangeError', message: 'memLevel must be 1..9, got 0' },
  );
});

// ---------------------------------------------------------------------------
// Interoperability
// ---------------------------------------------------------------------------

t.test('our output, with the tail re-appended, inflates with plain zlib', async (t) => {
  const server = make('server');
  const messages = [text(3000), noise(2000, 11), text(3000), Buffer.from('Hello')];
  const wire: Buffer[] = [];
  for (const m of messages) wire.push(await compress(server, m), TAIL);
  // With context takeover the messages form one continuous DEFLATE stream.
  const inflated = zlib.inflateRawSync(Buffer.concat(wire), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  t.ok(inflated.equals(Buffer.concat(messages)));
  // Without context takeover each message inflates alone.
  const alone = make('client', { clientNoContextTakeover: true });
  for (const m of messages) {
    const c = await compress(alone, m);
    t.ok(zlib.inflateRawSync(Buffer.concat([c, TAIL]), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).equals(m));
  }
  server.close();
  alone.close();
});

interface WsPerMessageDeflate {
  params: Record<string, unknown>;
  compress(data: Buffer, fin: boolean, cb: (err: Error | null, result: Buffer) => void): void;
  decompress(data: Buffer, fin: boolean, cb: (err: Error | null, result: Buffer) => void): void;
  cleanup(): void;
}
const require = createRequire(import.meta.url);
const WsPMD = require(path.join(path.dirname(require.resolve('ws')), 'lib/permessage-deflate.js')) as new (options: {
  isServer: boolean;
  maxPayload: number;
}) => WsPerMessageDeflate;

function wsPeer(isServer: boolean, p: DeflateParams): WsPerMessageDeflate {
  const peer = new WsPMD({ isServer, maxPayload: 0 });
  peer.params = {
    server_no_context_takeover: p.serverNoContextTakeover,
    client_no_context_takeover: p.clientNoContextTakeover,
    server_max_window_bits: p.serverMaxWindowBits,
    client_max_window_bits: p.clientMaxWindowBits,
  };
  return peer;
}
const wsCall = (start: (cb: (err: Error | null, result: Buffer) => void) => void) =>
  new Promise<Buffer>((resolve, reject) => start((err, result) => (err ? reject(err) : resolve(result))));

for (const [label, p] of [
  ['default parameters', params()],
  ['no context takeover', params({ serverNoContextTakeover: true, clientNoContextTakeover: true })],
  ['small windows', params({ serverMaxWindowBits: 10, clientMaxWindowBits: 9 })],
  ['client window 8', params({ clientMaxWindowBits: 8 })],
] as const) {
  t.test(`interop with the ws package: ${label}`, async (t) => {
    const messages = [text(2000), text(2000), noise(3000, 2), text(100_000), Buffer.from('Hello'), Buffer.from('Hello')];
    // ws client -> our server
    const wsClient = wsPeer(false, p);
    const ours = make('server', p);
    for (const [i, m] of messages.entries()) {
      const c = await wsCall((cb) => wsClient.compress(m, true, cb));
      t.ok((await decompress(ours, c)).equals(m), `ws client message ${i} decompressed by us`);
    }
    // our server -> ws client
    for (const [i, m] of messages.entries()) {
      if (p.serverMaxWindowBits < 9) continue;
      const c = await compress(ours, m);
      t.ok((await wsCall((cb) => wsClient.decompress(c, true, cb))).equals(m), `our message ${i} decompressed by ws`);
    }
    // our client <-> ws server
    if (p.clientMaxWindowBits >= 9) {
      const wsServer = wsPeer(true, p);
      const ourClient = make('client', p);
      for (const [i, m] of messages.entries()) {
        const c = await compress(ourClient, m);
        t.ok((await wsCall((cb) => wsServer.decompress(c, true, cb))).equals(m), `our client message ${i} decompressed by ws server`);
        const back = await wsCall((cb) => wsServer.compress(m, true, cb));
        t.ok((await decompress(ourClient, back)).equals(m), `ws server message ${i} decompressed by our client`);
      }
      wsServer.cleanup();
      ourClient.close();
    }
    wsClient.cleanup();
    ours.close();
  });
}

// ---------------------------------------------------------------------------
// Limits and errors
// ---------------------------------------------------------------------------

/** ~100 KiB of DEFLATE data that inflates to 100 MiB of zeros, built without holding 100 MiB. */
async function makeBomb(): Promise<Buffer> {
  const deflater = zlib.createDeflateRaw({ level: 9 });
  const chunks: Buffer[] = [];
  deflater.on('data', (c: Buffer) => chunks.push(c));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < 100; i++) deflater.write(zeros);
  await new Promise<void>((resolve) => deflater.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve()));
  deflater.close();
  const all = Buffer.concat(chunks);
  return all.subarray(0, all.length - 4);
}

t.test('a decompression bomb fails with 1009 without inflating it (memory bounds)', async (t) => {
  const bomb = await makeBomb();
  t.ok(bomb.length < 200_000, `bomb is ${bomb.length} bytes`);
  const client = make('client', {}, { maxMessageSize: 1024 * 1024 });
  const before = process.memoryUsage();
  await t.rejects(decompress(client, bomb), {
    name: 'ProtocolError',
    closeCode: 1009,
    code: 'WS_ERR_MESSAGE_TOO_BIG',
    message: 'Inflated message exceeds 1048576 bytes',
  });
  const after = process.memoryUsage();
  t.ok(after.rss - before.rss < 64 * 1024 * 1024, `rss grew by ${((after.rss - before.rss) / 1048576).toFixed(1)} MiB`);
  t.ok(
    after.arrayBuffers - before.arrayBuffers < 16 * 1024 * 1024,
    `array buffers grew by ${((after.arrayBuffers - before.arrayBuffers) / 1048576).toFixed(1)} MiB`,
  );
  // zlib really stopped: inflating the whole bomb costs ~150 ms of CPU time
  // (across the thread pool); the quarter second after the error costs almost none.
  const cpuBefore = process.cpuUsage();
  await sleep(250);
  const cpu = process.cpuUsage(cpuBefore);
  t.ok(cpu.user + cpu.system < 50_000, `CPU after the error: ${((cpu.user + cpu.system) / 1000).toFixed(1)} ms`);
  // The session can be closed cleanly afterwards.
  t.doesNotThrow(() => client.close());
});

t.test('a bomb split into frames fails on an early frame', async (t) => {
  const bomb = await makeBomb();
  const client = make('client', {}, { maxMessageSize: 1024 * 1024 });
  let delivered = 0;
  let frames = 0;
  let error: unknown = null;
  for (let off = 0; off < bomb.length; off += 1000) {
    frames++;
    try {
      delivered += (await decompress(client, bomb.subarray(off, off + 1000), off + 1000 >= bomb.length)).length;
    } catch (err) {
      error = err;
      break;
    }
  }
  t.type(error, ProtocolError);
  t.equal((error as ProtocolError).closeCode, 1009);
  t.ok(delivered <= 1024 * 1024, `delivered ${delivered} bytes before failing`);
  t.ok(frames < 20, `failed at frame ${frames}`);
  client.close();
});

t.test('maxMessageSize counts the whole message, is inclusive, and resets per message', async (t) => {
  const limit = 10_000;
  const sender = make('server');
  const receiver = make('client', {}, { maxMessageSize: limit });
  // Exactly at the limit: accepted, twice (the count resets after fin).
  for (let i = 0; i < 2; i++) {
    const c = await compress(sender, text(limit));
    t.equal((await decompress(receiver, c)).length, limit);
  }
  // One byte over, delivered over several frames: the frame that crosses fails.
  const c = await compress(sender, noise(limit + 1, 77));
  const half = Math.floor(c.length / 2);
  const first = await decompress(receiver, c.subarray(0, half), false);
  t.ok(first.length > 0 && first.length <= limit);
  await t.rejects(decompress(receiver, c.subarray(half), true), { closeCode: 1009, code: 'WS_ERR_MESSAGE_TOO_BIG' });
  // maxMessageSize 0 allows only empty messages.
  const zero = make('client', {}, { maxMessageSize: 0 });
  t.equal((await decompress(zero, hex('00'))).length, 0);
  await t.rejects(decompress(zero, hex('f248cdc9c90700')), { name: 'ProtocolError', closeCode: 1009 });
  sender.close();
  receiver.close();
  zero.close();
});

t.test('corrupt data gives a ProtocolError and does not crash', async (t) => {
  const cases: Array<[string, Buffer[]]> = [
    ['invalid block type', [hex('ff ff ff ff')]],
    ['random bytes', [noise(5000, 99)]],
    ['stored block LEN/NLEN mismatch', [hex('00 05 00 00 00 48 65 6c 6c 6f 00')]],
    ['valid first frame, corrupt second frame', [hex('f2 48 cd c9 c9 07 00'), hex('ff ff ff')]],
    ['corrupt non-final frame', [hex('ff ff ff')]],
  ];
  for (const [i, [label, frames]] of cases.entries()) {
    const client = make('client');
    const last = label === 'corrupt non-final frame' ? -1 : frames.length - 1;
    let error: unknown = null;
    for (const [j, frame] of frames.entries()) {
      try {
        await decompress(client, frame, j === last);
      } catch (err) {
        error = err;
        break;
      }
    }
    t.match(
      error,
      { name: 'ProtocolError', closeCode: 1002, code: 'WS_ERR_INVALID_COMPRESSED_DATA', message: /^Invalid compressed data: / },
      label,
    );
    // A later message is inflated by a new stream.
    t.equal((await decompress(client, hex('f248cdc9c90700'))).toString(), 'Hello', `recovered after case ${i}`);
    client.close();
  }
  const last = make('client');
  const cause = await decompress(last, hex('ff')).catch((err: Error) => err);
  t.type((cause as Error).cause, Error, 'the zlib error is kept as cause');
  last.close();
});

// ---------------------------------------------------------------------------
// Memory of idle sessions (issue 11 item 7)
// ---------------------------------------------------------------------------

/**
 * Memory growth per session while `count` sessions stay open after one
 * message each way: external (Node's Buffers, among them each zlib stream's
 * 16 KiB output buffer) and RSS (zlib's own state is malloc'ed, outside V8).
 */
async function idleGrowth(p: Partial<DeflateParams>, count: number): Promise<{ external: number; rss: number }> {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const message = text(2000);
  const compressed = await compress(make('client', p), message);
  const usage = () => {
    gc();
    gc();
    return process.memoryUsage();
  };
  const before = usage();
  const sessions: PerMessageDeflate[] = [];
  for (let i = 0; i < count; i++) {
    const session = make('server', p);
    await compress(session, message);
    await decompress(session, compressed);
    sessions.push(session);
  }
  const after = usage();
  for (const session of sessions) session.close();
  return { external: (after.external - before.external) / count, rss: (after.rss - before.rss) / count };
}

t.test('without context takeover an idle session keeps no zlib stream', async (t) => {
  // Measured with 200 sessions: ~270 KiB of RSS and 32 KiB external each
  // while every session reset and kept its zlib streams; ~10 KiB of RSS
  // (allocator slack that does not grow with the count) and no external
  // since the streams go back to the pool after each message.
  const growth = await idleGrowth({ serverNoContextTakeover: true, clientNoContextTakeover: true }, 200);
  t.ok(growth.external < 1024, `external growth ${Math.round(growth.external)} bytes per session, bound 1 KiB`);
  t.ok(growth.rss < 64 * 1024, `RSS growth ${Math.round(growth.rss / 1024)} KiB per session, bound 64 KiB`);
});

t.test('messages round-trip both ways, interleaved, when only one direction keeps its context', async (t) => {
  // The server's messages have no context takeover (its compressor is freed
  // after each one), the client's keep theirs (both ends keep their window).
  const p = { serverNoContextTakeover: true };
  const server = make('server', p);
  const client = make('client', p);
  const message = text(4000);
  const serverOut: Buffer[] = [];
  const clientOut: Buffer[] = [];
  for (let i = 0; i < 4; i++) {
    const down = await compress(server, message);
    const up = await compress(client, message);
    // Frames of both directions arrive while the other side's streams come and go.
    t.ok((await decompress(server, up)).equals(message), `client message ${i} inflates`);
    t.ok((await decompress(client, down)).equals(message), `server message ${i} inflates`);
    serverOut.push(down);
    clientOut.push(up);
  }
  t.ok(serverOut.every((c) => c.equals(serverOut[0]!)), 'server messages are compressed alone, so all alike');
  t.ok(clientOut[1]!.length * 4 < clientOut[0]!.length, `client messages use the kept window: ${clientOut[1]!.length} vs ${clientOut[0]!.length} bytes`);
  // A fragmented message after a freed stream: the new inflater starts with an empty window.
  const compressed = await compress(server, message);
  const halves = [compressed.subarray(0, 100), compressed.subarray(100)];
  const parts = [await decompress(client, halves[0]!, false), await decompress(client, halves[1]!, true)];
  t.ok(Buffer.concat(parts).equals(message), 'a two-frame message after the release');
  server.close();
  client.close();
});

t.test('without context takeover streams go back to the pool after each message and serve other sessions', async (t) => {
  const pool = new ZlibPool(4);
  const nct = { serverNoContextTakeover: true, clientNoContextTakeover: true };
  const message = text(3000);
  const compressed = await compress(make('client', nct), message);
  const a = make('server', nct, { pool });
  await compress(a, message);
  t.equal(pool.idle, 1, 'the compressor is back in the pool after the message');
  t.ok((await decompress(a, compressed)).equals(message));
  t.equal(pool.idle, 2, 'and the inflater after the last frame');
  const b = make('server', nct, { pool });
  const pending = compress(b, message);
  await pending;
  t.equal(pool.idle, 2, "another session's message took a pooled compressor and gave it back");
  t.ok((await compress(a, message)).equals(await compress(b, message)), 'a reused compressor starts with an empty window');
  a.close();
  b.close();
  t.equal(pool.idle, 2, 'idle sessions have nothing to give back at close()');
});

t.test('with context takeover a session keeps its streams until close()', async (t) => {
  const pool = new ZlibPool(4);
  const session = make('server', {}, { pool });
  const compressed = await compress(make('client'), 'Hello, Hello, Hello');
  await compress(session, text(3000));
  t.ok((await decompress(session, compressed)).equals(Buffer.from('Hello, Hello, Hello')));
  t.equal(pool.idle, 0, 'both streams stay with the session between messages');
  session.close();
  t.equal(pool.idle, 2, 'close() of an idle session gives both back');
  // f200110000 refers back to a "Hello" in the window: the pooled inflater
  // saw one in the last session, but was reset before serving this one.
  const next = make('server', {}, { pool });
  await t.rejects(decompress(next, hex('f200110000')), { code: 'WS_ERR_INVALID_COMPRESSED_DATA' }, 'no window carried over');
  next.close();
});

t.test('a full pool frees what it gets back; a failed stream is never pooled', async (t) => {
  const none = new ZlibPool(0);
  const nct = { serverNoContextTakeover: true, clientNoContextTakeover: true };
  const session = make('server', nct, { pool: none });
  t.equal((await decompress(session, hex('f248cdc9c90700'))).toString(), 'Hello');
  await compress(session, 'Hello');
  t.equal(none.idle, 0);
  t.equal((await decompress(session, hex('f248cdc9c90700'))).toString(), 'Hello', 'works without pooling');
  session.close();

  const pool = new ZlibPool(4);
  const failing = make('server', nct, { pool });
  await t.rejects(decompress(failing, hex('ffffffff')), { code: 'WS_ERR_INVALID_COMPRESSED_DATA' });
  t.equal(pool.idle, 0, 'the inflater that failed was freed, not pooled');
  failing.close();
  t.throws(() => new ZlibPool(-1), RangeError);
});

// ---------------------------------------------------------------------------
// Calling contract
// ---------------------------------------------------------------------------

t.test('a second call before the first callback throws', async (t) => {
  const server = make('server');
  const pending = compress(server, 'Hello');
  t.throws(() => server.compress(Buffer.from('x'), () => {}), { message: 'compress() called before the previous compress() completed' });
  await pending;
  const inflating = decompress(server, hex('f248cdc9c90700'));
  t.throws(() => server.decompress(Buffer.from('x'), true, () => {}), {
    message: 'decompress() called before the previous decompress() completed',
  });
  await inflating;
  server.close();
});

t.test('compress and decompress run independently at the same time', async (t) => {
  const server = make('server');
  const [c, d] = await Promise.all([compress(server, text(50_000)), decompress(server, hex('f248cdc9c90700'))]);
  t.ok(c.length > 0);
  t.equal(d.toString(), 'Hello');
  server.close();
});

t.test('small results are returned without a copy', async (t) => {
  const server = make('server');
  const c = await compress(server, 'Hello');
  // A view into zlib's output buffer, not a fresh 7-byte allocation.
  t.ok(c.buffer.byteLength > c.length);
  server.close();
});

// ---------------------------------------------------------------------------
// close()
// ---------------------------------------------------------------------------

t.test('close() during a pending compress: no callback, slot released', async (t) => {
  const limiter = new ZlibLimiter(1);
  const server = make('server', {}, { limiter });
  let called = false;
  server.compress(text(2_000_000), () => {
    called = true;
  });
  t.equal(limiter.running, 1);
  t.doesNotThrow(() => server.close());
  t.equal(limiter.running, 0, 'slot released at once');
  await sleep(200);
  t.equal(called, false);
});

t.test('close() during a pending decompress: no callback, slot released', async (t) => {
  const limiter = new ZlibLimiter(1);
  const bomb = await makeBomb();
  const client = make('client', {}, { limiter, maxMessageSize: 50 * 1024 * 1024 });
  let called = false;
  client.decompress(bomb, true, () => {
    called = true;
  });
  await sleep(5); // let zlib start working
  t.doesNotThrow(() => client.close());
  t.equal(limiter.running, 0);
  await sleep(300);
  t.equal(called, false);
});

t.test('close() withdraws queued jobs from the limiter', async (t) => {
  const limiter = new ZlibLimiter(1);
  let releaseBlocker: () => void = () => {};
  limiter.schedule((release) => {
    releaseBlocker = release;
  });
  const server = make('server', {}, { limiter });
  let called = 0;
  server.compress(Buffer.from('Hello'), () => called++);
  server.decompress(hex('f248cdc9c90700'), true, () => called++);
  t.equal(limiter.queued, 2);
  server.close();
  t.equal(limiter.queued, 0);
  releaseBlocker();
  t.equal(limiter.running, 0);
  await sleep(50);
  t.equal(called, 0);
});

t.test('close() before the asynchronous empty-message callbacks', async (t) => {
  const server = make('server');
  let called = 0;
  server.compress(Buffer.alloc(0), () => called++);
  server.decompress(Buffer.alloc(0), false, () => called++);
  server.close();
  await sleep(20);
  t.equal(called, 0);
});

t.test('calls after close() do nothing; close() is idempotent', async (t) => {
  const server = make('server');
  await compress(server, 'Hello');
  server.close();
  t.doesNotThrow(() => server.close());
  let called = 0;
  t.doesNotThrow(() => server.compress(Buffer.from('x'), () => called++));
  t.doesNotThrow(() => server.decompress(hex('f248cdc9c90700'), true, () => called++));
  await sleep(50);
  t.equal(called, 0);
  t.doesNotThrow(() => make('client').close(), 'close() of an unused instance');
});

t.test('sessions closed mid-operation are garbage collected', async (t) => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const limiter = new ZlibLimiter(4);
  const payload = text(200_000);
  const compressed = await compress(make('server'), payload);
  const refs: Array<WeakRef<PerMessageDeflate>> = [];
  let live: PerMessageDeflate[] = [];
  let closed = false;
  let lateCalls = 0;
  const late = () => {
    if (closed) lateCalls++;
  };
  // Sessions are only touched from these synchronous helpers, so that no
  // variable of this async function keeps one alive while it is suspended.
  const open = () => {
    for (let i = 0; i < 50; i++) {
      const session = make(i % 2 ? 'server' : 'client', {}, { limiter });
      session.compress(payload, late);
      session.decompress(compressed, true, late);
      live.push(session);
      refs.push(new WeakRef(session));
    }
  };
  const closeAll = () => {
    for (const session of live) session.close();
    closed = true;
    live = [];
  };
  open();
  await sleep(2); // some jobs are in zlib now, most are queued
  t.ok(limiter.running > 0 && limiter.queued > 0, `${limiter.running} running, ${limiter.queued} queued at close()`);
  closeAll();
  t.equal(limiter.running, 0);
  t.equal(limiter.queued, 0);
  const retained = () => refs.filter((r) => r.deref() !== undefined).length;
  for (let i = 0; i < 20 && retained() > 0; i++) {
    await sleep(50);
    gc();
  }
  t.equal(retained(), 0, 'no closed session is retained');
  t.equal(lateCalls, 0, 'no callback after close()');
});

// ---------------------------------------------------------------------------
// ZlibLimiter
// ---------------------------------------------------------------------------

t.test('ZlibLimiter: at most N jobs at once, in FIFO order', async (t) => {
  const limiter = new ZlibLimiter(3);
  let active = 0;
  let max = 0;
  const order: number[] = [];
  const finished: Promise<void>[] = [];
  for (let i = 0; i < 20; i++) {
    finished.push(
      new Promise<void>((resolve) => {
        limiter.schedule((release) => {
          order.push(i);
          active++;
          max = Math.max(max, active);
          setTimeout(() => {
            active--;
            release();
            resolve();
          }, 1 + (i % 4));
        });
      }),
    );
  }
  t.equal(limiter.running, 3);
  t.equal(limiter.queued, 17);
  await Promise.all(finished);
  t.equal(max, 3);
  t.same(order, [...Array(20).keys()]);
  t.equal(limiter.running, 0);
  t.equal(limiter.queued, 0);
});

t.test('ZlibLimiter: release and cancel are idempotent', async (t) => {
  const limiter = new ZlibLimiter(1);
  let release1: () => void = () => {};
  const ticket1 = limiter.schedule((release) => {
    release1 = release;
  });
  let ran2 = false;
  let ran3 = false;
  const ticket2 = limiter.schedule(() => {
    ran2 = true;
  });
  limiter.schedule(() => {
    ran3 = true;
  });
  ticket2.cancel();
  ticket2.cancel();
  t.equal(limiter.queued, 1);
  release1();
  release1();
  ticket1.cancel();
  t.equal(ran2, false, 'a cancelled job never runs');
  t.equal(ran3, true);
  t.equal(limiter.running, 1, 'double release did not free a second slot');
});

t.test('ZlibLimiter: cancelling a running job frees its slot', async (t) => {
  const limiter = new ZlibLimiter(1);
  const ticket = limiter.schedule(() => {});
  let ran = false;
  limiter.schedule(() => {
    ran = true;
  });
  t.equal(ran, false);
  ticket.cancel();
  t.equal(ran, true);
});

t.test('ZlibLimiter: synchronous releases do not recurse', async (t) => {
  const limiter = new ZlibLimiter(1);
  let blocker: () => void = () => {};
  limiter.schedule((release) => {
    blocker = release;
  });
  let count = 0;
  for (let i = 0; i < 100_000; i++) {
    limiter.schedule((release) => {
      count++;
      release();
    });
  }
  t.doesNotThrow(() => blocker());
  t.equal(count, 100_000);
  t.equal(limiter.running, 0);
  t.equal(limiter.queued, 0);
});

t.test('ZlibLimiter: a throwing job gives its slot back', async (t) => {
  const limiter = new ZlibLimiter(1);
  t.throws(() =>
    limiter.schedule(() => {
      throw new Error('boom');
    }),
  );
  t.equal(limiter.running, 0);
  let ran = false;
  limiter.schedule(() => {
    ran = true;
  });
  t.equal(ran, true);
});

t.test('ZlibLimiter: constructor validation', async (t) => {
  t.throws(() => new ZlibLimiter(0), { name: 'RangeError', message: 'ZlibLimiter concurrency must be a positive integer, got 0' });
  t.throws(() => new ZlibLimiter(1.5), RangeError);
  t.equal(new ZlibLimiter(Infinity).concurrency, Infinity);
});

/** Wraps schedule() to observe job starts and ends independently of the limiter's own counters. */
function instrument(limiter: ZlibLimiter) {
  const stats = { active: 0, max: 0, started: 0 };
  const schedule = limiter.schedule.bind(limiter);
  limiter.schedule = (job: LimiterJob) => {
    let state: 'queued' | 'running' | 'done' = 'queued';
    const end = () => {
      if (state === 'running') stats.active--;
      state = 'done';
    };
    const ticket = schedule((release) => {
      state = 'running';
      stats.started++;
      stats.active++;
      stats.max = Math.max(stats.max, stats.active);
      job(() => {
        end();
        release();
      });
    });
    return {
      cancel() {
        end();
        ticket.cancel();
      },
    };
  };
  return stats;
}

t.test('sessions sharing a limiter never run more than N zlib jobs at once', async (t) => {
  const limiter = new ZlibLimiter(2);
  const stats = instrument(limiter);
  const payload = text(300_000);
  const compressed = await compress(make('server'), payload);
  const sessions = Array.from({ length: 12 }, (_, i) => make(i % 2 ? 'server' : 'client', {}, { limiter }));
  const results = await Promise.all(
    sessions.flatMap((s) => [compress(s, payload), decompress(s, compressed).then((out) => (out.equals(payload) ? out : Promise.reject(new Error('mismatch'))))]),
  );
  t.equal(results.length, 24);
  t.equal(stats.started, 24);
  t.equal(stats.max, 2, 'the bound was reached and never exceeded');
  t.equal(stats.active, 0);
  t.equal(limiter.running, 0);
  t.equal(limiter.queued, 0);
  for (const s of sessions) s.close();
});

t.test('callbacks were all asynchronous and called once', async (t) => {
  await sleep(100);
  t.same(violations, []);
});
