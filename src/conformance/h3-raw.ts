/**
 * One HTTP/3 request written as raw bytes on a fresh QUIC connection, for the
 * cases the project's HTTP/3 client refuses to produce: it sends an extended
 * CONNECT only after the server's SETTINGS enabled it (RFC 9220 §3), while
 * this opens a request stream at once, before reading any of the server's
 * streams, and never opens a control stream of its own. The field section is
 * QPACK without the dynamic table (we send no SETTINGS, so its capacity is 0
 * both ways: RFC 9204 §3.2.3), which needs no encoder or decoder stream.
 */
import { connectQuic, describeClose } from '../quic/index.js';
import type { QuicConnection, QuicConnectionCloseInfo } from '../quic/types.js';
import { encodeHeadersFrame } from '../http3/frames.js';
import { encodeFieldSection, type FieldLine } from '../http3/qpack/encoder.js';
import { decodeFieldSection } from '../http3/qpack/decoder.js';
import { decodeVarint } from '../http3/varint.js';
import { H3_NO_ERROR } from '../http3/errors.js';

const HEADERS_FRAME = 0x01;
/** a response header section larger than this is not something these cases need to read */
const MAX_RESPONSE_HEAD = 64 * 1024;

export interface RawH3Endpoint {
  host: string;
  port: number;
  servername: string;
  ca?: string | Buffer | undefined;
  insecure?: boolean | undefined;
}

/** The first frame the server sent on the request stream, or how the stream or connection ended without one. */
export type RawH3Answer =
  | { kind: 'response'; headers: FieldLine[] }
  | { kind: 'reset'; code: number }
  | { kind: 'connectionClosed'; detail: string }
  | { kind: 'invalid'; detail: string };

/**
 * Sends `fields` as the HEADERS of a new request stream right after the QUIC
 * handshake and resolves with the server's answer; rejects after `timeoutMs`.
 */
export async function rawH3Request(endpoint: RawH3Endpoint, fields: readonly FieldLine[], timeoutMs: number): Promise<RawH3Answer> {
  const connection: QuicConnection = await connectQuic({
    host: endpoint.host,
    port: endpoint.port,
    servername: endpoint.servername,
    ...(endpoint.ca !== undefined ? { ca: endpoint.ca } : {}),
    ...(endpoint.insecure ? { rejectUnauthorized: false } : {}),
    alpn: ['h3'],
    handshakeTimeout: timeoutMs,
  });
  try {
    const stream = connection.openStream(true);
    stream.write(encodeHeadersFrame(encodeFieldSection(fields, { huffman: false })));
    return await new Promise<RawH3Answer>((resolve, reject) => {
      let head = Buffer.alloc(0);
      const timer = setTimeout(() => reject(new Error(`no answer to the request within ${timeoutMs} ms`)), timeoutMs);
      const done = (answer: RawH3Answer) => {
        clearTimeout(timer);
        resolve(answer);
      };
      stream.on('data', (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const type = decodeVarint(head);
        const length = type && decodeVarint(head, type.length);
        if (!type || !length) return;
        const start = type.length + length.length;
        if (type.value !== HEADERS_FRAME) return done({ kind: 'invalid', detail: `the first frame on the request stream has type 0x${type.value.toString(16)}, not HEADERS` });
        if (length.value > MAX_RESPONSE_HEAD) return done({ kind: 'invalid', detail: `a ${length.value}-byte response header section` });
        if (head.length < start + length.value) return;
        try {
          done({ kind: 'response', headers: decodeFieldSection(head.subarray(start, start + length.value)) });
        } catch (error) {
          done({ kind: 'invalid', detail: `an undecodable response header section: ${(error as Error).message}` });
        }
      });
      stream.on('reset', (code: number) => done({ kind: 'reset', code }));
      stream.on('end', () => done({ kind: 'invalid', detail: 'the server ended the stream without a response' }));
      connection.on('close', (info: QuicConnectionCloseInfo) => done({ kind: 'connectionClosed', detail: `the connection ended: ${describeClose(info)}` }));
    });
  } finally {
    connection.close(H3_NO_ERROR);
  }
}
