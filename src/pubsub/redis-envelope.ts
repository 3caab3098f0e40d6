import type { PublishedMessage } from './adapter.js';

/**
 * The bytes one message takes on a Redis channel: a version byte, a flags byte
 * (bit 0: binary), the origin's length and the origin in UTF-8, then the
 * payload as is. The topic is the channel name, so it is not repeated here.
 * Binary framing rather than JSON: payloads are opaque bytes and must not be
 * re-encoded on every hop.
 */
const VERSION = 1;
const BINARY = 0x01;
const HEADER = 3;

export function encodeEnvelope(message: PublishedMessage): Buffer {
  const origin = Buffer.from(message.origin, 'utf8');
  if (origin.length > 255) throw new RangeError('origin id longer than 255 bytes');
  const envelope = Buffer.allocUnsafe(HEADER + origin.length + message.data.length);
  envelope[0] = VERSION;
  envelope[1] = message.isBinary ? BINARY : 0;
  envelope[2] = origin.length;
  origin.copy(envelope, HEADER);
  message.data.copy(envelope, HEADER + origin.length);
  return envelope;
}

/** The message, or null when the bytes are no envelope of this version (another writer on the channel). */
export function decodeEnvelope(topic: string, envelope: Buffer): PublishedMessage | null {
  if (envelope.length < HEADER || envelope[0] !== VERSION) return null;
  const originEnd = HEADER + envelope[2]!;
  if (envelope.length < originEnd) return null;
  return {
    topic,
    isBinary: (envelope[1]! & BINARY) !== 0,
    origin: envelope.toString('utf8', HEADER, originEnd),
    // A view, not a copy: the envelope belongs to this message alone.
    data: envelope.subarray(originEnd),
  };
}
