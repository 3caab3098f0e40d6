// Receiver micro rows (issue 11 item 1): the same masked payload parsed from
// one chunk and from 1-byte chunks (what one-byte HTTP/2 and HTTP/3 DATA
// frames deliver). Reassembly is linear when ns per byte of the 1-byte row
// stays flat from 256 KiB to 1 MiB; the ratio to the one-chunk row is the
// fixed per-chunk cost. Runs in the load generator's process, on its core.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** Masked binary frame of `size` bytes (RFC 6455 §5.2, 64-bit length). */
function maskedFrame(size) {
  const frame = Buffer.alloc(14 + size);
  frame[0] = 0x82;
  frame[1] = 0x80 | 127;
  frame.writeBigUInt64BE(BigInt(size), 2);
  frame.writeUInt32BE(0x37fa213d, 10);
  for (let i = 14; i < frame.length; i++) frame[i] = i & 0xff;
  return frame;
}

/**
 * Parses the frame over and over for `durationMs` (after a warm-up) and returns
 * ns per payload byte and ms per payload. The payload is unmasked in place, so
 * each parse toggles it; its value does not matter to a binary message.
 */
export async function runReceiver({ root, size, chunkSize, warmupMs, durationMs }) {
  const { Receiver } = await import(pathToFileURL(path.join(root, 'dist', 'protocol', 'receiver.js')).href);
  const frame = maskedFrame(size);
  const chunks = [];
  for (let at = 0; at < frame.length; at += chunkSize) chunks.push(frame.subarray(at, at + chunkSize));
  const options = { expectMasked: true, maxMessageSize: 64 << 20, maxFramesPerMessage: 1000, compression: false };
  const parseOnce = () => {
    const receiver = new Receiver(options);
    let messages = 0;
    for (const chunk of chunks) {
      receiver.push(chunk);
      while (receiver.read() !== null) messages++;
    }
    if (messages !== 1) throw new Error(`expected one message, got ${messages}`);
  };
  for (const end = performance.now() + warmupMs; performance.now() < end; ) parseOnce();
  let parses = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < durationMs) {
    parseOnce();
    parses++;
    elapsed = performance.now() - started;
  }
  const msPerPayload = elapsed / parses;
  return { msPerPayload, nsPerByte: (msPerPayload * 1e6) / size, chunks: chunks.length, parses };
}
