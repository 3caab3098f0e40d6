// @ts-check
// RFC 6455 frame receiver (src/protocol/receiver.ts) under any chunking.
// Input: [options][3 chunking bytes][bytes on the wire].
// Properties: only ProtocolError escapes (with a close code the session can
// send); every chunking of the same bytes yields the same events and the
// same error; no message exceeds maxMessageSize.
import { ProtocolError } from '../dist/protocol/errors.js';
import { Receiver } from '../dist/protocol/receiver.js';
import { assert, assertEqual, chunkings, expectOnly } from './lib/check.js';

const SENDABLE_CLOSE_CODES = new Set([1002, 1007, 1009]);

/** @param {import('../dist/protocol/receiver.js').ReceiverEvent} event */
function describe(event) {
  switch (event.type) {
    case 'message':
      return ['message', event.binary, event.data.toString('hex')];
    case 'compressed-frame':
      return ['compressed-frame', event.fin, event.payload.toString('hex')];
    case 'close':
      return ['close', event.code, event.reason];
    default:
      return [event.type, event.data.toString('hex')];
  }
}

/**
 * @param {import('../dist/protocol/receiver.js').ReceiverOptions} options
 * @param {Buffer[]} chunks
 */
function run(options, chunks) {
  const receiver = new Receiver(options);
  /** @type {unknown[]} */
  const events = [];
  const outcome = expectOnly(() => {
    for (const chunk of chunks) {
      receiver.push(chunk);
      for (let event = receiver.read(); event !== null; event = receiver.read()) {
        events.push(describe(event));
        if (event.type === 'message') assert(event.data.length <= options.maxMessageSize, 'message larger than maxMessageSize');
        // The session inflates compressed frames; identity "inflation" is enough to drive the receiver's side of it.
        if (event.type === 'compressed-frame') {
          const done = receiver.acceptInflated(event.payload, event.fin);
          if (done !== null) events.push(['inflated', ...describe(done)]);
        }
      }
    }
  }, ProtocolError);
  if (!outcome.ok) {
    const error = /** @type {ProtocolError} */ (outcome.error);
    assert(SENDABLE_CLOSE_CODES.has(error.closeCode), `unexpected close code ${error.closeCode} (${error.code})`);
    events.push(['error', error.closeCode, error.code]);
  }
  return events;
}

/** @param {Buffer} input */
export function fuzz(input) {
  if (input.length < 4) return;
  const flags = input[0];
  const small = (flags & 4) !== 0;
  const options = {
    expectMasked: (flags & 1) !== 0,
    compression: (flags & 2) !== 0,
    maxMessageSize: small ? 64 + (flags >> 3) : 1 << 20,
    maxFramesPerMessage: small ? 1 + (flags >> 5) : 1024,
  };
  const [[firstName, firstChunks], ...others] = chunkings(input.subarray(4), input.subarray(1, 4));
  const expected = run(options, firstChunks);
  for (const [name, chunks] of others) assertEqual(run(options, chunks), expected, `events with ${name} differ from ${firstName}`);
}
