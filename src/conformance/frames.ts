/**
 * Independent RFC 6455 / RFC 7692 frame toolkit for the conformance suite.
 *
 * This file deliberately shares NO code with the project's src/: the suite is
 * a peer that checks our implementation, so it must not reuse it. Everything
 * here is written straight from the RFC text:
 *
 *  - buildFrame(): client frames with arbitrary FIN / RSV1-3 / opcode / mask /
 *    length encodings, including deliberately wrong ones (non-minimal length,
 *    64-bit length with the MSB set, announced length different from the
 *    payload, header-only frames, unmasked frames).
 *  - FrameParser: an incremental parser for frames the server sends; it is
 *    permissive (it reports what it saw, e.g. `masked`, `minimalLength`) so
 *    that the suite can assert on server mistakes instead of crashing.
 *  - serverFrameProblems(): RFC rules every server frame must follow.
 *  - deflate helpers (node:zlib): build permessage-deflate payloads, with or
 *    without context takeover, and inflate the server's compressed messages.
 */
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';

/** RFC 6455 §5.2 opcodes (the named ones; everything else is reserved). */
export const OP = {
  CONT: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

export const isControl = (opcode: number): boolean => (opcode & 0x8) !== 0;
export const isKnownOpcode = (opcode: number): boolean =>
  opcode === OP.CONT ||
  opcode === OP.TEXT ||
  opcode === OP.BINARY ||
  opcode === OP.CLOSE ||
  opcode === OP.PING ||
  opcode === OP.PONG;

const encoder = new TextEncoder();

export function bytes(data: Uint8Array | string | number[] | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  if (typeof data === 'string') return encoder.encode(data);
  if (Array.isArray(data)) return Uint8Array.from(data);
  return data;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(
    Buffer.from(b.buffer, b.byteOffset, b.length),
  );
}

export function hex(data: Uint8Array, max = 48): string {
  const h = Buffer.from(data.buffer, data.byteOffset, data.length).toString('hex');
  return h.length > max * 2 ? `${h.slice(0, max * 2)}…(${data.length} bytes)` : h;
}

/** Strict UTF-8 decode (fatal). Returns undefined when the bytes are not valid UTF-8. */
export function decodeUtf8(data: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(data);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------
// Client frame builder
// ---------------------------------------------------------------------------

export interface ClientFrameSpec {
  opcode: number;
  payload?: Uint8Array | string | number[];
  /** default true */
  fin?: boolean;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  /**
   * true (default): mask with a random key; false: send unmasked (illegal for a
   * client, RFC 6455 §5.1); a 4-byte array: use that key.
   */
  mask?: boolean | Uint8Array;
  /**
   * How to encode the payload length: 'minimal' (default, RFC 6455 §5.2), or
   * force the 7-bit, 16-bit (126) or 64-bit (127) form, which is a protocol
   * violation when it is not the minimal one.
   */
  lengthEncoding?: 'minimal' | 7 | 16 | 64;
  /**
   * Announce this length in the header instead of the real payload length
   * (a bigint can set the most significant bit of the 64-bit form).
   */
  declaredLength?: number | bigint;
  /** Emit the header (and masking key) only; the payload is not appended. */
  headerOnly?: boolean;
}

export function buildFrame(spec: ClientFrameSpec): Uint8Array {
  const payload = bytes(spec.payload);
  const fin = spec.fin ?? true;
  const declared = spec.declaredLength ?? payload.length;
  const declaredBig = typeof declared === 'bigint' ? declared : BigInt(declared);

  let enc = spec.lengthEncoding ?? 'minimal';
  if (enc === 'minimal') enc = declaredBig < 126n ? 7 : declaredBig < 65536n ? 16 : 64;

  const maskSpec = spec.mask ?? true;
  const key: Uint8Array | undefined =
    maskSpec === false ? undefined : maskSpec === true ? randomBytes(4) : maskSpec;
  if (key !== undefined && key.length !== 4) throw new Error('mask key must be 4 bytes');

  const head: number[] = [];
  head.push(
    (fin ? 0x80 : 0) |
      (spec.rsv1 ? 0x40 : 0) |
      (spec.rsv2 ? 0x20 : 0) |
      (spec.rsv3 ? 0x10 : 0) |
      (spec.opcode & 0x0f),
  );
  const maskBit = key ? 0x80 : 0;
  if (enc === 7) {
    if (declaredBig > 125n) throw new Error('7-bit length cannot hold ' + declaredBig);
    head.push(maskBit | Number(declaredBig));
  } else if (enc === 16) {
    if (declaredBig > 0xffffn) throw new Error('16-bit length cannot hold ' + declaredBig);
    head.push(maskBit | 126, Number(declaredBig >> 8n) & 0xff, Number(declaredBig) & 0xff);
  } else {
    head.push(maskBit | 127);
    for (let i = 7; i >= 0; i--) head.push(Number((declaredBig >> BigInt(i * 8)) & 0xffn));
  }
  const header = Uint8Array.from(head);
  const parts: Uint8Array[] = [header];
  if (key) parts.push(key);
  if (!spec.headerOnly) parts.push(key ? applyMask(payload, key) : payload);
  return concat(parts);
}

export function applyMask(data: Uint8Array, key: Uint8Array, offset = 0): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! ^ key[(i + offset) & 3]!;
  return out;
}

type FrameOpts = Omit<ClientFrameSpec, 'opcode' | 'payload'>;

export const textFrame = (payload: Uint8Array | string | number[], o: FrameOpts = {}) =>
  buildFrame({ ...o, opcode: OP.TEXT, payload });
export const binaryFrame = (payload: Uint8Array | string | number[], o: FrameOpts = {}) =>
  buildFrame({ ...o, opcode: OP.BINARY, payload });
export const contFrame = (payload: Uint8Array | string | number[], o: FrameOpts = {}) =>
  buildFrame({ ...o, opcode: OP.CONT, payload });
export const pingFrame = (payload: Uint8Array | string | number[] = [], o: FrameOpts = {}) =>
  buildFrame({ ...o, opcode: OP.PING, payload });
export const pongFrame = (payload: Uint8Array | string | number[] = [], o: FrameOpts = {}) =>
  buildFrame({ ...o, opcode: OP.PONG, payload });

/** Close payload: 2-byte big-endian code followed by the (raw) reason bytes. */
export function closePayload(code: number, reason: Uint8Array | string = new Uint8Array(0)): Uint8Array {
  const r = bytes(reason);
  const out = new Uint8Array(2 + r.length);
  out[0] = (code >> 8) & 0xff;
  out[1] = code & 0xff;
  out.set(r, 2);
  return out;
}

/** A close frame; `closeFrame()` has an empty payload. */
export function closeFrame(code?: number, reason?: Uint8Array | string, o: FrameOpts = {}): Uint8Array {
  const payload = code === undefined ? new Uint8Array(0) : closePayload(code, reason);
  return buildFrame({ ...o, opcode: OP.CLOSE, payload });
}

/**
 * Split `data` into a fragmented message: first frame `opcode` (FIN=0), then
 * continuations, FIN on the last. `sizes` is either a fixed fragment size or
 * the explicit list of fragment sizes (zeros allowed: empty fragments; the
 * sizes must add up to data.length). RSV1 (`compressed`) goes on the first
 * frame only (RFC 7692 §6.1).
 */
export function fragmentMessage(
  opcode: number,
  data: Uint8Array,
  sizes: number | readonly number[],
  o: { compressed?: boolean } = {},
): Uint8Array[] {
  let list: number[];
  if (typeof sizes === 'number') {
    if (sizes <= 0) throw new Error('fragment size must be positive');
    list = [];
    for (let off = 0; off < data.length; off += sizes) list.push(Math.min(sizes, data.length - off));
    if (list.length === 0) list.push(0);
  } else {
    list = [...sizes];
    const sum = list.reduce((a, b) => a + b, 0);
    if (sum !== data.length) throw new Error(`fragment sizes add up to ${sum}, not ${data.length}`);
  }
  const frames: Uint8Array[] = [];
  let off = 0;
  list.forEach((n, i) => {
    frames.push(
      buildFrame({
        opcode: i === 0 ? opcode : OP.CONT,
        payload: data.subarray(off, off + n),
        fin: i === list.length - 1,
        rsv1: i === 0 && !!o.compressed,
      }),
    );
    off += n;
  });
  return frames;
}

// ---------------------------------------------------------------------------
// Server frame parser
// ---------------------------------------------------------------------------

export interface ServerFrame {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  /** the server set the MASK bit (forbidden, RFC 6455 §5.1) */
  masked: boolean;
  /** payload after unmasking */
  payload: Uint8Array;
  /** which length form the server used */
  lengthEncoding: 7 | 16 | 64;
  /** whether that form was the minimal one (RFC 6455 §5.2 "MUST") */
  minimalLength: boolean;
}

export class FrameParseError extends Error {
  override name = 'FrameParseError';
}

/**
 * Incremental parser for server-to-client frames. push() returns every frame
 * completed by the new bytes; partial frames stay buffered.
 */
export class FrameParser {
  private chunks: Uint8Array[] = [];
  private size = 0;
  constructor(private readonly maxFramePayload = 512 * 1024 * 1024) {}

  get bufferedBytes(): number {
    return this.size;
  }

  push(chunk: Uint8Array): ServerFrame[] {
    if (chunk.length) {
      this.chunks.push(chunk);
      this.size += chunk.length;
    }
    const frames: ServerFrame[] = [];
    for (;;) {
      const f = this.tryParse();
      if (!f) break;
      frames.push(f);
    }
    return frames;
  }

  private peek(n: number): Uint8Array {
    if (this.chunks.length === 0) return new Uint8Array(0);
    if (this.chunks[0]!.length >= n) return this.chunks[0]!.subarray(0, n);
    const merged = concat(this.chunks);
    this.chunks = [merged];
    return merged.subarray(0, n);
  }

  /**
   * Removes the next `n` bytes into a buffer of their own, XORed with `mask`
   * (RFC 6455 §5.3) when given: one copy however they are chunked, so a 16 MiB
   * frame (Autobahn 9.1.6) costs its payload once, not once per step.
   */
  private take(n: number, mask?: Uint8Array): Uint8Array {
    const out = new Uint8Array(n);
    // Whole chunks consumed are dropped together at the end: one splice per
    // frame, not a shift() per chunk (a 16 MiB frame can arrive in thousands).
    let used = 0;
    for (let filled = 0; filled < n; ) {
      const chunk = this.chunks[used]!;
      const piece = chunk.subarray(0, n - filled);
      out.set(piece, filled);
      filled += piece.length;
      if (piece.length === chunk.length) used++;
      else this.chunks[used] = chunk.subarray(piece.length);
    }
    this.chunks.splice(0, used);
    this.size -= n;
    if (mask) for (let i = 0; i < n; i++) out[i] = out[i]! ^ mask[i & 3]!;
    return out;
  }

  private tryParse(): ServerFrame | undefined {
    if (this.size < 2) return undefined;
    const h = this.peek(Math.min(this.size, 14));
    const b0 = h[0]!;
    const b1 = h[1]!;
    const masked = (b1 & 0x80) !== 0;
    const len7 = b1 & 0x7f;
    let headerLen = 2;
    let length: number;
    let lengthEncoding: 7 | 16 | 64 = 7;
    if (len7 === 126) {
      if (h.length < 4) return undefined;
      length = (h[2]! << 8) | h[3]!;
      headerLen = 4;
      lengthEncoding = 16;
    } else if (len7 === 127) {
      if (h.length < 10) return undefined;
      if (h[2]! & 0x80) throw new FrameParseError('server frame: 64-bit length with the most significant bit set');
      let big = 0n;
      for (let i = 2; i < 10; i++) big = (big << 8n) | BigInt(h[i]!);
      if (big > BigInt(this.maxFramePayload)) {
        throw new FrameParseError(`server frame announces ${big} bytes, above the parser's sanity limit`);
      }
      length = Number(big);
      headerLen = 10;
      lengthEncoding = 64;
    } else {
      length = len7;
    }
    const minimalLength =
      lengthEncoding === 7 ? true : lengthEncoding === 16 ? length >= 126 : length >= 65536;
    if (masked) headerLen += 4;
    if (this.size < headerLen + length) return undefined;
    const header = this.take(headerLen);
    const payload = this.take(length, masked ? header.subarray(headerLen - 4, headerLen) : undefined);
    return {
      fin: (b0 & 0x80) !== 0,
      rsv1: (b0 & 0x40) !== 0,
      rsv2: (b0 & 0x20) !== 0,
      rsv3: (b0 & 0x10) !== 0,
      opcode: b0 & 0x0f,
      masked,
      payload,
      lengthEncoding,
      minimalLength,
    };
  }
}

/**
 * RFC rules every frame a server sends must follow. `compressedAllowed` says
 * whether RSV1 may appear on this frame (permessage-deflate negotiated and this
 * is the first frame of a data message, RFC 7692 §6).
 */
export function serverFrameProblems(f: ServerFrame, compressedAllowed: boolean): string[] {
  const p: string[] = [];
  if (f.masked) p.push('server frame is masked (RFC 6455 §5.1: a server MUST NOT mask)');
  if (!f.minimalLength) p.push(`server used a non-minimal ${f.lengthEncoding}-bit length for ${f.payload.length} bytes (RFC 6455 §5.2)`);
  if (f.rsv2 || f.rsv3) p.push('server set RSV2/RSV3 without a negotiated extension');
  if (f.rsv1 && !compressedAllowed) p.push('server set RSV1 where permessage-deflate does not allow it');
  if (!isKnownOpcode(f.opcode)) p.push(`server used reserved opcode ${f.opcode}`);
  if (isControl(f.opcode)) {
    if (!f.fin) p.push('server fragmented a control frame (RFC 6455 §5.5)');
    if (f.payload.length > 125) p.push('server control frame payload > 125 bytes (RFC 6455 §5.5)');
  }
  return p;
}

export interface ParsedClose {
  /** undefined for an empty close payload */
  code?: number;
  reason: Uint8Array;
}

export function parseClosePayload(p: Uint8Array): ParsedClose {
  if (p.length === 0) return { reason: new Uint8Array(0) };
  if (p.length === 1) return { code: -1, reason: new Uint8Array(0) };
  return { code: (p[0]! << 8) | p[1]!, reason: p.subarray(2) };
}

// ---------------------------------------------------------------------------
// permessage-deflate (RFC 7692) helpers
// ---------------------------------------------------------------------------

const TAIL = Uint8Array.from([0x00, 0x00, 0xff, 0xff]);

export interface DeflateOptions {
  /** LZ77 window (RFC 7692 *_max_window_bits); 8 is served as Huffman-only so no distance exceeds 256 */
  windowBits?: number;
  /** previous uncompressed data (context takeover) */
  dictionary?: Uint8Array;
  /** end with a BFINAL=1 block instead of an empty stored block (RFC 7692 §7.2.3.4) */
  final?: boolean;
  level?: number;
}

/**
 * Compress one message payload as RFC 7692 §7.2.1 describes: raw DEFLATE,
 * flushed with an empty stored block whose 00 00 FF FF tail is removed.
 */
export function deflateMessage(data: Uint8Array, o: DeflateOptions = {}): Uint8Array {
  const wb = o.windowBits ?? 15;
  const opts: zlib.ZlibOptions = {
    windowBits: Math.max(9, wb),
    level: o.level ?? 6,
    finishFlush: o.final ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH,
  };
  if (wb <= 8) opts.strategy = zlib.constants.Z_HUFFMAN_ONLY;
  if (o.dictionary && o.dictionary.length && wb > 8) {
    opts.dictionary = Buffer.from(o.dictionary.subarray(Math.max(0, o.dictionary.length - (1 << wb))));
  }
  const out = new Uint8Array(zlib.deflateRawSync(data, opts));
  if (o.final) return out;
  if (out.length >= 4 && equalBytes(out.subarray(out.length - 4), TAIL)) return out.subarray(0, out.length - 4);
  throw new Error('zlib output did not end with the sync-flush tail');
}

export interface InflateOptions {
  /** the window the sender promised to respect; inflating with it checks the promise (to within 64 bytes) */
  windowBits?: number;
  dictionary?: Uint8Array;
  /** refuse to produce more than this many bytes */
  maxOutputLength?: number;
}

/** Decompress one server message (RFC 7692 §7.2.2: append 00 00 FF FF, inflate). */
export function inflateMessage(data: Uint8Array, o: InflateOptions = {}): Uint8Array {
  const wb = o.windowBits ?? 15;
  const opts: zlib.ZlibOptions = {
    windowBits: wb,
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  };
  // zlib only enforces the window for references that reach back past the
  // current output buffer; tiny output chunks make it check (nearly) every
  // distance against 2^windowBits (slack: one 64-byte chunk).
  if (wb < 15) opts.chunkSize = 64;
  if (o.maxOutputLength !== undefined) opts.maxOutputLength = o.maxOutputLength;
  if (o.dictionary && o.dictionary.length) {
    opts.dictionary = Buffer.from(o.dictionary.subarray(Math.max(0, o.dictionary.length - (1 << wb))));
  }
  return new Uint8Array(zlib.inflateRawSync(concat([data, TAIL]), opts));
}

/** A bounded record of the uncompressed bytes that went through one compressor (for context takeover). */
export class DeflateHistory {
  private buf: Uint8Array = new Uint8Array(0);
  constructor(private readonly keep = 32768) {}
  append(data: Uint8Array): void {
    const merged = concat([this.buf, data]);
    this.buf = merged.subarray(Math.max(0, merged.length - this.keep));
  }
  reset(): void {
    this.buf = new Uint8Array(0);
  }
  get bytes(): Uint8Array {
    return this.buf;
  }
}

// ---------------------------------------------------------------------------
// Misc
// ---------------------------------------------------------------------------

/** Deterministic PRNG (mulberry32) so "random" cases are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` bytes of deterministic pseudo-random data. */
export function pseudoRandomBytes(n: number, seed = 1): Uint8Array {
  const r = prng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() * 256) | 0;
  return out;
}

/** Printable ASCII text of length n (valid UTF-8, compressible). */
export function asciiText(n: number, seed = 7): string {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'echo', 'frame', 'mask', 'close', 'ping', 'pong'];
  const r = prng(seed);
  let s = '';
  while (s.length < n) s += words[(r() * words.length) | 0] + ' ';
  return s.slice(0, n);
}
