// Shared fixtures for the QUIC engine tests: development certificates, a
// server/client pair on loopback, stream helpers, and a lossy UDP proxy.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  connectQuic,
  createQuicServer,
  type QuicClientEngineOptions,
  type QuicConnection,
  type QuicConnectionCloseInfo,
  type QuicServer,
  type QuicServerEngineOptions,
  type QuicStream,
} from '../../src/quic/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

export interface Certs {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  /** A CA that signed nothing we serve. */
  otherCa: Buffer;
}

let certs: Certs | undefined;

/** Generated once per test process with scripts/gen-certs.sh. */
export function getCerts(): Certs {
  if (certs !== undefined) return certs;
  const dir = mkdtempSync(join(tmpdir(), 'quic-certs-'));
  const other = join(dir, 'other');
  try {
    execFileSync('sh', [join(root, 'scripts/gen-certs.sh'), dir], { stdio: 'ignore' });
    execFileSync('sh', [join(root, 'scripts/gen-certs.sh'), other], { stdio: 'ignore' });
    certs = {
      ca: readFileSync(join(dir, 'ca.crt')),
      cert: readFileSync(join(dir, 'server.crt')),
      key: readFileSync(join(dir, 'server.key')),
      otherCa: readFileSync(join(other, 'ca.crt')),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return certs;
}

export interface Pair {
  server: QuicServer;
  port: number;
  host: string;
  client: QuicConnection;
  /** The server side of `client`. */
  peer: QuicConnection;
}

export async function startServer(
  options: Partial<QuicServerEngineOptions> = {},
  host = '127.0.0.1',
): Promise<{ server: QuicServer; port: number; host: string }> {
  const { cert, key } = getCerts();
  const server = createQuicServer({ cert, key, ...options });
  const { port } = await server.listen(0, host);
  return { server, port, host };
}

export function connect(port: number, options: Partial<QuicClientEngineOptions> = {}, host = '127.0.0.1') {
  return connectQuic({ host, port, servername: 'localhost', ca: getCerts().ca, ...options });
}

/** A server and one connected client; the server side connection too. */
export async function pair(
  serverOptions: Partial<QuicServerEngineOptions> = {},
  clientOptions: Partial<QuicClientEngineOptions> = {},
  host = '127.0.0.1',
): Promise<Pair> {
  const { server, port } = await startServer(serverOptions, host);
  const accepted = once(server, 'connection') as Promise<[QuicConnection]>;
  const client = await connect(port, clientOptions, host);
  const [peer] = await accepted;
  return { server, port, host, client, peer };
}

export async function shutdown(p: { server: QuicServer; client?: QuicConnection }): Promise<void> {
  if (p.client !== undefined) p.client.close(0, '');
  await p.server.close();
}

/** Everything a stream delivers until 'end' (resolves), 'reset' or connection loss (rejects). */
export function readAll(stream: QuicStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve, reject) => {
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('reset', (code: number) => reject(new Error(`reset ${code}`)));
    stream.once('close', () => reject(new Error('closed before end')));
  });
}

/** Writes all of `data` in `chunkSize` pieces honouring backpressure, then FIN. */
export async function writeAll(stream: QuicStream, data: Buffer, chunkSize = 64 * 1024): Promise<void> {
  for (let offset = 0; offset < data.length; offset += chunkSize) {
    if (!stream.write(data.subarray(offset, offset + chunkSize))) await once(stream, 'drain');
  }
  stream.end();
}

/** Echoes every stream the connection's peer opens (bidirectional: back on the same stream), with backpressure. */
export function echo(connection: QuicConnection): void {
  connection.on('stream', (stream: QuicStream) => {
    if (!stream.bidirectional) return;
    stream.on('data', (chunk: Buffer) => {
      if (!stream.write(chunk)) {
        stream.pause();
        stream.once('drain', () => stream.resume());
      }
    });
    stream.on('end', () => stream.end());
  });
}

export function closed(connection: QuicConnection): Promise<QuicConnectionCloseInfo> {
  return once(connection, 'close').then(([info]) => info as QuicConnectionCloseInfo);
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Deterministic bytes (xorshift32), so failures are reproducible. */
export function pattern(length: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** A deterministic PRNG in [0, 1). */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

export interface Proxy {
  port: number;
  /** Datagrams dropped so far, each way. */
  dropped: { up: number; down: number };
  /** Where client datagrams go from now on (server port). */
  setUpstream(port: number): void;
  close(): Promise<void>;
}

/**
 * A UDP proxy on 127.0.0.1 for one client: forwards to the server and back,
 * dropping datagrams with probability `lossUp` (client → server) and
 * `lossDown` (server → client), decided by a seeded PRNG.
 */
export async function lossyProxy(
  upstreamPort: number,
  lossUp: number,
  lossDown: number,
  seed = 42,
  /** Sees every server → client datagram (before any drop). */
  onDown?: (datagram: Buffer) => void,
): Promise<Proxy> {
  const random = prng(seed);
  const front = dgram.createSocket('udp4');
  const back = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => front.bind(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => back.bind(0, '127.0.0.1', resolve));
  let client: { address: string; port: number } | null = null;
  let upstream = upstreamPort;
  const dropped = { up: 0, down: 0 };
  front.on('message', (msg, rinfo) => {
    client = { address: rinfo.address, port: rinfo.port };
    if (random() < lossUp) {
      dropped.up++;
      return;
    }
    back.send(msg, upstream, '127.0.0.1');
  });
  back.on('message', (msg) => {
    onDown?.(msg);
    if (client === null) return;
    if (random() < lossDown) {
      dropped.down++;
      return;
    }
    front.send(msg, client.port, client.address);
  });
  return {
    port: front.address().port,
    dropped,
    setUpstream(port: number) {
      upstream = port;
    },
    async close() {
      await new Promise<void>((resolve) => front.close(() => resolve()));
      await new Promise<void>((resolve) => back.close(() => resolve()));
    },
  };
}
