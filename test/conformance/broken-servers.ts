/**
 * Deliberately broken WebSocket servers for the runner's own tests: a small
 * raw HTTP/1.1 echo server (frames parsed with the suite's FrameParser) that
 * is correct for plain echo/ping/close traffic and breaks exactly one rule,
 * chosen by `flaw`. The runner must fail exactly the cases about that rule.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { acceptFor } from '../../src/conformance/http1-raw.js';
import { FrameParser, OP, concat, decodeUtf8 } from '../../src/conformance/frames.js';

export type Flaw =
  /** accepts frames without the MASK bit (RFC 6455 §5.1 requires failing with 1002) */
  | 'no-mask-check'
  /** echoes text that is not UTF-8 (RFC 6455 §8.1 requires failing with 1007) */
  | 'no-utf8-check'
  /** never answers a close frame (RFC 6455 §5.5.1) */
  | 'ignores-close'
  /** completes the TCP handshake, then never says a word */
  | 'stalls'
  /** fails the connection by closing the socket without a close frame (allowed, but RFC 6455 §7.1.7 says SHOULD send one) */
  | 'no-close-frame-on-failure';

function frame(opcode: number, payload: Uint8Array): Buffer {
  const head = payload.length < 126 ? [0x80 | opcode, payload.length] : payload.length < 65536 ? [0x80 | opcode, 126, payload.length >> 8, payload.length & 0xff] : undefined;
  if (!head) {
    const h = Buffer.alloc(10);
    h[0] = 0x80 | opcode;
    h[1] = 127;
    h.writeBigUInt64BE(BigInt(payload.length), 2);
    return Buffer.concat([h, payload]);
  }
  return Buffer.concat([Buffer.from(head), payload]);
}

const closeWith = (code: number) => frame(OP.CLOSE, Uint8Array.from([code >> 8, code & 0xff]));

function serve(sock: net.Socket, flaw: Flaw): void {
  const parser = new FrameParser();
  let message: { opcode: number; parts: Uint8Array[] } | undefined;
  let closed = false;
  const fail = (code: number) => {
    if (closed) return;
    closed = true;
    if (flaw === 'no-close-frame-on-failure') sock.end();
    else sock.end(closeWith(code));
  };
  sock.on('data', (chunk: Buffer) => {
    if (closed) return;
    let frames;
    try {
      frames = parser.push(chunk);
    } catch {
      return fail(1002);
    }
    for (const f of frames) {
      if (closed) return;
      if (!f.masked && flaw !== 'no-mask-check') return fail(1002);
      if (f.rsv1 || f.rsv2 || f.rsv3) return fail(1002);
      if (f.opcode === OP.CLOSE) {
        if (flaw === 'ignores-close') continue;
        closed = true;
        sock.end(frame(OP.CLOSE, f.payload.subarray(0, 2)));
        return;
      }
      if (f.opcode === OP.PING) {
        sock.write(frame(OP.PONG, f.payload));
        continue;
      }
      if (f.opcode === OP.PONG) continue;
      if (f.opcode === OP.TEXT || f.opcode === OP.BINARY) {
        if (message) return fail(1002);
        message = { opcode: f.opcode, parts: [] };
      } else if (f.opcode !== OP.CONT || !message) return fail(1002);
      message.parts.push(f.payload);
      if (!f.fin) continue;
      const data = concat(message.parts);
      const opcode = message.opcode;
      message = undefined;
      if (opcode === OP.TEXT && flaw !== 'no-utf8-check' && decodeUtf8(data) === undefined) return fail(1007);
      sock.write(frame(opcode, data));
    }
  });
}

/** Starts a broken server on 127.0.0.1, port 0. */
export async function startBrokenServer(flaw: Flaw): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    if (flaw === 'stalls') return;
    let head = Buffer.alloc(0);
    const onHead = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      sock.off('data', onHead);
      const key = /^sec-websocket-key:\s*(\S+)/im.exec(head.subarray(0, end).toString('latin1'))?.[1] ?? '';
      sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`);
      serve(sock, flaw);
      const rest = head.subarray(end + 4);
      if (rest.length) sock.emit('data', rest);
    };
    sock.on('data', onHead);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
