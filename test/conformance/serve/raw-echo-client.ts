/**
 * A raw-socket Autobahn echo client (HTTP/1.1), correct by default, whose
 * knobs break one rule each: the fuzzing server must fail exactly the cases
 * that rule is about. It uses the conformance frame toolkit (as the fuzzing
 * server does, never src/protocol): it is a fixture that breaks rules on
 * purpose; the independent drivers of the fuzzing server are our client (src/protocol)
 * and python-websockets.
 */
import { connect, type Socket } from 'node:net';
import { TextDecoder } from 'node:util';
import { DeflateHistory, FrameParser, buildFrame, closePayload, decodeUtf8, deflateMessage, inflateMessage, type ServerFrame } from '../../helpers/frames.js';

export interface Breakage {
  /** Send frames unmasked (RFC 6455 §5.1). */
  noMask?: boolean;
  /** Never answer a close: drop the connection instead (RFC 6455 §5.5.1: a close is answered with a close). */
  dropOnClose?: boolean;
  /** Accept invalid UTF-8 in text messages and close reasons (RFC 6455 §8.1). */
  acceptInvalidUtf8?: boolean;
  /** Ignore RSV bits (RFC 6455 §5.2). */
  ignoreRsv?: boolean;
  /** Offer permessage-deflate (RFC 7692) and, when accepted, echo compressed in two frames: a correct client, unless broken below. */
  deflate?: boolean;
  /** Set RSV1 on the continuation frame of a compressed echo too (RFC 7692 §6.1: first frame only). */
  rsv1OnContinuation?: boolean;
  /** Echo the compressed bytes without RSV1 (RFC 7692 §6: RSV1 marks a compressed message). */
  compressedWithoutRsv1?: boolean;
  /** Compress with a 32 KiB window whatever client_max_window_bits the server answered (RFC 7692 §7.1.2.2). */
  ignoreClientWindow?: boolean;
  /** Echo no data message whose number (1-based, per connection) is a multiple of this: a lost message. */
  dropEvery?: number;
  /** Echo only the first this many bytes of a longer message: a client with a smaller buffer than it claims. */
  truncateAbove?: number;
  /** Send nothing after the handshake, not even a close: a stalled client. */
  silent?: boolean;
}

/** The permessage-deflate state of one connection, from the server's Sec-WebSocket-Extensions answer. */
class RawDeflate {
  private readonly inHistory = new DeflateHistory();
  private readonly outHistory = new DeflateHistory();
  private readonly serverTakeover: boolean;
  private readonly clientTakeover: boolean;
  private readonly clientBits: number;
  constructor(answer: string, ignoreClientWindow: boolean) {
    this.serverTakeover = !/server_no_context_takeover/.test(answer);
    this.clientTakeover = !/client_no_context_takeover/.test(answer);
    this.clientBits = ignoreClientWindow ? 15 : Number(/client_max_window_bits=(\d+)/.exec(answer)?.[1] ?? 15);
  }
  inflate(data: Uint8Array): Buffer {
    const out = inflateMessage(data, this.serverTakeover ? { dictionary: this.inHistory.bytes } : {});
    if (this.serverTakeover) this.inHistory.append(out);
    return Buffer.from(out);
  }
  deflate(data: Uint8Array): Uint8Array {
    const out = deflateMessage(data, { windowBits: this.clientBits, ...(this.clientTakeover ? { dictionary: this.outHistory.bytes } : {}) });
    if (this.clientTakeover) this.outHistory.append(data);
    return out;
  }
}

const VALID_CLOSE = (code: number): boolean => (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) || (code >= 3000 && code <= 4999);

/** Opens one WebSocket on `path`, behaves as an echo client until the server ends; resolves with the first text message. */
export function rawVisit(port: number, path: string, breakage: Breakage = {}): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    // The largest case echo is 16 MiB (9.1.6, 9.2.6).
    const parser = new FrameParser(16 * 1024 * 1024);
    const send = (opcode: number, payload: Uint8Array): void => {
      if (!socket.destroyed && !breakage.silent) socket.write(buildFrame({ opcode, payload, mask: !breakage.noMask }));
    };
    let messages = 0;
    let head = Buffer.alloc(0);
    let upgraded = false;
    let closed = false;
    let message: { opcode: number; parts: Uint8Array[]; utf8?: TextDecoder; compressed?: boolean } | undefined;
    let deflate: RawDeflate | undefined;
    /** Validates a text message frame by frame (fail fast, RFC 6455 §8.1); false once invalid. */
    const validFragment = (decoder: TextDecoder | undefined, payload: Uint8Array, last: boolean): boolean => {
      if (!decoder || breakage.acceptInvalidUtf8) return true;
      try {
        decoder.decode(payload, { stream: !last });
        return true;
      } catch {
        return false;
      }
    };
    let first: string | undefined;
    const fail = (code: number): void => {
      send(0x8, closePayload(code));
      closed = true;
    };
    const deliver = (opcode: number, data: Buffer): void => {
      if (opcode === 0x1 && !breakage.acceptInvalidUtf8 && decodeUtf8(data) === undefined) return fail(1007);
      if (opcode === 0x1 && first === undefined) first = data.toString('utf8');
      messages++;
      if (breakage.dropEvery !== undefined && messages % breakage.dropEvery === 0) return;
      if (breakage.truncateAbove !== undefined) data = data.subarray(0, breakage.truncateAbove);
      if (!deflate) return send(opcode, data);
      // Compressed, in two frames, so RSV1's place is observable.
      const z = deflate.deflate(data);
      const half = z.length >> 1;
      const rsv1 = !breakage.compressedWithoutRsv1;
      if (!socket.destroyed) {
        socket.write(buildFrame({ opcode, payload: z.subarray(0, half), fin: false, rsv1, mask: !breakage.noMask }));
        socket.write(buildFrame({ opcode: 0x0, payload: z.subarray(half), rsv1: rsv1 && breakage.rsv1OnContinuation === true, mask: !breakage.noMask }));
      }
    };
    const onFrame = (f: ServerFrame): void => {
      if (closed) return;
      // RFC 7692 §6.1: with permessage-deflate, RSV1 only on the first frame of a data message.
      const compressedStart = deflate !== undefined && f.rsv1 && (f.opcode === 0x1 || f.opcode === 0x2);
      const rsv = (f.rsv1 && !compressedStart) || f.rsv2 || f.rsv3;
      if (rsv && !breakage.ignoreRsv) return fail(1002);
      const control = (f.opcode & 0x8) !== 0;
      if (control && (!f.fin || f.payload.length > 125)) return fail(1002);
      switch (f.opcode) {
        case 0x1:
        case 0x2:
          if (message) return fail(1002);
          if (compressedStart) {
            // UTF-8 is checked once inflated, in deliver().
            message = { opcode: f.opcode, parts: [f.payload], compressed: true };
            break;
          }
          message = { opcode: f.opcode, parts: [f.payload], ...(f.opcode === 0x1 ? { utf8: new TextDecoder('utf-8', { fatal: true }) } : {}) };
          if (!validFragment(message.utf8, f.payload, f.fin)) return fail(1007);
          break;
        case 0x0:
          if (!message) return fail(1002);
          message.parts.push(f.payload);
          if (!validFragment(message.utf8, f.payload, f.fin)) return fail(1007);
          break;
        case 0x9:
          return send(0xa, f.payload);
        case 0xa:
          return;
        case 0x8: {
          if (breakage.dropOnClose) {
            closed = true;
            return void socket.destroy();
          }
          const p = Buffer.from(f.payload);
          if (p.length === 1) return fail(1002);
          if (p.length === 0) {
            closed = true;
            return send(0x8, new Uint8Array(0));
          }
          const code = p.readUInt16BE(0);
          if (!VALID_CLOSE(code)) return fail(1002);
          if (!breakage.acceptInvalidUtf8 && decodeUtf8(p.subarray(2)) === undefined) return fail(1007);
          closed = true;
          return send(0x8, closePayload(code));
        }
        default:
          return fail(1002);
      }
      if (f.fin && message) {
        const done = message;
        message = undefined;
        const data = Buffer.concat(done.parts);
        deliver(done.opcode, done.compressed ? deflate!.inflate(data) : data);
      }
    };
    socket.on('data', (chunk: Buffer) => {
      if (!upgraded) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!head.subarray(0, 12).toString().startsWith('HTTP/1.1 101')) return reject(new Error(`refused: ${head.toString().split('\r\n')[0]}`));
        upgraded = true;
        const answer = /\r\nsec-websocket-extensions: *([^\r]*)/i.exec(head.subarray(0, end).toString())?.[1];
        if (breakage.deflate && answer) deflate = new RawDeflate(answer, breakage.ignoreClientWindow === true);
        chunk = head.subarray(end + 4);
      }
      for (const f of parser.push(chunk)) onFrame(f);
    });
    socket.on('error', () => {});
    socket.on('end', () => socket.end());
    socket.on('close', () => resolve(first));
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n` +
        (breakage.deflate ? 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n' : '') +
        '\r\n',
    );
  });
}

/** The Autobahn driver loop with the raw client. */
export async function rawDriveAll(port: number, agent: string, breakage: Breakage): Promise<number> {
  const count = Number(await rawVisit(port, '/getCaseCount'));
  for (let i = 1; i <= count; i++) await rawVisit(port, `/runCase?case=${i}&agent=${encodeURIComponent(agent)}`, breakage);
  await rawVisit(port, `/updateReports?agent=${encodeURIComponent(agent)}`);
  return count;
}
