/**
 * A cleartext HTTP/2 server of a few frames that advertises
 * SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 and then answers every request the
 * same wrong way, for the RFC 8441 cases that node:http2 (nghttp2) would
 * never let a server get wrong: it validates pseudo-headers itself.
 */
import net from 'node:net';
import { ErrorCode, Flag, FrameType, Setting, encodeFrame } from '../../src/conformance/h2-raw.js';

/** 'not-found': :status 404 to every request; 'goaway': a connection error (GOAWAY PROTOCOL_ERROR) on the first request */
export type H2Flaw = 'not-found' | 'goaway';

const PREFACE_LENGTH = 24;
// RFC 7541 Appendix A: static table index 13 is ":status: 404"; 0x80 | 13 is its indexed representation.
const STATUS_404 = Buffer.from([0x80 | 13]);

export async function startBrokenH2(flaw: H2Flaw): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    const settings = Buffer.alloc(6);
    settings.writeUInt16BE(Setting.ENABLE_CONNECT_PROTOCOL, 0);
    settings.writeUInt32BE(1, 2);
    socket.write(encodeFrame(FrameType.SETTINGS, 0, 0, settings));
    let buffer = Buffer.alloc(0);
    let prefaceSeen = false;
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!prefaceSeen) {
        if (buffer.length < PREFACE_LENGTH) return;
        buffer = buffer.subarray(PREFACE_LENGTH);
        prefaceSeen = true;
      }
      while (buffer.length >= 9 && buffer.length >= 9 + buffer.readUIntBE(0, 3)) {
        const type = buffer[3];
        const flags = buffer[4];
        const streamId = buffer.readUInt32BE(5) & 0x7fffffff;
        buffer = buffer.subarray(9 + buffer.readUIntBE(0, 3));
        if (type === FrameType.SETTINGS && (flags & Flag.ACK) === 0) socket.write(encodeFrame(FrameType.SETTINGS, Flag.ACK, 0));
        if (type !== FrameType.HEADERS) continue;
        if (flaw === 'not-found') {
          socket.write(encodeFrame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, streamId, STATUS_404));
        } else {
          const goaway = Buffer.alloc(8);
          goaway.writeUInt32BE(ErrorCode.PROTOCOL_ERROR, 4);
          socket.end(encodeFrame(FrameType.GOAWAY, 0, 0, goaway));
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
