/**
 * Minimal, independent HTTP/1.1 client pieces for the conformance suite:
 * connect (TCP or TLS), send raw bytes, read a response head with its own
 * parser, compute Sec-WebSocket-Accept (RFC 6455 §4.2.2).
 */
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';

export const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export function newKey(): string {
  return randomBytes(16).toString('base64');
}

export function acceptFor(key: string): string {
  return createHash('sha1').update(key + WS_GUID).digest('base64');
}

export interface Endpoint {
  host: string;
  port: number;
  /** true, or TLS options (ca, servername, rejectUnauthorized, ...) */
  tls?: boolean | tls.ConnectionOptions;
}

export function connect(ep: Endpoint, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    let sock: net.Socket;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`timeout: connecting to ${ep.host}:${ep.port} took more than ${timeoutMs} ms`));
    }, timeoutMs);
    const ok = () => {
      clearTimeout(timer);
      sock.off('error', fail);
      // errors are observed by whoever reads the socket next (readResponseHead,
      // StreamPeer); this keeps one that lands between two readers from crashing
      sock.on('error', () => {});
      sock.setNoDelay(true);
      resolve(sock);
    };
    const fail = (e: Error) => {
      clearTimeout(timer);
      reject(e);
    };
    if (ep.tls) {
      const extra = typeof ep.tls === 'object' ? ep.tls : {};
      sock = tls.connect({ host: ep.host, port: ep.port, ALPNProtocols: ['http/1.1'], ...extra }, ok);
    } else {
      sock = net.connect({ host: ep.host, port: ep.port }, ok);
    }
    sock.once('error', fail);
  });
}

export interface ResponseHead {
  version: string;
  status: number;
  reason: string;
  /** lower-case names; repeated headers become arrays */
  headers: Record<string, string | string[] | undefined>;
  /** bytes received after the blank line */
  rest: Uint8Array;
}

export type ReadHeadResult =
  | { kind: 'response'; head: ResponseHead }
  /** the server closed (or reset) the connection before a complete response head */
  | { kind: 'closed'; how: 'end' | 'reset'; received: Uint8Array };

/**
 * Read one response head. On success the socket is left PAUSED with nothing
 * consumed beyond the head (extra bytes are in head.rest); the caller resumes it.
 */
export function readResponseHead(sock: net.Socket, timeoutMs: number, maxBytes = 64 * 1024): Promise<ReadHeadResult> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const cleanup = () => {
      clearTimeout(timer);
      sock.off('data', onData);
      sock.off('end', onEnd);
      sock.off('error', onError);
      sock.off('close', onClose);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timeout: no complete HTTP response head within ${timeoutMs} ms (got ${buf.length} bytes)`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const idx = buf.indexOf('\r\n\r\n');
      if (idx === -1) {
        if (buf.length > maxBytes) {
          cleanup();
          reject(new Error(`response head larger than ${maxBytes} bytes`));
        }
        return;
      }
      sock.pause();
      cleanup();
      try {
        resolve({ kind: 'response', head: parseHead(buf.subarray(0, idx).toString('latin1'), buf.subarray(idx + 4)) });
      } catch (e) {
        reject(e);
      }
    };
    const finish = (how: 'end' | 'reset') => {
      cleanup();
      resolve({ kind: 'closed', how, received: new Uint8Array(buf) });
    };
    const onEnd = () => finish('end');
    const onError = () => finish('reset');
    const onClose = () => finish('reset');
    sock.on('data', onData);
    sock.on('end', onEnd);
    sock.on('error', onError);
    sock.on('close', onClose);
    sock.resume();
  });
}

function parseHead(text: string, rest: Uint8Array): ResponseHead {
  const lines = text.split('\r\n');
  const m = /^(HTTP\/\d\.\d) (\d{3})(?: (.*))?$/.exec(lines[0] ?? '');
  if (!m) throw new Error(`malformed status line: ${JSON.stringify(lines[0])}`);
  const headers: Record<string, string | string[] | undefined> = {};
  for (const line of lines.slice(1)) {
    const c = line.indexOf(':');
    if (c <= 0) throw new Error(`malformed header line: ${JSON.stringify(line)}`);
    const name = line.slice(0, c).trim().toLowerCase();
    const value = line.slice(c + 1).trim();
    const prev = headers[name];
    if (prev === undefined) headers[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else headers[name] = [prev, value];
  }
  return { version: m[1]!, status: Number(m[2]), reason: m[3] ?? '', headers, rest };
}

/** All values of a header (repeated lines and comma lists flattened, trimmed, empty ones dropped). */
export function headerTokens(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  const all = Array.isArray(v) ? v : [v];
  return all
    .flatMap((x) => x.split(','))
    .map((x) => x.trim())
    .filter((x) => x.length > 0);
}

/** Joined value of a possibly repeated header. */
export function headerValue(v: string | string[] | undefined): string | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(', ') : v;
}

export interface UpgradeRequestOptions {
  path?: string;
  host: string;
  key: string;
  protocols?: string[];
  extensions?: string;
  headers?: Record<string, string>;
}

export function upgradeRequest(o: UpgradeRequestOptions): string {
  const lines = [
    `GET ${o.path ?? '/echo'} HTTP/1.1`,
    `Host: ${o.host}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${o.key}`,
    'Sec-WebSocket-Version: 13',
  ];
  if (o.protocols && o.protocols.length) lines.push(`Sec-WebSocket-Protocol: ${o.protocols.join(', ')}`);
  if (o.extensions !== undefined) lines.push(`Sec-WebSocket-Extensions: ${o.extensions}`);
  for (const [k, v] of Object.entries(o.headers ?? {})) lines.push(`${k}: ${v}`);
  return lines.join('\r\n') + '\r\n\r\n';
}

/** Host header value for an endpoint (IPv6 literals in brackets). */
export function hostHeader(ep: Endpoint): string {
  return ep.host.includes(':') ? `[${ep.host}]:${ep.port}` : `${ep.host}:${ep.port}`;
}
