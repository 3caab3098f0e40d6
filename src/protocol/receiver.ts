import { ChunkQueue } from './chunk-queue.js';
import { CloseCode } from './close-codes.js';
import { decodeClosePayload } from './close-frame.js';
import { ProtocolError } from './errors.js';
import { applyMaskKey, copyMasked } from './mask.js';
import { Opcode, isControlOpcode } from './opcodes.js';
import { Utf8StreamValidator, isValidUtf8 } from './utf8.js';

export interface ReceiverOptions {
  /**
   * RFC 6455 §5.1: a server must receive only masked frames and a client only
   * unmasked ones; either side closes with 1002 otherwise.
   */
  expectMasked: boolean;
  /** Largest message (sum of its frame payloads) accepted; larger ones fail with 1009. */
  maxMessageSize: number;
  /** Most frames one message may span; more fail with 1009. */
  maxFramesPerMessage: number;
  /** permessage-deflate was negotiated, so RSV1 marks compressed messages (RFC 7692 §6). */
  compression: boolean;
}

export type ReceiverEvent =
  | { type: 'message'; binary: boolean; data: Buffer }
  /** A frame of a compressed message: the caller inflates it and hands the result to `acceptInflated`. */
  | { type: 'compressed-frame'; payload: Buffer; fin: boolean }
  | { type: 'ping'; data: Buffer }
  | { type: 'pong'; data: Buffer }
  | { type: 'close'; code: number; reason: string };

const EMPTY = Buffer.alloc(0);
const MAX_HEADER_BYTES = 14;
// Shared scratch space: it is only used synchronously inside one read(), and
// per-session copies would cost more memory than the bytes they hold.
const headerScratch = Buffer.alloc(MAX_HEADER_BYTES);
const maskScratch = Buffer.alloc(4);

function protocolError(code: string, message: string): ProtocolError {
  return new ProtocolError(CloseCode.ProtocolError, code, message);
}

/**
 * The sans-I/O receiving half of RFC 6455: bytes go in with `push`, events come
 * out of `read`, which throws a ProtocolError (carrying the close code) at the
 * first violation. It accepts any chunking, from single bytes to many frames in
 * one chunk, and checks every frame header before waiting for the payload, so an
 * oversized frame is refused without being buffered.
 */
export class Receiver {
  private readonly options: ReceiverOptions;
  private readonly queue: ChunkQueue;

  // The frame whose header has been parsed and whose payload is awaited.
  private frameReady = false;
  private fin = false;
  private rsv1 = false;
  private opcode = 0;
  private payloadLength = 0;
  /** The frame's masking key as a big-endian 32-bit number (cheaper per session than a Buffer). */
  private maskKey = 0;
  private masked = false;

  // The data message in progress (fragmentation, RFC 6455 §5.4).
  private messageOpcode = 0;
  private messageCompressed = false;
  private messageBinary = false;
  private messageFrames = 0;
  private messageSize = 0;
  private parts: Buffer[] = [];
  private partsLength = 0;
  private readonly utf8 = new Utf8StreamValidator();
  private closeReceived = false;

  /** `queue` is a seam for tests that count the work reassembly does. */
  constructor(options: ReceiverOptions, queue: ChunkQueue = new ChunkQueue()) {
    this.options = options;
    this.queue = queue;
  }

  /** Bytes received but not yet consumed as frames. */
  get bufferedBytes(): number {
    return this.queue.length;
  }

  push(chunk: Buffer): void {
    // RFC 6455 §5.5.1: after a close frame, further data is not processed.
    if (this.closeReceived) return;
    this.queue.push(chunk);
  }

  /** Returns the next event, or null when more bytes are needed. */
  read(): ReceiverEvent | null {
    while (!this.closeReceived) {
      if (!this.frameReady && !this.parseHeader()) return null;
      const length = this.payloadLength;
      if (this.queue.length < length) {
        if (this.isUncompressedText()) this.validateAhead(this.queue.length);
        return null;
      }
      this.frameReady = false;
      // A frame whose start was validated ahead is unmasked in place already.
      const validated = this.queue.scannedLength > 0;
      if (validated) this.validateAhead(length);
      const payload = validated || !this.masked ? this.take(length) : this.takeUnmasked(length);
      const event = isControlOpcode(this.opcode) ? this.controlFrame(payload) : this.dataFrame(payload, validated);
      if (event !== null) return event;
    }
    return null;
  }

  /**
   * Accepts the inflated bytes of the last 'compressed-frame' event and returns
   * the message when `fin` completes it.
   */
  acceptInflated(data: Buffer, fin: boolean): ReceiverEvent | null {
    this.appendPart(data);
    return fin ? this.finishMessage() : null;
  }

  private parseHeader(): boolean {
    const queue = this.queue;
    const buffered = queue.length;
    if (buffered < 2) return false;
    let header = queue.first();
    let at = queue.firstOffset;
    if (header.length - at < MAX_HEADER_BYTES) {
      header = headerScratch;
      at = 0;
      queue.copyOut(header, Math.min(MAX_HEADER_BYTES, buffered));
    }
    const b0 = header[at];
    const b1 = header[at + 1];
    const length7 = b1 & 0x7f;
    const masked = (b1 & 0x80) !== 0;
    const headerLength = 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0) + (masked ? 4 : 0);
    if (buffered < headerLength) {
      // Validate what is already known so a bad frame fails without waiting.
      this.checkFirstBytes(b0, masked, length7);
      return false;
    }
    this.checkFirstBytes(b0, masked, length7);

    let length = length7;
    let cursor = at + 2;
    if (length7 === 126) {
      length = header.readUInt16BE(cursor);
      cursor += 2;
      // RFC 6455 §5.2: "the minimal number of bytes MUST be used to encode the length".
      if (length < 126) throw protocolError('WS_ERR_NON_MINIMAL_LENGTH', '16-bit length used for a payload under 126 bytes');
    } else if (length7 === 127) {
      const high = header.readUInt32BE(cursor);
      const low = header.readUInt32BE(cursor + 4);
      cursor += 8;
      // RFC 6455 §5.2: "the most significant bit MUST be 0".
      if (high >= 0x80000000) throw protocolError('WS_ERR_INVALID_LENGTH', '64-bit length with the most significant bit set');
      if (high === 0 && low < 0x10000) {
        throw protocolError('WS_ERR_NON_MINIMAL_LENGTH', '64-bit length used for a payload under 65536 bytes');
      }
      length = high * 0x100000000 + low;
    }
    if (masked) {
      this.maskKey = header.readUInt32BE(cursor);
    }
    this.fin = (b0 & 0x80) !== 0;
    this.rsv1 = (b0 & 0x40) !== 0;
    this.opcode = b0 & 0x0f;
    this.masked = masked;
    this.payloadLength = length;
    this.checkLimits();
    if (this.opcode === Opcode.Text || this.opcode === Opcode.Binary) this.utf8.reset();
    queue.skip(headerLength);
    this.frameReady = true;
    return true;
  }

  /** Rules decidable from the first two header bytes (RFC 6455 §5.2, §5.4, §5.5; RFC 7692 §6). */
  private checkFirstBytes(b0: number, masked: boolean, length7: number): void {
    const fin = (b0 & 0x80) !== 0;
    const rsv1 = (b0 & 0x40) !== 0;
    const opcode = b0 & 0x0f;
    if ((b0 & 0x30) !== 0) throw protocolError('WS_ERR_UNEXPECTED_RSV_2_3', 'RSV2 and RSV3 must be clear');
    if (isControlOpcode(opcode)) {
      if (opcode > Opcode.Pong) throw protocolError('WS_ERR_INVALID_OPCODE', `reserved opcode ${opcode}`);
      if (!fin) throw protocolError('WS_ERR_FRAGMENTED_CONTROL', 'control frames must not be fragmented');
      if (length7 > 125) throw protocolError('WS_ERR_CONTROL_TOO_LONG', 'control frame payload over 125 bytes');
      if (rsv1) throw protocolError('WS_ERR_UNEXPECTED_RSV_1', 'RSV1 must be clear on control frames');
    } else {
      if (opcode > Opcode.Binary) throw protocolError('WS_ERR_INVALID_OPCODE', `reserved opcode ${opcode}`);
      if (opcode === Opcode.Continuation) {
        if (this.messageOpcode === 0) throw protocolError('WS_ERR_UNEXPECTED_CONTINUATION', 'continuation frame without a message to continue');
        // RFC 7692 §6.1: RSV1 is set on the first frame of a message only.
        if (rsv1) throw protocolError('WS_ERR_UNEXPECTED_RSV_1', 'RSV1 must be clear on continuation frames');
      } else {
        if (this.messageOpcode !== 0) throw protocolError('WS_ERR_EXPECTED_CONTINUATION', 'new message started inside a fragmented message');
        if (rsv1 && !this.options.compression) throw protocolError('WS_ERR_UNEXPECTED_RSV_1', 'RSV1 set but no extension was negotiated');
      }
    }
    if (masked !== this.options.expectMasked) {
      throw this.options.expectMasked
        ? protocolError('WS_ERR_EXPECTED_MASK', 'client frames must be masked')
        : protocolError('WS_ERR_UNEXPECTED_MASK', 'server frames must not be masked');
    }
  }

  private checkLimits(): void {
    if (isControlOpcode(this.opcode)) return;
    const frames = (this.opcode === Opcode.Continuation ? this.messageFrames : 0) + 1;
    const size = (this.opcode === Opcode.Continuation ? this.messageSize : 0) + this.payloadLength;
    if (size > this.options.maxMessageSize) {
      throw new ProtocolError(
        CloseCode.MessageTooBig,
        'WS_ERR_MESSAGE_TOO_BIG',
        `message exceeds ${this.options.maxMessageSize} bytes`,
      );
    }
    if (frames > this.options.maxFramesPerMessage) {
      throw new ProtocolError(
        CloseCode.MessageTooBig,
        'WS_ERR_TOO_MANY_FRAMES',
        `message spans more than ${this.options.maxFramesPerMessage} frames`,
      );
    }
  }

  private controlFrame(payload: Buffer): ReceiverEvent {
    if (this.opcode === Opcode.Ping) return { type: 'ping', data: payload };
    if (this.opcode === Opcode.Pong) return { type: 'pong', data: payload };
    const { code, reason } = decodeClosePayload(payload);
    this.closeReceived = true;
    this.queue.clear();
    return { type: 'close', code, reason };
  }

  /** The awaited frame carries text that can be checked before inflation (RFC 7692 §6: RSV1 marks compression). */
  private isUncompressedText(): boolean {
    if (this.opcode === Opcode.Text) return !this.rsv1;
    return this.opcode === Opcode.Continuation && this.messageOpcode === Opcode.Text && !this.messageCompressed;
  }

  /**
   * RFC 6455 §8.1 requires failing "as soon as" text is found invalid, so the
   * payload of a text frame is validated while it arrives (Autobahn 6.4.3–4):
   * each new byte once, unmasked in place, through the message's stream
   * validator. The bytes stay queued; take() later needs no second unmasking.
   */
  private validateAhead(length: number): void {
    scanTarget.utf8 = this.utf8;
    scanTarget.key = this.masked ? this.maskKey : NO_MASK;
    this.queue.scanTo(length, validatePiece, scanTarget);
  }

  private dataFrame(payload: Buffer, validated: boolean): ReceiverEvent | null {
    if (this.opcode !== Opcode.Continuation) {
      this.messageOpcode = this.opcode;
      this.messageCompressed = this.rsv1;
      this.messageBinary = this.opcode === Opcode.Binary;
      this.messageFrames = 0;
      this.messageSize = 0;
    }
    this.messageFrames++;
    this.messageSize += payload.length;
    const fin = this.fin;
    if (this.messageCompressed) {
      if (fin) this.messageOpcode = 0;
      return { type: 'compressed-frame', payload, fin };
    }
    if (fin && this.parts.length === 0) {
      // Unfragmented message: validate the whole payload natively in one pass.
      this.messageOpcode = 0;
      if (!this.messageBinary && !(validated ? this.utf8.end() : isValidUtf8(payload))) throw invalidUtf8();
      return { type: 'message', binary: this.messageBinary, data: payload };
    }
    this.appendPart(payload, validated);
    return fin ? this.finishMessage() : null;
  }

  /** `validated`: the bytes went through the stream validator already (validateAhead). */
  private appendPart(data: Buffer, validated = false): void {
    // Text is validated per fragment so a bad byte fails before the message ends (RFC 6455 §8.1).
    if (!this.messageBinary && !validated && !this.utf8.write(data)) throw invalidUtf8();
    if (data.length > 0) {
      this.parts.push(data);
      this.partsLength += data.length;
    }
  }

  private finishMessage(): ReceiverEvent {
    const binary = this.messageBinary;
    if (!binary && !this.utf8.end()) throw invalidUtf8();
    const parts = this.parts;
    const data = parts.length === 0 ? EMPTY : parts.length === 1 ? parts[0] : Buffer.concat(parts, this.partsLength);
    this.parts = [];
    this.partsLength = 0;
    this.messageOpcode = 0;
    return { type: 'message', binary, data };
  }

  /**
   * take() for a masked payload (RFC 6455 §5.3): unmasked in place when it lies
   * in one chunk, else unmasked while it is copied out of the chunks.
   */
  private takeUnmasked(length: number): Buffer {
    if (length === 0) return EMPTY;
    const queue = this.queue;
    if (queue.first().length - queue.firstOffset >= length) {
      const view = this.take(length);
      applyMaskKey(view, this.maskKey);
      return view;
    }
    const out = Buffer.allocUnsafe(length);
    unmaskTarget.out = out;
    unmaskTarget.key = this.maskKey;
    queue.forEachPiece(length, unmaskPiece, unmaskTarget);
    unmaskTarget.out = EMPTY;
    queue.skip(length);
    return out;
  }

  /** Removes and returns the next `length` bytes: a view when they lie in one chunk, else one copy. */
  private take(length: number): Buffer {
    if (length === 0) return EMPTY;
    const queue = this.queue;
    const first = queue.first();
    const offset = queue.firstOffset;
    if (first.length - offset >= length) {
      queue.skip(length);
      return first.subarray(offset, offset + length);
    }
    const out = Buffer.allocUnsafe(length);
    queue.copyOut(out, length);
    queue.skip(length);
    return out;
  }
}

/** validateAhead's key for an unmasked frame (a real key can be any 32-bit value, so -1 marks none). */
const NO_MASK = -1;
// What validatePiece checks with; shared like the scratch buffers (used synchronously only).
const scanTarget = { utf8: new Utf8StreamValidator(), key: NO_MASK };

function validatePiece(chunk: Buffer, start: number, end: number, copied: number, target: typeof scanTarget): void {
  const key = target.key;
  if (key !== NO_MASK) {
    if (end - start <= MASK_LOOP_MAX) {
      // Tiny pieces (bytes arriving one by one): XOR in place without a view.
      for (let i = start, p = copied; i < end; i++, p++) chunk[i] ^= (key >>> (24 - 8 * (p & 3))) & 0xff;
    } else {
      applyMaskKey(chunk.subarray(start, end), rotateKey(key, copied));
    }
  }
  if (!target.utf8.write(chunk, start, end)) throw invalidUtf8();
}

/** Up to this many bytes validatePiece unmasks byte by byte rather than through a view. */
const MASK_LOOP_MAX = 16;

/** The big-endian masking key rotated so that its first byte masks payload byte `position` (RFC 6455 §5.3). */
function rotateKey(key: number, position: number): number {
  const bits = (position & 3) * 8;
  return bits === 0 ? key : ((key << bits) | (key >>> (32 - bits))) >>> 0;
}

// Where unmaskPiece writes; shared like the scratch buffers (used synchronously only).
const unmaskTarget = { out: EMPTY, key: 0 };

function unmaskPiece(chunk: Buffer, start: number, end: number, copied: number, target: typeof unmaskTarget): void {
  // Each piece starts at key byte (copied mod 4).
  writeMaskKey(target.key, copied);
  copyMasked(chunk.subarray(start, end), maskScratch, target.out, copied);
}

/** Puts the big-endian masking key into maskScratch, rotated to start at key byte `position` mod 4. */
function writeMaskKey(key: number, position: number): void {
  for (let k = 0; k < 4; k++) maskScratch[k] = (key >>> (24 - 8 * ((position + k) & 3))) & 0xff;
}

function invalidUtf8(): ProtocolError {
  return new ProtocolError(CloseCode.InvalidPayload, 'WS_ERR_INVALID_UTF8', 'text message is not valid UTF-8');
}
