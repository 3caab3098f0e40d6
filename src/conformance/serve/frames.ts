/**
 * The fuzzing server's own frame codec: unmasked server frames out, masked
 * client frames in (RFC 6455 §5.2). Deliberately separate from src/protocol,
 * so the code that judges a client shares nothing with the code it may be
 * judging (our own client). Small on purpose: no extensions, no limits beyond
 * what a test run needs.
 */

export const OP = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

export interface ServerFrameSpec {
  opcode: number;
  payload?: Uint8Array | string;
  fin?: boolean;
  /** The three RSV bits as a number 0–7 (RFC 6455 §5.2). */
  rsv?: number;
}

export function toBytes(data: Uint8Array | string | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/** One unmasked frame as a server sends it (RFC 6455 §5.1: a server never masks). */
export function serverFrame(spec: ServerFrameSpec): Buffer {
  const payload = toBytes(spec.payload);
  const first = ((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | spec.opcode;
  let header: Buffer;
  // RFC 6455 §5.2: 7-bit length, or 126 + 16-bit, or 127 + 64-bit, always minimal here.
  if (payload.length < 126) {
    header = Buffer.from([first, payload.length]);
  } else if (payload.length < 0x10000) {
    header = Buffer.alloc(4);
    header[0] = first;
    header[1] = 126;
    header.writeUInt16BE(payload.length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = first;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  return Buffer.concat([header, payload]);
}

export function closeBody(code?: number, reason: Uint8Array | string = ''): Uint8Array {
  if (code === undefined) return new Uint8Array(0);
  const body = Buffer.alloc(2);
  body.writeUInt16BE(code, 0);
  return Buffer.concat([body, toBytes(reason)]);
}

/** A frame as the client sent it, unmasked. */
export interface ClientFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

/** The client broke the framing so badly that nothing after it can be read. */
export class ClientFrameError extends Error {}

/**
 * Incremental parser for the frames a client sends. Frames must be masked
 * (RFC 6455 §5.1); an unmasked one is still returned (masked: false) so the
 * verdict can name it. Lengths beyond `maxPayload` stop the parse: a test run
 * has no use for more and must stay bounded.
 */
export class ClientFrameParser {
  private buffered: Buffer = Buffer.alloc(0);

  constructor(private readonly maxPayload: number) {}

  push(chunk: Uint8Array): ClientFrame[] {
    this.buffered = this.buffered.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffered, chunk]);
    const frames: ClientFrame[] = [];
    for (;;) {
      const frame = this.next();
      if (frame === undefined) return frames;
      frames.push(frame);
    }
  }

  private next(): ClientFrame | undefined {
    const data = this.buffered;
    if (data.length < 2) return undefined;
    const masked = (data[1]! & 0x80) !== 0;
    let length = data[1]! & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (data.length < 4) return undefined;
      length = data.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (data.length < 10) return undefined;
      const long = data.readBigUInt64BE(2);
      if (long > BigInt(this.maxPayload)) throw new ClientFrameError(`frame of ${long} bytes exceeds the test limit`);
      length = Number(long);
      offset = 10;
    }
    if (length > this.maxPayload) throw new ClientFrameError(`frame of ${length} bytes exceeds the test limit`);
    const keyLength = masked ? 4 : 0;
    if (data.length < offset + keyLength + length) return undefined;
    const payload = Buffer.from(data.subarray(offset + keyLength, offset + keyLength + length));
    if (masked) {
      const key = data.subarray(offset, offset + 4);
      for (let i = 0; i < payload.length; i++) payload[i]! ^= key[i & 3]!;
    }
    this.buffered = data.subarray(offset + keyLength + length);
    return { fin: (data[0]! & 0x80) !== 0, rsv: (data[0]! >> 4) & 0x7, opcode: data[0]! & 0x0f, masked, payload };
  }
}

export function hex(data: Uint8Array, max = 32): string {
  const shown = Buffer.from(data.subarray(0, max)).toString('hex');
  return data.length > max ? `${shown}… (${data.length} bytes)` : shown;
}
