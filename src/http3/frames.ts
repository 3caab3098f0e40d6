/**
 * HTTP/3 frames (RFC 9114 §7): Type (varint), Length (varint), Payload.
 *
 * `FrameParser` reads the frames of one stream from chunks of any size. DATA
 * payloads are handed on piece by piece as they arrive, never buffered whole;
 * frames whose meaning needs the whole payload (HEADERS, SETTINGS, GOAWAY …)
 * are buffered up to a configured size; unknown and reserved types are skipped
 * without buffering (§7.2.8, §9). Which frame is allowed on which stream is the
 * session's business (it sees each frame header first through `frameStart`),
 * except for the HTTP/2-only types, which are an error anywhere.
 */
import {
  H3_EXCESSIVE_LOAD,
  H3_FRAME_ERROR,
  H3_FRAME_UNEXPECTED,
  connectionError,
  streamError,
} from './errors.js';
import { type Http3Settings, type LocalSettings, decodeSettings, encodeSettings } from './settings.js';
import { decodeVarint, decodeVarintBigInt, encodeVarint, varintLength, writeVarint } from './varint.js';

export const FrameType = {
  DATA: 0x00,
  HEADERS: 0x01,
  CANCEL_PUSH: 0x03,
  SETTINGS: 0x04,
  PUSH_PROMISE: 0x05,
  GOAWAY: 0x07,
  MAX_PUSH_ID: 0x0d,
} as const;

/**
 * PRIORITY, PING, WINDOW_UPDATE, CONTINUATION: reserved because HTTP/2 used
 * them; "their receipt MUST be treated as a connection error of type
 * H3_FRAME_UNEXPECTED" (RFC 9114 §7.2.8).
 */
export const HTTP2_ONLY_FRAME_TYPES: ReadonlySet<number> = new Set([0x02, 0x06, 0x08, 0x09]);

/** 0x1f * N + 0x21: reserved ("grease") frame types, to be ignored (RFC 9114 §7.2.8). */
export function isReservedFrameType(type: number | bigint): boolean {
  const big = BigInt(type);
  return big >= 0x21n && (big - 0x21n) % 0x1fn === 0n;
}

export type Frame =
  | { kind: 'headers'; block: Buffer }
  | { kind: 'settings'; settings: Http3Settings }
  | { kind: 'goaway'; id: bigint }
  | { kind: 'cancelPush'; pushId: bigint }
  | { kind: 'maxPushId'; pushId: bigint }
  | { kind: 'pushPromise'; pushId: bigint; block: Buffer };

export interface FrameHandler {
  /**
   * Called with each frame header before its payload is read. Throw to refuse
   * the frame; return 'skip' to have its payload discarded unread.
   */
  frameStart?(type: number, length: number): 'skip' | void;
  /** A piece of a DATA frame's payload, as it arrives (never empty). */
  data(chunk: Buffer): void;
  /** A complete buffered frame. */
  frame(frame: Frame): void;
  /** The stream ended cleanly (after end()) with every byte processed and no frame left open. */
  end?(): void;
}

export interface FrameParserOptions {
  /**
   * The largest HEADERS or PUSH_PROMISE payload buffered; a larger one is a
   * stream error H3_EXCESSIVE_LOAD unless frameStart skipped it. A limit we
   * impose ourselves is not a layout error (H3_FRAME_ERROR is for frames that
   * "fail to satisfy layout requirements", §8.1); refusing to spend memory on a
   * peer is what H3_EXCESSIVE_LOAD is for (§8.1, §10.5).
   */
  maxFieldSectionFrameSize: number;
  /** The largest SETTINGS payload buffered (connection error H3_EXCESSIVE_LOAD beyond); default 16 KiB. */
  maxSettingsFrameSize?: number;
}

/** Parser states (plain constants rather than an enum, so type-stripping loaders can run this file). */
const State = { Header: 0, Data: 1, Buffer: 2, Skip: 3 } as const;
type State = (typeof State)[keyof typeof State];

/** A GOAWAY, CANCEL_PUSH or MAX_PUSH_ID payload is one varint: 1 to 8 bytes. */
const SINGLE_VARINT_FRAMES: ReadonlySet<number> = new Set([FrameType.GOAWAY, FrameType.CANCEL_PUSH, FrameType.MAX_PUSH_ID]);

export class FrameParser {
  private readonly handler: FrameHandler;
  private readonly maxFieldSectionFrameSize: number;
  private readonly maxSettingsFrameSize: number;
  /** Chunks received but not processed yet (while paused); the first one from `offset`. */
  private readonly queue: Buffer[] = [];
  private offset = 0;
  private readonly header = Buffer.alloc(16);
  private headerLength = 0;
  private state: State = State.Header;
  private type = 0;
  private remaining = 0;
  private parts: Buffer[] = [];
  private pausedFlag = false;
  private processing = false;
  private ending = false;
  private finished = false;

  constructor(handler: FrameHandler, options: FrameParserOptions) {
    this.handler = handler;
    this.maxFieldSectionFrameSize = options.maxFieldSectionFrameSize;
    this.maxSettingsFrameSize = options.maxSettingsFrameSize ?? 16 * 1024;
  }

  get paused(): boolean {
    return this.pausedFlag;
  }

  /** True while a frame has been started but not finished. */
  get midFrame(): boolean {
    return this.state !== State.Header || this.headerLength > 0;
  }

  /** Bytes held while paused. */
  get queuedBytes(): number {
    let total = -this.offset;
    for (const chunk of this.queue) total += chunk.length;
    return total;
  }

  /** Parses `chunk`, calling the handler; throws an Http3Error on a protocol violation. */
  push(chunk: Buffer): void {
    if (this.ending) throw new Error('FrameParser: push after end');
    if (chunk.length === 0) return;
    this.queue.push(chunk);
    this.process();
  }

  /**
   * The stream's FIN: once every queued byte is processed, a frame left open
   * is H3_FRAME_ERROR ("if the last frame on the stream was truncated, this
   * MUST be treated as a connection error of type H3_FRAME_ERROR", §7.1),
   * otherwise handler.end() is called.
   */
  end(): void {
    this.ending = true;
    this.process();
  }

  /** Stops calling the handler (after the current callback) until resume(). */
  pause(): void {
    this.pausedFlag = true;
  }

  resume(): void {
    this.pausedFlag = false;
    this.process();
  }

  private process(): void {
    if (this.processing) return; // a handler pushed or resumed from inside a callback: the outer loop goes on
    this.processing = true;
    try {
      while (!this.pausedFlag && this.queue.length > 0) {
        const chunk = this.queue[0] as Buffer;
        if (this.offset >= chunk.length) {
          this.queue.shift();
          this.offset = 0;
          continue;
        }
        this.offset = this.step(chunk, this.offset);
      }
      if (!this.pausedFlag && this.ending && !this.finished && this.queue.length === 0) {
        this.finished = true;
        if (this.midFrame) throw connectionError(H3_FRAME_ERROR, 'stream ended inside a frame');
        this.handler.end?.();
      }
    } finally {
      this.processing = false;
    }
  }

  /** Consumes what it can of `chunk` from `offset` in the current state; returns the new offset. */
  private step(chunk: Buffer, offset: number): number {
    switch (this.state) {
      case State.Header:
        return this.readHeader(chunk, offset);
      case State.Data: {
        const n = Math.min(this.remaining, chunk.length - offset);
        this.remaining -= n;
        if (this.remaining === 0) this.state = State.Header;
        this.handler.data(chunk.subarray(offset, offset + n));
        return offset + n;
      }
      case State.Skip: {
        const n = Math.min(this.remaining, chunk.length - offset);
        this.remaining -= n;
        if (this.remaining === 0) this.state = State.Header;
        return offset + n;
      }
      case State.Buffer: {
        const n = Math.min(this.remaining, chunk.length - offset);
        this.parts.push(chunk.subarray(offset, offset + n));
        this.remaining -= n;
        if (this.remaining === 0) this.completeBuffered();
        return offset + n;
      }
    }
  }

  private readHeader(chunk: Buffer, offset: number): number {
    if (this.headerLength === 0) {
      // Fast path: the whole header is in this chunk.
      const type = decodeVarint(chunk, offset);
      const length = type === null ? null : decodeVarint(chunk, offset + type.length);
      if (type !== null && length !== null) {
        this.startFrame(type.value, length.value);
        return offset + type.length + length.length;
      }
    }
    // Slow path: gather the header byte by byte across chunks (at most 16 bytes).
    let i = offset;
    while (i < chunk.length) {
      this.header[this.headerLength++] = chunk[i++] as number;
      const view = this.header.subarray(0, this.headerLength);
      const type = decodeVarint(view, 0);
      const length = type === null ? null : decodeVarint(view, type.length);
      if (type !== null && length !== null) {
        this.headerLength = 0;
        this.startFrame(type.value, length.value);
        return i;
      }
    }
    return i;
  }

  private startFrame(type: number, length: number): void {
    if (HTTP2_ONLY_FRAME_TYPES.has(type)) {
      throw connectionError(H3_FRAME_UNEXPECTED, `HTTP/2 frame type 0x${type.toString(16)} is not allowed in HTTP/3`);
    }
    if (!Number.isSafeInteger(length)) {
      throw connectionError(H3_EXCESSIVE_LOAD, `frame length ${length} is beyond what we track`);
    }
    this.type = type;
    this.remaining = length;
    const action = this.handler.frameStart?.(type, length);
    if (action === 'skip') {
      this.state = length === 0 ? State.Header : State.Skip;
      return;
    }
    switch (type) {
      case FrameType.DATA:
        this.state = length === 0 ? State.Header : State.Data;
        return;
      case FrameType.HEADERS:
      case FrameType.PUSH_PROMISE:
        if (length > this.maxFieldSectionFrameSize) {
          throw streamError(
            H3_EXCESSIVE_LOAD,
            `${type === FrameType.HEADERS ? 'HEADERS' : 'PUSH_PROMISE'} frame of ${length} bytes exceeds ${this.maxFieldSectionFrameSize}`,
          );
        }
        break;
      case FrameType.SETTINGS:
        if (length > this.maxSettingsFrameSize) {
          throw connectionError(H3_EXCESSIVE_LOAD, `SETTINGS frame of ${length} bytes exceeds ${this.maxSettingsFrameSize}`);
        }
        break;
      case FrameType.GOAWAY:
      case FrameType.CANCEL_PUSH:
      case FrameType.MAX_PUSH_ID:
        // §7.1: the payload must hold exactly one varint, which takes 1 to 8 bytes.
        if (length < 1 || length > 8) {
          throw connectionError(H3_FRAME_ERROR, `frame type 0x${type.toString(16)} with a ${length}-byte payload`);
        }
        break;
      default:
        // Unknown and reserved types: "MUST be ignored" (§9); skipped unbuffered.
        this.state = length === 0 ? State.Header : State.Skip;
        return;
    }
    this.parts = [];
    this.state = State.Buffer;
    if (length === 0) this.completeBuffered();
  }

  private completeBuffered(): void {
    const payload = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts);
    this.parts = [];
    this.state = State.Header;
    this.handler.frame(decodeFramePayload(this.type, payload));
  }
}

/** Decodes the payload of a known buffered frame type (everything but DATA). */
export function decodeFramePayload(type: number, payload: Buffer): Frame {
  switch (type) {
    case FrameType.HEADERS:
      return { kind: 'headers', block: payload };
    case FrameType.SETTINGS:
      return { kind: 'settings', settings: decodeSettings(payload) };
    case FrameType.PUSH_PROMISE: {
      const pushId = decodeVarintBigInt(payload, 0);
      if (pushId === null) throw connectionError(H3_FRAME_ERROR, 'PUSH_PROMISE without a push ID');
      return { kind: 'pushPromise', pushId: pushId.value, block: payload.subarray(pushId.length) };
    }
    default: {
      if (!SINGLE_VARINT_FRAMES.has(type)) throw new Error(`not a buffered frame type: 0x${type.toString(16)}`);
      const value = decodeVarintBigInt(payload, 0);
      // §7.1 / §10.8: the length must match the one field exactly.
      if (value === null || value.length !== payload.length) {
        throw connectionError(H3_FRAME_ERROR, `frame type 0x${type.toString(16)}: payload is not exactly one varint`);
      }
      if (type === FrameType.GOAWAY) return { kind: 'goaway', id: value.value };
      if (type === FrameType.CANCEL_PUSH) return { kind: 'cancelPush', pushId: value.value };
      return { kind: 'maxPushId', pushId: value.value };
    }
  }
}

// --- Encoders ---------------------------------------------------------------

/** Type and Length of a frame whose payload is written separately (e.g. a large DATA payload). */
export function encodeFrameHeader(type: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(varintLength(type) + varintLength(length));
  writeVarint(out, writeVarint(out, 0, type), length);
  return out;
}

export function encodeFrame(type: number, payload: Uint8Array): Buffer {
  const header = encodeFrameHeader(type, payload.length);
  const out = Buffer.allocUnsafe(header.length + payload.length);
  header.copy(out, 0);
  out.set(payload, header.length);
  return out;
}

export function encodeDataFrame(payload: Uint8Array): Buffer {
  return encodeFrame(FrameType.DATA, payload);
}

export function encodeHeadersFrame(block: Uint8Array): Buffer {
  return encodeFrame(FrameType.HEADERS, block);
}

export function encodeSettingsFrame(settings: LocalSettings): Buffer {
  return encodeFrame(FrameType.SETTINGS, encodeSettings(settings));
}

/** GOAWAY with a stream ID (server) or push ID (client), RFC 9114 §7.2.6. */
export function encodeGoawayFrame(id: number | bigint): Buffer {
  return encodeFrame(FrameType.GOAWAY, encodeVarint(id));
}

export function encodeCancelPushFrame(pushId: number | bigint): Buffer {
  return encodeFrame(FrameType.CANCEL_PUSH, encodeVarint(pushId));
}

export function encodeMaxPushIdFrame(pushId: number | bigint): Buffer {
  return encodeFrame(FrameType.MAX_PUSH_ID, encodeVarint(pushId));
}

export function encodePushPromiseFrame(pushId: number | bigint, block: Uint8Array): Buffer {
  return encodeFrame(FrameType.PUSH_PROMISE, Buffer.concat([encodeVarint(pushId), block]));
}
