/**
 * A raw HTTP/2 peer (RFC 9113) for attack tests: writes exact frames
 * (including ones a real client library refuses to send) and records every
 * frame the server sends. HPACK is written as literals without indexing and
 * without Huffman coding (RFC 7541 §6.2.2), which every decoder must accept;
 * response header blocks are decoded only as far as `:status`.
 */
import net from 'node:net';
import tls from 'node:tls';
import { huffmanDecode } from '../http3/qpack/huffman.js';

export const FrameType = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
export const Flag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;
export const ErrorCode = { NO_ERROR: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2, REFUSED_STREAM: 7, CANCEL: 8, ENHANCE_YOUR_CALM: 0xb } as const;
export const Setting = { MAX_CONCURRENT_STREAMS: 3, INITIAL_WINDOW_SIZE: 4, ENABLE_CONNECT_PROTOCOL: 8 } as const;

export interface H2Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const WIDE_WINDOW = 16 * 1024 * 1024;

export function encodeFrame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** RFC 7541 §5.1 integer with an n-bit prefix (the prefix's other bits in `first`). */
function hpackInteger(value: number, prefixBits: number, first = 0): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [first | value];
  const out = [first | max];
  value -= max;
  while (value >= 128) {
    out.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  out.push(value);
  return out;
}

/** A header block of literal fields without indexing, new names (RFC 7541 §6.2.2). */
export function hpackLiterals(fields: Array<[string, string]>): Buffer {
  const bytes: number[] = [];
  for (const [name, value] of fields) {
    bytes.push(0x00);
    for (const text of [name, value]) {
      const raw = Buffer.from(text, 'latin1');
      bytes.push(...hpackInteger(raw.length, 7), ...raw);
    }
  }
  return Buffer.from(bytes);
}

// RFC 7541 Appendix A: static table entries 8-14 are ":status" with these values.
const STATIC_STATUS: Record<number, number> = { 8: 200, 9: 204, 10: 206, 11: 304, 12: 400, 13: 404, 14: 500 };

/** The `:status` of a response HEADERS block whose first field is :status (as nghttp2 writes it). */
export function statusOf(block: Buffer): number | undefined {
  const first = block[0];
  if ((first & 0x80) !== 0) return STATIC_STATUS[first & 0x7f];
  // Literal with an indexed name: 6-bit prefix (incremental indexing) or 4-bit (without / never indexed).
  const index = (first & 0x40) !== 0 ? first & 0x3f : first & 0x0f;
  if (index < 8 || index > 14) return undefined;
  const huffman = (block[1] & 0x80) !== 0;
  const length = block[1] & 0x7f;
  const raw = block.subarray(2, 2 + length);
  return Number((huffman ? huffmanDecode(raw) : raw).toString('latin1'));
}

export interface RawH2Options {
  port: number;
  host?: string;
  /** TLS with ALPN h2 (trust settings for the test CA); cleartext prior knowledge (h2c) when absent. */
  tls?: tls.ConnectionOptions;
  /**
   * Our SETTINGS (id → value); sent right after the preface. By default the
   * windows are opened to 16 MiB (stream and connection), so the server never
   * waits for a WINDOW_UPDATE from this peer.
   */
  settings?: Array<[number, number]>;
  /** Answer the server's SETTINGS with an ACK (default true). */
  ackSettings?: boolean;
}

export class RawH2 {
  readonly socket: net.Socket;
  /** Every frame received, in order. */
  readonly frames: H2Frame[] = [];
  /** Resolves when the socket has closed (whoever closed it). */
  readonly closed: Promise<void>;
  private buffer: Buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private readonly ackSettings: boolean;

  private constructor(socket: net.Socket, ackSettings: boolean) {
    this.socket = socket;
    this.ackSettings = ackSettings;
    socket.on('error', () => {}); // a reset shows as 'close'
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    void this.closed.then(() => this.wake());
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  static async connect(options: RawH2Options): Promise<RawH2> {
    const host = options.host ?? '127.0.0.1';
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = options.tls
        ? tls.connect({ host, port: options.port, ALPNProtocols: ['h2'], ...options.tls }, () => resolve(s))
        : net.connect({ host, port: options.port }, () => resolve(s));
      s.once('error', reject);
    });
    socket.setNoDelay(true);
    const peer = new RawH2(socket, options.ackSettings ?? true);
    const window = Buffer.alloc(4);
    window.writeUInt32BE(WIDE_WINDOW - 65535);
    socket.write(
      Buffer.concat([
        PREFACE,
        peer.settingsFrame(options.settings ?? [[Setting.INITIAL_WINDOW_SIZE, WIDE_WINDOW]]),
        encodeFrame(FrameType.WINDOW_UPDATE, 0, 0, window),
      ]),
    );
    return peer;
  }

  settingsFrame(entries: Array<[number, number]>): Buffer {
    const payload = Buffer.alloc(6 * entries.length);
    entries.forEach(([id, value], i) => {
      payload.writeUInt16BE(id, i * 6);
      payload.writeUInt32BE(value, i * 6 + 2);
    });
    return encodeFrame(FrameType.SETTINGS, 0, 0, payload);
  }

  send(frame: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(frame);
  }

  headers(streamId: number, fields: Array<[string, string]>, options: { endStream?: boolean } = {}): void {
    this.send(encodeFrame(FrameType.HEADERS, Flag.END_HEADERS | (options.endStream ? Flag.END_STREAM : 0), streamId, hpackLiterals(fields)));
  }

  /** An RFC 8441 extended CONNECT for a WebSocket (no END_STREAM unless asked). */
  connectWebSocket(streamId: number, options: { path?: string; authority?: string; extra?: Array<[string, string]>; endStream?: boolean } = {}): void {
    const authority = options.authority ?? `127.0.0.1:${this.socket.remotePort}`;
    this.headers(
      streamId,
      [
        [':method', 'CONNECT'],
        [':protocol', 'websocket'],
        [':scheme', this.socket instanceof tls.TLSSocket ? 'https' : 'http'],
        [':path', options.path ?? '/echo'],
        [':authority', authority],
        ['sec-websocket-version', '13'],
        ...(options.extra ?? []),
      ],
      { endStream: options.endStream },
    );
  }

  data(streamId: number, payload: Buffer | Uint8Array, endStream = false): void {
    this.send(encodeFrame(FrameType.DATA, endStream ? Flag.END_STREAM : 0, streamId, Buffer.from(payload)));
  }

  rst(streamId: number, code: number): void {
    const payload = Buffer.alloc(4);
    payload.writeUInt32BE(code);
    this.send(encodeFrame(FrameType.RST_STREAM, 0, streamId, payload));
  }

  /** Resolves with the first received frame (from index `from`) matching; rejects on close or after `timeoutMs`. */
  async waitFor(predicate: (frame: H2Frame) => boolean, options: { from?: number; timeoutMs?: number; what?: string } = {}): Promise<H2Frame> {
    const deadline = Date.now() + (options.timeoutMs ?? 5000);
    for (let i = options.from ?? 0; ; ) {
      for (; i < this.frames.length; i++) if (predicate(this.frames[i])) return this.frames[i];
      if (this.socket.destroyed) throw new Error(`connection closed before ${options.what ?? 'the frame'} arrived`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`no ${options.what ?? 'matching frame'} within ${options.timeoutMs ?? 5000} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves when the server has closed the connection; rejects after `timeoutMs` (a bound, so a failure does not hang). */
  closedWithin(timeoutMs: number): Promise<void> {
    return closedWithin(this.socket, timeoutMs);
  }

  /** The RST_STREAM code the server sent on `streamId`, if any. */
  resetCode(streamId: number): number | undefined {
    const frame = this.frames.find((f) => f.type === FrameType.RST_STREAM && f.streamId === streamId);
    return frame?.payload.readUInt32BE(0);
  }

  /** The GOAWAY the server sent, if any: last stream id and error code. */
  goaway(): { lastStreamId: number; code: number } | undefined {
    const frame = this.frames.find((f) => f.type === FrameType.GOAWAY);
    return frame && { lastStreamId: frame.payload.readUInt32BE(0) & 0x7fffffff, code: frame.payload.readUInt32BE(4) };
  }

  /** DATA bytes received on a stream so far. */
  dataOn(streamId: number): Buffer {
    return Buffer.concat(this.frames.filter((f) => f.type === FrameType.DATA && f.streamId === streamId).map((f) => f.payload));
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 9) {
      const length = this.buffer.readUIntBE(0, 3);
      if (this.buffer.length < 9 + length) break;
      const frame: H2Frame = {
        type: this.buffer[3],
        flags: this.buffer[4],
        streamId: this.buffer.readUInt32BE(5) & 0x7fffffff,
        payload: this.buffer.subarray(9, 9 + length),
      };
      this.buffer = this.buffer.subarray(9 + length);
      this.frames.push(frame);
      if (frame.type === FrameType.SETTINGS && (frame.flags & Flag.ACK) === 0 && this.ackSettings) {
        this.send(encodeFrame(FrameType.SETTINGS, Flag.ACK, 0));
      }
    }
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/** Resolves when `socket` closes; rejects after `timeoutMs`. */
export function closedWithin(socket: net.Socket, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed) return resolve();
    const timer = setTimeout(() => reject(new Error(`the server kept the connection open for ${timeoutMs} ms`)), timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
