import type { Test } from 'tap';
import type { HeaderList } from '../../src/http3/fields.js';
import { encodeDataFrame, encodeHeadersFrame, encodeSettingsFrame } from '../../src/http3/frames.js';
import { encodeFieldSection } from '../../src/http3/qpack/encoder.js';
import type { Http3RequestStream } from '../../src/http3/request-stream.js';
import { Http3Session, type Http3SessionOptions } from '../../src/http3/session.js';
import type { LocalSettings } from '../../src/http3/settings.js';
import { encodeVarint } from '../../src/http3/varint.js';
import { MemoryQuicConnection, type MemoryQuicOptions, type MemoryQuicStream, settle } from './memory-quic.js';

export { settle };

type SessionOptions = Omit<Http3SessionOptions, 'role'>;

/** A client and a server session over one in-memory connection. */
export function sessions(options: { server?: SessionOptions; client?: SessionOptions; quic?: MemoryQuicOptions } = {}) {
  const [c, s] = MemoryQuicConnection.pair(options.quic);
  const server = new Http3Session(s, { role: 'server', ...options.server });
  const client = new Http3Session(c, { role: 'client', ...options.client });
  return { c, s, server, client };
}

/** A server session facing a hand-driven client connection (no control stream opened yet). */
export function rawClient(options: SessionOptions = {}, quic?: MemoryQuicOptions) {
  const [c, s] = MemoryQuicConnection.pair(quic);
  const server = new Http3Session(s, { role: 'server', ...options });
  return { c, s, server };
}

/** A client session facing a hand-driven server connection. */
export function rawServer(options: SessionOptions = {}, quic?: MemoryQuicOptions) {
  const [c, s] = MemoryQuicConnection.pair(quic);
  const client = new Http3Session(c, { role: 'client', ...options });
  return { c, s, client };
}

/** Opens a unidirectional stream of `type` and writes `bytes` on it. */
export function uniStream(conn: MemoryQuicConnection, type: number | bigint, ...bytes: Buffer[]): MemoryQuicStream {
  const stream = conn.openStream(false);
  stream.write(Buffer.concat([encodeVarint(type), ...bytes]));
  return stream;
}

/** Opens a control stream with SETTINGS first (unless `settings` is null), then `frames`. */
export function controlStream(conn: MemoryQuicConnection, settings: LocalSettings | null = { grease: false }, ...frames: Buffer[]): MemoryQuicStream {
  return uniStream(conn, 0x00, ...(settings ? [encodeSettingsFrame(settings)] : []), ...frames);
}

/** Opens a request stream by hand and writes HEADERS (encoded as given), then `more`; FIN when `fin`. */
export function rawRequest(conn: MemoryQuicConnection, headers: HeaderList | Buffer, options: { more?: Buffer[]; fin?: boolean } = {}): MemoryQuicStream {
  const stream = conn.openStream(true);
  const block = Buffer.isBuffer(headers) ? headers : encodeFieldSection(headers);
  stream.write(Buffer.concat([encodeHeadersFrame(block), ...(options.more ?? [])]));
  if (options.fin ?? true) stream.end();
  return stream;
}

export function data(text: string | Buffer): Buffer {
  return encodeDataFrame(typeof text === 'string' ? Buffer.from(text) : text);
}

export const GET: HeaderList = [
  [':method', 'GET'],
  [':scheme', 'https'],
  [':authority', 'example.com'],
  [':path', '/'],
];

export function post(path = '/upload'): HeaderList {
  return [
    [':method', 'POST'],
    [':scheme', 'https'],
    [':authority', 'example.com'],
    [':path', path],
  ];
}

export const WEBSOCKET: HeaderList = [
  [':method', 'CONNECT'],
  [':protocol', 'websocket'],
  [':scheme', 'https'],
  [':authority', 'example.com'],
  [':path', '/chat'],
  ['sec-websocket-version', '13'],
];

/** Waits for `conn` to close and checks that this side closed it with `code`. */
export async function expectConnectionClosed(t: Test, conn: MemoryQuicConnection, code: number, message: string): Promise<void> {
  const info = await conn.whenClosed();
  t.equal(info.code, code, `${message}: closed with 0x${code.toString(16)}`);
  t.ok(info.isApp && info.local, `${message}: by the HTTP/3 session`);
}

/** Everything a request stream reports, collected from the start. */
export function record(stream: Http3RequestStream) {
  const seen = {
    response: null as HeaderList | null,
    informational: [] as HeaderList[],
    chunks: [] as Buffer[],
    trailers: null as HeaderList | null,
    ended: false,
    resets: [] as number[],
    stops: [] as number[],
    errors: [] as Array<{ code: number; message: string }>,
    closed: false,
    get body(): string {
      return Buffer.concat(this.chunks).toString('latin1');
    },
  };
  stream.on('response', (headers: HeaderList) => (seen.response = headers));
  stream.on('informational', (headers: HeaderList) => seen.informational.push(headers));
  stream.on('data', (chunk: Buffer) => seen.chunks.push(chunk));
  stream.on('trailers', (headers: HeaderList) => (seen.trailers = headers));
  stream.on('end', () => (seen.ended = true));
  stream.on('reset', (code: number) => seen.resets.push(code));
  stream.on('stopSending', (code: number) => seen.stops.push(code));
  stream.on('error', (error: { code: number; message: string }) => seen.errors.push({ code: error.code, message: error.message }));
  // Not events.once(): it rejects on 'error', which is a normal outcome here.
  const closed = new Promise<typeof seen>((resolve) =>
    stream.once('close', () => {
      seen.closed = true;
      resolve(seen);
    }),
  );
  return { seen, closed };
}

/**
 * Resolves with the next 'request' on a server session, its events recorded
 * from the start (listeners must be attached inside the 'request' handler:
 * a request's DATA and FIN can arrive in the same packet as its HEADERS).
 */
export function nextRequest(server: Http3Session): Promise<[Http3RequestStream, HeaderList, ReturnType<typeof record>]> {
  return new Promise((resolve) => {
    server.once('request', (stream: Http3RequestStream, headers: HeaderList) => resolve([stream, headers, record(stream)]));
  });
}

/** An echo server: answers 200 and sends back the request body (and trailers, if any). */
export function echo(server: Http3Session): void {
  server.on('request', (stream: Http3RequestStream) => {
    const chunks: Buffer[] = [];
    let trailers: HeaderList | null = null;
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('trailers', (headers: HeaderList) => (trailers = headers));
    stream.on('end', () => {
      stream.respond([[':status', '200']]);
      stream.write(Buffer.concat(chunks));
      if (trailers) stream.sendTrailers(trailers);
      else stream.end();
    });
  });
}
