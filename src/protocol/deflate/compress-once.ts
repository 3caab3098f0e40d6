/**
 * One message compressed on its own, for every session whose compressor has
 * no context takeover and the same settings (RFC 7692 §7.1.1.1: each message
 * then starts with an empty window, so the output depends only on the message
 * and the settings). Used by broadcasts to compress once instead of once per
 * member.
 */
import zlib from 'node:zlib';
import type { SharedCompression } from './per-message-deflate.js';

/** RFC 7692 §7.2.3.6: an empty message is an empty stored block, 0x00 once the tail is removed. */
const EMPTY_MESSAGE = Buffer.from([0x00]);

export function compressOnce(data: Buffer, settings: SharedCompression, callback: (error: Error | null, compressed?: Buffer) => void): void {
  if (data.length === 0) {
    process.nextTick(callback, null, EMPTY_MESSAGE);
    return;
  }
  // Z_SYNC_FLUSH ends the output with an empty stored block (00 00 ff ff),
  // which RFC 7692 §7.2.1 removes from the payload; the stream is never
  // finished (no BFINAL), exactly as a session's own compressor would do.
  zlib.deflateRaw(
    data,
    { windowBits: settings.windowBits, level: settings.level, memLevel: settings.memLevel, finishFlush: zlib.constants.Z_SYNC_FLUSH },
    (error, out) => {
      if (error) return callback(error);
      const n = out.length;
      if (n < 4 || out[n - 4] !== 0x00 || out[n - 3] !== 0x00 || out[n - 2] !== 0xff || out[n - 1] !== 0xff) {
        return callback(new Error('zlib sync flush did not end with 00 00 ff ff'));
      }
      callback(null, out.subarray(0, n - 4));
    },
  );
}
