/**
 * The fuzzing server's side of the conformance frame toolkit (../frames.ts,
 * which shares no code with src/protocol): server frames are its frames built
 * unmasked, client frames are parsed by its permissive parser, which reports
 * the MASK bit instead of rejecting either form, so a verdict can name it.
 */
import { buildFrame, bytes, closePayload } from '../frames.js';

export { OP, FrameParser, FrameParseError, hex, decodeUtf8, type ServerFrame as WireFrame } from '../frames.js';

export interface ServerFrameSpec {
  opcode: number;
  payload?: Uint8Array | string;
  fin?: boolean;
  /** The three RSV bits as a number 0–7 (RFC 6455 §5.2). */
  rsv?: number;
}

/** One unmasked frame as a server sends it (RFC 6455 §5.1: a server never masks). */
export function serverFrame(spec: ServerFrameSpec): Buffer {
  const rsv = spec.rsv ?? 0;
  return Buffer.from(buildFrame({ opcode: spec.opcode, payload: spec.payload ?? '', fin: spec.fin ?? true, rsv1: (rsv & 4) !== 0, rsv2: (rsv & 2) !== 0, rsv3: (rsv & 1) !== 0, mask: false }));
}

/**
 * A frame as its header and the payload itself, not copied into one buffer:
 * the 9.x messages (up to 16 MiB) are written from one shared payload.
 */
export function serverFrameParts(opcode: number, payload: Buffer, fin = true): [Buffer, Buffer] {
  return [Buffer.from(buildFrame({ opcode, payload: '', declaredLength: payload.length, headerOnly: true, fin, mask: false })), payload];
}

/** A close frame's body: empty without a code (RFC 6455 §5.5.1). */
export function closeBody(code?: number, reason: Uint8Array | string = ''): Uint8Array {
  return code === undefined ? new Uint8Array(0) : closePayload(code, reason);
}

export const toBytes = (data: Uint8Array | string | undefined): Uint8Array => bytes(data);
