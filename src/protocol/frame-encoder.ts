import { applyMask, copyMasked, nextMaskKey } from './mask.js';
import { Opcode } from './opcodes.js';

/**
 * Below this payload size header and payload are copied into one buffer: one
 * small copy is cheaper than a two-buffer (writev) write.
 */
const MERGE_THRESHOLD = 4096;

/**
 * Small frames are cut from a 64 KiB slab: Node's own 8 KiB Buffer pool runs
 * out every few 1 KiB frames, and making a new pool showed as ~5% of the
 * server's CPU in a 1 KiB echo. A slab lives as long as a frame cut from it is
 * still queued for writing, as with Node's pool.
 */
const SLAB_SIZE = 64 * 1024;
/** 2 bytes, an 8-byte extended length and a 4-byte masking key (RFC 6455 §5.2). */
const MAX_HEADER_LENGTH = 14;
let slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
let slabOffset = 0;

function allocateFrame(size: number): Buffer {
  if (size > MERGE_THRESHOLD + MAX_HEADER_LENGTH) return Buffer.allocUnsafe(size);
  if (slabOffset + size > SLAB_SIZE) {
    slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
    slabOffset = 0;
  }
  const frame = slab.subarray(slabOffset, slabOffset + size);
  // 8-byte alignment keeps word-wise masking of the next frame on aligned words.
  slabOffset = (slabOffset + size + 7) & ~7;
  return frame;
}

export interface FrameFlags {
  fin: boolean;
  /** RFC 7692 §6: set on the first frame of a compressed message. */
  rsv1: boolean;
  /** RFC 6455 §5.3: every frame a client sends is masked; a server's never are. */
  mask: boolean;
}

function headerLength(payloadLength: number, mask: boolean): number {
  const lengthBytes = payloadLength < 126 ? 0 : payloadLength < 0x10000 ? 2 : 8;
  return 2 + lengthBytes + (mask ? 4 : 0);
}

/** Writes a frame header (RFC 6455 §5.2) at `target[0..]`; returns the header length. */
function writeHeader(target: Buffer, opcode: number, payloadLength: number, flags: FrameFlags, key: Buffer | null): number {
  target[0] = (flags.fin ? 0x80 : 0) | (flags.rsv1 ? 0x40 : 0) | opcode;
  const maskBit = key === null ? 0 : 0x80;
  let offset = 2;
  // RFC 6455 §5.2: the minimal length encoding is used.
  if (payloadLength < 126) {
    target[1] = maskBit | payloadLength;
  } else if (payloadLength < 0x10000) {
    target[1] = maskBit | 126;
    target.writeUInt16BE(payloadLength, 2);
    offset = 4;
  } else {
    target[1] = maskBit | 127;
    target.writeUInt32BE(Math.floor(payloadLength / 0x100000000), 2);
    target.writeUInt32BE(payloadLength >>> 0, 6);
    offset = 10;
  }
  if (key !== null) {
    key.copy(target, offset);
    offset += 4;
  }
  return offset;
}

/**
 * Encodes one frame. Returns one buffer, or header and payload as two buffers
 * for large unmasked payloads so the payload is not copied. The caller's payload
 * is never modified: masked frames are built in a new buffer.
 */
export function encodeFrame(opcode: number, payload: Uint8Array, flags: FrameFlags): Buffer | Buffer[] {
  const length = payload.length;
  const hLength = headerLength(length, flags.mask);
  if (flags.mask) {
    const key = nextMaskKey();
    const frame = allocateFrame(hLength + length);
    writeHeader(frame, opcode, length, flags, key);
    copyMasked(payload, key, frame, hLength);
    return frame;
  }
  if (length <= MERGE_THRESHOLD) {
    const frame = allocateFrame(hLength + length);
    writeHeader(frame, opcode, length, flags, null);
    frame.set(payload, hLength);
    return frame;
  }
  const header = allocateFrame(hLength);
  writeHeader(header, opcode, length, flags, null);
  return [header, Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, length)];
}

/**
 * Encodes a text frame straight from a string: the UTF-8 bytes are written into
 * the frame buffer, saving the intermediate Buffer of `Buffer.from(text)`.
 */
export function encodeTextFrame(text: string, flags: FrameFlags): Buffer {
  const length = Buffer.byteLength(text);
  const hLength = headerLength(length, flags.mask);
  const frame = allocateFrame(hLength + length);
  const key = flags.mask ? nextMaskKey() : null;
  writeHeader(frame, Opcode.Text, length, flags, key);
  frame.write(text, hLength, 'utf8');
  if (key !== null) applyMask(frame.subarray(hLength), key);
  return frame;
}

/** The payload length written in an encoded frame's header (RFC 6455 §5.2: 7 bits, or 126 + 16 bits, or 127 + 64 bits). */
export function encodedPayloadLength(frame: Buffer): number {
  const short = frame[1]! & 0x7f;
  if (short < 126) return short;
  // The top 16 bits of the 64-bit length are zero for any length a Buffer can hold.
  return short === 126 ? frame.readUInt16BE(2) : frame.readUIntBE(4, 6);
}
