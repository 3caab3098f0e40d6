// @ts-check
// HTTP/3 frame parser (src/http3/frames.ts), SETTINGS included.
// Input: [options][3 chunking bytes][bytes of one stream].
// Properties: only Http3Error escapes; every chunking yields the same frames,
// the same DATA bytes between them and the same error; a one-varint frame
// (GOAWAY, CANCEL_PUSH, MAX_PUSH_ID) re-encodes to a frame that parses to the
// same value.
import { Http3Error } from '../dist/http3/errors.js';
import {
  FrameParser,
  encodeCancelPushFrame,
  encodeGoawayFrame,
  encodeMaxPushIdFrame,
} from '../dist/http3/frames.js';
import { assertEqual, chunkings, expectOnly } from './lib/check.js';

const REENCODE = {
  goaway: (/** @type {bigint} */ id) => encodeGoawayFrame(id),
  cancelPush: (/** @type {bigint} */ id) => encodeCancelPushFrame(id),
  maxPushId: (/** @type {bigint} */ id) => encodeMaxPushIdFrame(id),
};

/**
 * @param {import('../dist/http3/frames.js').FrameParserOptions} options
 * @param {number} skipType a frame type the handler asks to skip
 * @param {Buffer[]} chunks
 */
function run(options, skipType, chunks) {
  /** @type {unknown[]} */
  const events = [];
  /** @type {Buffer[]} */
  let data = [];
  const flushData = () => {
    if (data.length > 0) events.push(['data', Buffer.concat(data).toString('hex')]);
    data = [];
  };
  /** @type {import('../dist/http3/frames.js').Frame[]} */
  const frames = [];
  const parser = new FrameParser(
    {
      frameStart(type, length) {
        flushData();
        events.push(['start', type, length]);
        return type === skipType ? 'skip' : undefined;
      },
      data(chunk) {
        if (chunk.length === 0) throw new Error('empty DATA piece');
        data.push(Buffer.from(chunk));
      },
      frame(frame) {
        flushData();
        frames.push(frame);
        events.push(['frame', JSON.stringify(frame, (_, v) => (typeof v === 'bigint' ? `${v}n` : v?.type === 'Buffer' ? Buffer.from(v.data).toString('hex') : v))]);
      },
      end() {
        flushData();
        events.push(['end']);
      },
    },
    options,
  );
  const outcome = expectOnly(() => {
    for (const chunk of chunks) parser.push(chunk);
    parser.end();
  }, Http3Error);
  flushData();
  if (!outcome.ok) {
    const error = /** @type {Http3Error} */ (outcome.error);
    events.push(['error', error.code, error.scope]);
  }
  return { events, frames };
}

/** @param {Buffer} input */
export function fuzz(input) {
  if (input.length < 4) return;
  const options = { maxFieldSectionFrameSize: input[0] * 4, maxSettingsFrameSize: 64 + input[0] };
  const skipType = input[0] & 0x0f;
  const [[firstName, firstChunks], ...others] = chunkings(input.subarray(4), input.subarray(1, 4));
  const expected = run(options, skipType, firstChunks);
  for (const [name, chunks] of others) {
    assertEqual(run(options, skipType, chunks).events, expected.events, `events with ${name} differ from ${firstName}`);
  }
  for (const frame of expected.frames) {
    if (frame.kind === 'goaway' || frame.kind === 'cancelPush' || frame.kind === 'maxPushId') {
      const id = frame.kind === 'goaway' ? frame.id : frame.pushId;
      const again = run(options, -1, [REENCODE[frame.kind](id)]).frames;
      assertEqual(again, [frame], 're-encoded frame');
    }
  }
}
