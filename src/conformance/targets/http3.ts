/**
 * The conformance suite's HTTP/3 transport (RFC 9220). Node has no HTTP/3
 * client of its own, so this target uses the project's QUIC driver and HTTP/3
 * layer (each tested on its own against RFC vectors and an in-memory QUIC
 * fake); the WebSocket frames on top are still built and checked by the
 * suite's independent code. One QUIC connection per open().
 */
import { Duplex } from 'node:stream';
import { StreamPeer } from '../stream-peer.js';
import { targetBase, type TargetOptions } from './options.js';
import { HandshakeRejectedError, type ConformanceTarget, type OpenOptions, type RawPeer } from '../target.js';
import { connectQuic } from '../../quic/index.js';
import { Http3Session } from '../../http3/session.js';
import type { Http3RequestStream } from '../../http3/request-stream.js';
import { H3_NO_ERROR, H3_REQUEST_CANCELLED } from '../../http3/errors.js';
import type { HeaderList } from '../../http3/fields.js';

export interface Http3TargetOptions extends TargetOptions {
  host: string;
  port: number;
  /** TLS server name and :authority host, default: host */
  servername?: string;
  ca?: string | Buffer | undefined;
  /** do not verify the server's certificate */
  insecure?: boolean;
}

export interface H3ConnectOptions {
  servername: string;
  ca?: string | Buffer | undefined;
  insecure?: boolean | undefined;
  /** fail unless the server advertises SETTINGS_ENABLE_CONNECT_PROTOCOL (default true) */
  requireConnectProtocol?: boolean;
}

/** Opens a QUIC connection and an HTTP/3 session, waiting for SETTINGS with extended CONNECT. */
export async function connectH3(host: string, port: number, o: H3ConnectOptions): Promise<Http3Session> {
  const connection = await connectQuic({
    host,
    port,
    servername: o.servername,
    ...(o.ca !== undefined ? { ca: o.ca } : {}),
    ...(o.insecure ? { rejectUnauthorized: false } : {}),
    alpn: ['h3'],
    handshakeTimeout: 3000,
  });
  const session = new Http3Session(connection, { role: 'client' });
  session.on('error', () => {});
  let timer: NodeJS.Timeout | undefined;
  try {
    const settings = await Promise.race([
      session.waitForSettings(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no HTTP/3 SETTINGS from the server within 3000 ms')), 3000);
      }),
    ]);
    if ((o.requireConnectProtocol ?? true) && !settings.enableConnectProtocol) {
      throw new Error('server did not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL');
    }
  } catch (error) {
    session.close();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return session;
}

/** The server reset the request stream (or closed it, or the connection) before it answered. */
export class StreamResetError extends Error {
  constructor(readonly code: number | undefined) {
    super(code === undefined ? 'stream closed before a response' : `stream reset before a response (0x${code.toString(16)})`);
  }
}

/** Sends an extended CONNECT and resolves with the (paused) stream and its response fields. */
export function extendedConnectH3(
  session: Http3Session,
  authority: string,
  opts: OpenOptions = {},
  overrides: Array<[string, string | undefined]> = [],
): Promise<{ stream: Http3RequestStream; headers: HeaderList }> {
  const fields = new Map<string, string>([
    [':method', 'CONNECT'],
    [':protocol', 'websocket'],
    [':scheme', 'https'],
    [':authority', authority],
    [':path', opts.path ?? '/echo'],
    ['sec-websocket-version', '13'],
  ]);
  if (opts.protocols?.length) fields.set('sec-websocket-protocol', opts.protocols.join(', '));
  if (opts.extensions !== undefined) fields.set('sec-websocket-extensions', opts.extensions);
  for (const [name, value] of Object.entries(opts.headers ?? {})) fields.set(name.toLowerCase(), value);
  for (const [name, value] of overrides) {
    if (value === undefined) fields.delete(name);
    else fields.set(name, value);
  }
  const stream = session.request([...fields]);
  let resetCode: number | undefined;
  const onReset = (code: number) => (resetCode ??= code);
  stream.once('reset', onReset);
  stream.once('stopSending', onReset);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no response to the extended CONNECT')), 3000);
    stream.once('response', (headers: HeaderList) => {
      clearTimeout(timer);
      // Data can follow in the same packet: hold it until the caller listens (and resumes).
      stream.pause();
      resolve({ stream, headers });
    });
    stream.once('close', () => {
      clearTimeout(timer);
      reject(new StreamResetError(resetCode));
    });
  });
}

/**
 * A Node Duplex over an HTTP/3 request stream, so the suite's StreamPeer can
 * drive it: FIN ↔ end, RESET_STREAM / STOP_SENDING from the server ↔ an error
 * (classified as 'reset').
 */
export class Http3Duplex extends Duplex {
  constructor(private readonly stream: Http3RequestStream) {
    super();
    stream.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) stream.pause();
    });
    stream.on('end', () => this.push(null));
    stream.on('reset', (code: number) => {
      if (code !== H3_NO_ERROR) this.destroy(new Error(`RESET_STREAM 0x${code.toString(16)}`));
    });
    stream.on('stopSending', (code: number) => {
      if (code !== H3_NO_ERROR) this.destroy(new Error(`STOP_SENDING 0x${code.toString(16)}`));
    });
    stream.on('close', () => this.destroy());
  }

  override _read(): void {
    this.stream.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.stream.closed || !this.stream.writable) return callback();
    this.stream.write(chunk);
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.stream.closed && this.stream.writable) this.stream.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.stream.closed) this.stream.cancel(H3_REQUEST_CANCELLED);
    callback(error);
  }
}

export function createHttp3Target(o: Http3TargetOptions): ConformanceTarget {
  const servername = o.servername ?? o.host;
  const authority = `${servername.includes(':') ? `[${servername}]` : servername}:${o.port}`;
  const path = o.path ?? '/echo';
  const connect = { servername, ca: o.ca, insecure: o.insecure ?? false };
  const open = async (opts: OpenOptions = {}): Promise<RawPeer> => {
    const session = await connectH3(o.host, o.port, connect);
    try {
      const { stream, headers } = await extendedConnectH3(session, authority, { ...opts, path: opts.path ?? path });
      const get = (name: string): string | undefined => headers.find(([field]) => field === name)?.[1];
      const status = Number(get(':status'));
      if (status !== 200) {
        stream.cancel(H3_REQUEST_CANCELLED);
        throw new HandshakeRejectedError(status, Object.fromEntries(headers));
      }
      stream.once('close', () => session.close());
      const protocol = get('sec-websocket-protocol');
      const extensions = get('sec-websocket-extensions');
      return new StreamPeer(
        new Http3Duplex(stream),
        {
          status,
          headers: Object.fromEntries(headers),
          ...(protocol !== undefined ? { protocol } : {}),
          ...(extensions !== undefined ? { extensions } : {}),
        },
        new Uint8Array(0),
        { defaultTimeoutMs: o.timeoutMs ?? 3000 },
      );
    } catch (error) {
      session.close();
      throw error;
    }
  };
  return {
    ...targetBase(o, `h3 ${o.host}:${o.port}`),
    transport: 'h3',
    raw: { kind: 'h3', host: o.host, port: o.port, path, ...connect },
    open,
  };
}
