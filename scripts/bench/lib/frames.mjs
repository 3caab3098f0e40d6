// WebSocket frames for the load generator: built once per case, masked, never
// allocated per message; and a small full decoder for the correctness checks.
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';

export const OP_CONTINUATION = 0;
export const OP_TEXT = 1;
export const OP_BINARY = 2;
export const OP_CLOSE = 8;
export const OP_PING = 9;
export const OP_PONG = 10;

/** RFC 6455 §1.3's sample key and its accept value: the handshake is pre-computed too. */
export const SAMPLE_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
export const SAMPLE_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

/** Header length of a frame whose second byte is `b1`. */
export function headerLength(b1) {
  const length7 = b1 & 0x7f;
  return 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
}

/** A client frame (masked, RFC 6455 §5.3) carrying `payload`. */
export function maskedFrame(opcode, payload, { fin = true, rsv1 = false, key = randomBytes(4) } = {}) {
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 0x10000 ? 2 : 8;
  const hLength = 2 + lengthBytes + 4;
  const frame = Buffer.allocUnsafe(hLength + length);
  frame[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  if (length < 126) frame[1] = 0x80 | length;
  else if (length < 0x10000) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(Math.floor(length / 0x100000000), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  key.copy(frame, 2 + lengthBytes);
  for (let i = 0; i < length; i++) frame[hLength + i] = payload[i] ^ key[i & 3];
  return frame;
}

/** A masked close frame with code 1000. */
export const CLOSE_FRAME = maskedFrame(OP_CLOSE, Buffer.from([0x03, 0xe8]));

const WORDS = (
  'alpha beta gamma delta order price quantity user session channel message room ' +
  'status ready pending done error retry token value count total item list name id'
).split(' ');

/**
 * Message payloads: random bytes (binary) for plain echo, JSON-like ASCII text
 * (compressible, like real application messages) for permessage-deflate.
 */
export function makePayload(size, kind, seed = 1) {
  if (kind === 'binary') return randomBytes(size);
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % 1000003;
  };
  const parts = [];
  let length = 0;
  while (length < size) {
    const record =
      `{"id":${next()},"type":"${WORDS[next() % WORDS.length]}","user":"${WORDS[next() % WORDS.length]}-${next() % 977}",` +
      `"text":"${WORDS[next() % WORDS.length]} ${WORDS[next() % WORDS.length]} ${WORDS[next() % WORDS.length]}","n":${next() % 10000}},`;
    parts.push(record);
    length += record.length;
  }
  return Buffer.from(parts.join('').slice(0, size), 'latin1');
}

const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** RFC 7692 §7.2.1: deflate with a sync flush, then drop the 00 00 ff ff tail. Independent of any context. */
export function deflateMessage(payload) {
  const out = zlib.deflateRawSync(payload, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  if (out.length < 4 || !out.subarray(out.length - 4).equals(TAIL)) throw new Error('unexpected deflate tail');
  return out.subarray(0, out.length - 4);
}

/** `frame` repeated k times, for k = 0..window: one write sends k messages. */
export function buildBatches(frame, window) {
  const batches = [Buffer.alloc(0)];
  for (let k = 1; k <= window; k++) batches.push(Buffer.concat(Array(k).fill(frame)));
  return batches;
}

/**
 * The frame a message of this case is sent as, and what to expect back.
 * - plain: a binary frame of random bytes; echoed byte for byte (unmasked, or
 *   masked as sent by the raw echo servers).
 * - deflate: a text frame, compressed by the client (RSV1), independent of
 *   context; the server may answer compressed (RSV1) or not (below its threshold).
 */
export function messagePlan(size, { deflate = false } = {}) {
  const payload = makePayload(size, deflate ? 'text' : 'binary', size);
  const opcode = deflate ? OP_TEXT : OP_BINARY;
  const frame = deflate ? maskedFrame(opcode, deflateMessage(payload), { rsv1: true }) : maskedFrame(opcode, payload);
  const hLength = headerLength(frame[1]);
  return {
    size,
    opcode,
    deflate,
    payload,
    frame,
    /** The payload as it travels from client to server (masked, maybe compressed). */
    wirePayload: frame.subarray(hLength),
  };
}

/**
 * A complete decoder for the correctness checks (not the hot path): yields
 * whole messages, unmasking if needed, and inflating RSV1 messages in order with
 * one stateful inflater per connection (server context takeover).
 */
export class MessageDecoder {
  constructor() {
    this.buffer = Buffer.alloc(0);
    this.parts = [];
    this.opcode = 0;
    this.compressed = false;
    this.inflater = null;
    this.queue = Promise.resolve();
    this.closed = null;
  }

  /** Feeds bytes; calls onMessage({ opcode, data, compressed, masked }) in order (possibly later, when inflating). */
  push(chunk, onMessage, onError) {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const b = this.buffer;
      if (b.length < 2) return;
      const hLength = headerLength(b[1]);
      if (b.length < hLength) return;
      const length7 = b[1] & 0x7f;
      let length = length7;
      if (length7 === 126) length = b.readUInt16BE(2);
      else if (length7 === 127) length = b.readUInt32BE(2) * 0x100000000 + b.readUInt32BE(6);
      if (b.length < hLength + length) return;
      const masked = (b[1] & 0x80) !== 0;
      const payload = Buffer.from(b.subarray(hLength, hLength + length));
      if (masked) {
        const key = b.subarray(hLength - 4, hLength);
        for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
      }
      this.buffer = b.subarray(hLength + length);
      const fin = (b[0] & 0x80) !== 0;
      const opcode = b[0] & 0x0f;
      if (opcode >= 8) {
        if (opcode === OP_CLOSE) this.closed = payload;
        continue;
      }
      if (opcode !== OP_CONTINUATION) {
        this.opcode = opcode;
        this.compressed = (b[0] & 0x40) !== 0;
        this.parts = [];
      }
      this.parts.push(payload);
      if (!fin) continue;
      const message = { opcode: this.opcode, data: Buffer.concat(this.parts), compressed: this.compressed, masked };
      this.parts = [];
      if (!message.compressed) {
        this.queue = this.queue.then(() => onMessage(message));
        continue;
      }
      this.queue = this.queue.then(() => this.inflate(message.data)).then(
        (data) => onMessage({ ...message, data }),
        (error) => onError(error),
      );
    }
  }

  inflate(data) {
    this.inflater ??= zlib.createInflateRaw({ windowBits: 15 });
    const inflater = this.inflater;
    return new Promise((resolve, reject) => {
      const chunks = [];
      const onData = (chunk) => chunks.push(chunk);
      const onError = (error) => {
        inflater.off('data', onData);
        reject(error);
      };
      inflater.on('data', onData);
      inflater.once('error', onError);
      inflater.write(data);
      inflater.write(TAIL);
      inflater.flush(() => {
        inflater.off('data', onData);
        inflater.off('error', onError);
        resolve(Buffer.concat(chunks));
      });
    });
  }

  close() {
    this.inflater?.close();
  }
}
