// @ts-check
// permessage-deflate inflation (src/protocol/deflate/per-message-deflate.ts):
// the compressed frames of one message from a peer, then a second message.
// Input: [options][3 framing bytes][compressed payload].
// Properties: only ProtocolError (1002 or 1009) comes back; nothing larger
// than maxMessageSize is returned; the message inflates to the same bytes
// (or fails) whether it arrives in one frame or in fuzzer-chosen frames; without context takeover the next message is
// unaffected by whatever came before it; compress → decompress round-trips.
import { ProtocolError } from '../dist/protocol/errors.js';
import { PerMessageDeflate } from '../dist/protocol/deflate/per-message-deflate.js';
import { ZlibLimiter } from '../dist/protocol/deflate/zlib-limiter.js';
import { assert, assertEqual, chunksFromSeed } from './lib/check.js';

const limiter = new ZlibLimiter(4);
const HELLO = Buffer.from('f248cdc9c90700', 'hex');

/**
 * @param {PerMessageDeflate} pmd
 * @param {Buffer} data
 * @param {boolean} fin
 * @returns {Promise<Buffer>}
 */
function decompress(pmd, data, fin) {
  return new Promise((resolve, reject) => pmd.decompress(data, fin, (err, out) => (err ? reject(err) : resolve(/** @type {Buffer} */ (out)))));
}

/**
 * @param {PerMessageDeflate} pmd
 * @param {Buffer} data
 * @returns {Promise<Buffer>}
 */
function compress(pmd, data) {
  return new Promise((resolve, reject) => pmd.compress(data, (err, out) => (err ? reject(err) : resolve(/** @type {Buffer} */ (out)))));
}

/**
 * @param {import('../dist/protocol/deflate/negotiation.js').DeflateParams} params
 * @param {number} maxMessageSize
 * @param {Buffer[]} frames
 */
async function inflateMessage(params, maxMessageSize, frames) {
  const pmd = new PerMessageDeflate(params, 'server', { maxMessageSize, limiter });
  try {
    const parts = [];
    for (const [i, frame] of frames.entries()) parts.push(await decompress(pmd, frame, i === frames.length - 1));
    const message = Buffer.concat(parts);
    assert(message.length <= maxMessageSize, `inflated ${message.length} bytes, limit ${maxMessageSize}`);
    if (params.clientNoContextTakeover) assertEqual((await decompress(pmd, HELLO, true)).toString(), 'Hello', 'the next message');
    return ['ok', message.toString('hex')];
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    assert(error.closeCode === 1002 || error.closeCode === 1009, `close code ${error.closeCode}`);
    return ['error', error.closeCode];
  } finally {
    pmd.close();
  }
}

/** @param {Buffer} input */
export async function fuzz(input) {
  if (input.length < 4) return;
  const flags = input[0];
  // A 15-bit window: with a smaller one, data using a larger window than agreed
  // inflates or fails depending on the framing (zlib checks distances against
  // the window plus the output of the current write only), and both are fine.
  const params = { serverNoContextTakeover: false, clientNoContextTakeover: (flags & 1) !== 0, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
  const maxMessageSize = (flags & 0x10) !== 0 ? 1 + input[1] * 16 : 1 << 20;
  const payload = input.subarray(4);
  const whole = await inflateMessage(params, maxMessageSize, [payload]);
  const framed = await inflateMessage(params, maxMessageSize, payload.length === 0 ? [payload] : chunksFromSeed(payload, input.subarray(1, 4)));
  // Data that is both corrupt and too big fails with whichever zlib meets
  // first, which depends on the framing: only success must match exactly.
  if (whole[0] === 'ok' || framed[0] === 'ok') assertEqual(framed, whole, 'fuzzer-chosen frames differ from one frame');

  const sender = new PerMessageDeflate(params, 'client', { maxMessageSize: Infinity, limiter });
  const receiver = new PerMessageDeflate(params, 'server', { maxMessageSize: Infinity, limiter });
  try {
    for (let i = 0; i < 2; i++) assertEqual(await decompress(receiver, await compress(sender, payload), true), payload, `round trip ${i}`);
  } finally {
    sender.close();
    receiver.close();
  }
}
